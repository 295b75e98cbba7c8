package dev.mlops.benchmarks;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@link PredictBenchmark}'s five paths measured interleaved in one JVM, for ratios that hold on a
 * noisy machine. JMH runs each path in its own fork, one after the other, so a neighbour's build
 * that starts between two forks moves one path's figures and not the other's: on the shared
 * development VM that is ±30 % between forks, far more than the few percent being compared. Here
 * the paths take turns in blocks of 1 ms or 8 timed calls, whichever is longer (the order rotating
 * every round), so every path sees the same load; longer blocks let a burst of load hit one path
 * and not the others. Each call is timed but the first of a block, which pays for the previous
 * block's use of the caches (for {@code wide}, a different session's 21 MB of weights: with every
 * call timed, the path that followed the one sharing its session looked 40 % faster).
 *
 * <p>The paths are {@link PredictBenchmark}'s own methods on its own setup, so they do exactly what
 * the JMH figures measure. What JMH does better (a fork per path, so no path's profile pollutes
 * another's; a blackhole) is why the JMH figures remain the reference for absolute times; this
 * harness is for the ratios.
 *
 * <p>With {@code --shared=true} (the default) each model is then measured a second time, on one
 * session: {@link SharedSessionPaths} runs the five paths on the mlops predictor's own native
 * session, so the compute is identical by construction and only each path's Java code differs. That
 * is what resolves {@code wide}, where a session's 21 MB of weights land somewhere else in memory
 * for every path and identical raw sessions differ by up to 6 %. Those rows are named {@code
 * shared:mlopsPredict}, {@code shared:rawOrtNaive}, {@code shared:rawOrtReusedBuffer}, {@code
 * shared:rawOrtLimit} and {@code shared:djlPredict}; it doubles the time per model. For them the
 * console also shows, and {@code --ratios-out} writes, mlops's time divided by each other path's
 * ({@link RatioInterval}): per round the ratio of the two blocks' means, then their geometric mean
 * over rounds with a 95 % confidence interval.
 *
 * <p>The pseudo-model {@code sinks} does the same for {@link SinkOverheadBenchmark}'s seven
 * variants (one runtime each), whose differences of a few hundred nanoseconds drown in the noise
 * between JMH forks.
 *
 * <pre>{@code
 * java -cp benchmarks/target/benchmarks.jar dev.mlops.benchmarks.InterleavedPredict \
 *     --models=tiny,breast-cancer,wide,sinks --warmup=5 --measure=20 --out=interleaved.tsv \
 *     --shared=true --ratios-out=ratios.tsv
 * }</pre>
 */
public final class InterleavedPredict {

  static final String HEADER = "model\tpath\tcalls\tmean_us\tp50_us\tp90_us\tp99_us\tp999_us";

  private static final String[] PATHS = PredictBenchmark.PATHS;
  private static final long BLOCK_NANOS = 1_000_000;
  private static final int BLOCK_CALLS = 8;

  /** The pseudo-model that runs {@link SinkOverheadBenchmark}'s variants instead. */
  static final String SINKS = "sinks";

  private static final String[] SINK_VARIANTS = {
    "noop", "in-memory", "slf4j-info", "slf4j-debug", "micrometer", "drift", "drift-async"
  };

  private InterleavedPredict() {}

  /** One path's call. */
  @FunctionalInterface
  interface Call {
    float[] run() throws Exception;
  }

  public static void main(String[] args) throws Exception {
    List<String> models = List.of("tiny", "breast-cancer", "wide", SINKS);
    double warmup = 5;
    double measure = 20;
    Path out = null;
    boolean shared = true;
    Path ratiosOut = null;
    for (String arg : args) {
      String[] kv = arg.split("=", 2);
      if (kv.length != 2) {
        throw new IllegalArgumentException("expected --name=value but got '" + arg + "'");
      }
      switch (kv[0]) {
        case "--models":
          models = List.of(kv[1].split(","));
          break;
        case "--warmup":
          warmup = Double.parseDouble(kv[1]);
          break;
        case "--measure":
          measure = Double.parseDouble(kv[1]);
          break;
        case "--out":
          out = Path.of(kv[1]);
          break;
        case "--shared":
          if (!kv[1].equals("true") && !kv[1].equals("false")) {
            throw new IllegalArgumentException(
                "--shared must be true or false but was '" + kv[1] + "'");
          }
          shared = Boolean.parseBoolean(kv[1]);
          break;
        case "--ratios-out":
          ratiosOut = Path.of(kv[1]);
          break;
        default:
          throw new IllegalArgumentException(
              "unknown option "
                  + kv[0]
                  + "; options: --models=a,b --warmup=SECONDS --measure=SECONDS --out=FILE"
                  + " --shared=true|false --ratios-out=FILE");
      }
    }
    if (ratiosOut != null && !shared) {
      throw new IllegalArgumentException(
          "--ratios-out needs --shared=true: the ratios come from the shared-session rounds");
    }
    DjlOnnx.start(); // before anything else creates the OrtEnvironment, whatever the model order
    PrintStream console = System.out;
    List<String> lines = new ArrayList<>();
    List<String> ratioLines = new ArrayList<>();
    lines.add(HEADER);
    ratioLines.add(RatioInterval.HEADER);
    console.println(HEADER);
    long warmupNanos = (long) (warmup * 1e9);
    long measureNanos = (long) (measure * 1e9);
    for (String model : models) {
      Measured measured =
          model.equals(SINKS)
              ? measureSinks(warmupNanos, measureNanos)
              : measureModel(model, warmupNanos, measureNanos, shared);
      for (String line : measured.lines()) {
        lines.add(line);
        console.println(line);
      }
      for (RatioInterval ratio : measured.ratios()) {
        ratioLines.add(ratio.tsv());
        console.println("# " + ratio.summary());
      }
    }
    if (out != null) {
      Files.write(out, lines, StandardCharsets.UTF_8);
    }
    if (ratiosOut != null) {
      Files.write(ratiosOut, ratioLines, StandardCharsets.UTF_8);
    }
  }

  /** One model's or pseudo-model's output lines, and the shared-session ratios if measured. */
  private record Measured(List<String> lines, List<RatioInterval> ratios) {}

  /**
   * The five paths, each on its own session; then, if {@code shared}, all five on mlops's session.
   */
  private static Measured measureModel(
      String model, long warmupNanos, long measureNanos, boolean shared) throws Exception {
    PredictBenchmark bench = new PredictBenchmark();
    bench.model = model;
    bench.setUp(); // starts DJL first, checks that all paths agree
    try {
      Call[] calls = {
        bench::mlopsPredict,
        bench::rawOrtNaive,
        bench::rawOrtReusedBuffer,
        bench::rawOrtLimit,
        bench::djlPredict
      };
      List<String> lines =
          new ArrayList<>(
              measure(model, PATHS, calls, warmupNanos, measureNanos, new ArrayList<>()));
      List<RatioInterval> ratios = new ArrayList<>();
      if (shared) {
        try (SharedSessionPaths paths =
            new SharedSessionPaths(bench.predictor(), BenchModel.of(model))) {
          String[] names = SharedSessionPaths.NAMES;
          List<double[]> rounds = new ArrayList<>();
          lines.addAll(measure(model, names, paths.calls(), warmupNanos, measureNanos, rounds));
          for (int other = 1; other < names.length; other++) {
            ratios.add(RatioInterval.of(model, names, rounds, 0, other));
          }
        }
      }
      return new Measured(lines, ratios);
    } finally {
      bench.tearDown();
    }
  }

  /**
   * {@link SinkOverheadBenchmark}'s variants, one runtime each, taking turns. The runtime's call to
   * the sink sees several sink classes here where production sees one, which costs a few
   * nanoseconds of dispatch at most.
   */
  private static Measured measureSinks(long warmupNanos, long measureNanos) throws Exception {
    List<SinkOverheadBenchmark> benches = new ArrayList<>();
    try {
      for (String sink : SINK_VARIANTS) {
        SinkOverheadBenchmark b = new SinkOverheadBenchmark();
        b.sink = sink;
        benches.add(b);
        b.setUp();
      }
      Call[] calls = new Call[benches.size()];
      for (int i = 0; i < calls.length; i++) {
        calls[i] = benches.get(i)::predict;
      }
      return new Measured(
          measure(SINKS, SINK_VARIANTS, calls, warmupNanos, measureNanos, new ArrayList<>()),
          List.of());
    } finally {
      for (SinkOverheadBenchmark b : benches) {
        b.tearDown();
      }
    }
  }

  /**
   * A TSV line per path, after warming up; {@code rounds} receives every measured round's block
   * means, one per path in the order of {@code labels}.
   */
  private static List<String> measure(
      String model,
      String[] labels,
      Call[] calls,
      long warmupNanos,
      long measureNanos,
      List<double[]> rounds)
      throws Exception {
    run(calls, recorders(labels.length), warmupNanos, new ArrayList<>());
    LatencyRecorder[] recorders = recorders(labels.length);
    float checksum = run(calls, recorders, measureNanos, rounds);
    List<String> lines = new ArrayList<>();
    for (int p = 0; p < labels.length; p++) {
      long[] sorted = LatencyRecorder.mergeSorted(recorders[p]);
      lines.add(
          String.format(
              Locale.ROOT,
              "%s\t%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f",
              model,
              labels[p],
              sorted.length,
              LatencyRecorder.mean(sorted) / 1e3,
              LatencyRecorder.percentile(sorted, 0.50) / 1e3,
              LatencyRecorder.percentile(sorted, 0.90) / 1e3,
              LatencyRecorder.percentile(sorted, 0.99) / 1e3,
              LatencyRecorder.percentile(sorted, 0.999) / 1e3));
    }
    if (Float.isNaN(checksum)) {
      lines.add("# checksum NaN");
    }
    return lines;
  }

  private static LatencyRecorder[] recorders(int n) {
    LatencyRecorder[] r = new LatencyRecorder[n];
    for (int i = 0; i < r.length; i++) {
      r[i] = new LatencyRecorder();
    }
    return r;
  }

  /**
   * Rounds of one block per path, the order rotating each round, for {@code nanos}; adds each
   * round's block means (in path order) to {@code rounds}.
   */
  private static float run(
      Call[] calls, LatencyRecorder[] recorders, long nanos, List<double[]> rounds)
      throws Exception {
    float checksum = 0;
    long end = System.nanoTime() + nanos;
    for (int round = 0; System.nanoTime() < end; round++) {
      double[] blockMeans = new double[calls.length];
      for (int k = 0; k < calls.length; k++) {
        int p = (round + k) % calls.length;
        Call call = calls[p];
        LatencyRecorder recorder = recorders[p];
        long blockEnd = System.nanoTime() + BLOCK_NANOS;
        // Not timed: the first call after another path's block finds the caches full of that
        // path's data (for the wide model, another session's 21 MB of weights).
        checksum += call.run()[0];
        long t;
        int n = 0;
        long blockNanos = 0;
        do {
          long start = System.nanoTime();
          checksum += call.run()[0];
          t = System.nanoTime();
          recorder.record(t - start);
          blockNanos += t - start;
          n++;
        } while (t < blockEnd || n < BLOCK_CALLS);
        blockMeans[p] = (double) blockNanos / n;
      }
      rounds.add(blockMeans);
    }
    return checksum;
  }
}
