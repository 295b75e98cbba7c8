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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
 * Runs every benchmark of the module and writes {@code RESULTS.md} and {@code throughput.svg}: the
 * JMH benchmarks through JMH's runner (each in its own forks, as on the command line), the two
 * plain harnesses in child JVMs of their own. {@code benchmarks/run-all.sh} builds the jar and
 * calls this.
 *
 * <p>{@code BatchingBenchmark} runs three times: platform-thread callers (with the engine ceiling)
 * and async callers on this JVM, virtual-thread callers on the JDK 21 or later that {@code
 * --java21} names (this JVM if it is one and the option is not given). Without one, the virtual
 * sweep is skipped and {@code RESULTS.md} says so. A child JVM of release 22 or later gets {@code
 * --enable-native-access=ALL-UNNAMED}, which silences ONNX Runtime's warning about loading its
 * native library.
 *
 * <pre>{@code
 * java -cp benchmarks/target/benchmarks.jar dev.mlops.benchmarks.RunAll --short \
 *     --work=benchmarks/target/run-all --results=benchmarks/RESULTS.md --chart=benchmarks/throughput.svg \
 *     [--java21=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java]
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
      String batchingPlatformCallers,
      String batchingOtherCallers,
      double interleavedWarmup,
      double interleavedMeasure) {

    static final Plan SHORT =
        new Plan("short", 1, 3, 1, 5, 1, 3, 1, 5, 2, 1, 5, 1, 3, "1,4,16,64", "64", 2, 10);
    static final Plan FULL =
        new Plan("full", 3, 5, 2, 10, 2, 5, 3, 10, 2, 3, 10, 3, 10, "1,4,16,64", "16,64", 5, 30);

    /** Checks the pipeline in about four minutes; its figures mean nothing. */
    static final Plan SMOKE =
        new Plan("smoke", 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.5, 1, "1,64", "64", 0.5, 1);
  }

  /** A java launcher and its release (17, 21, 25 ...). */
  record Java(String command, int feature) {

    /** The java running this. */
    static Java current() {
      return new Java(
          ProcessHandle.current().info().command().orElse("java"), Runtime.version().feature());
    }

    /** The java at {@code command}, its release read from {@code command -version}. */
    static Java of(String command) throws InterruptedException {
      String out;
      int rc;
      try {
        Process p = new ProcessBuilder(command, "-version").redirectErrorStream(true).start();
        out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        rc = p.waitFor();
      } catch (IOException e) {
        throw new IllegalArgumentException(
            "cannot run "
                + command
                + " -version: "
                + e.getMessage()
                + "; expected the path of a java launcher",
            e);
      }
      Matcher m = Pattern.compile("version \"(\\d+)(?:\\.(\\d+))?").matcher(out);
      if (rc != 0 || !m.find()) {
        throw new IllegalArgumentException(
            "cannot tell the release of "
                + command
                + " from its -version (exit "
                + rc
                + "): "
                + out.strip());
      }
      int major = Integer.parseInt(m.group(1));
      // Releases before 9 call themselves 1.8 and so on.
      return new Java(
          command, major == 1 && m.group(2) != null ? Integer.parseInt(m.group(2)) : major);
    }
  }

  public static void main(String[] args) throws Exception {
    Plan plan = Plan.SHORT;
    Path work = Path.of("benchmarks/target/run-all");
    Path results = null;
    Path chart = null;
    String command = "benchmarks/run-all.sh";
    Java java = Java.current();
    Java java21 = java.feature() >= 21 ? java : null;
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
      } else if (arg.startsWith("--java21=")) {
        java21 = Java.of(arg.substring("--java21=".length()));
        if (java21.feature() < 21) {
          throw new IllegalArgumentException(
              "--java21 must name a java of JDK 21 or later (virtual threads), but "
                  + java21.command()
                  + " is release "
                  + java21.feature());
        }
      } else {
        throw new IllegalArgumentException(
            "unknown argument "
                + arg
                + "; expected --short|--full|--smoke"
                + " [--work=DIR] [--results=FILE] [--chart=FILE] [--command=TEXT] [--java21=PATH]");
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
        jmh(
            1,
            2,
            1,
            plan.gcIterations(),
            1,
            "PredictBenchmark",
            Mode.AverageTime,
            true,
            work.resolve("predict-gc.json"));
    console.println("== InterleavedPredict");
    Path interleaved = work.resolve("interleaved.tsv");
    Path ratios = work.resolve("interleaved-ratios.tsv");
    child(
        java,
        "dev.mlops.benchmarks.InterleavedPredict",
        "--warmup=" + plan.interleavedWarmup(),
        "--measure=" + plan.interleavedMeasure(),
        "--out=" + interleaved,
        "--shared=true",
        "--ratios-out=" + ratios);
    console.println("== BatchingBenchmark (platform callers, engine ceiling)");
    Report.Table batching =
        batching(java, plan, "platform", plan.batchingPlatformCallers(), true, work);
    console.println("== BatchingBenchmark (async callers)");
    batching =
        batching.plus(batching(java, plan, "async", plan.batchingOtherCallers(), false, work));
    if (java21 != null) {
      console.println("== BatchingBenchmark (virtual callers, on " + java21.command() + ")");
      batching =
          batching.plus(
              batching(java21, plan, "virtual", plan.batchingOtherCallers(), false, work));
    } else {
      console.println(
          "== BatchingBenchmark (virtual callers): skipped; they need a JDK 21 or later, name one with"
              + " --java21=PATH");
    }
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
            Report.readTsv(ratios),
            batching,
            figures(swap, "swaps"),
            figures(sinks, "sink"));
    Files.writeString(
        results, report.markdown(chart.getFileName().toString()), StandardCharsets.UTF_8);
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

  /**
   * One {@code BatchingBenchmark} sweep of one caller kind, written to {@code batching-KIND.tsv}.
   */
  private static Report.Table batching(
      Java java, Plan plan, String kind, String callers, boolean ceiling, Path work)
      throws IOException, InterruptedException {
    Path out = work.resolve("batching-" + kind + ".tsv");
    child(
        java,
        "dev.mlops.benchmarks.BatchingBenchmark",
        "--callers-kind=" + kind,
        "--callers=" + callers,
        "--ceiling=" + ceiling,
        "--warmup=" + plan.batchingWarmup(),
        "--measure=" + plan.batchingMeasure(),
        "--repeats=2",
        "--out=" + out);
    return Report.readTsv(out);
  }

  /**
   * Runs a harness in a JVM of its own on {@code java}, on this JVM's class path, and fails if it
   * fails.
   */
  private static void child(Java java, String mainClass, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(java.command());
    if (java.feature() >= 22) {
      command.add("--enable-native-access=ALL-UNNAMED");
    }
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
    return "ONNX Runtime (Java, CPU) "
        + p.getProperty("onnxruntime", "?")
        + "; DJL "
        + p.getProperty("djl", "?")
        + " (api and onnxruntime-engine, on that same ONNX Runtime)"
        + "; JMH "
        + p.getProperty("jmh", "?");
  }
}
