package dev.mlops.api;

/** Thrown when a prediction does not finish before its deadline. */
public class PredictionTimeoutException extends MlopsException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming what was expected and what was found. */
  public PredictionTimeoutException(String message) {
    super(message);
  }

  /** Creates the exception with a message and the underlying cause. */
  public PredictionTimeoutException(String message, Throwable cause) {
    super(message, cause);
  }
}
