package dev.mlops.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs every benchmark of the module and writes {@code RESULTS.md} and {@code throughput.svg}:
 * the JMH benchmarks through JMH's runner (each in its own forks, as on the command line), the
 * two plain harnesses in child JVMs of their own. {@code benchmarks/run-all.sh} builds the jar
 * and calls this.
 *
 * <pre>{@code
 * java -cp benchmarks/target/benchmarks.jar dev.mlops.benchmarks.RunAll --short \
 *     --work=benchmarks/target/run-all --results=benchmarks/RESULTS.md --chart=benchmarks/throughput.svg
 * }</pre>
 */
public final class RunAll {

  private RunAll() {}

  /** How long each part runs. */
  record Plan(
      String name,
      int predictForks,
      int predictWarmups,
      int predictWarmupSeconds,
      int predictIterations,
      int predictIterationSeconds,
      int gcIterations,
      int swapForks,
      int swapIterations,
      int swapIterationSeconds,
      int sinkForks,
      int sinkIterations,
      double batchingWarmup,
      double batchingMeasure,
      double interleavedWarmup,
      double interleavedMeasure) {

    static final Plan SHORT = new Plan("short", 1, 3, 1, 5, 1, 3, 1, 5, 2, 1, 5, 1, 3, 2, 10);
    static final Plan FULL = new Plan("full", 3, 5, 2, 10, 2, 5, 3, 10, 2, 3, 10, 3, 10, 5, 30);
    /** Checks the pipeline in about three minutes; its figures mean nothing. */
    static final Plan SMOKE = new Plan("smoke", 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.5, 1, 0.5, 1);
  }

  public static void main(String[] args) throws Exception {
    Plan plan = Plan.SHORT;
    Path work = Path.of("benchmarks/target/run-all");
    Path results = null;
    Path chart = null;
    String command = "benchmarks/run-all.sh";
    for (String arg : args) {
      if (arg.equals("--short")) {
        plan = Plan.SHORT;
      } else if (arg.equals("--full")) {
        plan = Plan.FULL;
      } else if (arg.equals("--smoke")) {
        plan = Plan.SMOKE;
      } else if (arg.startsWith("--work=")) {
        work = Path.of(arg.substring("--work=".length()));
      } else if (arg.startsWith("--results=")) {
        results = Path.of(arg.substring("--results=".length()));
      } else if (arg.startsWith("--chart=")) {
        chart = Path.of(arg.substring("--chart=".length()));
      } else if (arg.startsWith("--command=")) {
        command = arg.substring("--command=".length());
      } else {
        throw new IllegalArgumentException(
            "unknown argument " + arg + "; expected --short|--full|--smoke [--work=DIR] [--results=FILE] [--chart=FILE]");
      }
    }
    // A smoke run's meaningless figures must not replace the committed ones by default.
    Path outputs = plan == Plan.SMOKE ? work : Path.of("benchmarks");
    results = results != null ? results : outputs.resolve("RESULTS.md");
    chart = chart != null ? chart : outputs.resolve("throughput.svg");
    Files.createDirectories(work);
    PrintStream console = System.out;
    Report.Environment environment = Report.Environment.capture(plan.name(), command, versions());
    Instant started = Instant.now();

    console.println("== PredictBenchmark (SampleTime)");
    Collection<RunResult> predict =
        jmh(
            plan.predictForks(),
            plan.predictWarmups(),
            plan.predictWarmupSeconds(),
            plan.predictIterations(),
            plan.predictIterationSeconds(),
            "PredictBenchmark",
            Mode.SampleTime,
            false,
            work.resolve("predict.json"));
    console.println("== PredictBenchmark (AverageTime, -prof gc)");
    Collection<RunResult> gc =
        jmh(1, 2, 1, plan.gcIterations(), 1, "PredictBenchmark", Mode.AverageTime, true, work.resolve("predict-gc.json"));
    console.println("== InterleavedPredict");
    Path interleaved = work.resolve("interleaved.tsv");
    child(
        "dev.mlops.benchmarks.InterleavedPredict",
        "--warmup=" + plan.interleavedWarmup(),
        "--measure=" + plan.interleavedMeasure(),
        "--out=" + interleaved);
    console.println("== BatchingBenchmark");
    Path batching = work.resolve("batching.tsv");
    child(
        "dev.mlops.benchmarks.BatchingBenchmark",
        "--warmup=" + plan.batchingWarmup(),
        "--measure=" + plan.batchingMeasure(),
        "--repeats=2",
        "--out=" + batching);
    console.println("== SwapBenchmark");
    Collection<RunResult> swap =
        jmh(
            plan.swapForks(),
            2,
            1,
            plan.swapIterations(),
            plan.swapIterationSeconds(),
            "SwapBenchmark",
            Mode.SampleTime,
            false,
            work.resolve("swap.json"));
    console.println("== SinkOverheadBenchmark");
    Collection<RunResult> sinks =
        jmh(
            plan.sinkForks(),
            3,
            1,
            plan.sinkIterations(),
            1,
            "SinkOverheadBenchmark",
            Mode.SampleTime,
            false,
            work.resolve("sinks.json"));

    Duration took = Duration.between(started, Instant.now()).truncatedTo(ChronoUnit.SECONDS);
    Report report =
        new Report(
            environment.finish(took),
            figures(predict, "model"),
            figures(gc, "model"),
            Report.readTsv(interleaved),
            Report.readTsv(batching),
            figures(swap, "swaps"),
            figures(sinks, "sink"));
    Files.writeString(results, report.markdown(chart.getFileName().toString()), StandardCharsets.UTF_8);
    Files.writeString(chart, report.chart(), StandardCharsets.UTF_8);
    console.println("wrote " + results + " and " + chart + " in " + took);
  }

  private static Collection<RunResult> jmh(
      int forks,
      int warmups,
      int warmupSeconds,
      int iterations,
      int iterationSeconds,
      String benchmark,
      Mode mode,
      boolean gc,
      Path json)
      throws RunnerException {
    ChainedOptionsBuilder options =
        new OptionsBuilder()
            .include("\\." + benchmark + "\\.")
            .mode(mode)
            .forks(forks)
            .warmupIterations(warmups)
            .warmupTime(TimeValue.seconds(warmupSeconds))
            .measurementIterations(iterations)
            .measurementTime(TimeValue.seconds(iterationSeconds))
            .resultFormat(ResultFormatType.JSON)
            .result(json.toString());
    if (gc) {
      options.addProfiler(GCProfiler.class);
    }
    return new Runner(options.build()).run();
  }

  /** One JMH result, by benchmark method and the value of its one {@code @Param}. */
  static List<Report.Figure> figures(Collection<RunResult> results, String param) {
    List<Report.Figure> out = new ArrayList<>();
    for (RunResult r : results) {
      String benchmark = r.getParams().getBenchmark();
      String method = benchmark.substring(benchmark.lastIndexOf('.') + 1);
      Result<?> primary = r.getPrimaryResult();
      double alloc = Double.NaN;
      for (String key : new String[] {"gc.alloc.rate.norm", "·gc.alloc.rate.norm"}) {
        Result<?> a = r.getSecondaryResults().get(key);
        if (a != null) {
          alloc = a.getScore();
        }
      }
      boolean sampled = r.getParams().getMode() == Mode.SampleTime;
      out.add(
          new Report.Figure(
              r.getParams().getParam(param),
              method,
              primary.getScore(),
              primary.getScoreError(),
              sampled ? primary.getStatistics().getPercentile(50) : Double.NaN,
              sampled ? primary.getStatistics().getPercentile(99) : Double.NaN,
              sampled ? primary.getStatistics().getPercentile(99.9) : Double.NaN,
              primary.getStatistics().getN(),
              alloc));
    }
    return out;
  }

  /** Runs a harness in a JVM of its own, on this JVM's class path, and fails if it fails. */
  private static void child(String mainClass, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass);
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).inheritIO().start();
    int rc = p.waitFor();
    if (rc != 0) {
      throw new IllegalStateException(mainClass + " exited with " + rc + "; command " + command);
    }
  }

  /** Library versions, written into the jar by the build (see {@code versions.properties}). */
  private static String versions() throws IOException {
    Properties p = new Properties();
    try (InputStream in = RunAll.class.getResourceAsStream("versions.properties")) {
      if (in != null) {
        p.load(in);
      }
    }
    return "ONNX Runtime (Java, CPU) " + p.getProperty("onnxruntime", "?")
        + "; DJL " + p.getProperty("djl", "?") + " (api and onnxruntime-engine, on that same ONNX Runtime)"
        + "; JMH " + p.getProperty("jmh", "?");
  }
}
