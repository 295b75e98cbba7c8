package dev.mlops.runtime;

import dev.mlops.api.ClosedException;
import dev.mlops.api.Codec;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelRegistry;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Predictor;
import dev.mlops.api.WarmUpPolicy;
import dev.mlops.api.event.LifecycleListener;
import dev.mlops.api.spi.InferenceEngine;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.PredictionObserver;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.RegistryProvider;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entry point: wires a registry, an inference engine, a session cache, metric sinks and
 * executors, and makes predictors.
 *
 * <pre>{@code
 * try (Mlops mlops = Mlops.builder().localRegistry(Path.of("models")).metricSink(sink).build()) {
 *   Predictor<float[], float[]> p = mlops.predictor("models:/cancer@production", Codecs.floatRow());
 *   float[] probabilities = p.predict(features).value();
 * }
 * }</pre>
 *
 * <p>Threads: {@code predictAsync} runs on the {@linkplain Builder#executor executor}; hot swaps
 * (loading the version an alias moved to) run on the {@linkplain Builder#swapExecutor swap
 * executor}, so they never wait behind predictions; batching workers run on threads of their own
 * ({@link BatchingOptions.Builder#threadFactory}). Each can be replaced; the defaults are daemon
 * threads that {@link #close()} stops. Time (latencies, deadlines, queue delays, swap gaps) is read
 * from one {@linkplain Builder#ticker ticker}.
 *
 * <p>Thread-safe. {@link #close()} closes every predictor (calls in flight finish first), then the
 * parts this instance created; parts passed in through the builder are left to the caller. {@link
 * #state()} shows what it holds.
 */
public final class Mlops implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Mlops.class);

  /** Seconds a shadow copy may run by default; see {@link Builder#shadowDeadline}. */
  public static final long DEFAULT_SHADOW_SECONDS = 10;

  private static final java.time.Duration DEFAULT_SHADOW_DEADLINE =
      java.time.Duration.ofSeconds(DEFAULT_SHADOW_SECONDS);

  private final GovernedRegistry registry;
  private final boolean ownsRegistry;
  private final InferenceEngine engine;
  private final boolean ownsEngine;
  private final Telemetry telemetry;
  private final ExecutorService executor;
  private final boolean ownsExecutor;
  private final Executor swapExecutor;
  private final ExecutorService ownSwapExecutor;
  private final ExecutorService ownShadowExecutor;
  private final ExecutorService ownCloseExecutor;
  private final ShadowCalls shadow;
  private final Clock clock;
  private final LongSupplier ticker;
  private final SessionCache cache;
  private final List<DefaultPredictor<?, ?>> predictors = new CopyOnWriteArrayList<>();
  private final AutoCloseable registrySubscription;
  private final java.time.Duration drainTimeout;
  private final WarmUpPolicy warmUpPolicy;
  private final java.time.Duration warmUpDeadline;
  private final java.time.Duration swapDelay;
  private final RolloutDecider decider;
  private final java.util.concurrent.ScheduledExecutorService ownRolloutScheduler;
  private final java.util.concurrent.ScheduledFuture<?> decisions;
  private final dev.mlops.api.SessionOptions sessionOptions;
  private final AutoCloseable registryAttachment;
  private final Thread shutdownHook;
  private volatile boolean closed;

  private Mlops(Builder b) {
    this.clock = b.clock;
    this.ticker = b.ticker;
    this.telemetry = new Telemetry(b.sink, b.observers);
    this.ownsEngine = b.engine == null;
    this.engine =
        b.engine != null
            ? b.engine
            : ServiceLoader.load(InferenceEngine.class)
                .findFirst()
                .orElseThrow(
                    () ->
                        new IllegalStateException(
                            "no InferenceEngine found by ServiceLoader; set one with engine(...)"));
    this.ownsRegistry = b.registry == null;
    this.registry =
        b.registry != null ? b.registry : RegistryProvider.openUri(b.registryUri, engine, clock);
    this.ownsExecutor = b.executor == null;
    this.executor =
        b.executor != null
            ? b.executor
            : Executors.newCachedThreadPool(new DaemonThreads("mlops-worker-"));
    this.ownSwapExecutor =
        b.swapExecutor == null
            ? Executors.newCachedThreadPool(new DaemonThreads("mlops-swap-"))
            : null;
    this.swapExecutor = b.swapExecutor != null ? b.swapExecutor : ownSwapExecutor;
    // Shadow copies never share threads with callers or swaps; a bounded count waits or runs.
    this.ownShadowExecutor =
        b.shadowExecutor == null
            ? Executors.newFixedThreadPool(
                Math.max(1, Runtime.getRuntime().availableProcessors() / 2),
                new DaemonThreads("mlops-shadow-"))
            : null;
    this.shadow =
        new ShadowCalls(
            b.shadowExecutor != null ? b.shadowExecutor : ownShadowExecutor,
            b.shadowCapacity,
            b.shadowDeadline,
            telemetry);
    // A retired session closes on its own thread, never on the call that released it last.
    this.ownCloseExecutor =
        b.closeExecutor == null
            ? Executors.newSingleThreadExecutor(new DaemonThreads("mlops-closer-"))
            : null;
    this.cache =
        new SessionCache(
            registry,
            engine,
            clock,
            ticker,
            telemetry::publish,
            b.cacheBudgetBytes,
            b.closeExecutor != null ? b.closeExecutor : ownCloseExecutor);
    this.drainTimeout = b.drainTimeout;
    this.warmUpPolicy = b.warmUpPolicy;
    this.warmUpDeadline = b.warmUpDeadline;
    this.sessionOptions = b.sessionOptions;
    this.swapDelay =
        b.swapDelay != null
            ? b.swapDelay
            : b.staggerUpTo != null && !b.staggerUpTo.isZero()
                ? java.time.Duration.ofNanos(
                    java.util.concurrent.ThreadLocalRandom.current()
                        .nextLong(b.staggerUpTo.toNanos() + 1))
                : java.time.Duration.ZERO;
    // The registry's checks go through this runtime: an alias check loads into this cache, and a
    // deletion sees the predictors pinned to a version.
    this.registryAttachment = registry.attach(new Serving());
    if (b.closeOnShutdown) {
      shutdownHook = new Thread(this::closeFromHook, "mlops-shutdown");
      Runtime.getRuntime().addShutdownHook(shutdownHook);
    } else {
      shutdownHook = null;
    }
    this.registrySubscription = registry.addListener(telemetry::publish);
    this.decider = new RolloutDecider(this, ticker);
    if (b.rolloutDecisions) {
      this.ownRolloutScheduler =
          b.rolloutScheduler == null
              ? Executors.newSingleThreadScheduledExecutor(new DaemonThreads("mlops-rollouts-"))
              : null;
      java.util.concurrent.ScheduledExecutorService scheduler =
          b.rolloutScheduler != null ? b.rolloutScheduler : ownRolloutScheduler;
      this.decisions =
          scheduler.scheduleWithFixedDelay(
              this::decideRollouts, 100, 100, java.util.concurrent.TimeUnit.MILLISECONDS);
    } else {
      this.ownRolloutScheduler = null;
      this.decisions = null;
    }
  }

  /** One round of rollout decisions; a failure is logged and the next round runs. */
  void decideRollouts() {
    try {
      decider.tick();
    } catch (RuntimeException e) {
      LOG.warn("a round of rollout decisions failed: {}", e.toString(), e);
    }
  }

  /** The rollout routes of every open predictor, for the decider. */
  List<Binding.Route> routes() {
    List<Binding.Route> out = new java.util.ArrayList<>();
    for (DefaultPredictor<?, ?> p : predictors) {
      Binding.Route r = p.binding().route();
      if (r != null && !p.binding().isClosed()) {
        out.add(r);
      }
    }
    return out;
  }

  /** Starts a builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The model registry: the {@link ModelRegistry} operations, and the hooks this runtime's loads
   * use (verified artifacts, input examples, failure records).
   */
  public GovernedRegistry registry() {
    return registry;
  }

  /**
   * A predictor for a reference in {@code models:/} form.
   *
   * @see #predictor(ModelRef, Codec)
   */
  public <I, O> Predictor<I, O> predictor(String ref, Codec<I, O> codec) {
    return predictor(ModelRef.parse(ref), codec);
  }

  /**
   * A predictor that serves {@code ref}: a pinned version, an alias it follows, or the latest
   * version. Loads (verifies, warms up) the version before it returns.
   *
   * @throws dev.mlops.api.ModelNotFoundException if the reference resolves to nothing
   * @throws dev.mlops.api.ModelLoadException if the version cannot be loaded
   */
  public <I, O> Predictor<I, O> predictor(ModelRef ref, Codec<I, O> codec) {
    checkOpen();
    Objects.requireNonNull(ref, "ref");
    Objects.requireNonNull(codec, "codec");
    return newPredictor(ref, codec).build();
  }

  /**
   * Starts a predictor with options: swap mode, swap-gap timeout, versions kept warm.
   *
   * <pre>{@code
   * Predictor<float[], float[]> p = mlops.newPredictor(ModelRef.parse("models:/big@production"), Codecs.floatRow())
   *     .swapMode(SwapMode.RESOURCE_PRESERVING)
   *     .swapGapTimeout(Duration.ofSeconds(5))
   *     .build();
   * }</pre>
   */
  public <I, O> PredictorBuilder<I, O> newPredictor(ModelRef ref, Codec<I, O> codec) {
    checkOpen();
    return new PredictorBuilder<>(this, ref, codec);
  }

  <I, O> Predictor<I, O> track(DefaultPredictor<I, O> p) {
    predictors.add(p);
    if (closed) {
      p.close();
      throw new ClosedException("this Mlops runtime is closed");
    }
    return p;
  }

  /**
   * Drops the shared cache's reference on a version. Its session closes as soon as no predictor
   * serves it and no call uses it; the next request loads it again.
   */
  public void evict(ModelVersion version) {
    cache.evict(version);
  }

  /**
   * Adds a listener for lifecycle events: the registry's and the runtime's (loaded, load failed,
   * swapped, unloaded).
   *
   * @return a handle whose {@code close()} removes it
   */
  public AutoCloseable addListener(LifecycleListener listener) {
    return telemetry.addListener(listener);
  }

  /** Counts of sessions opened and closed so far, open now, and the cached weight. */
  public SessionStats sessionStats() {
    return new SessionStats(
        cache.sessionsOpened(), cache.sessionsClosed(), cache.openCount(), cache.cachedWeight());
  }

  /**
   * Session counters.
   *
   * @param opened sessions opened since start
   * @param closed sessions closed since start
   * @param loaded sessions open now (cached, serving or in use)
   * @param cachedBytes artifact bytes of the versions the cache holds, against its budget
   */
  public record SessionStats(long opened, long closed, int loaded, long cachedBytes) {}

  /**
   * A snapshot of what this runtime holds now: every open predictor (its target, the version it
   * serves, swap mode, batching, versions kept warm), every open session (options, references,
   * whether cached), the loads in flight, the session counters and the telemetry failure counts.
   * Works after {@link #close()} too (then with no predictors). Never blocks a prediction.
   */
  /** How long each hot swap waits before it starts ({@link Builder#staggerSwaps}). */
  java.time.Duration swapDelay() {
    return swapDelay;
  }

  public RuntimeState state() {
    List<RuntimeState.PredictorState> open = new java.util.ArrayList<>(predictors.size());
    for (DefaultPredictor<?, ?> p : predictors) {
      if (!p.binding().isClosed()) {
        open.add(p.state());
      }
    }
    return new RuntimeState(
        clock.instant(),
        !closed,
        open,
        cache.loadedVersions(),
        cache.loadsInFlight(),
        sessionStats(),
        telemetry.sinkFailures(),
        telemetry.observerFailures(),
        telemetry.listenerFailures(),
        swapDelay,
        registry.store().feedStatus(),
        registry.artifacts().transferStatus(),
        shadow.state());
  }

  SessionCache cache() {
    return cache;
  }

  /** The warm-up policy predictors use unless they set their own. */
  public WarmUpPolicy warmUpPolicy() {
    return warmUpPolicy;
  }

  /**
   * How long each warm-up run (and the run before an alias moves, when this runtime checks it) may
   * take, unless a predictor sets its own.
   */
  public java.time.Duration warmUpDeadline() {
    return warmUpDeadline;
  }

  /** The session options predictors use unless they set their own. */
  public dev.mlops.api.SessionOptions sessionOptions() {
    return sessionOptions;
  }

  /** What this runtime tells the registry it serves from. */
  private final class Serving implements GovernedRegistry.Serving {
    @Override
    public void checkLoads(ModelVersion version) {
      checkOpen();
      cache.acquire(version, sessionOptions, warmUpPolicy, warmUpDeadline).release();
    }

    @Override
    public List<String> pinnedPredictors(ModelVersion version) {
      List<String> out = new java.util.ArrayList<>();
      for (DefaultPredictor<?, ?> p : predictors) {
        ModelRef t = p.target();
        if (t.name().equals(version.name())
            && t.version().isPresent()
            && t.version().getAsLong() == version.version()) {
          out.add(p.toString());
        }
      }
      return out;
    }
  }

  ExecutorService executor() {
    return executor;
  }

  Executor swapExecutor() {
    return swapExecutor;
  }

  ShadowCalls shadow() {
    return shadow;
  }

  Clock clock() {
    return clock;
  }

  LongSupplier ticker() {
    return ticker;
  }

  Telemetry telemetry() {
    return telemetry;
  }

  void forget(DefaultPredictor<?, ?> p) {
    predictors.remove(p);
  }

  private void checkOpen() {
    if (closed) {
      throw new ClosedException("this Mlops runtime is closed");
    }
  }

  /**
   * Closes every predictor (each session closes when its calls in flight finish), then, if this
   * instance created them, the engine (which terminates the runs still in it, such as a warm-up of
   * a load in flight, and waits for them), the executors and the registry. Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    if (shutdownHook != null && Thread.currentThread() != shutdownHook) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException e) {
        // The JVM is already shutting down; the hook's own call finds us closed.
      }
    }
    for (AutoCloseable c : new AutoCloseable[] {registryAttachment, registrySubscription}) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.debug("detaching from the registry failed", e);
      }
    }
    if (decisions != null) {
      decisions.cancel(false);
    }
    if (ownRolloutScheduler != null) {
      ownRolloutScheduler.shutdownNow();
    }
    for (DefaultPredictor<?, ?> p : predictors) {
      p.close();
    }
    if (ownShadowExecutor != null) {
      // Queued shadow copies are dropped (they hold no lease yet); running ones finish below.
      ownShadowExecutor.shutdownNow();
    }
    if (!cache.shutdown(drainTimeout)) {
      SessionStats s = sessionStats();
      LOG.warn(
          "{} session(s) still in use {} after close began; they close when their calls return",
          s.opened() - s.closed(),
          drainTimeout);
    }
    // Calls in flight have drained: an engine of this runtime's own now terminates what still
    // runs in it (a warm-up of a load in flight, a registration's run), and waits for it to leave
    // native code, so that neither a swap thread nor the JVM's exit waits on a warm-up.
    if (ownCloseExecutor != null) {
      shutDown(ownCloseExecutor, "session closes");
    }
    if (ownsEngine) {
      engine.close();
    }
    if (ownsExecutor) {
      shutDown(executor, "predictAsync calls");
    }
    if (ownSwapExecutor != null) {
      shutDown(ownSwapExecutor, "swaps");
    }
    if (ownsRegistry) {
      registry.close();
    }
  }

  private static void shutDown(ExecutorService pool, String what) {
    pool.shutdown();
    try {
      if (!pool.awaitTermination(10, TimeUnit.SECONDS)) {
        LOG.warn("{} still running 10 s after close began", what);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void closeFromHook() {
    LOG.info("JVM shutdown: closing the mlops runtime (draining calls in flight)");
    close();
  }

  private static final class DaemonThreads implements ThreadFactory {
    private final String prefix;
    private final AtomicInteger n = new AtomicInteger();

    DaemonThreads(String prefix) {
      this.prefix = prefix;
    }

    @Override
    public Thread newThread(Runnable r) {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    }
  }

  /** Builder for {@link Mlops}. Each option may be set once; conflicting options fail at once. */
  public static final class Builder {
    private java.net.URI registryUri;
    private GovernedRegistry registry;
    private InferenceEngine engine;
    private MetricSink sink = MetricSink.NOOP;
    private boolean sinkSet;
    private ExecutorService executor;
    private Executor swapExecutor;
    private Clock clock = Clock.systemUTC();
    private boolean clockSet;
    private LongSupplier ticker = System::nanoTime;
    private boolean tickerSet;
    private PredictionObserver[] observers = new PredictionObserver[0];
    private boolean observersSet;
    private long cacheBudgetBytes = 2L << 30;
    private boolean cacheBudgetSet;
    private java.time.Duration drainTimeout = java.time.Duration.ofSeconds(30);
    private boolean drainTimeoutSet;
    private boolean closeOnShutdown;
    private WarmUpPolicy warmUpPolicy = WarmUpPolicy.BEST_EFFORT;
    private boolean warmUpSet;
    private java.time.Duration warmUpDeadline = WarmUpPolicy.DEFAULT_DEADLINE;
    private boolean warmUpDeadlineSet;
    private dev.mlops.api.SessionOptions sessionOptions = dev.mlops.api.SessionOptions.DEFAULTS;
    private boolean sessionOptionsSet;
    private java.time.Duration swapDelay;
    private java.time.Duration staggerUpTo;
    private boolean rolloutDecisions = true;
    private boolean rolloutDecisionsSet;
    private java.util.concurrent.ScheduledExecutorService rolloutScheduler;
    private Executor shadowExecutor;
    private Executor closeExecutor;
    private int shadowCapacity = 256;
    private boolean shadowCapacitySet;
    private java.time.Duration shadowDeadline = DEFAULT_SHADOW_DEADLINE;
    private boolean shadowDeadlineSet;

    private Builder() {}

    /**
     * How predictors warm a version up before it serves (default {@link WarmUpPolicy#BEST_EFFORT}:
     * the input example when the version has one, else synthetic inputs whose failure is only
     * reported). A predictor can set its own.
     */
    public Builder warmUp(WarmUpPolicy policy) {
      Objects.requireNonNull(policy, "policy");
      if (warmUpSet) {
        throw new IllegalStateException("warmUp: already set to " + warmUpPolicy);
      }
      this.warmUpPolicy = policy;
      this.warmUpSet = true;
      return this;
    }

    /**
     * How long each warm-up run may take (default {@link WarmUpPolicy#DEFAULT_DEADLINE}, 30 s): the
     * run on the input example or on synthetic inputs before a version serves, and the run that
     * proves a version loads before an alias moves to it through this runtime. A run past it is
     * terminated inside ONNX Runtime and the load fails with {@link
     * dev.mlops.api.WarmUpTimeoutException}: a predictor's build fails, a swap keeps the version
     * served before, an alias move is refused. A predictor can set its own.
     *
     * @throws IllegalArgumentException if {@code deadline} is zero or negative
     */
    public Builder warmUpDeadline(java.time.Duration deadline) {
      WarmUpPolicy.checkDeadline("warmUpDeadline", deadline);
      if (warmUpDeadlineSet) {
        throw new IllegalStateException("warmUpDeadline: already set to " + warmUpDeadline);
      }
      this.warmUpDeadline = deadline;
      this.warmUpDeadlineSet = true;
      return this;
    }

    /**
     * How the engine runs each model: threads, optimisation level, execution mode, native log level
     * (default {@link dev.mlops.api.SessionOptions#DEFAULTS}: one intra-op and one inter-op thread,
     * all optimisations, sequential, WARNING). A predictor can set its own.
     */
    public Builder sessionOptions(dev.mlops.api.SessionOptions options) {
      Objects.requireNonNull(options, "options");
      if (sessionOptionsSet) {
        throw new IllegalStateException("sessionOptions: already set to " + sessionOptions);
      }
      this.sessionOptions = options;
      this.sessionOptionsSet = true;
      return this;
    }

    /**
     * Whether this runtime moves automatic rollouts on (default: true): every step interval it
     * analyses the calls of its predictors that follow the rollout's alias, and rolls back, steps
     * up or promotes through the registry. In a fleet, leave it on in the instances with the
     * registry's writer credentials (one is enough); a runtime whose writes are refused stops
     * deciding with a warning.
     */
    public Builder rolloutDecisions(boolean decide) {
      if (rolloutDecisionsSet) {
        throw new IllegalStateException("rolloutDecisions: already set");
      }
      this.rolloutDecisions = decide;
      this.rolloutDecisionsSet = true;
      return this;
    }

    /**
     * Runs the rollout decisions (a check every 100 ms; each rollout's analysis every step
     * interval) on this scheduler; the caller keeps ownership. Default: one daemon thread of the
     * runtime's own ({@code mlops-rollouts}), started with the runtime when {@link
     * #rolloutDecisions} is on, and stopped by {@code close}.
     */
    public Builder rolloutScheduler(java.util.concurrent.ScheduledExecutorService scheduler) {
      Objects.requireNonNull(scheduler, "scheduler");
      if (rolloutScheduler != null) {
        throw new IllegalStateException("rolloutScheduler: already set");
      }
      this.rolloutScheduler = scheduler;
      return this;
    }

    /**
     * Delays every hot swap of this runtime's predictors by a random time up to {@code upTo},
     * picked once when the runtime is built (default: no delay), so that the instances of a fleet
     * do not all load a large new version at the same instant after an alias moves. The calls keep
     * the old version meanwhile; moves during the delay coalesce into one swap. {@link
     * RuntimeState#swapDelay()} shows the delay picked.
     *
     * @throws IllegalStateException if a delay was already set
     */
    public Builder staggerSwaps(java.time.Duration upTo) {
      Objects.requireNonNull(upTo, "upTo");
      if (upTo.isNegative()) {
        throw new IllegalArgumentException("staggerSwaps must not be negative: " + upTo);
      }
      onceDelay("staggerSwaps");
      this.staggerUpTo = upTo;
      return this;
    }

    /**
     * Delays every hot swap of this runtime's predictors by exactly {@code delay} (default: none):
     * for an ordinal stagger, give instance {@code i} the delay {@code step.multipliedBy(i)}.
     *
     * @throws IllegalStateException if a delay was already set
     */
    public Builder swapDelay(java.time.Duration delay) {
      Objects.requireNonNull(delay, "delay");
      if (delay.isNegative()) {
        throw new IllegalArgumentException("swapDelay must not be negative: " + delay);
      }
      onceDelay("swapDelay");
      this.swapDelay = delay;
      return this;
    }

    private void onceDelay(String option) {
      if (swapDelay != null || staggerUpTo != null) {
        throw new IllegalStateException(
            option
                + ": a swap delay was already set ("
                + (swapDelay != null ? "swapDelay " + swapDelay : "staggerSwaps " + staggerUpTo)
                + "); set one of staggerSwaps and swapDelay, once");
      }
    }

    /**
     * Memory budget of the shared session cache, weighed in artifact bytes (default 2 GiB).
     * Versions beyond it are evicted least-recently-used first; a version that a predictor serves
     * or a call uses stays loaded regardless, so the budget bounds the idle warm copies kept for
     * rollback.
     */
    public Builder sessionCacheBudget(long bytes) {
      if (cacheBudgetSet) {
        throw new IllegalStateException("sessionCacheBudget: already set");
      }
      if (bytes < 0) {
        throw new IllegalArgumentException(
            "sessionCacheBudget must be >= 0 bytes but was " + bytes);
      }
      this.cacheBudgetBytes = bytes;
      this.cacheBudgetSet = true;
      return this;
    }

    /** How long {@link Mlops#close()} waits for calls in flight to finish (default 30 s). */
    public Builder drainTimeout(java.time.Duration timeout) {
      if (drainTimeoutSet) {
        throw new IllegalStateException("drainTimeout: already set");
      }
      if (timeout.isNegative()) {
        throw new IllegalArgumentException("drainTimeout must not be negative: " + timeout);
      }
      this.drainTimeout = timeout;
      this.drainTimeoutSet = true;
      return this;
    }

    /**
     * Closes the runtime from a JVM shutdown hook (draining calls in flight) if the application has
     * not closed it before. Off by default; frameworks with their own lifecycle close it.
     */
    public Builder closeOnShutdown() {
      this.closeOnShutdown = true;
      return this;
    }

    /**
     * Observers that see the inputs and outputs of every successful prediction (drift and
     * data-quality monitors). None by default, which costs nothing on the prediction path.
     */
    public Builder observers(PredictionObserver... observers) {
      if (observersSet) {
        throw new IllegalStateException("observers: already set; pass them all in one call");
      }
      for (PredictionObserver o : observers) {
        Objects.requireNonNull(o, "observer");
      }
      this.observers = observers.clone();
      this.observersSet = true;
      return this;
    }

    /** Use the embedded registry in this directory (created if missing); the runtime owns it. */
    public Builder localRegistry(Path directory) {
      Objects.requireNonNull(directory, "directory");
      return registry(directory.toAbsolutePath().toUri());
    }

    /**
     * Open the registry a URI names, with the {@link RegistryProvider} found for its scheme: {@code
     * file:/var/lib/models} for the embedded directory registry, {@code postgresql:...} with the
     * PostgreSQL module on the class path. The runtime owns it and closes it.
     *
     * @throws IllegalArgumentException at {@link #build()} if no provider opens the scheme
     */
    public Builder registry(java.net.URI uri) {
      Objects.requireNonNull(uri, "uri");
      if (registry != null || registryUri != null) {
        throw new IllegalStateException("registry: a registry was already set");
      }
      this.registryUri = uri;
      return this;
    }

    /**
     * Use this registry, built with {@code LocalModelRegistry.builder(dir)}, {@code
     * GovernedRegistry.builder(store, artifacts)} or a {@link RegistryProvider}; the caller keeps
     * ownership and closes it.
     */
    public Builder registry(GovernedRegistry registry) {
      Objects.requireNonNull(registry, "registry");
      if (this.registry != null || registryUri != null) {
        throw new IllegalStateException("registry: a registry was already set");
      }
      this.registry = registry;
      return this;
    }

    /** Use this engine (default: the one found by ServiceLoader, ONNX Runtime). */
    public Builder engine(InferenceEngine engine) {
      Objects.requireNonNull(engine, "engine");
      if (this.engine != null) {
        throw new IllegalStateException("engine: already set");
      }
      this.engine = engine;
      return this;
    }

    /** Where prediction and lifecycle events go (default: {@link MetricSink#NOOP}). */
    public Builder metricSink(MetricSink sink) {
      Objects.requireNonNull(sink, "sink");
      if (sinkSet) {
        throw new IllegalStateException(
            "metricSink: already set; combine sinks with a composite sink");
      }
      this.sink = sink;
      this.sinkSet = true;
      return this;
    }

    /**
     * Runs {@code predictAsync} calls of predictors without batching on this executor; the caller
     * keeps ownership. Default: a cached pool of daemon threads ({@code mlops-worker-<n>}) that
     * {@code close} stops. Hot swaps and batching workers never use it, so a small fixed pool
     * cannot hold a predictor on its old version; a full or shut-down executor fails the call's
     * future with {@link dev.mlops.api.OverloadedException}.
     */
    public Builder executor(ExecutorService executor) {
      Objects.requireNonNull(executor, "executor");
      if (this.executor != null) {
        throw new IllegalStateException("executor: already set");
      }
      this.executor = executor;
      return this;
    }

    /**
     * Runs rollouts' shadow calls (copies of stable calls run on a candidate and discarded); the
     * caller keeps ownership. Default: a fixed pool of daemon threads ({@code mlops-shadow-<n>}),
     * half the processors and at least one, that {@code close} stops. Whatever the executor, at
     * most {@link #shadowCapacity} copies wait or run at once; a copy beyond that, or one the
     * executor refuses, is dropped and counted, never waited for, so a slow candidate cannot add to
     * a caller's latency.
     */
    public Builder shadowExecutor(Executor executor) {
      Objects.requireNonNull(executor, "executor");
      if (this.shadowExecutor != null) {
        throw new IllegalStateException("shadowExecutor: already set");
      }
      this.shadowExecutor = executor;
      return this;
    }

    /**
     * Closes the sessions that calls release last: when a version was swapped from or evicted while
     * calls ran on it, the last of them hands the close to this executor, so that no caller pays
     * for it. The caller keeps ownership. Default: one daemon thread ({@code mlops-closer-1}) that
     * {@code close} stops after every session has closed. A direct executor ({@code Runnable::run})
     * closes on the caller's thread, as an executor that refuses does.
     */
    public Builder closeExecutor(Executor executor) {
      Objects.requireNonNull(executor, "executor");
      if (this.closeExecutor != null) {
        throw new IllegalStateException("closeExecutor: already set");
      }
      this.closeExecutor = executor;
      return this;
    }

    /**
     * The most shadow copies that may wait or run at once (default 256); beyond it copies are
     * dropped and counted ({@code mlops.shadow.dropped}, {@link RuntimeState.Shadow#dropped}).
     */
    public Builder shadowCapacity(int copies) {
      if (copies < 1) {
        throw new IllegalArgumentException("shadowCapacity must be >= 1, was " + copies);
      }
      if (shadowCapacitySet) {
        throw new IllegalStateException("shadowCapacity: already set");
      }
      this.shadowCapacity = copies;
      this.shadowCapacitySet = true;
      return this;
    }

    /**
     * How long a shadow copy may run on the candidate (default {@value #DEFAULT_SHADOW_SECONDS} s),
     * counted from its start on the shadow thread. A copy past it is terminated inside ONNX Runtime
     * and reported with outcome {@code timeout} ({@code mlops.shadow.predictions}, {@link
     * RuntimeState.Shadow#failed}); in a shadow-only rollout it counts against the candidate like
     * any failed call. The caller, answered by the stable version, never sees it. Without this, a
     * candidate that hangs on some input would hold a shadow thread for good.
     *
     * @throws IllegalArgumentException if {@code deadline} is zero or negative
     */
    public Builder shadowDeadline(java.time.Duration deadline) {
      Objects.requireNonNull(deadline, "deadline");
      if (deadline.isZero() || deadline.isNegative()) {
        throw new IllegalArgumentException("shadowDeadline must be positive, was " + deadline);
      }
      if (shadowDeadlineSet) {
        throw new IllegalStateException("shadowDeadline: already set to " + shadowDeadline);
      }
      this.shadowDeadline = deadline;
      this.shadowDeadlineSet = true;
      return this;
    }

    /**
     * Runs hot swaps: a predictor that follows an alias or {@code latest} loads, verifies and warms
     * up the version it moves to in a task on this executor, at most one pending task per predictor
     * (a burst of moves costs one swap to the final target). The caller keeps ownership. Default: a
     * cached pool of daemon threads ({@code mlops-swap-<n>}) of its own, so that no prediction can
     * delay a swap; {@code close} stops it. A direct executor ({@code Runnable::run}) swaps on the
     * thread that moved the alias, before the move returns.
     */
    public Builder swapExecutor(Executor executor) {
      Objects.requireNonNull(executor, "executor");
      if (this.swapExecutor != null) {
        throw new IllegalStateException("swapExecutor: already set");
      }
      this.swapExecutor = executor;
      return this;
    }

    /**
     * The source of time for latencies, deadlines, batching queue delays, swap gaps and load times,
     * in nanoseconds from an arbitrary origin (default {@code System::nanoTime}). Waits are bounded
     * in real time by what this ticker says is left, so a ticker that stands still never makes a
     * call wait past its limit; advancing it makes deadlines pass at once. Must be thread-safe and
     * cheap: it is read a few times per prediction.
     */
    public Builder ticker(LongSupplier nanoTicker) {
      Objects.requireNonNull(nanoTicker, "nanoTicker");
      if (tickerSet) {
        throw new IllegalStateException("ticker: already set");
      }
      this.ticker = nanoTicker;
      this.tickerSet = true;
      return this;
    }

    /** The clock for event timestamps (default: system UTC). */
    public Builder clock(Clock clock) {
      Objects.requireNonNull(clock, "clock");
      if (clockSet) {
        throw new IllegalStateException("clock: already set");
      }
      this.clock = clock;
      this.clockSet = true;
      return this;
    }

    /**
     * Builds the runtime.
     *
     * @throws IllegalStateException if no registry was chosen
     */
    public Mlops build() {
      if (registry == null && registryUri == null) {
        throw new IllegalStateException(
            "no registry: call localRegistry(Path), registry(URI) or registry(GovernedRegistry)");
      }
      return new Mlops(this);
    }
  }
}
