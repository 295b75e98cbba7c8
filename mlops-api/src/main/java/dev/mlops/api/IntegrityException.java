package dev.mlops.api;

/**
 * Thrown when a stored artifact no longer matches the digest recorded at registration: the version
 * is not loaded.
 */
public class IntegrityException extends ModelLoadException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming what was expected and what was found. */
  public IntegrityException(String message) {
    super(message);
  }

  /** Creates the exception with a message and the underlying cause. */
  public IntegrityException(String message, Throwable cause) {
    super(message, cause);
  }
}
