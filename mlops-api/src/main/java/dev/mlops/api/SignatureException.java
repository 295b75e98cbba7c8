package dev.mlops.api;

/**
 * Thrown when a version's manifest signature is required but missing, made with a key the
 * application does not trust, or does not match the version's files. The version is not registered
 * or not loaded. Thrown only where the registry's signature policy enforces signatures; under a
 * warning policy the same findings are logged instead.
 */
public class SignatureException extends IntegrityException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the version, the key and what was wrong. */
  public SignatureException(String message) {
    super(message);
  }

  /** Creates the exception with a message and the underlying cause. */
  public SignatureException(String message, Throwable cause) {
    super(message, cause);
  }
}
