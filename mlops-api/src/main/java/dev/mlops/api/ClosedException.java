package dev.mlops.api;

/** Thrown when a registry, predictor or runtime is used after it was closed. */
public class ClosedException extends MlopsException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming what was expected and what was found. */
  public ClosedException(String message) {
    super(message);
  }

  /** Creates the exception with a message and the underlying cause. */
  public ClosedException(String message, Throwable cause) {
    super(message, cause);
  }
}
