package dev.mlops.api;

/**
 * Thrown when a prediction input does not match the model's signature: a missing or unknown input
 * name, a wrong element type, rank or shape, or a value a codec cannot convert. Thrown before any
 * native memory is allocated for the call.
 */
public class InvalidInputException extends MlopsException {
  private static final long serialVersionUID = 1L;

  private final String input;
  private final String expected;
  private final String found;

  /**
   * Creates the exception.
   *
   * @param input the name of the offending input
   * @param expected what the signature asks for, e.g. {@code float32[?,30]}
   * @param found what the call supplied, e.g. {@code float32[1,29]}
   */
  public InvalidInputException(String input, String expected, String found) {
    super("input '" + input + "': expected " + expected + " but found " + found);
    this.input = input;
    this.expected = expected;
    this.found = found;
  }

  /** The name of the offending input. */
  public String input() {
    return input;
  }

  /** What the model's signature expects for this input. */
  public String expected() {
    return expected;
  }

  /** What the caller supplied. */
  public String found() {
    return found;
  }
}
