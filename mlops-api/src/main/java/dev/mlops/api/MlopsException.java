package dev.mlops.api;

/**
 * Root of every exception the library throws to its callers. Unchecked: callers catch the specific
 * subtype they can act on. Engine and I/O exceptions are attached as causes and never appear in a
 * public signature.
 */
public class MlopsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message that says what was expected and what was found. */
  public MlopsException(String message) {
    super(message);
  }

  /** Creates an exception with a message and the underlying cause. */
  public MlopsException(String message, Throwable cause) {
    super(message, cause);
  }
}
