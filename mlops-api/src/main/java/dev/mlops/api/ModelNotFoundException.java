package dev.mlops.api;

/**
 * Thrown when a model, version or alias named by a {@link ModelRef} does not exist in the registry.
 */
public class ModelNotFoundException extends MlopsException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming what was expected and what was found. */
  public ModelNotFoundException(String message) {
    super(message);
  }

  /** Creates the exception with a message and the underlying cause. */
  public ModelNotFoundException(String message, Throwable cause) {
    super(message, cause);
  }
}
