package dev.mlops.api;

/**
 * Thrown when the files of a new version add up to more than the registry's size limit. The
 * registry stops reading the source as soon as the limit is passed, so an endless or huge stream is
 * cut off, and nothing is registered.
 */
public class ArtifactTooLargeException extends ModelLoadException {
  private static final long serialVersionUID = 1L;

  private final long limitBytes;
  private final long sizeBytes;

  /**
   * Creates the exception.
   *
   * @param message what was registered, the limit and the size
   * @param limitBytes the limit in bytes
   * @param sizeBytes the artifact's size in bytes, or the number of bytes read before reading
   *     stopped (then the artifact is at least that large)
   */
  public ArtifactTooLargeException(String message, long limitBytes, long sizeBytes) {
    super(message);
    this.limitBytes = limitBytes;
    this.sizeBytes = sizeBytes;
  }

  /** The registry's limit in bytes. */
  public long limitBytes() {
    return limitBytes;
  }

  /**
   * The artifact's size in bytes when it was known before copying, otherwise the number of bytes
   * read when reading stopped (the artifact is at least that large). Always above {@link
   * #limitBytes()}.
   */
  public long sizeBytes() {
    return sizeBytes;
  }
}
