package dev.mlops.api;

/**
 * Thrown when the registry's storage refuses a change to the credentials it was opened with: a
 * serving instance on a read-only database role or bucket key tried to register, move an alias,
 * archive or delete. Nothing was changed. Open the registry with the writer's credentials for such
 * changes.
 */
public class PermissionDeniedException extends RegistryException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming what was refused and to whom. */
  public PermissionDeniedException(String message) {
    super(message);
  }

  /** Creates the exception with a message and the underlying cause. */
  public PermissionDeniedException(String message, Throwable cause) {
    super(message, cause);
  }
}
