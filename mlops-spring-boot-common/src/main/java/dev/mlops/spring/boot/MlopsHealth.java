package dev.mlops.spring.boot;

import dev.mlops.api.ModelVersion;
import dev.mlops.api.Predictor;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.spi.FeedStatus;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.RuntimeState;
import dev.mlops.runtime.SwapMode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The health of each predictor and of the registry's change feed, independent of the Boot line: the
 * Boot-line modules turn each {@link Report} into an Actuator {@code Health}.
 *
 * <ul>
 *   <li>{@link Status#UP}: the predictor serves a version, loaded and warmed up.
 *   <li>{@link Status#OUT_OF_SERVICE}: a resource-preserving swap is between versions (the old one
 *       unloaded, the new one loading, no load failed since); calls wait, so a load balancer should
 *       route elsewhere.
 *   <li>{@link Status#DOWN}: no version serves, with the last load failure of its model (in a
 *       resource-preserving swap whose new version failed, until the old one is loaded again).
 * </ul>
 *
 * <p>Listens to the runtime's lifecycle events for load failures. Thread-safe; a report reads a
 * {@link Mlops#state()} snapshot and never blocks a prediction.
 */
public final class MlopsHealth implements AutoCloseable {

  /** A health status, as Actuator names it. */
  public enum Status {
    /** Serving. */
    UP,
    /** Between two versions in a resource-preserving swap. */
    OUT_OF_SERVICE,
    /** Not serving. */
    DOWN
  }

  /**
   * One health report.
   *
   * @param status the status
   * @param details what Actuator shows beside it
   * @param failure the load failure behind a DOWN, if known
   */
  public record Report(Status status, Map<String, Object> details, Optional<Throwable> failure) {
    /** Copies the details. */
    public Report {
      Objects.requireNonNull(status, "status");
      details = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(details));
      Objects.requireNonNull(failure, "failure");
    }
  }

  private final Mlops mlops;
  private final PredictorFactory predictors;
  private final Map<String, LifecycleEvent> lastFailure = new ConcurrentHashMap<>();
  // Event sequence numbers, per model: the last unload (a resource-preserving gap begins with one)
  // and the last load failure.
  private final java.util.concurrent.atomic.AtomicLong sequence =
      new java.util.concurrent.atomic.AtomicLong();
  private final Map<String, Long> unloadedAt = new ConcurrentHashMap<>();
  private final Map<String, Long> failedAt = new ConcurrentHashMap<>();
  private final AutoCloseable subscription;

  /**
   * Reports on the predictors {@code predictors} made in {@code mlops}.
   *
   * @param mlops the runtime
   * @param predictors the factory of the configured predictors
   */
  public MlopsHealth(Mlops mlops, PredictorFactory predictors) {
    this.mlops = Objects.requireNonNull(mlops, "mlops");
    this.predictors = Objects.requireNonNull(predictors, "predictors");
    this.subscription = mlops.addListener(this::onEvent);
  }

  private void onEvent(LifecycleEvent e) {
    long n = sequence.incrementAndGet();
    if (e instanceof LifecycleEvent.ModelUnloaded u) {
      unloadedAt.put(u.model(), n);
    } else if (e instanceof LifecycleEvent.ModelLoadFailed f) {
      lastFailure.put(f.model(), f);
      failedAt.put(f.model(), n);
    } else if (e instanceof LifecycleEvent.SwapRefused r) {
      lastFailure.put(r.model(), r);
    } else if (e instanceof LifecycleEvent.VersionSwapped s) {
      lastFailure.remove(s.model());
    }
  }

  /** The health of the predictor made for {@code name}. */
  public Report predictor(String name) {
    Map<String, Object> details = new LinkedHashMap<>();
    Optional<Predictor<?, ?>> made = predictors.made(name);
    if (made.isEmpty()) {
      details.put("error", "no predictor was made for " + PredictorFactory.key(name));
      return new Report(Status.DOWN, details, Optional.empty());
    }
    Predictor<?, ?> p = made.get();
    String model = p.target().name();
    details.put("target", p.target().toString());
    LifecycleEvent failure = lastFailure.get(model);
    RuntimeState state = mlops.state();
    if (!state.open()) {
      details.put("error", "the mlops runtime is closed");
      return new Report(Status.DOWN, details, Optional.empty());
    }
    Optional<ModelVersion> serving;
    try {
      serving = p.servingVersion();
    } catch (RuntimeException e) {
      details.put("error", e.toString());
      return new Report(Status.DOWN, details, Optional.of(e));
    }
    if (serving.isPresent()) {
      details.put("version", serving.get().version());
      if (failure != null) {
        details.put("lastFailure", describe(failure));
      }
      return new Report(Status.UP, details, Optional.empty());
    }
    details.put("version", 0L);
    if (swapMode(state, p) == SwapMode.RESOURCE_PRESERVING && inGap(state, model)) {
      details.put("swap", "between versions (resource-preserving swap), calls wait");
      return new Report(Status.OUT_OF_SERVICE, details, Optional.empty());
    }
    if (failure != null) {
      details.put("error", describe(failure));
    } else {
      details.put("error", "no version loaded");
    }
    Throwable cause = failure instanceof LifecycleEvent.ModelLoadFailed f ? f.cause() : null;
    return new Report(Status.DOWN, details, Optional.ofNullable(cause));
  }

  /**
   * Whether a resource-preserving swap of {@code model} is between versions: a load of it is in
   * flight, or a version of it was unloaded and no load of it has failed since.
   */
  private boolean inGap(RuntimeState state, String model) {
    if (state.loading().stream().anyMatch(l -> l.model().equals(model))) {
      return true;
    }
    Long unloaded = unloadedAt.get(model);
    Long failed = failedAt.get(model);
    return unloaded != null && (failed == null || failed < unloaded);
  }

  private static SwapMode swapMode(RuntimeState state, Predictor<?, ?> p) {
    for (RuntimeState.PredictorState s : state.predictors()) {
      if (s.target().equals(p.target()) && s.servingVersion() == 0) {
        return s.swapMode();
      }
    }
    return SwapMode.AVAILABILITY_PRESERVING;
  }

  /** The registry's change feed: present only for a registry that has one (fleet mode). */
  public Optional<Report> registryFeed() {
    Optional<FeedStatus> feed = mlops.state().registryFeed();
    return feed.map(
        f -> {
          Map<String, Object> d = new LinkedHashMap<>();
          d.put("connected", f.connected());
          d.put("since", f.since().toString());
          f.lastNotification().ifPresent(t -> d.put("lastNotification", t.toString()));
          f.lastResync().ifPresent(t -> d.put("lastResync", t.toString()));
          d.put("reconnects", f.reconnects());
          d.put("resyncs", f.resyncs());
          f.lastFailure().ifPresent(m -> d.put("lastFailure", m));
          return new Report(f.connected() ? Status.UP : Status.DOWN, d, Optional.empty());
        });
  }

  static String describe(LifecycleEvent e) {
    if (e instanceof LifecycleEvent.ModelLoadFailed f) {
      return "loading models:/"
          + f.model()
          + "/"
          + f.version()
          + " failed at "
          + f.time()
          + ": "
          + f.cause();
    }
    if (e instanceof LifecycleEvent.SwapRefused r) {
      return "swap of "
          + r.target()
          + " to version "
          + r.toVersion()
          + " refused at "
          + r.time()
          + ": "
          + r.differences();
    }
    return e.toString();
  }

  @Override
  public void close() {
    try {
      subscription.close();
    } catch (Exception e) {
      // The runtime is closing; nothing more comes.
    }
  }
}
