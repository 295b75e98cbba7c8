package dev.mlops.api;

/**
 * Thrown when a model refers to data it must not read: an external-data location that is absolute,
 * leaves the model's directory (by {@code ..}, a symbolic link or a hard link), names a file that
 * is not part of the version, or an offset and length outside that file. The check runs before the
 * inference engine sees the model, so the model is never loaded. The message names the tensor, the
 * location and the rule it breaks.
 *
 * <p>Also thrown for an artifact file that must not be stored: one with several hard links, or
 * whose name is not portable ({@link ArtifactFile#unportableReason}), at registration and when a
 * stored version is verified.
 */
public class UnsafeModelException extends ModelLoadException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the tensor, the location and the rule. */
  public UnsafeModelException(String message) {
    super(message);
  }

  /** Creates the exception with a message and the underlying cause. */
  public UnsafeModelException(String message, Throwable cause) {
    super(message, cause);
  }
}
