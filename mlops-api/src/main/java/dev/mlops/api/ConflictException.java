package dev.mlops.api;

/**
 * Thrown when a registry change conflicts with the current state: a compare-and-set on an alias
 * that moved, or deleting a version that an alias still points at.
 */
public class ConflictException extends MlopsException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming what was expected and what was found. */
  public ConflictException(String message) {
    super(message);
  }

  /** Creates the exception with a message and the underlying cause. */
  public ConflictException(String message, Throwable cause) {
    super(message, cause);
  }
}
