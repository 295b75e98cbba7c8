package dev.mlops.runtime;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.testmodels.TestModels;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Memory soak: thousands of hot swaps, each of which loads a version and closes the previous one,
 * then a million predictions, sampling the process's resident set size (VmRSS) along the way. A
 * native leak per session or per call shows up as steady RSS growth.
 *
 * <p>Not a JUnit test; {@link MemorySoakIT} runs it in a child JVM when {@code -Dmlops.soak=true}.
 * Run it by hand with a fixed, pre-touched heap so that heap growth does not pass for a leak:
 *
 * <pre>
 * java -Xms256m -Xmx256m -XX:+AlwaysPreTouch -cp TEST_CLASS_PATH dev.mlops.runtime.MemorySoak \
 *     [swaps=10000] [predictions=1000000] [scratch directory]
 * </pre>
 *
 * <p>Passes (exit code 0) if RSS grows, from the sample after the first 1,000 swaps (warm-up) to
 * every later sample, by less than 5% of that baseline or less than 32 MiB, whichever is more, and
 * every session opened was closed. Prints a table and a {@code RESULT} line.
 */
public final class MemorySoak {

  static final int WARM_UP_SWAPS = 1_000;
  static final int SWAP_SAMPLE_EVERY = 1_000;
  static final long PREDICTION_SAMPLE_EVERY = 100_000;
  static final long LIMIT_FLOOR_BYTES = 32L << 20;
  static final double LIMIT_FRACTION = 0.05;
  private static final int PREDICTION_THREADS = 4;
  private static final String FORMAT = "%-12s %8s %10s %10s %10s %10s %16s %9s%n";

  private final PrintStream out;
  private final List<long[]> samples = new ArrayList<>();
  private final long started = System.nanoTime();
  private long baseline = -1;

  private MemorySoak(PrintStream out) {
    this.out = out;
  }

  public static void main(String[] args) throws Exception {
    int swaps = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    long predictions = args.length > 1 ? Long.parseLong(args[1]) : 1_000_000;
    Path dir = args.length > 2 ? Path.of(args[2]) : Files.createTempDirectory("mlops-soak");
    boolean pass;
    try {
      pass = new MemorySoak(System.out).run(swaps, predictions, dir);
    } catch (Exception | AssertionError e) {
      e.printStackTrace(System.out);
      System.out.println("RESULT error " + e);
      System.exit(2);
      return;
    }
    System.exit(pass ? 0 : 1);
  }

  private boolean run(int swaps, long predictions, Path dir) throws Exception {
    if (swaps < WARM_UP_SWAPS) {
      throw new IllegalArgumentException(
          "need at least " + WARM_UP_SWAPS + " swaps (the warm-up) but got " + swaps);
    }
    AuditInfo audit = AuditInfo.by("soak", "memory soak");
    // Budget 0: the cache keeps nothing idle, so every swap loads the new version and closes the
    // old one as soon as its last call returns.
    Mlops mlops =
        Mlops.builder().localRegistry(dir.resolve("registry")).sessionCacheBudget(0).build();
    Mlops.SessionStats end;
    try (mlops) {
      for (int i = 1; i <= 2; i++) {
        mlops
            .registry()
            .register(
                Registration.builder(
                        "tiny",
                        ArtifactSource.file(
                            TestModels.copy(TestModels.TINY, dir.resolve("src-" + i))))
                    .build(),
                audit);
      }
      mlops.registry().setAlias("tiny", "production", 1, audit);
      float[] x = {1f, 2f, 3f, 4f};
      float[] expected = TestModels.tinyOutput(x);
      try (Predictor<float[], float[]> p =
          mlops.predictor("models:/tiny@production", Codecs.floatRow())) {
        out.printf(
            Locale.ROOT,
            FORMAT,
            "phase",
            "swaps",
            "calls",
            "RSS MiB",
            "vs base",
            "heap MiB",
            "opened/closed",
            "seconds");
        for (int i = 1; i <= swaps; i++) {
          long target = i % 2 == 1 ? 2 : 1;
          mlops.registry().setAlias("tiny", "production", target, audit);
          awaitServing(p, target);
          check(p.predict(x), target, expected);
          if (i == WARM_UP_SWAPS) {
            baseline = sample("warm-up", i, 0, mlops);
          } else if (i % SWAP_SAMPLE_EVERY == 0) {
            sample("swaps", i, 0, mlops);
          }
        }
        long last = swaps % 2 == 1 ? 2 : 1;
        AtomicLong done = new AtomicLong();
        for (long chunk = 0; chunk < predictions; chunk += PREDICTION_SAMPLE_EVERY) {
          long n = Math.min(PREDICTION_SAMPLE_EVERY, predictions - chunk);
          List<Thread> threads = new ArrayList<>();
          List<Throwable> failures = new CopyOnWriteArrayList<>();
          for (int t = 0; t < PREDICTION_THREADS; t++) {
            long share = n / PREDICTION_THREADS + (t < n % PREDICTION_THREADS ? 1 : 0);
            Thread th =
                new Thread(
                    () -> {
                      try {
                        for (long k = 0; k < share; k++) {
                          check(p.predict(x), last, expected);
                          done.incrementAndGet();
                        }
                      } catch (RuntimeException | AssertionError e) {
                        failures.add(e);
                      }
                    },
                    "soak-caller-" + t);
            th.start();
            threads.add(th);
          }
          for (Thread th : threads) {
            th.join();
          }
          if (!failures.isEmpty()) {
            throw new AssertionError("prediction failed: " + failures.get(0), failures.get(0));
          }
          sample("predictions", swaps, done.get(), mlops);
        }
      }
    }
    end = mlops.sessionStats();

    long worst = samples.stream().mapToLong(s -> s[3]).max().orElse(baseline) - baseline;
    long limit = Math.max(LIMIT_FLOOR_BYTES, (long) (baseline * LIMIT_FRACTION));
    boolean balanced = end.opened() == end.closed() && end.loaded() == 0;
    boolean pass = worst < limit && balanced;
    out.printf(
        Locale.ROOT,
        "sessions after close: opened=%d closed=%d loaded=%d%n",
        end.opened(),
        end.closed(),
        end.loaded());
    out.printf(
        Locale.ROOT,
        "RESULT %s baseline=%.1fMiB maxGrowth=%.1fMiB limit=%.1fMiB (max of 5%% and 32 MiB)"
            + " swaps=%d predictions=%d sessionsOpened=%d sessionsClosed=%d%n",
        pass ? "pass" : "fail",
        mib(baseline),
        mib(worst),
        mib(limit),
        swaps,
        predictions,
        end.opened(),
        end.closed());
    out.flush();
    return pass;
  }

  private static void awaitServing(Predictor<?, ?> p, long version) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (p.servingVersion().map(ModelVersion::version).orElse(0L) != version) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(p + " did not switch to v" + version + " within 30 s");
      }
      Thread.sleep(0, 100_000);
    }
  }

  private static void check(Prediction<float[]> r, long version, float[] expected) {
    if (r.version() != version) {
      throw new AssertionError("expected a result of v" + version + " but got v" + r.version());
    }
    float[] y = r.value();
    for (int i = 0; i < expected.length; i++) {
      if (Math.abs(y[i] - expected[i]) > 1e-5f) {
        throw new AssertionError(
            "output " + i + " of v" + version + ": expected " + expected[i] + " but got " + y[i]);
      }
    }
  }

  /** Records and prints one sample; returns its RSS in bytes. */
  private long sample(String phase, int swaps, long calls, Mlops mlops) throws IOException {
    System.gc();
    long rss = rssBytes();
    Runtime rt = Runtime.getRuntime();
    long heap = rt.totalMemory() - rt.freeMemory();
    Mlops.SessionStats s = mlops.sessionStats();
    if (baseline >= 0 || "warm-up".equals(phase)) {
      samples.add(new long[] {swaps, calls, heap, rss});
    }
    String delta = baseline < 0 ? "-" : String.format(Locale.ROOT, "%+.1f", mib(rss - baseline));
    out.printf(
        Locale.ROOT,
        FORMAT,
        phase,
        swaps,
        calls,
        String.format(Locale.ROOT, "%.1f", mib(rss)),
        delta,
        String.format(Locale.ROOT, "%.1f", mib(heap)),
        s.opened() + "/" + s.closed(),
        String.format(Locale.ROOT, "%.1f", (System.nanoTime() - started) / 1e9));
    out.flush();
    return rss;
  }

  /** VmRSS of this process, from /proc/self/status (Linux). */
  static long rssBytes() throws IOException {
    for (String line :
        Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.US_ASCII)) {
      if (line.startsWith("VmRSS:")) {
        String[] parts = line.trim().split("\\s+");
        return Long.parseLong(parts[1]) * 1024;
      }
    }
    throw new IOException("no VmRSS line in /proc/self/status");
  }

  private static double mib(long bytes) {
    return bytes / (1024.0 * 1024.0);
  }
}
