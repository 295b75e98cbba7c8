package dev.mlops.api;

/**
 * Thrown when a model reference string is not a valid {@code models:/} URI, or a model or alias
 * name breaks the naming rules.
 */
public class InvalidModelRefException extends MlopsException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming what was expected and what was found. */
  public InvalidModelRefException(String message) {
    super(message);
  }

  /** Creates the exception with a message and the underlying cause. */
  public InvalidModelRefException(String message, Throwable cause) {
    super(message, cause);
  }
}
