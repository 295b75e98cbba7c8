package dev.mlops.api.spi;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What a remote artifact store has fetched into its local cache, from {@link
 * ArtifactStore#transferStatus()}: for the runtime state view and metrics.
 *
 * @param downloads files fetched into the cache so far
 * @param downloadedBytes bytes fetched so far, of finished and running downloads
 * @param refetches cached files found corrupt (their digest did not match) and fetched again
 * @param inFlight the downloads running now
 */
public record TransferStatus(
    long downloads, long downloadedBytes, long refetches, List<Transfer> inFlight) {

  /** Validates and copies the list. */
  public TransferStatus {
    if (downloads < 0 || downloadedBytes < 0 || refetches < 0) {
      throw new IllegalArgumentException(
          "counts must be >= 0: " + downloads + ", " + downloadedBytes + ", " + refetches);
    }
    inFlight = List.copyOf(inFlight);
  }

  /**
   * One download running now.
   *
   * @param digest the artifact's manifest digest
   * @param file the file's relative path in the artifact
   * @param doneBytes bytes fetched so far
   * @param totalBytes the file's size
   * @param started when the download began
   */
  public record Transfer(
      String digest, String file, long doneBytes, long totalBytes, Instant started) {
    /** Validates. */
    public Transfer {
      Objects.requireNonNull(digest, "digest");
      Objects.requireNonNull(file, "file");
      Objects.requireNonNull(started, "started");
      if (doneBytes < 0 || totalBytes < 0) {
        throw new IllegalArgumentException(
            "byte counts must be >= 0: " + doneBytes + ", " + totalBytes);
      }
    }
  }
}
