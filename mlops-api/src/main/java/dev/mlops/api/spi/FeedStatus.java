package dev.mlops.api.spi;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The state of a shared store's change feed, from {@link ModelStore#feedStatus()}: whether it
 * listens to the shared state now, when it last heard from it, and how often it had to reconnect
 * and resync. For the runtime state view, health checks and metrics.
 *
 * @param connected whether the feed's connection is up and listening now
 * @param since when the feed last connected, or began trying to (when it is not connected)
 * @param lastNotification when the last notification from the shared state arrived, if any
 * @param lastResync when listeners were last asked to resync, if ever
 * @param reconnects how many times the connection was lost and established again
 * @param resyncs how many times listeners were asked to resync (the first connect included)
 * @param lastFailure what broke the connection last, if it ever broke
 */
public record FeedStatus(
    boolean connected,
    Instant since,
    Optional<Instant> lastNotification,
    Optional<Instant> lastResync,
    long reconnects,
    long resyncs,
    Optional<String> lastFailure) {

  /** Validates. */
  public FeedStatus {
    Objects.requireNonNull(since, "since");
    Objects.requireNonNull(lastNotification, "lastNotification");
    Objects.requireNonNull(lastResync, "lastResync");
    Objects.requireNonNull(lastFailure, "lastFailure");
    if (reconnects < 0 || resyncs < 0) {
      throw new IllegalArgumentException(
          "reconnects and resyncs must be >= 0: " + reconnects + ", " + resyncs);
    }
  }
}
