package dev.mlops.benchmarks;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.runtime.Mlops;
import dev.mlops.testmodels.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What hot swap costs the callers: one-row predictions on breast-cancer through a predictor that
 * follows the alias {@code production}, while a background thread moves that alias between v1
 * (logistic regression) and v2 (MLP) every 100 ms, against the same predictor with the alias left
 * alone, in the same run. {@code @Param swaps}:
 *
 * <ul>
 *   <li>{@code steady-v1}, {@code steady-v2}: no moves; the alias stays on v1 or on v2. The
 *       flipping runs serve both, half the time each, so their percentiles lie between these two
 *       when swaps cost nothing.
 *   <li>{@code flip-cached}: moves every 100 ms with the default session cache, so both versions
 *       stay loaded: each swap is a pointer change, and measures the swap machinery itself.
 *   <li>{@code flip-loading}: moves every 100 ms with {@code sessionCacheBudget(0)}, so every swap
 *       verifies, loads and warms the other version on the runtime's executor, and the old one is
 *       closed when its last call returns: the full cost of a swap to a cold version.
 * </ul>
 *
 * <p>{@code SampleTime} gives p50/p99/p99.9. Teardown checks that the moves happened and, for
 * {@code flip-loading}, that they loaded sessions, and prints the counts.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
public class SwapBenchmark {

  private static final String MODEL = "cancer";
  private static final String ALIAS = "production";
  private static final long FLIP_MILLIS = 100;

  @Param({"steady-v1", "steady-v2", "flip-cached", "flip-loading"})
  public String swaps;

  private Path directory;
  private Mlops mlops;
  private Predictor<float[], float[]> predictor;
  private ScheduledExecutorService flipper;
  private float[][] rows;
  private int next;
  private long v1;
  private long v2;
  private final AtomicLong flips = new AtomicLong();
  private final AtomicLong swapped = new AtomicLong();
  private final AtomicLong flipFailures = new AtomicLong();
  private final AtomicLong loads = new AtomicLong();
  private final AtomicLong loadNanos = new AtomicLong();
  private final AtomicLong unloads = new AtomicLong();

  /** Sessions closed on a thread that was making a prediction: a swap's cost paid by a caller. */
  private final AtomicLong unloadsOnCaller = new AtomicLong();

  private volatile Thread caller;
  private AutoCloseable listener;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    boolean loading = swaps.equals("flip-loading");
    boolean flipping = swaps.startsWith("flip-");
    if (!flipping && !swaps.startsWith("steady-")) {
      throw new IllegalArgumentException(
          "swaps must be steady-v1, steady-v2, flip-cached or flip-loading but was " + swaps);
    }
    directory = Files.createTempDirectory("mlops-swap");
    Mlops.Builder builder = Mlops.builder().localRegistry(directory.resolve("registry"));
    if (loading) {
      builder.sessionCacheBudget(0);
    }
    mlops = builder.build();
    AuditInfo audit = AuditInfo.by("bench", "setup");
    v1 = register(TestModels.BREAST_CANCER_V1, audit);
    v2 = register(TestModels.BREAST_CANCER_V2, audit);
    mlops.registry().setAlias(MODEL, ALIAS, swaps.equals("steady-v1") ? v1 : v2, audit);
    listener =
        mlops.addListener(
            e -> {
              if (e instanceof LifecycleEvent.VersionSwapped) {
                swapped.incrementAndGet();
              } else if (e instanceof LifecycleEvent.ModelLoaded) {
                loads.incrementAndGet();
                loadNanos.addAndGet(((LifecycleEvent.ModelLoaded) e).loadNanos());
              } else if (e instanceof LifecycleEvent.ModelUnloaded) {
                // Published on the thread that dropped the last reference, i.e. closed the session.
                unloads.incrementAndGet();
                if (Thread.currentThread() == caller) {
                  unloadsOnCaller.incrementAndGet();
                }
              }
            });
    predictor = mlops.predictor("models:/" + MODEL + "@" + ALIAS, Codecs.floatRow());
    rows = BenchModel.breastCancerRows();
    if (flipping) {
      flipper =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "alias-flipper");
                t.setDaemon(true);
                return t;
              });
      flipper.scheduleAtFixedRate(this::flip, FLIP_MILLIS, FLIP_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  private long register(String file, AuditInfo audit) {
    Path source = TestModels.copy(file, directory.resolve("source-" + file));
    ModelVersion v =
        mlops
            .registry()
            .register(Registration.builder(MODEL, ArtifactSource.file(source)).build(), audit);
    return v.version();
  }

  /**
   * Moves the alias without the load check of {@code setAlias}, which would itself load the version
   * on this thread; the predictor's own swap is what is measured.
   */
  private void flip() {
    try {
      long to = flips.incrementAndGet() % 2 == 1 ? v1 : v2;
      mlops.registry().forceAlias(MODEL, ALIAS, to, AuditInfo.by("bench", "flip"));
    } catch (RuntimeException e) {
      flipFailures.incrementAndGet();
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    try {
      if (flipper != null) {
        // Not shutdownNow(): interrupting a move in flight fails its registry write (the file
        // channel closes on interrupt), which would count as a failed move.
        flipper.shutdown();
        if (!flipper.awaitTermination(10, TimeUnit.SECONDS)) {
          throw new IllegalStateException("the alias flipper did not stop within 10 s");
        }
      }
      Mlops.SessionStats stats = mlops.sessionStats();
      long n = loads.get();
      String report =
          "swaps="
              + swaps
              + ": alias moves "
              + flips.get()
              + " (failed "
              + flipFailures.get()
              + "), predictor swaps "
              + swapped.get()
              + ", sessions opened "
              + stats.opened()
              + ", closed "
              + stats.closed()
              + " ("
              + unloadsOnCaller.get()
              + " of "
              + unloads.get()
              + " on the predicting thread), loads "
              + (n == 0
                  ? "none"
                  : n
                      + " of "
                      + String.format(java.util.Locale.ROOT, "%.1f", loadNanos.get() / 1e6 / n)
                      + " ms on average");
      System.out.println(report);
      if (flipper != null && (swapped.get() < flips.get() / 2 || flipFailures.get() > 0)) {
        throw new IllegalStateException("expected a predictor swap per alias move: " + report);
      }
      if (swaps.equals("flip-loading") && stats.opened() < swapped.get()) {
        throw new IllegalStateException("expected every swap to load a session: " + report);
      }
    } finally {
      if (listener != null) {
        listener.close();
      }
      if (predictor != null) {
        predictor.close();
      }
      if (mlops != null) {
        mlops.close();
      }
      BenchModel.deleteRecursively(directory);
    }
  }

  @Benchmark
  public float[] predict() {
    if (caller == null) {
      caller = Thread.currentThread();
    }
    float[] row = rows[next];
    next = (next + 1) & (BenchModel.ROWS - 1);
    return predictor.predict(row).value();
  }
}
