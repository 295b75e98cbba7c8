package dev.mlops.api;

/**
 * Thrown when the inference engine fails while running a model on inputs that passed validation.
 */
public class PredictionException extends MlopsException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming what was expected and what was found. */
  public PredictionException(String message) {
    super(message);
  }

  /** Creates the exception with a message and the underlying cause. */
  public PredictionException(String message, Throwable cause) {
    super(message, cause);
  }
}
