package dev.mlops.api;

/**
 * Thrown when a model artifact cannot be read, parsed or turned into an inference session (a
 * corrupt or unsupported model).
 */
public class ModelLoadException extends MlopsException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming what was expected and what was found. */
  public ModelLoadException(String message) {
    super(message);
  }

  /** Creates the exception with a message and the underlying cause. */
  public ModelLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
