package dev.mlops.api;

/**
 * Thrown when the registry's storage fails (an I/O error, a lock that cannot be taken). The
 * registry keeps its previous consistent state.
 */
public class RegistryException extends MlopsException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming what was expected and what was found. */
  public RegistryException(String message) {
    super(message);
  }

  /** Creates the exception with a message and the underlying cause. */
  public RegistryException(String message, Throwable cause) {
    super(message, cause);
  }
}
