package dev.mlops.runtime;

import dev.mlops.api.ModelRef;
import dev.mlops.api.SessionOptions;
import dev.mlops.api.spi.FeedStatus;
import dev.mlops.api.spi.TransferStatus;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A read-only snapshot of one {@link Mlops} runtime, from {@link Mlops#state()}: every open
 * predictor, every loaded version, the loads in flight and the session counters. For health checks,
 * an actuator endpoint or a command line; taking one costs a few microseconds per predictor and
 * loaded version and never blocks a prediction.
 *
 * <p>Immutable. Each part is read at one moment, but the parts are not read atomically together: a
 * swap that completes while the snapshot is taken can show in one part and not yet in another.
 *
 * @param time when the snapshot was taken, by the runtime's clock
 * @param open false once {@link Mlops#close()} has begun
 * @param predictors every open predictor, in the order they were built
 * @param loaded every version whose session is open (cached, serving or in use), by model and
 *     version
 * @param loading the loads in flight (being verified, opened or warmed up), by model and version
 * @param sessions the session counters, as {@link Mlops#sessionStats()}
 * @param sinkFailures times the metric sink has thrown so far
 * @param observerFailures times a prediction observer has thrown so far
 * @param listenerFailures times a lifecycle listener has thrown so far
 * @param swapDelay how long each hot swap waits before it starts ({@code Mlops.Builder
 *     .staggerSwaps} or {@code swapDelay}), zero by default
 * @param registryFeed the state of the registry's change feed (a PostgreSQL registry's listener:
 *     connected, last notification, reconnects), empty for a registry without one
 * @param artifactTransfers what a remote artifact store fetched into its local cache and is
 *     fetching now, empty for a local store
 * @param shadow the shadow traffic of rollouts: copies run, dropped and failed so far, and how many
 *     wait or run now
 */
public record RuntimeState(
    Instant time,
    boolean open,
    List<PredictorState> predictors,
    List<LoadedVersion> loaded,
    List<Load> loading,
    Mlops.SessionStats sessions,
    long sinkFailures,
    long observerFailures,
    long listenerFailures,
    java.time.Duration swapDelay,
    Optional<FeedStatus> registryFeed,
    Optional<TransferStatus> artifactTransfers,
    Shadow shadow) {

  /** Validates and copies the lists. */
  public RuntimeState {
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(sessions, "sessions");
    Objects.requireNonNull(swapDelay, "swapDelay");
    Objects.requireNonNull(registryFeed, "registryFeed");
    Objects.requireNonNull(artifactTransfers, "artifactTransfers");
    Objects.requireNonNull(shadow, "shadow");
    predictors = List.copyOf(predictors);
    loaded = List.copyOf(loaded);
    loading = List.copyOf(loading);
  }

  /**
   * One open predictor.
   *
   * @param target the reference it serves, e.g. {@code models:/fraud@production}
   * @param servingVersion the version it serves now, 0 while none is loaded (a resource-preserving
   *     swap between versions, or a swap that could load neither)
   * @param swapMode how it moves to a new version
   * @param batching whether dynamic batching is on
   * @param warmVersions earlier versions it keeps loaded for rollback ({@code keepWarm}), newest
   *     first
   */
  public record PredictorState(
      ModelRef target,
      long servingVersion,
      SwapMode swapMode,
      boolean batching,
      List<Long> warmVersions) {
    /** Validates and copies the list. */
    public PredictorState {
      Objects.requireNonNull(target, "target");
      Objects.requireNonNull(swapMode, "swapMode");
      warmVersions = List.copyOf(warmVersions);
    }
  }

  /**
   * One open session.
   *
   * @param model model name
   * @param version version number
   * @param options the options it was opened with (a version loads once per set of options)
   * @param references holders of the session now: the cache (if {@code cached}), each predictor
   *     serving it or keeping it warm, and each call running on it
   * @param cached whether the session cache holds it; a session evicted but still in use is not
   */
  public record LoadedVersion(
      String model, long version, SessionOptions options, int references, boolean cached) {
    /** Validates. */
    public LoadedVersion {
      Objects.requireNonNull(model, "model");
      Objects.requireNonNull(options, "options");
    }
  }

  /**
   * One load in flight.
   *
   * @param model model name
   * @param version version number
   * @param options the options it is being opened with
   */
  public record Load(String model, long version, SessionOptions options) {
    /** Validates. */
    public Load {
      Objects.requireNonNull(model, "model");
      Objects.requireNonNull(options, "options");
    }
  }

  /**
   * The runtime's shadow traffic (copies of stable calls run on a rollout's candidate).
   *
   * @param mirrored copies run on a candidate so far
   * @param dropped copies dropped so far: the shadow was saturated, or the candidate was no longer
   *     routed when the copy's turn came
   * @param failed copies whose candidate run failed so far, those past the shadow deadline included
   *     (the callers saw none of these)
   * @param inFlight copies waiting or running now
   * @param capacity the most copies that may wait or run at once ({@code Mlops.Builder
   *     .shadowCapacity})
   * @param deadline how long each copy may run on the candidate ({@code Mlops.Builder
   *     .shadowDeadline})
   */
  public record Shadow(
      long mirrored,
      long dropped,
      long failed,
      int inFlight,
      int capacity,
      java.time.Duration deadline) {}
}
