package dev.mlops.api;

import java.util.Objects;

/**
 * Thrown when the files of a new version add up to more than the registry's size limit, or are more
 * files than its file-count limit. The registry checks the sizes and the count its source declares
 * before it copies a byte, and counts again while copying (a growing source, or one whose sizes
 * lie, is cut off as soon as it passes a limit), so an endless or huge stream is cut off, and
 * nothing is registered.
 */
public class ArtifactTooLargeException extends ModelLoadException {
  private static final long serialVersionUID = 1L;

  /** Which limit an artifact passed. */
  public enum Limit {
    /** The total bytes of its files ({@code GovernedRegistry.Builder.maxArtifactBytes}). */
    BYTES,
    /** The number of its files ({@code GovernedRegistry.Builder.maxArtifactFiles}). */
    FILES
  }

  private final Limit limit;
  private final long limitValue;
  private final long found;

  /**
   * Creates the exception for the size limit.
   *
   * @param message what was registered, the limit and the size
   * @param limitBytes the limit in bytes
   * @param sizeBytes the artifact's size in bytes, or the number of bytes read before reading
   *     stopped (then the artifact is at least that large)
   */
  public ArtifactTooLargeException(String message, long limitBytes, long sizeBytes) {
    this(message, Limit.BYTES, limitBytes, sizeBytes);
  }

  /**
   * Creates the exception.
   *
   * @param message what was registered, the limit, what was found and how to raise the limit
   * @param limit which limit was passed
   * @param limitValue the limit, in bytes or files
   * @param found the bytes or files found, or counted when counting stopped (then the artifact
   *     holds at least that many)
   */
  public ArtifactTooLargeException(String message, Limit limit, long limitValue, long found) {
    super(message);
    this.limit = Objects.requireNonNull(limit, "limit");
    this.limitValue = limitValue;
    this.found = found;
  }

  /** Which limit the artifact passed. */
  public Limit limit() {
    return limit;
  }

  /**
   * The limit the artifact passed: bytes for {@link Limit#BYTES}, files for {@link Limit#FILES}.
   */
  public long limitValue() {
    return limitValue;
  }

  /**
   * What was found, in the unit of {@link #limitValue()}: known before copying, or counted when
   * counting stopped (the artifact holds at least that many). Always above {@link #limitValue()}.
   */
  public long found() {
    return found;
  }

  /** The registry's limit in bytes, or {@code -1} when the artifact passed another limit. */
  public long limitBytes() {
    return limit == Limit.BYTES ? limitValue : -1;
  }

  /**
   * The artifact's size in bytes when it was known before copying, otherwise the number of bytes
   * read when reading stopped (the artifact is at least that large). Always above {@link
   * #limitBytes()}. {@code -1} when the artifact passed another limit.
   */
  public long sizeBytes() {
    return limit == Limit.BYTES ? found : -1;
  }
}
