package dev.mlops.metrics;

import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelRegistry;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.event.LifecycleEvent.ModelLoadFailed;
import dev.mlops.api.event.LifecycleEvent.ModelLoaded;
import dev.mlops.api.event.LifecycleEvent.ModelUnloaded;
import dev.mlops.api.event.LifecycleEvent.SwapRefused;
import dev.mlops.api.event.LifecycleEvent.VersionDeleted;
import dev.mlops.api.event.LifecycleEvent.VersionRegistered;
import dev.mlops.api.event.LifecycleEvent.VersionSwapped;
import dev.mlops.api.event.LifecycleEvent.WarmUpFailed;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.Outcome;
import dev.mlops.api.spi.PredictionEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link MetricSink} that records into a Micrometer {@link MeterRegistry}; it is also the {@link
 * MeterBinder} that connects it to one:
 *
 * <pre>{@code
 * MicrometerMetricSink sink = MicrometerMetricSink.create();
 * sink.bindTo(meterRegistry);            // or let Spring Boot / Micronaut bind the MeterBinder bean
 * Mlops mlops = Mlops.builder().localRegistry(dir).metricSink(sink).build();
 * }</pre>
 *
 * <p><b>Meters.</b> Names are lower-case and dotted; Micrometer renders them per backend (e.g.
 * {@code mlops_predictions_seconds} in Prometheus). Tag values: {@code model} is the model name,
 * {@code version} the version number in decimal ({@code 0} when no version was loaded), {@code
 * outcome} one of {@link Outcome#tag()}, {@code event} one of {@code version_registered,
 * alias_moved, alias_deleted, version_archived, version_deleted, model_loaded, model_load_failed,
 * version_swapped, model_unloaded}.
 *
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>name</th><th>type</th><th>tags</th><th>what</th></tr>
 *   <tr><td>{@value #PREDICTIONS}</td><td>Timer</td><td>model, version, outcome, arm</td>
 *       <td>one per prediction call: latency from entry to result or failure (negative latencies
 *       count as 0); {@code arm} is {@code candidate} for a call a rollout routed to its
 *       candidate, {@code stable} otherwise</td></tr>
 *   <tr><td>{@value #QUEUE_TIME}</td><td>Timer</td><td>model, version</td>
 *       <td>time waited in a batching queue; only calls that waited (queue time above 0) are
 *       recorded, so without batching this meter does not appear</td></tr>
 *   <tr><td>{@value #BATCH_SIZE}</td><td>DistributionSummary (rows)</td><td>model, version</td>
 *       <td>rows in the engine run that served a call; calls that never reached the engine (batch
 *       size 0) are left out</td></tr>
 *   <tr><td>{@value #LIFECYCLE_EVENTS}</td><td>Counter</td><td>model, event</td>
 *       <td>every lifecycle event</td></tr>
 *   <tr><td>{@value #MODEL_LOADS}</td><td>Counter</td><td>model, version, outcome</td>
 *       <td>loads; outcome {@code success} or {@code failure}</td></tr>
 *   <tr><td>{@value #MODEL_LOAD_TIME}</td><td>Timer</td><td>model, version</td>
 *       <td>time to verify, load and warm up a version, per successful load</td></tr>
 *   <tr><td>{@value #SWAPS}</td><td>Counter</td><td>model, version</td>
 *       <td>predictor switches, tagged with the version switched to</td></tr>
 *   <tr><td>{@value #SWAPS_REFUSED}</td><td>Counter</td><td>model, version</td>
 *       <td>switches a predictor refused because the version's signature is incompatible with the one
 *       it serves, tagged with the refused version</td></tr>
 *   <tr><td>{@value #WARM_UP_FAILURES}</td><td>Counter</td><td>model, version</td>
 *       <td>best-effort warm-ups on synthetic inputs that failed (the version serves anyway)</td></tr>
 *   <tr><td>{@value #ROLLOUT_CHANGES}</td><td>Counter</td><td>model, alias, change</td>
 *       <td>one per rollout change; {@code change=rollback} counts automatic rollbacks</td></tr>
 *   <tr><td>{@value #SHADOW_PREDICTIONS}</td><td>Timer</td><td>model, rollout, version, outcome</td>
 *       <td>one per shadow call of a rollout's candidate (a copy of a stable call, run off the
 *       caller's thread and discarded): the candidate's run, decoding included; {@code version} is
 *       the candidate's, {@code rollout} the rollout's id</td></tr>
 *   <tr><td>{@value #SHADOW_DROPPED}</td><td>Counter</td><td>model, rollout</td>
 *       <td>shadow copies dropped without running: the shadow executor was saturated</td></tr>
 *   <tr><td>{@value #SHADOW_DIFFERENCE}</td><td>DistributionSummary</td><td>model, rollout</td>
 *       <td>per successful shadow call, the largest absolute difference between the candidate's and
 *       the stable version's outputs; its count is the number of calls compared</td></tr>
 *   <tr><td>{@value #SHADOW_ARGMAX_DIFFERENCES}</td><td>Counter</td><td>model, rollout</td>
 *       <td>compared shadow calls where a row's arg-max (a classifier's class) differed</td></tr>
 *   <tr><td>{@value #VERSIONS_LOADED}</td><td>Gauge</td><td>model</td>
 *       <td>versions of the model loaded now; appears at the model's first load</td></tr>
 *   <tr><td>{@value #CACHE_WEIGHT}</td><td>Gauge (bytes)</td><td>none</td>
 *       <td>artifact bytes of all loaded versions, or the value of {@link Builder#cacheWeight}</td></tr>
 * </table>
 *
 * <p><b>No client-side percentiles</b> are configured by default: timers publish count, total and
 * max, which aggregate across instances. {@link Builder#percentileHistogram()} adds histogram
 * buckets for server-side percentiles, {@link Builder#percentiles} adds client-side ones; a
 * Micrometer {@code MeterFilter} on the registry can do the same per meter.
 *
 * <p><b>Gauges from lifecycle events.</b> The runtime does not report its cache, so this sink
 * derives both gauges from the events it receives: a version counts as loaded from its {@link
 * ModelLoaded} to its {@link ModelUnloaded} event (a count per version, so events that arrive out
 * of order between two threads still settle right). A version's weight is its artifact size ({@link
 * ModelVersion#sizeBytes()}) taken from the {@link VersionRegistered} event, or, for versions
 * registered before the sink existed, looked up in the registry given to {@link
 * Builder#artifactSizes} when the version loads; a size that is known neither way counts as 0.
 * Versions loaded before the sink was created are not seen at all. {@link Builder#cacheWeight}
 * replaces the derived weight with a value the caller supplies (e.g. a measured native size).
 *
 * <p><b>Before {@link #bindTo}</b> there is no registry: prediction events and lifecycle counters
 * are dropped, not buffered, so nothing is held on the prediction path. The loaded-version and size
 * bookkeeping behind the gauges runs from construction, so gauges are right from the moment of
 * binding.
 *
 * <p><b>Thread-safety and cost.</b> All methods are thread-safe. A prediction costs one {@link
 * ConcurrentHashMap} lookup by model name and a scan of that model's few versions to find cached
 * meters (no registry lookup, no allocation once the meters exist), then the Micrometer updates.
 * Meters are created once per (model, version, outcome), on first use. Lifecycle events, which are
 * rare, go through the registry. Nothing blocks beyond a short lock when a new version's meters are
 * first created.
 *
 * <p><b>Memory.</b> One set of meters per (model, version) served, kept for the life of the sink
 * (Micrometer registries keep meters too); one small entry per version registered or loaded while
 * the sink runs, removed when the version is deleted or unloaded.
 */
public final class MicrometerMetricSink implements MetricSink, MeterBinder {

  /** Timer of prediction calls. */
  public static final String PREDICTIONS = "mlops.predictions";

  /** Timer of batching-queue waits. */
  public static final String QUEUE_TIME = "mlops.queue.time";

  /** Distribution of engine batch sizes, in rows. */
  public static final String BATCH_SIZE = "mlops.batch.size";

  /** Counter of lifecycle events. */
  public static final String LIFECYCLE_EVENTS = "mlops.lifecycle.events";

  /** Counter of model loads, successful or not. */
  public static final String MODEL_LOADS = "mlops.model.loads";

  /** Timer of successful model loads. */
  public static final String MODEL_LOAD_TIME = "mlops.model.load.time";

  /** Counter of predictor version switches. */
  public static final String SWAPS = "mlops.swaps";

  /** Counter of swaps refused for an incompatible signature. */
  public static final String SWAPS_REFUSED = "mlops.swaps.refused";

  /** Counter of failed best-effort warm-ups. */
  public static final String WARM_UP_FAILURES = "mlops.warmup.failures";

  /** Counter of rollout changes, by model, alias and change (a rollback among them). */
  public static final String ROLLOUT_CHANGES = "mlops.rollout.changes";

  /** Timer of shadow calls of a rollout's candidate. */
  public static final String SHADOW_PREDICTIONS = "mlops.shadow.predictions";

  /** Counter of shadow copies dropped because the shadow was saturated. */
  public static final String SHADOW_DROPPED = "mlops.shadow.dropped";

  /** Distribution of the largest absolute output difference, candidate against stable. */
  public static final String SHADOW_DIFFERENCE = "mlops.shadow.max.abs.difference";

  /** Counter of shadow calls whose arg-max differed from the stable version's. */
  public static final String SHADOW_ARGMAX_DIFFERENCES = "mlops.shadow.argmax.differences";

  /** Gauge of versions loaded now, per model. */
  public static final String VERSIONS_LOADED = "mlops.versions.loaded";

  /** Gauge of the bytes of loaded versions. */
  public static final String CACHE_WEIGHT = "mlops.cache.weight";

  private static final Logger LOG = LoggerFactory.getLogger(MicrometerMetricSink.class);
  private static final Outcome[] OUTCOMES = Outcome.values();

  private final double[] percentiles;
  private final boolean percentileHistogram;
  private final DoubleSupplier cacheWeight;
  private final ModelRegistry artifactSizes;

  private final Object bindLock = new Object();
  private volatile Bound bound;

  /** Artifact size per version, from registrations (or registry look-ups at load time). */
  private final ConcurrentHashMap<VersionKey, Long> sizes = new ConcurrentHashMap<>();

  /** Load count per version; a version is loaded while its count is above 0. */
  private final ConcurrentHashMap<VersionKey, Integer> loaded = new ConcurrentHashMap<>();

  private MicrometerMetricSink(Builder b) {
    this.percentiles = b.percentiles == null ? new double[0] : b.percentiles;
    this.percentileHistogram = b.percentileHistogram;
    this.cacheWeight = b.cacheWeight;
    this.artifactSizes = b.artifactSizes;
  }

  /**
   * A sink with the defaults: no percentiles, weights from lifecycle events.
   *
   * @return a new, unbound sink
   */
  public static MicrometerMetricSink create() {
    return builder().build();
  }

  /**
   * A new builder; every option has a default. The builder is not thread-safe; the sink is.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Connects the sink to a registry and registers the gauges. Events from then on are recorded
   * there. Binding again to the same registry does nothing. Thread-safe.
   *
   * @param registry the registry to record into; to publish to several, bind to a {@code
   *     CompositeMeterRegistry}
   * @throws IllegalStateException if the sink is already bound to another registry
   */
  @Override
  public void bindTo(MeterRegistry registry) {
    Objects.requireNonNull(registry, "registry");
    synchronized (bindLock) {
      Bound current = bound;
      if (current != null) {
        if (current.registry == registry) {
          return;
        }
        throw new IllegalStateException(
            "this MicrometerMetricSink is already bound to "
                + current.registry
                + "; cannot also bind it to "
                + registry
                + ": bind it once, to a CompositeMeterRegistry holding both");
      }
      Bound fresh = new Bound(registry);
      Gauge.builder(CACHE_WEIGHT, this, MicrometerMetricSink::cacheWeightBytes)
          .description("Artifact bytes of the model versions loaded now")
          .baseUnit(BaseUnits.BYTES)
          .strongReference(true)
          .register(registry);
      for (VersionKey key : loaded.keySet()) {
        fresh.ensureLoadedGauge(key.model());
      }
      bound = fresh;
    }
  }

  /**
   * Records one prediction into the cached meters of its model, version and outcome; dropped if the
   * sink is not bound yet. Thread-safe; never throws for bookkeeping reasons.
   */
  @Override
  public void onPrediction(PredictionEvent event) {
    Bound b = bound;
    if (b == null) {
      return;
    }
    VersionMeters meters = b.meters(event.model(), event.version());
    meters
        .latency(event.outcome(), event.arm())
        .record(Math.max(0L, event.latencyNanos()), TimeUnit.NANOSECONDS);
    if (event.batchSize() > 0) {
      meters.batchSize().record(event.batchSize());
    }
    if (event.queueNanos() > 0) {
      meters.queueTime().record(event.queueNanos(), TimeUnit.NANOSECONDS);
    }
  }

  /**
   * Records one shadow call of a rollout's candidate, or one dropped copy; dropped if the sink is
   * not bound yet. Thread-safe.
   */
  @Override
  public void onShadow(dev.mlops.api.spi.ShadowEvent event) {
    Bound b = bound;
    if (b == null) {
      return;
    }
    MeterRegistry registry = b.registry;
    if (event.dropped()) {
      // On the caller's thread, once per call a saturated shadow drops: no registry look-up.
      b.shadowDropped(event.model(), event.rollout()).increment();
      return;
    }
    Timer.builder(SHADOW_PREDICTIONS)
        .description("Shadow calls of a rollout's candidate, run off the caller's thread")
        .tag("model", event.model())
        .tag("rollout", event.rollout())
        .tag("version", Long.toString(event.candidateVersion()))
        .tag("outcome", event.outcome().tag())
        .register(registry)
        .record(Math.max(0L, event.latencyNanos()), TimeUnit.NANOSECONDS);
    event
        .comparison()
        .ifPresent(
            c -> {
              DistributionSummary.builder(SHADOW_DIFFERENCE)
                  .description(
                      "Largest absolute difference between the candidate's and the stable outputs")
                  .tag("model", event.model())
                  .tag("rollout", event.rollout())
                  .register(registry)
                  .record(c.maxAbsDifference());
              Counter argmax =
                  Counter.builder(SHADOW_ARGMAX_DIFFERENCES)
                      .description("Shadow calls whose arg-max differed from the stable version's")
                      .tag("model", event.model())
                      .tag("rollout", event.rollout())
                      .register(registry);
              if (c.argmaxDiffers()) {
                argmax.increment();
              }
            });
  }

  /** Updates the loaded-version bookkeeping, then, if bound, counts the event. Thread-safe. */
  @Override
  public void onLifecycle(LifecycleEvent event) {
    track(event);
    Bound b = bound;
    if (b == null) {
      return;
    }
    MeterRegistry registry = b.registry;
    Counter.builder(LIFECYCLE_EVENTS)
        .description("Model lifecycle events: registry changes, loads, swaps, unloads")
        .tag("model", event.model())
        .tag("event", LifecycleEventNames.of(event))
        .register(registry)
        .increment();
    if (event instanceof ModelLoaded) {
      ModelLoaded e = (ModelLoaded) event;
      loads(registry, e.model(), e.version(), "success").increment();
      Timer.builder(MODEL_LOAD_TIME)
          .description("Time to verify, load and warm up a model version")
          .tags(versionTags(e.model(), e.version()))
          .register(registry)
          .record(Math.max(0L, e.loadNanos()), TimeUnit.NANOSECONDS);
      b.ensureLoadedGauge(e.model());
    } else if (event instanceof ModelLoadFailed) {
      ModelLoadFailed e = (ModelLoadFailed) event;
      loads(registry, e.model(), e.version(), "failure").increment();
    } else if (event instanceof VersionSwapped) {
      VersionSwapped e = (VersionSwapped) event;
      Counter.builder(SWAPS)
          .description(
              "Predictor switches from one model version to another, by the version switched to")
          .tags(versionTags(e.model(), e.toVersion()))
          .register(registry)
          .increment();
    } else if (event instanceof SwapRefused) {
      SwapRefused e = (SwapRefused) event;
      Counter.builder(SWAPS_REFUSED)
          .description(
              "Switches refused because the version's signature is incompatible, by the refused version")
          .tags(versionTags(e.model(), e.toVersion()))
          .register(registry)
          .increment();
    } else if (event instanceof LifecycleEvent.RolloutChanged e) {
      Counter.builder(ROLLOUT_CHANGES)
          .description(
              "Rollout changes behind an alias: start, weight, pause, resume, promote, abort,"
                  + " rollback")
          .tag("model", e.model())
          .tag("alias", e.rollout().alias())
          .tag("change", e.change())
          .register(registry)
          .increment();
    } else if (event instanceof WarmUpFailed) {
      WarmUpFailed e = (WarmUpFailed) event;
      Counter.builder(WARM_UP_FAILURES)
          .description(
              "Best-effort warm-ups on synthetic inputs that failed; the version serves anyway")
          .tags(versionTags(e.model(), e.version()))
          .register(registry)
          .increment();
    }
  }

  /** Describes the configuration and the binding. */
  @Override
  public String toString() {
    Bound b = bound;
    return "MicrometerMetricSink[registry="
        + (b == null ? "unbound" : b.registry.getClass().getSimpleName())
        + ", percentiles="
        + Arrays.toString(percentiles)
        + ", percentileHistogram="
        + percentileHistogram
        + ", cacheWeight="
        + (cacheWeight != null ? "supplied" : artifactSizes != null ? "events+registry" : "events")
        + "]";
  }

  /** Versions of the model loaded now, as the {@value #VERSIONS_LOADED} gauge reports. */
  int loadedVersions(String model) {
    int n = 0;
    for (VersionKey key : loaded.keySet()) {
      if (key.model().equals(model)) {
        n++;
      }
    }
    return n;
  }

  /** The value of the {@value #CACHE_WEIGHT} gauge. */
  double cacheWeightBytes() {
    if (cacheWeight != null) {
      try {
        return cacheWeight.getAsDouble();
      } catch (RuntimeException e) {
        LOG.debug("the cacheWeight supplier failed", e);
        return Double.NaN;
      }
    }
    long total = 0;
    for (VersionKey key : loaded.keySet()) {
      total += sizes.getOrDefault(key, 0L);
    }
    return total;
  }

  private void track(LifecycleEvent event) {
    if (event instanceof VersionRegistered) {
      ModelVersion v = ((VersionRegistered) event).version();
      sizes.put(new VersionKey(v.name(), v.version()), v.sizeBytes());
    } else if (event instanceof ModelLoaded) {
      ModelLoaded e = (ModelLoaded) event;
      VersionKey key = new VersionKey(e.model(), e.version());
      if (artifactSizes != null && cacheWeight == null && !sizes.containsKey(key)) {
        lookUpSize(key);
      }
      loaded.merge(key, 1, Integer::sum);
    } else if (event instanceof ModelUnloaded) {
      ModelUnloaded e = (ModelUnloaded) event;
      // An unload without a load seen (the version loaded before this sink) changes nothing.
      loaded.computeIfPresent(
          new VersionKey(e.model(), e.version()), (k, n) -> n > 1 ? n - 1 : null);
    } else if (event instanceof VersionDeleted) {
      VersionDeleted e = (VersionDeleted) event;
      sizes.remove(new VersionKey(e.model(), e.version()));
    }
  }

  private void lookUpSize(VersionKey key) {
    try {
      Optional<ModelVersion> version =
          artifactSizes.find(ModelRef.version(key.model(), key.version()));
      version.ifPresent(v -> sizes.put(key, v.sizeBytes()));
    } catch (RuntimeException e) {
      LOG.debug(
          "cannot look up the size of {} v{}; it counts as 0 in {}",
          key.model(),
          key.version(),
          CACHE_WEIGHT,
          e);
    }
  }

  private static Counter loads(MeterRegistry registry, String model, long version, String outcome) {
    return Counter.builder(MODEL_LOADS)
        .description("Model version loads, successful or failed")
        .tags(versionTags(model, version))
        .tag("outcome", outcome)
        .register(registry);
  }

  private static Tags versionTags(String model, long version) {
    return Tags.of("model", model, "version", Long.toString(version));
  }

  private record VersionKey(String model, long version) {}

  /** The meters of one registry. */
  private final class Bound {
    final MeterRegistry registry;
    final ConcurrentHashMap<String, ModelMeters> models = new ConcurrentHashMap<>();
    final Set<String> loadedGauges = ConcurrentHashMap.newKeySet();

    /** The dropped-copies counter of each model's rollouts. */
    final ConcurrentHashMap<String, ConcurrentHashMap<String, Counter>> shadowDrops =
        new ConcurrentHashMap<>();

    Bound(MeterRegistry registry) {
      this.registry = registry;
    }

    Counter shadowDropped(String model, String rollout) {
      ConcurrentHashMap<String, Counter> byRollout = shadowDrops.get(model);
      if (byRollout == null) {
        byRollout = shadowDrops.computeIfAbsent(model, k -> new ConcurrentHashMap<>());
      }
      Counter c = byRollout.get(rollout);
      if (c == null) {
        c =
            byRollout.computeIfAbsent(
                rollout,
                id ->
                    Counter.builder(SHADOW_DROPPED)
                        .description(
                            "Shadow copies of calls dropped because the shadow executor was"
                                + " saturated")
                        .tag("model", model)
                        .tag("rollout", id)
                        .register(registry));
      }
      return c;
    }

    VersionMeters meters(String model, long version) {
      ModelMeters m = models.get(model);
      if (m == null) {
        m = models.computeIfAbsent(model, name -> new ModelMeters(this, name));
      }
      return m.version(version);
    }

    void ensureLoadedGauge(String model) {
      if (loadedGauges.add(model)) {
        Gauge.builder(VERSIONS_LOADED, MicrometerMetricSink.this, s -> s.loadedVersions(model))
            .description("Versions of the model loaded now")
            .tag("model", model)
            .strongReference(true)
            .register(registry);
      }
    }
  }

  /** The cached meters of one model's versions; few versions, so a copy-on-write array. */
  private final class ModelMeters {
    final Bound bound;
    final String model;
    volatile VersionMeters[] versions = new VersionMeters[0];

    ModelMeters(Bound bound, String model) {
      this.bound = bound;
      this.model = model;
    }

    VersionMeters version(long version) {
      for (VersionMeters m : versions) {
        if (m.version == version) {
          return m;
        }
      }
      return add(version);
    }

    private synchronized VersionMeters add(long version) {
      VersionMeters[] current = versions;
      for (VersionMeters m : current) {
        if (m.version == version) {
          return m;
        }
      }
      VersionMeters fresh = new VersionMeters(bound.registry, model, version);
      VersionMeters[] grown = Arrays.copyOf(current, current.length + 1);
      grown[current.length] = fresh;
      versions = grown;
      return fresh;
    }
  }

  /** The meters of one (model, version), each created on first use. */
  private final class VersionMeters {
    final MeterRegistry registry;
    final long version;
    final Tags tags;
    final AtomicReferenceArray<Timer> latency = new AtomicReferenceArray<>(OUTCOMES.length * 2);
    volatile DistributionSummary batchSize;
    volatile Timer queueTime;

    VersionMeters(MeterRegistry registry, String model, long version) {
      this.registry = registry;
      this.version = version;
      this.tags = versionTags(model, version);
    }

    Timer latency(Outcome outcome, dev.mlops.api.Prediction.Arm arm) {
      int i = outcome.ordinal() * 2 + arm.ordinal();
      Timer t = latency.get(i);
      if (t == null) {
        // Registries return the same meter for the same id, so a racing creation is harmless.
        t =
            timer(PREDICTIONS, "Prediction calls, from entry to result or failure")
                .tag("outcome", outcome.tag())
                .tag("arm", arm.tag())
                .register(registry);
        latency.set(i, t);
      }
      return t;
    }

    DistributionSummary batchSize() {
      DistributionSummary s = batchSize;
      if (s == null) {
        s =
            DistributionSummary.builder(BATCH_SIZE)
                .description("Rows in the engine run that served a prediction call")
                .baseUnit("rows")
                .tags(tags)
                .register(registry);
        batchSize = s;
      }
      return s;
    }

    Timer queueTime() {
      Timer t = queueTime;
      if (t == null) {
        t =
            timer(QUEUE_TIME, "Time prediction calls waited in a batching queue")
                .register(registry);
        queueTime = t;
      }
      return t;
    }

    private Timer.Builder timer(String name, String description) {
      Timer.Builder b = Timer.builder(name).description(description).tags(tags);
      if (percentiles.length > 0) {
        b.publishPercentiles(percentiles);
      }
      if (percentileHistogram) {
        b.publishPercentileHistogram();
      }
      return b;
    }
  }

  /**
   * Builds a {@link MicrometerMetricSink}. Each option may be set at most once; an invalid or
   * conflicting value fails at once with a message naming the option. Not thread-safe.
   */
  public static final class Builder {
    private double[] percentiles;
    private boolean percentileHistogram;
    private boolean percentileHistogramSet;
    private DoubleSupplier cacheWeight;
    private ModelRegistry artifactSizes;

    private Builder() {}

    /**
     * Client-side percentiles for the timers, e.g. {@code 0.5, 0.99}. They cannot be aggregated
     * across instances; prefer {@link #percentileHistogram()} where the backend supports it.
     * Default: none.
     *
     * @param percentiles values in [0, 1]
     * @return this builder
     * @throws IllegalArgumentException if a value is outside [0, 1] or none is given
     * @throws IllegalStateException if percentiles were already set
     */
    public Builder percentiles(double... percentiles) {
      Objects.requireNonNull(percentiles, "percentiles");
      if (this.percentiles != null) {
        throw new IllegalStateException(
            "percentiles were already set to " + Arrays.toString(this.percentiles));
      }
      if (percentiles.length == 0) {
        throw new IllegalArgumentException(
            "percentiles: give at least one value, or do not call it");
      }
      for (double p : percentiles) {
        if (!(p >= 0.0 && p <= 1.0)) {
          throw new IllegalArgumentException(
              "percentiles must be between 0.0 and 1.0 inclusive but got " + p);
        }
      }
      this.percentiles = percentiles.clone();
      return this;
    }

    /**
     * Publishes histogram buckets with the timers so that the backend can compute percentiles
     * across instances. Default: off.
     *
     * @return this builder
     * @throws IllegalStateException if it was already called
     */
    public Builder percentileHistogram() {
      if (percentileHistogramSet) {
        throw new IllegalStateException("percentileHistogram was already set");
      }
      this.percentileHistogram = true;
      this.percentileHistogramSet = true;
      return this;
    }

    /**
     * Reports this value, in bytes, as {@value #CACHE_WEIGHT} instead of the weight derived from
     * lifecycle events; e.g. a measured native size. Called when the gauge is read, on the
     * reporting thread; it must be thread-safe and fast. If it throws, the gauge reads NaN.
     *
     * @param weightBytes the current cache weight in bytes
     * @return this builder
     * @throws IllegalStateException if it or {@link #artifactSizes} was already set
     */
    public Builder cacheWeight(DoubleSupplier weightBytes) {
      Objects.requireNonNull(weightBytes, "weightBytes");
      if (cacheWeight != null) {
        throw new IllegalStateException("cacheWeight was already set");
      }
      if (artifactSizes != null) {
        throw new IllegalStateException(
            "cacheWeight conflicts with artifactSizes: a supplied weight does not use artifact sizes");
      }
      this.cacheWeight = weightBytes;
      return this;
    }

    /**
     * Looks up, when a version loads, the artifact size of versions whose registration this sink
     * did not see (registered before it was created). The look-up runs on the loading thread, once
     * per version. Default: such versions weigh 0.
     *
     * @param registry the registry the runtime loads from
     * @return this builder
     * @throws IllegalStateException if it or {@link #cacheWeight} was already set
     */
    public Builder artifactSizes(ModelRegistry registry) {
      Objects.requireNonNull(registry, "registry");
      if (artifactSizes != null) {
        throw new IllegalStateException("artifactSizes was already set");
      }
      if (cacheWeight != null) {
        throw new IllegalStateException(
            "artifactSizes conflicts with cacheWeight: a supplied weight does not use artifact sizes");
      }
      this.artifactSizes = registry;
      return this;
    }

    /**
     * Builds the sink, unbound; call {@link MicrometerMetricSink#bindTo} before events matter.
     *
     * @return a new sink
     */
    public MicrometerMetricSink build() {
      return new MicrometerMetricSink(this);
    }
  }
}
