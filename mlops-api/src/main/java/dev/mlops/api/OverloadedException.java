package dev.mlops.api;

/**
 * Thrown when a request is rejected because a bounded queue or concurrency limit is full. Retrying
 * later may succeed.
 */
public class OverloadedException extends MlopsException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming what was expected and what was found. */
  public OverloadedException(String message) {
    super(message);
  }

  /** Creates the exception with a message and the underlying cause. */
  public OverloadedException(String message, Throwable cause) {
    super(message, cause);
  }
}
