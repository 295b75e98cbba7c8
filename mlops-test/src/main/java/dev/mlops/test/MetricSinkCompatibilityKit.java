package dev.mlops.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.InvalidInputException;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.event.LifecycleEvent.AliasDeleted;
import dev.mlops.api.event.LifecycleEvent.AliasMoved;
import dev.mlops.api.event.LifecycleEvent.ModelLoadFailed;
import dev.mlops.api.event.LifecycleEvent.ModelLoaded;
import dev.mlops.api.event.LifecycleEvent.ModelUnloaded;
import dev.mlops.api.event.LifecycleEvent.VersionArchived;
import dev.mlops.api.event.LifecycleEvent.VersionDeleted;
import dev.mlops.api.event.LifecycleEvent.VersionRegistered;
import dev.mlops.api.event.LifecycleEvent.VersionSwapped;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.Outcome;
import dev.mlops.api.spi.PredictionEvent;
import dev.mlops.runtime.Mlops;
import dev.mlops.testmodels.TestModels;
import java.lang.ref.WeakReference;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compatibility suite that every {@link MetricSink} implementation extends and must pass.
 *
 * <pre>{@code
 * class MySinkCompatibilityTest extends MetricSinkCompatibilityKit<MySink> {
 *   @Override
 *   protected MySink createSink() {
 *     return new MySink();
 *   }
 *
 *   @Override
 *   protected OptionalLong predictionCount(MySink sink) {
 *     return OptionalLong.of(sink.count());   // optional: enables exact-count checks
 *   }
 * }
 * }</pre>
 *
 * <p>What it checks, each in its own test, on a fresh sink from {@link #createSink()}:
 *
 * <ul>
 *   <li>every kind of {@link LifecycleEvent} and every {@link Outcome} is accepted without an
 *       exception, including the edge values the runtime produces (version {@code 0} for "none",
 *       batch size {@code 0} for calls that never reached the engine, latency {@code 0}, a negative
 *       latency from a stepped clock, an hour-long latency);
 *   <li>empty and unusual request keys (empty, Unicode, quotes, line breaks, 10,000 characters) are
 *       accepted;
 *   <li>8 threads sending 5,000 predictions each (with lifecycle events mixed in) at once all
 *       finish without an exception and, if {@link #predictionCount} can tell, lose no count;
 *   <li>calls made from an interrupted thread return normally, and leave the thread's interrupt
 *       status set (a sink must not block, wait or swallow interrupts);
 *   <li>100,000 calls finish within a very generous bound ({@value #GENEROUS_BOUND_SECONDS}
 *       seconds; this is a check for blocking and pathological slowness, not a benchmark);
 *   <li>the sink retains no per-call objects without bound: of {@code 3 * maxRetainedEvents() +
 *       1000} prediction events, lifecycle events and request keys each, at most {@link
 *       #maxRetainedEvents()} of each are still reachable after garbage collection;
 *   <li>as the metric sink of a real {@link Mlops} runtime serving a real ONNX model (with valid
 *       and invalid inputs), it throws nothing and, if {@link #predictionCount} can tell, counts
 *       every call exactly.
 * </ul>
 *
 * <p>Every test method is public, so an implementation that cannot meet one check can override it
 * (without {@code @Test}, which disables it) and say why. Sinks that implement {@link
 * AutoCloseable} are closed after each test. The kit starts only threads it joins (or, for a sink
 * that blocks, daemon threads that cannot keep the JVM alive).
 *
 * @param <S> the sink type under test
 */
public abstract class MetricSinkCompatibilityKit<S extends MetricSink> {

  /** The time bound of the blocking and sanity checks, in seconds. */
  public static final long GENEROUS_BOUND_SECONDS = 60;

  private static final Duration GENEROUS_BOUND = Duration.ofSeconds(GENEROUS_BOUND_SECONDS);
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final String MODEL = "kit-model";
  private static final Outcome[] OUTCOMES = Outcome.values();

  private final List<S> created = new ArrayList<>();

  /** For subclasses. */
  protected MetricSinkCompatibilityKit() {}

  /**
   * Creates a new, ready-to-use sink. Called once per test; each test uses its own sink.
   *
   * @return a new sink, never null
   */
  protected abstract S createSink();

  /**
   * How many prediction events (all outcomes) the sink has recorded since it was created, if the
   * sink can tell. When present, the kit checks the count is exact after concurrent calls, after
   * 100,000 calls and after calls through the runtime. Default: empty, which skips those checks.
   *
   * @param sink a sink made by {@link #createSink()}
   * @return the count, or empty if the sink does not count
   */
  protected OptionalLong predictionCount(S sink) {
    return OptionalLong.empty();
  }

  /**
   * The most events of each kind (prediction events, lifecycle events, request keys) that the sink
   * may keep reachable: a bounded buffer of recent events is fine, an unbounded one is not.
   * Default: 10,000. Raising it makes the retention test send {@code 3 * bound + 1000} events.
   *
   * @return the bound, at least 0
   */
  protected int maxRetainedEvents() {
    return 10_000;
  }

  /**
   * Closes the sinks made for this test that implement {@link AutoCloseable}.
   *
   * @throws Exception if a sink's {@code close()} does
   */
  @AfterEach
  public final void closeCreatedSinks() throws Exception {
    for (S sink : created) {
      if (sink instanceof AutoCloseable) {
        ((AutoCloseable) sink).close();
      }
    }
    created.clear();
  }

  /**
   * One instance of every kind of {@link LifecycleEvent}, some kinds several times with edge values
   * (version {@code 0}, an empty reason, an exception without a message).
   *
   * @return a new list, in a fixed order
   */
  public static List<LifecycleEvent> lifecycleEventSamples() {
    return List.of(
        new VersionRegistered(T0, sampleVersion(MODEL, 1)),
        new AliasMoved(T0, MODEL, "production", 0, 1, "kit", "first rollout"),
        new AliasMoved(T0, MODEL, "production", 1, 2, "kit", ""),
        new AliasDeleted(T0, MODEL, "staging", 2, "kit"),
        new VersionArchived(T0, MODEL, 1, "kit"),
        new VersionDeleted(T0, MODEL, 1, "kit"),
        new ModelLoaded(T0, MODEL, 2, 12_345_678L),
        new ModelLoadFailed(T0, MODEL, 3, new IllegalStateException("corrupt graph")),
        new ModelLoadFailed(T0, MODEL, 3, new RuntimeException()),
        new VersionSwapped(T0, MODEL, "models:/kit-model@production", 0, 2),
        new VersionSwapped(T0, MODEL, "models:/kit-model@production", 1, 2),
        new LifecycleEvent.WarmUpFailed(
            T0,
            MODEL,
            2,
            "synthetic zeros: x:float32[1,1]",
            new IllegalArgumentException("Pad reflect requires axis length >= 2")),
        new LifecycleEvent.SwapRefused(
            T0,
            MODEL,
            "models:/kit-model@production",
            2,
            3,
            List.of("input 'x' (float32[?,4]) is gone")),
        new LifecycleEvent.SwapRefused(T0, MODEL, "models:/kit-model", 2, 4, List.of()),
        new LifecycleEvent.RolloutChanged(
            T0, MODEL, sampleRollout(500, dev.mlops.api.Rollout.State.RUNNING), "start", "kit", ""),
        new LifecycleEvent.RolloutChanged(
            T0,
            MODEL,
            sampleRollout(0, dev.mlops.api.Rollout.State.ROLLED_BACK),
            "rollback",
            "mlops-rollouts",
            "auto-rollback: error rate 5.0 % > 1.0 % in 3 of 3 checks"),
        new ModelUnloaded(T0, MODEL, 2));
  }

  private static dev.mlops.api.Rollout sampleRollout(
      int weight, dev.mlops.api.Rollout.State state) {
    return new dev.mlops.api.Rollout(
        MODEL,
        "production",
        "kit00001",
        1,
        2,
        weight,
        0,
        dev.mlops.api.RolloutPlan.MANUAL,
        state,
        "",
        T0,
        T0,
        1);
  }

  /**
   * Prediction events covering every {@link Outcome} and the edge values the runtime can produce.
   *
   * @return a new list, in a fixed order
   */
  public static List<PredictionEvent> predictionEventSamples() {
    List<PredictionEvent> events = new ArrayList<>();
    for (Outcome outcome : OUTCOMES) {
      events.add(new PredictionEvent(MODEL, 1, 1_500_000L, 0L, 1, outcome, ""));
      events.add(new PredictionEvent(MODEL, 2, 250_000L, 40_000L, 8, outcome, "req-" + outcome));
    }
    events.add(new PredictionEvent(MODEL, 0, 10_000L, 0L, 0, Outcome.OVERLOADED, ""));
    events.add(new PredictionEvent(MODEL, 1, 0L, 0L, 0, Outcome.INVALID_INPUT, ""));
    events.add(new PredictionEvent(MODEL, 1, -1_000L, 0L, 1, Outcome.SUCCESS, ""));
    events.add(
        new PredictionEvent(
            MODEL,
            1,
            TimeUnit.HOURS.toNanos(1),
            TimeUnit.SECONDS.toNanos(30),
            4096,
            Outcome.TIMEOUT,
            ""));
    events.add(
        new PredictionEvent("kit-other", Long.MAX_VALUE, 1_000L, 0L, 1, Outcome.SUCCESS, ""));
    return events;
  }

  /** Every kind of lifecycle event is accepted. */
  @Test
  public void acceptsEveryLifecycleEventKind() {
    S sink = newSink();
    for (LifecycleEvent event : lifecycleEventSamples()) {
      assertThatCode(() -> sink.onLifecycle(event))
          .as("onLifecycle(%s)", event)
          .doesNotThrowAnyException();
    }
  }

  /** Every outcome and the runtime's edge values are accepted and, if countable, counted. */
  @Test
  public void acceptsEveryOutcomeAndEdgeValue() {
    S sink = newSink();
    List<PredictionEvent> events = predictionEventSamples();
    for (PredictionEvent event : events) {
      assertThatCode(() -> sink.onPrediction(event))
          .as("onPrediction(%s)", event)
          .doesNotThrowAnyException();
    }
    assertCount(sink, events.size());
  }

  /** Empty request keys (the runtime's "no key") and unusual ones are accepted. */
  @Test
  public void acceptsEmptyAndUnusualRequestKeys() {
    S sink = newSink();
    List<String> keys =
        List.of("", " ", "req-1", "clé-✓-键", "a b\n\"x\"=1\\\u0001\u2028", "x".repeat(10_000));
    for (String key : keys) {
      PredictionEvent event = new PredictionEvent(MODEL, 1, 1_000L, 0L, 1, Outcome.SUCCESS, key);
      assertThatCode(() -> sink.onPrediction(event))
          .as("request key of length %d", key.length())
          .doesNotThrowAnyException();
    }
    assertCount(sink, keys.size());
  }

  /**
   * 8 threads x 5,000 predictions at once, lifecycle events mixed in: no failure, no lost count.
   *
   * @throws Exception if interrupted while waiting for the threads
   */
  @Test
  public void concurrentCallsFromManyThreadsFailNothingAndLoseNothing() throws Exception {
    S sink = newSink();
    int threads = 8;
    int perThread = 5_000;
    List<LifecycleEvent> lifecycle = lifecycleEventSamples();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      workers.add(
          daemon(
              "kit-concurrent-" + t,
              () -> {
                try {
                  start.await();
                  for (int i = 0; i < perThread; i++) {
                    sink.onPrediction(
                        new PredictionEvent(
                            i % 2 == 0 ? MODEL : "kit-other",
                            1 + (i + thread) % 3,
                            1_000L + i,
                            i % 7 == 0 ? 5_000L : 0L,
                            1 + i % 4,
                            OUTCOMES[i % OUTCOMES.length],
                            i % 3 == 0 ? "" : "t" + thread + "-" + i));
                    if (i % 100 == 0) {
                      sink.onLifecycle(lifecycle.get((i / 100 + thread) % lifecycle.size()));
                    }
                  }
                } catch (Throwable e) {
                  failures.add(e);
                }
              }));
    }
    start.countDown();
    for (Thread worker : workers) {
      worker.join(GENEROUS_BOUND.toMillis());
      assertThat(worker.isAlive())
          .as("%s still running after %s", worker.getName(), GENEROUS_BOUND)
          .isFalse();
    }
    assertThat(failures).as("exceptions thrown by the sink").isEmpty();
    assertCount(sink, (long) threads * perThread);
  }

  /**
   * A call from an interrupted thread returns normally and keeps the interrupt status.
   *
   * @throws Exception if interrupted while waiting for the threads
   */
  @Test
  public void callsFromAnInterruptedThreadCompleteAndKeepTheInterruptStatus() throws Exception {
    S sink = newSink();
    List<PredictionEvent> predictions = predictionEventSamples();
    List<LifecycleEvent> lifecycle = lifecycleEventSamples();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicBoolean interruptedAfter = new AtomicBoolean();
    AtomicBoolean finished = new AtomicBoolean();
    Thread caller =
        daemon(
            "kit-interrupted-caller",
            () -> {
              Thread.currentThread().interrupt();
              try {
                for (PredictionEvent event : predictions) {
                  sink.onPrediction(event);
                }
                for (LifecycleEvent event : lifecycle) {
                  sink.onLifecycle(event);
                }
                finished.set(true);
              } catch (Throwable e) {
                failure.set(e);
              }
              interruptedAfter.set(Thread.currentThread().isInterrupted());
            });
    caller.join(GENEROUS_BOUND.toMillis());
    assertThat(caller.isAlive()).as("the sink blocked an interrupted caller").isFalse();
    assertThat(failure.get()).as("exception thrown to an interrupted caller").isNull();
    assertThat(finished).isTrue();
    assertThat(interruptedAfter)
        .as("interrupt status after the calls (a sink must not swallow it)")
        .isTrue();
    assertCount(sink, predictions.size());
  }

  /**
   * 100,000 calls finish within a very generous bound; a sanity check, not a benchmark.
   *
   * @throws Exception if interrupted while waiting for the threads
   */
  @Test
  public void oneHundredThousandCallsFinishWithinAGenerousBound() throws Exception {
    S sink = newSink();
    int calls = 100_000;
    PredictionEvent[] events = new PredictionEvent[16];
    for (int i = 0; i < events.length; i++) {
      events[i] =
          new PredictionEvent(
              MODEL, 1 + i % 2, 1_000L * (i + 1), 0L, 1, OUTCOMES[i % OUTCOMES.length], "");
    }
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicLong done = new AtomicLong();
    Thread caller =
        daemon(
            "kit-hundred-thousand",
            () -> {
              try {
                for (int i = 0; i < calls; i++) {
                  sink.onPrediction(events[i & 15]);
                  done.lazySet(i + 1L);
                }
              } catch (Throwable e) {
                failure.set(e);
              }
            });
    caller.join(GENEROUS_BOUND.toMillis());
    assertThat(caller.isAlive())
        .as("only %d of %d calls done after %s", done.get(), calls, GENEROUS_BOUND)
        .isFalse();
    assertThat(failure.get()).isNull();
    assertThat(done.get()).isEqualTo(calls);
    assertCount(sink, calls);
  }

  /** Events, and the request keys in them, do not stay reachable beyond a bounded number. */
  @Test
  public void doesNotRetainPerCallObjectsWithoutBound() {
    S sink = newSink();
    int bound = maxRetainedEvents();
    if (bound < 0) {
      throw new IllegalStateException("maxRetainedEvents() must be >= 0 but was " + bound);
    }
    int n = 3 * bound + 1_000;
    List<WeakReference<Object>> predictions = new ArrayList<>(n);
    List<WeakReference<Object>> keys = new ArrayList<>(n);
    List<WeakReference<Object>> lifecycle = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String key = "retained-" + i;
      PredictionEvent event =
          new PredictionEvent(
              MODEL, 1 + i % 3, 1_000L + i, 0L, 1, OUTCOMES[i % OUTCOMES.length], key);
      predictions.add(new WeakReference<>(event));
      keys.add(new WeakReference<>(key));
      sink.onPrediction(event);
    }
    for (int i = 0; i < n; i++) {
      LifecycleEvent event = freshLifecycleEvent(i);
      lifecycle.add(new WeakReference<>(event));
      sink.onLifecycle(event);
    }
    collectUntil(
        () ->
            reachable(predictions) <= bound
                && reachable(keys) <= bound
                && reachable(lifecycle) <= bound);
    assertThat(reachable(predictions))
        .as("prediction events still reachable of %d sent", n)
        .isLessThanOrEqualTo(bound);
    assertThat(reachable(keys))
        .as("request keys still reachable of %d sent", n)
        .isLessThanOrEqualTo(bound);
    assertThat(reachable(lifecycle))
        .as("lifecycle events still reachable of %d sent", n)
        .isLessThanOrEqualTo(bound);
    assertThat(sink).isNotNull(); // keeps the sink itself reachable until here
  }

  /**
   * As the sink of a real runtime serving a real model: nothing thrown, every call counted.
   *
   * @param dir a temporary directory for the registry
   */
  @Test
  public void worksAsTheMetricSinkOfARealRuntime(@TempDir Path dir) {
    S sink = newSink();
    GuardedSink guard = new GuardedSink(sink);
    Path model = TestModels.copy(TestModels.TINY, dir.resolve("source"));
    AuditInfo audit = AuditInfo.by("kit", "compatibility kit");
    int valid = 20;
    int invalid = 3;
    try (Mlops mlops =
        Mlops.builder().localRegistry(dir.resolve("registry")).metricSink(guard).build()) {
      mlops
          .registry()
          .register(Registration.builder("kit-tiny", ArtifactSource.file(model)).build(), audit);
      mlops.registry().setAlias("kit-tiny", "production", 1, audit);
      try (Predictor<float[], float[]> predictor =
          mlops.predictor("models:/kit-tiny@production", Codecs.floatRow())) {
        float[] x = {1f, 0.5f, -2f, 4f};
        float[] expected = TestModels.tinyOutput(x);
        for (int i = 0; i < valid; i++) {
          assertThat(predictor.predict(x).value()).hasSize(expected.length);
        }
        for (int i = 0; i < invalid; i++) {
          assertThatThrownBy(() -> predictor.predict(new float[] {1f, 2f}))
              .isInstanceOf(InvalidInputException.class);
        }
      }
    }
    assertThat(guard.failures).as("exceptions thrown by the sink inside the runtime").isEmpty();
    assertThat(guard.predictions)
        .as("prediction events the runtime delivered")
        .hasValue(valid + invalid);
    assertThat(guard.lifecycleKinds)
        .as("lifecycle event kinds the runtime delivered")
        .contains(
            VersionRegistered.class, AliasMoved.class, ModelLoaded.class, ModelUnloaded.class);
    assertCount(sink, valid + invalid);
  }

  private S newSink() {
    S sink = Objects.requireNonNull(createSink(), "createSink() returned null");
    created.add(sink);
    return sink;
  }

  private void assertCount(S sink, long expected) {
    OptionalLong count = predictionCount(sink);
    if (count.isPresent()) {
      assertThat(count.getAsLong()).as("predictionCount(sink)").isEqualTo(expected);
    }
  }

  /** A new event object (with new strings inside) of each kind in turn, over a few versions. */
  private static LifecycleEvent freshLifecycleEvent(int i) {
    long version = 1 + i % 8;
    String actor = "actor-" + i;
    switch (i % 9) {
      case 0:
        return new VersionRegistered(T0, sampleVersion(MODEL, version));
      case 1:
        return new AliasMoved(T0, MODEL, "production", version, version + 1, actor, "reason-" + i);
      case 2:
        return new AliasDeleted(T0, MODEL, "staging", version, actor);
      case 3:
        return new VersionArchived(T0, MODEL, version, actor);
      case 4:
        return new VersionDeleted(T0, MODEL, version, actor);
      case 5:
        return new ModelLoaded(T0, MODEL, version, 1_000_000L + i);
      case 6:
        return new ModelLoadFailed(T0, MODEL, version, new IllegalStateException("failure-" + i));
      case 7:
        return new VersionSwapped(T0, MODEL, "models:/kit-model@production", version, version + 1);
      default:
        return new ModelUnloaded(T0, MODEL, version);
    }
  }

  private static ModelVersion sampleVersion(String model, long version) {
    String sha = "0123456789abcdef".repeat(4);
    return ModelVersion.builder(model, version)
        .createdAt(T0)
        .createdBy("kit")
        .description("compatibility kit sample")
        .modelFile("model.onnx")
        .files(List.of(new ArtifactFile("model.onnx", 1_024L * version, sha)))
        .digest(sha)
        .signature(new ModelSignature(List.of(), List.of()))
        .tags(Map.of("source", "kit"))
        .build();
  }

  private static long reachable(List<WeakReference<Object>> refs) {
    long n = 0;
    for (WeakReference<Object> ref : refs) {
      if (ref.get() != null) {
        n++;
      }
    }
    return n;
  }

  /** Runs the collector until the condition holds or a few rounds have passed. */
  private static void collectUntil(java.util.function.BooleanSupplier condition) {
    for (int round = 0; round < 20 && !condition.getAsBoolean(); round++) {
      System.gc();
      if (round >= 3) {
        // In case explicit GC is disabled: make garbage until the collector runs on its own.
        byte[][] garbage = new byte[64][];
        for (int i = 0; i < garbage.length; i++) {
          garbage[i] = new byte[1 << 20];
        }
        assertThat(garbage[63]).hasSize(1 << 20);
      }
    }
  }

  private static Thread daemon(String name, Runnable body) {
    Thread thread = new Thread(body, name);
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  /** Passes events on to the sink under test, recording what it throws. */
  private static final class GuardedSink implements MetricSink {
    private final MetricSink delegate;
    final List<Throwable> failures = new CopyOnWriteArrayList<>();
    final AtomicLong predictions = new AtomicLong();
    final Set<Class<?>> lifecycleKinds = ConcurrentHashMap.newKeySet();

    GuardedSink(MetricSink delegate) {
      this.delegate = delegate;
    }

    @Override
    public void onPrediction(PredictionEvent event) {
      predictions.incrementAndGet();
      try {
        delegate.onPrediction(event);
      } catch (RuntimeException e) {
        failures.add(e);
        throw e;
      }
    }

    @Override
    public void onLifecycle(LifecycleEvent event) {
      lifecycleKinds.add(event.getClass());
      try {
        delegate.onLifecycle(event);
      } catch (RuntimeException e) {
        failures.add(e);
        throw e;
      }
    }

    @Override
    public String toString() {
      return "GuardedSink[" + delegate + "]";
    }
  }
}
