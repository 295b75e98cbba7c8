package dev.mlops.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Renders one {@link RunAll} run as {@code RESULTS.md} and a throughput/p99 chart in SVG. */
final class Report {

  /** One JMH result: times in the benchmark's unit (µs here), allocation in bytes per call. */
  record Figure(
      String param,
      String method,
      double score,
      double error,
      double p50,
      double p99,
      double p999,
      long samples,
      double allocBytes) {}

  /** A TSV file: its {@code #} comment lines and its rows by column name. */
  record Table(List<String> comments, List<Map<String, String>> rows) {

    /** Both tables' rows, this one's first; their comments, each once. */
    Table plus(Table other) {
      Set<String> comments = new LinkedHashSet<>(this.comments);
      comments.addAll(other.comments);
      List<Map<String, String>> rows = new ArrayList<>(this.rows);
      rows.addAll(other.rows);
      return new Table(List.copyOf(comments), rows);
    }

    List<Map<String, String>> where(String column, String value) {
      List<Map<String, String>> out = new ArrayList<>();
      for (Map<String, String> r : rows) {
        if (value.equals(r.get(column))) {
          out.add(r);
        }
      }
      return out;
    }

    Optional<Map<String, String>> find(String... columnValuePairs) {
      for (Map<String, String> r : rows) {
        boolean all = true;
        for (int i = 0; i < columnValuePairs.length; i += 2) {
          all &= columnValuePairs[i + 1].equals(r.get(columnValuePairs[i]));
        }
        if (all) {
          return Optional.of(r);
        }
      }
      return Optional.empty();
    }
  }

  /** Where and how the run happened. */
  record Environment(
      String plan,
      String command,
      String libraries,
      Instant started,
      int cores,
      String cpu,
      String memory,
      String jdk,
      String loadAtStart,
      String loadAtEnd,
      Duration took) {

    static Environment capture(String plan, String command, String libraries) {
      return new Environment(
          plan,
          command,
          libraries,
          Instant.now(),
          Runtime.getRuntime().availableProcessors(),
          procField("/proc/cpuinfo", "model name").orElse(System.getProperty("os.arch")),
          procField("/proc/meminfo", "MemTotal").map(Report::kibToGib).orElse("?"),
          System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"),
          loadAverage(),
          "",
          Duration.ZERO);
    }

    Environment finish(Duration took) {
      return new Environment(
          plan,
          command,
          libraries,
          started,
          cores,
          cpu,
          memory,
          jdk,
          loadAtStart,
          loadAverage(),
          took);
    }
  }

  private final Environment env;
  private final List<Figure> predict;
  private final List<Figure> gc;
  private final Table interleaved;
  private final Table ratios;
  private final Table batching;
  private final List<Figure> swap;
  private final List<Figure> sinks;

  Report(
      Environment env,
      List<Figure> predict,
      List<Figure> gc,
      Table interleaved,
      Table ratios,
      Table batching,
      List<Figure> swap,
      List<Figure> sinks) {
    this.env = env;
    this.predict = predict;
    this.gc = gc;
    this.interleaved = interleaved;
    this.ratios = ratios;
    this.batching = batching;
    this.swap = swap;
    this.sinks = sinks;
  }

  static Table readTsv(Path file) throws IOException {
    List<String> comments = new ArrayList<>();
    List<Map<String, String>> rows = new ArrayList<>();
    String[] header = null;
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        continue;
      }
      if (line.startsWith("#")) {
        comments.add(line.substring(1).trim());
        continue;
      }
      String[] cells = line.split("\t", -1);
      if (header == null) {
        header = cells;
        continue;
      }
      Map<String, String> row = new LinkedHashMap<>();
      for (int i = 0; i < header.length && i < cells.length; i++) {
        row.put(header[i], cells[i]);
      }
      rows.add(row);
    }
    return new Table(comments, rows);
  }

  // ---------------------------------------------------------------------------------------------
  // Markdown

  String markdown(String chartFile) {
    StringBuilder md = new StringBuilder();
    md.append("# Benchmark results\n\n");
    md.append("Written by `")
        .append(env.command())
        .append(" --")
        .append(env.plan())
        .append(
            "` (the figures of one run; `README.md` explains the benchmarks and reads these figures). ")
        .append(
            "Times in µs unless marked. Ratios are mlops ÷ the other path, so below 1.00 means mlops is faster; "
                + "DJL ÷ mlops is the other way round, above 1.00 means mlops is faster. ")
        .append(
            "The machine is shared: only compare figures within this file, and prefer p50 and ratios.\n\n");

    md.append("## Run\n\n| | |\n|---|---|\n");
    md.append("| date (UTC) | ")
        .append(
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")
                .withZone(ZoneOffset.UTC)
                .format(env.started()))
        .append(" |\n");
    md.append("| CPU | ")
        .append(env.cpu())
        .append(", ")
        .append(env.cores())
        .append(" cores (`nproc`) |\n");
    md.append("| memory | ").append(env.memory()).append(" |\n");
    md.append("| load average (1, 5, 15 min) | at start ")
        .append(env.loadAtStart())
        .append("; at end ")
        .append(env.loadAtEnd())
        .append(" |\n");
    md.append("| JDK | ").append(env.jdk()).append(" |\n");
    md.append("| libraries | ").append(env.libraries()).append(" |\n");
    md.append("| mode | `--").append(env.plan()).append("`: ").append(planText()).append(" |\n");
    md.append("| took | ").append(duration(env.took())).append(" |\n\n");

    appendPredict(md);
    appendInterleaved(md);
    appendBatching(md, chartFile);
    appendSwap(md);
    appendSinks(md);
    appendGoals(md);
    return md.toString();
  }

  private String planText() {
    if (env.plan().equals("smoke")) {
      return "a pipeline check with one-second runs: these figures mean nothing";
    }
    return env.plan().equals("full")
        ? "JMH 3 forks per benchmark and parameter, PredictBenchmark 5 × 2 s warm-up and 10 × 2 s measurement;"
            + " swap and sinks 3 forks; batching sweep 2 × (3 s warm-up + 10 s measurement) per point and predictor"
            + " (platform callers 1, 4, 16, 64; virtual and async 16, 64), and per model for the engine ceiling;"
            + " interleaved 5 s + 30 s per model and session arrangement"
        : "JMH 1 fork per benchmark and parameter, PredictBenchmark 3 × 1 s warm-up and 5 × 1 s measurement;"
            + " swap 5 × 2 s, sinks 5 × 1 s; batching sweep 2 × (1 s warm-up + 3 s measurement) per point and"
            + " predictor (platform callers 1, 4, 16, 64; virtual and async 64), and per model for the engine"
            + " ceiling; interleaved 2 s + 10 s per model and session arrangement";
  }

  private static final String[] PATHS = PredictBenchmark.PATHS;

  private static final String MLOPS = "mlopsPredict";

  /** The limit: the fastest raw ONNX Runtime path, pinned input and output tensors. */
  private static final String LIMIT = "rawOrtLimit";

  private static final String REUSED = "rawOrtReusedBuffer";

  private static final String DJL = "djlPredict";

  /** The paths every ratio table divides mlops by, the limit first. */
  private static final String[] DIVISORS = {LIMIT, REUSED, "rawOrtNaive", DJL};

  private static final String[] MODELS = {"tiny", "breast-cancer", "wide"};

  /** The most bytes mlops may allocate per call. */
  private static final int ALLOC_GOAL_BYTES = 512;

  private void appendPredict(StringBuilder md) {
    md.append("## 1. One-row prediction, one thread — `PredictBenchmark` (JMH `SampleTime`)\n\n");
    md.append(
        "Each path and model runs in its own fork, one after the other, so load that changes between forks "
            + "moves one path and not another (±5–10 % on this machine). B/op from a separate `AverageTime` run "
            + "with `-prof gc` (`gc.alloc.rate.norm`; deterministic). `rawOrtLimit` is the limit, the fastest "
            + "raw ONNX Runtime path: pinned input and output tensors made once and refilled on every call, so ONNX "
            + "Runtime allocates no output and computes only the output that is read.\n\n");
    md.append("| model | path | mean | p50 | p99 | p99.9 | samples | B/op |\n");
    md.append("|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (String model : MODELS) {
      for (String path : PATHS) {
        Optional<Figure> f = figure(predict, model, path);
        if (f.isEmpty()) {
          continue;
        }
        Figure x = f.get();
        double alloc = allocBytes(model, path);
        md.append("| ")
            .append(model)
            .append(" | `")
            .append(path)
            .append("` | ")
            .append(num(x.score()))
            .append(" ± ")
            .append(num(x.error()))
            .append(" | ")
            .append(num(x.p50()))
            .append(" | ")
            .append(num(x.p99()))
            .append(" | ")
            .append(num(x.p999()))
            .append(" | ")
            .append(x.samples())
            .append(" | ")
            .append(Double.isNaN(alloc) ? "–" : fmt("%.0f", alloc))
            .append(" |\n");
      }
    }
    md.append("\nRatios, mlops ÷ other and DJL ÷ mlops (p50; mean in brackets):\n\n");
    ratioTable(
        md,
        model -> figure(predict, model, MLOPS).isPresent(),
        (model, numerator, denominator) -> jmhRatio(model, numerator, denominator).text());
    md.append('\n');
  }

  /** The text of one cell of a ratio table: {@code numerator ÷ denominator} for {@code model}. */
  @FunctionalInterface
  private interface RatioCell {
    String text(String model, String numerator, String denominator);
  }

  /**
   * A ratio table, a row per model that has figures: mlops ÷ each of {@link #DIVISORS}, then DJL ÷
   * mlops.
   */
  private static void ratioTable(StringBuilder md, Predicate<String> measured, RatioCell cell) {
    md.append("| model");
    for (String other : DIVISORS) {
      md.append(" | ÷ `").append(other).append(other.equals(LIMIT) ? "` (the limit)" : "`");
    }
    md.append(" | DJL ÷ mlops |\n|---|").append("---:|".repeat(DIVISORS.length + 1)).append('\n');
    for (String model : MODELS) {
      if (!measured.test(model)) {
        continue;
      }
      md.append("| ").append(model);
      for (String other : DIVISORS) {
        md.append(" | ").append(cell.text(model, MLOPS, other));
      }
      md.append(" | ").append(cell.text(model, DJL, MLOPS)).append(" |\n");
    }
  }

  /** The ratio of two paths' p50s and of their means; NaN where either path was not measured. */
  private record PathRatio(double p50, double mean) {

    static final PathRatio NONE = new PathRatio(Double.NaN, Double.NaN);

    /** "p50 (mean)" to two decimals, "–" where not measured. */
    String text() {
      return Double.isNaN(p50) ? "–" : fmt("%.2f (%.2f)", p50, mean);
    }
  }

  /** {@code numerator} ÷ {@code denominator} in the JMH figures of {@code model}. */
  private PathRatio jmhRatio(String model, String numerator, String denominator) {
    Optional<Figure> num = figure(predict, model, numerator);
    Optional<Figure> den = figure(predict, model, denominator);
    return num.isPresent() && den.isPresent()
        ? new PathRatio(num.get().p50() / den.get().p50(), num.get().score() / den.get().score())
        : PathRatio.NONE;
  }

  /** {@code numerator} ÷ {@code denominator} in the interleaved rows of {@code model}. */
  private PathRatio interleavedRatio(String model, String numerator, String denominator) {
    Optional<Map<String, String>> num = interleaved.find("model", model, "path", numerator);
    Optional<Map<String, String>> den = interleaved.find("model", model, "path", denominator);
    return num.isPresent() && den.isPresent()
        ? new PathRatio(
            d(num.get(), "p50_us") / d(den.get(), "p50_us"),
            d(num.get(), "mean_us") / d(den.get(), "mean_us"))
        : PathRatio.NONE;
  }

  /**
   * The prefix of {@link InterleavedPredict}'s paths that run on the mlops predictor's own session.
   */
  private static final String SHARED = "shared:";

  private void appendInterleaved(StringBuilder md) {
    md.append("## 2. The same five paths interleaved in one JVM — `InterleavedPredict`\n\n");
    md.append(
        "Paths take turns in blocks of 1 ms or 8 calls, whichever is longer (rotating order; the first call of a block is not timed), so a change of load on the shared "
            + "machine hits all of them alike; every call is timed. First with a session per path, as users run them. "
            + "For `wide` that cannot resolve the paths' code: where a session's 21 MB of weights land in memory "
            + "moves its time by several percent (identical raw sessions side by side differ by up to 6 %), far more "
            + "than what the paths' code adds (about 0.2 µs for mlops, 1.3 µs for DJL, as `tiny` shows).\n\n");
    interleavedTable(md, false);
    md.append("\nRatios, mlops ÷ other and DJL ÷ mlops (p50; mean in brackets):\n\n");
    ratioTable(
        md,
        model -> interleaved.find("model", model, "path", MLOPS).isPresent(),
        (model, numerator, denominator) -> interleavedRatio(model, numerator, denominator).text());
    if (interleaved.rows().stream().noneMatch(r -> r.get("path").startsWith(SHARED))) {
      md.append('\n');
      return;
    }
    md.append("\n### The same session: only the Java differs\n\n");
    md.append(
        "Then all five paths run on the very `OrtSession` the mlops predictor serves (`SharedSession` reads "
            + "it out; DJL gets it through its public `OrtSymbolBlock` constructor), so the native work is identical "
            + "by construction and the differences are each library's own code. Ratios: per round (one block of each "
            + "path), the ratio of the two paths' block means; the geometric mean over rounds, with a 95 % interval "
            + "from 20 consecutive batches of rounds (Student's t), since neighbouring rounds share bursts of load "
            + "(`RatioInterval`).\n\n");
    interleavedTable(md, true);
    md.append(
        "\nmlops ÷ other, same session: geometric mean [95 % interval], rounds; DJL ÷ mlops is the "
            + "inverse of mlops ÷ DJL, its interval inverted:\n\n");
    ratioTable(
        md,
        model -> !ratios.where("model", model).isEmpty(),
        (model, numerator, denominator) ->
            sharedRatio(model, numerator, denominator)
                .map(r -> r.text() + ", " + r.rounds())
                .orElse("–"));
    md.append('\n');
  }

  private void interleavedTable(StringBuilder md, boolean shared) {
    md.append(
        "| model | path | calls | mean | p50 | p90 | p99 | p99.9 |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (Map<String, String> r : interleaved.rows()) {
      if (r.get("model").equals(InterleavedPredict.SINKS)
          || r.get("path").startsWith(SHARED) != shared) {
        continue;
      }
      md.append("| ")
          .append(r.get("model"))
          .append(" | `")
          .append(r.get("path"))
          .append("` | ")
          .append(r.get("calls"))
          .append(" | ")
          .append(num(d(r, "mean_us")))
          .append(" | ")
          .append(num(d(r, "p50_us")))
          .append(" | ")
          .append(num(d(r, "p90_us")))
          .append(" | ")
          .append(num(d(r, "p99_us")))
          .append(" | ")
          .append(num(d(r, "p999_us")))
          .append(" |\n");
    }
  }

  /** A same-session ratio: the geometric mean over rounds, its 95 % interval, the rounds. */
  private record Interval(double ratio, double low, double high, String rounds) {

    static Interval of(Map<String, String> row) {
      return new Interval(
          d(row, "geomean_ratio"), d(row, "ci_low"), d(row, "ci_high"), row.get("rounds"));
    }

    /** The ratio the other way round: each end inverted, so the ends swap. */
    Interval inverse() {
      return new Interval(1 / ratio, 1 / high, 1 / low, rounds);
    }

    String text() {
      return fmt("%.3f [%.3f–%.3f]", ratio, low, high);
    }
  }

  /**
   * The same-session ratio {@code numerator} ÷ {@code denominator} of {@code model}, if measured:
   * the file holds mlops ÷ each other path, so the reverse of one of its rows is read inverted.
   */
  private Optional<Interval> sharedRatio(String model, String numerator, String denominator) {
    return sharedRow(model, numerator, denominator)
        .map(Interval::of)
        .or(() -> sharedRow(model, denominator, numerator).map(r -> Interval.of(r).inverse()));
  }

  private Optional<Map<String, String>> sharedRow(
      String model, String numerator, String denominator) {
    return ratios.find(
        "model", model, "numerator", SHARED + numerator, "denominator", SHARED + denominator);
  }

  /** The caller kinds of the batching sweep, in the order the report shows them. */
  private static final String[] CALLER_KINDS = {"platform", "virtual", "async"};

  /** The concurrency the batching goals are judged at. */
  private static final String GOAL_CALLERS = "64";

  private void appendBatching(StringBuilder md, String chartFile) {
    md.append("## 3. Throughput and latency against concurrency — `BatchingBenchmark`\n\n");
    md.append(
        "One-row requests from N closed-loop callers; every call timed; each point is two measured "
            + "intervals per predictor, rotating which goes first. The predictors share one runtime and one session "
            + "per model. `unbatched`: the default predictor.");
    for (String c : batching.comments()) {
      md.append(" `").append(c).append("`.");
    }
    md.append(
            "\n\nThree kinds of callers, each swept in a JVM of its own. `platform`: threads calling `predict`; "
                + "a batched call hands its request to a worker thread and waits for the result, an OS context switch "
                + "each way. `virtual`: virtual threads calling `predict`; the wait is a continuation switch, but virtual "
                + "threads are not time-sliced, so of 64 unbatched callers only one per core ever runs (\"64 (2 active)\")."
                + " `async`: callers without a thread, each a closed loop on `predictAsync` that issues its next request "
                + "from the previous one's callback, on the thread that completed it. JDK: ")
        .append(String.join("; ", jdkPerKind()))
        .append(".\n\n");
    md.append(
        "Ratios compare with the **platform-thread unbatched** predictor at the same number of callers, the "
            + "best unbatched figure a user gets; each kind's own unbatched row is there to read. Rows/run: rows in "
            + "the engine run that served a call, averaged over calls. CPU: CPU seconds the process used per second "
            + "of measurement (all threads; 2.00 = both cores). Switches/call: context switches of all the process's "
            + "threads per call. \"÷ per CPU s\" compares calls per CPU second, which does not depend on how much "
            + "of the shared machine the process got (the neighbours' load; the scheduler sharing CPU per runnable "
            + "thread, so that 64 busy unbatched callers compete harder than two batching workers).\n\n");
    md.append("![throughput and p99 against callers](").append(chartFile).append(")\n\n");
    appendCeiling(md);
    for (String kind : CALLER_KINDS) {
      md.append("### `").append(kind).append("` callers\n\n");
      if (!callerKinds().contains(kind)) {
        md.append("Not run")
            .append(
                kind.equals("virtual")
                    ? ": virtual threads need a JDK ≥ 21, and the run had "
                        + "none (`run-all.sh` takes `MLOPS_BENCH_JAVA21`, else the newest JDK ≥ 21 under `/usr/lib/jvm`)"
                    : "")
            .append(".\n\n");
        continue;
      }
      md.append(
          "| model | callers | predictor | calls/s | p50 | p99 | p99.9 | CPU | rows/run | switches/call"
              + " | ÷ platform unbatched calls/s | ÷ per CPU s |\n");
      md.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
      for (String model : batchingModels()) {
        for (String callers : batchingCallers(model, kind)) {
          Optional<Map<String, String>> base = platformUnbatched(model, callers);
          for (String predictor : predictors()) {
            Optional<Map<String, String>> row = sweepRow(model, kind, predictor, callers);
            if (row.isEmpty()) {
              continue;
            }
            Map<String, String> r = row.get();
            boolean compared = base.isPresent() && base.get() != r;
            md.append("| ")
                .append(model)
                .append(" | ")
                .append(callersCell(r))
                .append(" | ")
                .append(predictor)
                .append(" | ")
                .append(fmt("%,.0f", d(r, "throughput_per_s")))
                .append(" | ")
                .append(num(d(r, "p50_us")))
                .append(" | ")
                .append(num(d(r, "p99_us")))
                .append(" | ")
                .append(num(d(r, "p999_us")))
                .append(" | ")
                .append(fmt("%.2f", d(r, "cpu_cores")))
                .append(" | ")
                .append(fmt("%.1f", d(r, "rows_per_run")))
                .append(" | ")
                .append(fmt("%.2f", d(r, "switches_per_call")))
                .append(" | ")
                .append(
                    compared
                        ? fmt(
                            "**%.2f×**",
                            d(r, "throughput_per_s") / d(base.get(), "throughput_per_s"))
                        : "")
                .append(" | ")
                .append(
                    compared
                        ? fmt("%.2f×", d(r, "calls_per_cpu_s") / d(base.get(), "calls_per_cpu_s"))
                        : "")
                .append(" |\n");
            if (d(r, "errors") > 0) {
              md.append("| | | ")
                  .append(fmt("%.0f", d(r, "errors")))
                  .append(" failed calls | | | | | | | | | |\n");
            }
          }
        }
      }
      md.append('\n');
    }
  }

  private void appendCeiling(StringBuilder md) {
    md.append("### Engine ceiling\n\n");
    List<Map<String, String>> ceilings = batching.where("predictor", BatchingBenchmark.CEILING);
    if (ceilings.isEmpty()) {
      md.append("Not run.\n\n");
      return;
    }
    md.append("Full ")
        .append(BatchingBenchmark.CEILING_ROWS)
        .append(
            "-row batches back to back through an "
                + "unbatched `Codecs.floatBatch()` predictor, on as many platform threads as the batched predictors have "
                + "workers, on the same session: the most rows per second any batcher with that many workers can serve "
                + "on this machine. Ceiling ÷ unbatched is the most batching can multiply the platform-thread unbatched "
                + "calls/s by.\n\n");
    md.append(
            "| model | threads | ceiling rows/s | µs per run (p50) | CPU | platform unbatched calls/s, ")
        .append(GOAL_CALLERS)
        .append(" callers | ceiling ÷ unbatched |\n");
    md.append("|---|---:|---:|---:|---:|---:|---:|\n");
    for (Map<String, String> c : ceilings) {
      Optional<Map<String, String>> u = platformUnbatched(c.get("model"), GOAL_CALLERS);
      md.append("| ")
          .append(c.get("model"))
          .append(" | ")
          .append(c.get("callers"))
          .append(" | ")
          .append(fmt("%,.0f", ceilingRowsPerSecond(c)))
          .append(" | ")
          .append(num(d(c, "p50_us")))
          .append(" | ")
          .append(fmt("%.2f", d(c, "cpu_cores")))
          .append(" | ")
          .append(u.map(x -> fmt("%,.0f", d(x, "throughput_per_s"))).orElse("–"))
          .append(" | ")
          .append(
              u.map(x -> fmt("**%.2f×**", ceilingRowsPerSecond(c) / d(x, "throughput_per_s")))
                  .orElse("–"))
          .append(" |\n");
    }
    md.append('\n');
  }

  /** "64", or "64 (2 active)" where some callers made no call in a measured interval. */
  private static String callersCell(Map<String, String> row) {
    String active = row.get("active_callers");
    return active == null || active.equals(row.get("callers"))
        ? row.get("callers")
        : row.get("callers") + " (" + active + " active)";
  }

  /** Which JDK measured which caller kinds, e.g. "`platform`, `async`: 17.0.15 (Debian)". */
  private List<String> jdkPerKind() {
    Map<String, List<String>> kindsByJdk = new LinkedHashMap<>();
    for (String kind : callerKinds()) {
      for (Map<String, String> r : batching.where("callers_kind", kind)) {
        List<String> kinds = kindsByJdk.computeIfAbsent(r.get("jdk"), j -> new ArrayList<>());
        if (!kinds.contains("`" + kind + "`")) {
          kinds.add("`" + kind + "`");
        }
      }
    }
    List<String> out = new ArrayList<>();
    kindsByJdk.forEach((jdk, kinds) -> out.add(String.join(", ", kinds) + " on " + jdk));
    return out;
  }

  private void appendSwap(StringBuilder md) {
    md.append("## 4. Predictions during hot swaps — `SwapBenchmark` (JMH `SampleTime`)\n\n");
    md.append(
        "breast-cancer, one caller, predictor on `models:/cancer@production`; `flip-*`: a background thread "
            + "moves the alias between v1 and v2 every 100 ms (`flip-loading` with `sessionCacheBudget(0)`, so "
            + "every swap loads).\n\n");
    Optional<Figure> steady = figure(swap, "steady-v2", "predict");
    md.append(
        "| swaps | mean | p50 | p99 | p99.9 | samples | p99 ÷ steady-v2 p99 | p99.9 ÷ steady-v2 p99.9 |\n");
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Figure f : ordered(swap, "steady-v1", "steady-v2", "flip-cached", "flip-loading")) {
      md.append("| `")
          .append(f.param())
          .append("` | ")
          .append(num(f.score()))
          .append(" ± ")
          .append(num(f.error()))
          .append(" | ")
          .append(num(f.p50()))
          .append(" | ")
          .append(num(f.p99()))
          .append(" | ")
          .append(num(f.p999()))
          .append(" | ")
          .append(f.samples())
          .append(" | ")
          .append(steady.map(s -> ratio(f.p99(), s.p99())).orElse("–"))
          .append(" | ")
          .append(steady.map(s -> ratio(f.p999(), s.p999())).orElse("–"))
          .append(" |\n");
    }
    md.append('\n');
  }

  private void appendSinks(StringBuilder md) {
    md.append(
        "## 5. Metric sinks and the drift monitor — `SinkOverheadBenchmark` (JMH `SampleTime`)\n\n");
    md.append("breast-cancer v2, one thread. Δ: difference to `noop` in ns per prediction.\n\n");
    Optional<Figure> noop = figure(sinks, "noop", "predict");
    md.append("| sink | mean | p50 | p99 | p99.9 | samples | Δ mean ns | Δ p50 ns |\n");
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Figure f :
        ordered(
            sinks,
            "noop",
            "in-memory",
            "slf4j-info",
            "slf4j-debug",
            "micrometer",
            "drift",
            "drift-async")) {
      md.append("| `")
          .append(f.param())
          .append("` | ")
          .append(num(f.score()))
          .append(" ± ")
          .append(num(f.error()))
          .append(" | ")
          .append(num(f.p50()))
          .append(" | ")
          .append(num(f.p99()))
          .append(" | ")
          .append(num(f.p999()))
          .append(" | ")
          .append(f.samples())
          .append(" | ")
          .append(noop.map(n -> fmt("%+.0f", (f.score() - n.score()) * 1000)).orElse("–"))
          .append(" | ")
          .append(noop.map(n -> fmt("%+.0f", (f.p50() - n.p50()) * 1000)).orElse("–"))
          .append(" |\n");
    }
    List<Map<String, String>> inter = interleaved.where("model", InterleavedPredict.SINKS);
    Optional<Map<String, String>> noopInter =
        interleaved.find("model", InterleavedPredict.SINKS, "path", "noop");
    if (!inter.isEmpty() && noopInter.isPresent()) {
      md.append(
          "\nThe same seven runtimes interleaved in one JVM (`InterleavedPredict`, blocks of 1 ms), "
              + "the differences to trust:\n\n");
      md.append("| sink | calls | mean | p50 | p99 | p99.9 | Δ mean ns | Δ p50 ns |\n");
      md.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
      Map<String, String> n = noopInter.get();
      for (Map<String, String> r : inter) {
        md.append("| `")
            .append(r.get("path"))
            .append("` | ")
            .append(r.get("calls"))
            .append(" | ")
            .append(num(d(r, "mean_us")))
            .append(" | ")
            .append(num(d(r, "p50_us")))
            .append(" | ")
            .append(num(d(r, "p99_us")))
            .append(" | ")
            .append(num(d(r, "p999_us")))
            .append(" | ")
            .append(fmt("%+.0f", (d(r, "mean_us") - d(n, "mean_us")) * 1000))
            .append(" | ")
            .append(fmt("%+.0f", (d(r, "p50_us") - d(n, "p50_us")) * 1000))
            .append(" |\n");
      }
    }
    md.append('\n');
  }

  private void appendGoals(StringBuilder md) {
    md.append(
        "## Goals\n\n| goal | JMH / measured | interleaved / other | verdict |\n"
            + "|---|---:|---:|---|\n");
    for (String model : MODELS) {
      goalRow(
          md,
          "mlops faster than DJL, " + model + " (p50 ratio < 1.00)",
          model,
          MLOPS,
          DJL,
          Bound.BELOW,
          1.0);
    }
    goalRow(
        md, "mlops ÷ raw reused ≤ 1.10, tiny (p50)", "tiny", MLOPS, REUSED, Bound.AT_MOST, 1.10);
    goalRow(
        md, "mlops ÷ raw reused ≤ 1.03, wide (p50)", "wide", MLOPS, REUSED, Bound.AT_MOST, 1.03);
    goalRow(md, "mlops ÷ limit ≤ 1.15, tiny (p50)", "tiny", MLOPS, LIMIT, Bound.AT_MOST, 1.15);
    goalRow(
        md,
        "mlops ÷ limit ≤ 1.10, breast-cancer (p50)",
        "breast-cancer",
        MLOPS,
        LIMIT,
        Bound.AT_MOST,
        1.10);
    goalRow(md, "mlops ÷ limit ≤ 1.03, wide (p50)", "wide", MLOPS, LIMIT, Bound.AT_MOST, 1.03);
    for (String model : new String[] {"tiny", "breast-cancer"}) {
      goalRow(md, "DJL ÷ mlops ≥ 1.5, " + model, model, DJL, MLOPS, Bound.AT_LEAST, 1.5);
    }
    md.append(
        "| Where the same-session interval exists, it decides: its end nearer the bound must meet it, the "
            + "upper end for ≤ and <, the lower end for ≥. Between sessions of their own, `wide` differs by where "
            + "each session's weights lie in memory (section 2) | | | |\n");
    for (String model : MODELS) {
      allocationGoalRow(md, model);
    }
    for (String kind : callerKinds()) {
      for (String predictor : predictors()) {
        if (predictor.equals("unbatched")) {
          continue;
        }
        long delayMicros = queueDelayMicros(predictor);
        for (String model : batchingModels()) {
          Optional<Map<String, String>> u = platformUnbatched(model, GOAL_CALLERS);
          Optional<Map<String, String>> b = sweepRow(model, kind, predictor, GOAL_CALLERS);
          if (u.isPresent() && b.isPresent()) {
            double x = d(b.get(), "throughput_per_s") / d(u.get(), "throughput_per_s");
            double perCpu = d(b.get(), "calls_per_cpu_s") / d(u.get(), "calls_per_cpu_s");
            md.append("| `")
                .append(predictor)
                .append("`, `")
                .append(kind)
                .append("` callers ≥ 3× platform " + "unbatched calls/s at ")
                .append(GOAL_CALLERS)
                .append(" callers (aim 5×), ")
                .append(model)
                .append(" | ")
                .append(fmt("%.2f×", x))
                .append(" | ")
                .append(fmt("%.2f× per CPU second", perCpu))
                .append(" | ")
                .append(x >= 3 ? "met" : "**missed**")
                .append(x >= 5 ? ", aim met" : "")
                .append(
                    fmt(
                        "; p99 %s µs against unbatched %s µs",
                        num(d(b.get(), "p99_us")), num(d(u.get(), "p99_us"))))
                .append(" |\n");
          }
          Optional<Map<String, String>> u1 = sweepRow(model, kind, "unbatched", "1");
          Optional<Map<String, String>> b1 = sweepRow(model, kind, predictor, "1");
          if (u1.isPresent() && b1.isPresent() && delayMicros >= 0) {
            double limit50 = d(u1.get(), "p50_us") + delayMicros;
            double limit99 = d(u1.get(), "p99_us") + delayMicros;
            boolean ok50 = d(b1.get(), "p50_us") <= limit50;
            boolean ok99 = d(b1.get(), "p99_us") <= limit99;
            md.append("| `")
                .append(predictor)
                .append("`, one `")
                .append(kind)
                .append("` caller: ≤ unbatched + ")
                .append(delayMicros)
                .append(" µs queue delay, ")
                .append(model)
                .append(" | ")
                .append(fmt("p50 %s ≤ %s", num(d(b1.get(), "p50_us")), num(limit50)))
                .append(" | ")
                .append(fmt("p99 %s ≤ %s", num(d(b1.get(), "p99_us")), num(limit99)))
                .append(" | ")
                .append(ok50 ? "p50 met" : "p50 **missed**")
                .append(", ")
                .append(ok99 ? "p99 met" : "p99 **missed**")
                .append(" |\n");
          }
        }
      }
    }
    for (Map<String, String> c : batching.where("predictor", BatchingBenchmark.CEILING)) {
      Optional<Map<String, String>> u = platformUnbatched(c.get("model"), GOAL_CALLERS);
      if (u.isPresent()) {
        double x = ceilingRowsPerSecond(c) / d(u.get(), "throughput_per_s");
        md.append("| engine ceiling ÷ platform unbatched calls/s at ")
            .append(GOAL_CALLERS)
            .append(" callers, ")
            .append(c.get("model"))
            .append(" (reported: the most any batcher can reach here) | ")
            .append(fmt("%.2f×", x))
            .append(" | ")
            .append(fmt("%,.0f rows/s", ceilingRowsPerSecond(c)))
            .append(" | ")
            .append(
                x >= 5
                    ? "5× within reach"
                    : x >= 3 ? "**5× out of reach**, 3× within" : "**3× out of reach**")
            .append(" |\n");
      }
    }
    Optional<Figure> steady = figure(swap, "steady-v2", "predict");
    Optional<Figure> loading = figure(swap, "flip-loading", "predict");
    if (steady.isPresent() && loading.isPresent()) {
      md.append("| swap every 100 ms (loading) p99 ÷ steady p99 (reported, no target) | ")
          .append(ratio(loading.get().p99(), steady.get().p99()))
          .append(" | | |\n");
    }
    md.append('\n');
  }

  /** How a goal bounds its figure, and which end of a same-session interval must meet the bound. */
  private enum Bound {
    /** Strictly below the bound; the interval's upper end decides. */
    BELOW,
    /** At most the bound; the interval's upper end decides. */
    AT_MOST,
    /** At least the bound; the interval's lower end decides. */
    AT_LEAST;

    boolean meets(double figure, double threshold) {
      return switch (this) {
        case BELOW -> figure < threshold;
        case AT_MOST -> figure <= threshold;
        case AT_LEAST -> figure >= threshold;
      };
    }

    /** The end of the interval nearer the bound: the one that must meet it. */
    double decisive(Interval interval) {
      return this == AT_LEAST ? interval.low() : interval.high();
    }

    String end() {
      return this == AT_LEAST ? "lower" : "upper";
    }
  }

  /**
   * A goal on the p50 ratio {@code numerator} ÷ {@code denominator} of {@code model}, judged on the
   * JMH figures and on the interleaved ones; where the same-session ratio was measured, the end of
   * its 95 % interval that {@code bound} names decides.
   */
  private void goalRow(
      StringBuilder md,
      String goal,
      String model,
      String numerator,
      String denominator,
      Bound bound,
      double threshold) {
    double jmh = jmhRatio(model, numerator, denominator).p50();
    double inter = interleavedRatio(model, numerator, denominator).p50();
    Optional<Interval> shared = sharedRatio(model, numerator, denominator);
    md.append("| ")
        .append(goal)
        .append(" | ")
        .append(threeDecimals(jmh))
        .append(" | ")
        .append(threeDecimals(inter));
    if (shared.isPresent()) {
      md.append("; same session ")
          .append(shared.get().text())
          .append(" | ")
          .append(verdict(bound.decisive(shared.get()), bound, threshold))
          .append(" (same session, ")
          .append(bound.end())
          .append(" end of the 95 % interval); ");
    } else {
      md.append(" | ");
    }
    md.append(verdict(jmh, bound, threshold))
        .append(" (JMH), ")
        .append(verdict(inter, bound, threshold))
        .append(" (interleaved) |\n");
  }

  /**
   * The allocation goal of {@code model}: mlops's B/op (from the {@code -prof gc} run) at most
   * {@link #ALLOC_GOAL_BYTES}, the limit's beside it.
   */
  private void allocationGoalRow(StringBuilder md, String model) {
    double mlopsBytes = allocBytes(model, MLOPS);
    double limitBytes = allocBytes(model, LIMIT);
    md.append("| mlops allocates ≤ ")
        .append(ALLOC_GOAL_BYTES)
        .append(" B per call, ")
        .append(model)
        .append(" | ")
        .append(Double.isNaN(mlopsBytes) ? "–" : fmt("%.0f B", mlopsBytes))
        .append(" | ")
        .append(Double.isNaN(limitBytes) ? "–" : fmt("limit %.0f B", limitBytes))
        .append(" | ")
        .append(verdict(mlopsBytes, Bound.AT_MOST, ALLOC_GOAL_BYTES))
        .append(" |\n");
  }

  private static String verdict(double figure, Bound bound, double threshold) {
    if (Double.isNaN(figure)) {
      return "–";
    }
    return bound.meets(figure, threshold) ? "met" : "**missed**";
  }

  /**
   * The queue delay of a batched predictor, from the TSV's {@code # name: BatchingOptions[...]}
   * line.
   */
  private long queueDelayMicros(String predictor) {
    Pattern p = Pattern.compile("maxQueueDelay=PT([0-9.]+)S");
    for (String c : batching.comments()) {
      if (!c.startsWith(predictor + ":")) {
        continue;
      }
      Matcher m = p.matcher(c);
      if (m.find()) {
        return Math.round(Double.parseDouble(m.group(1)) * 1e6);
      }
    }
    return -1;
  }

  /** The sweep's rows: every predictor but the ceiling. */
  private List<Map<String, String>> sweepRows() {
    List<Map<String, String>> out = new ArrayList<>(batching.rows());
    out.removeIf(r -> BatchingBenchmark.CEILING.equals(r.get("predictor")));
    return out;
  }

  private Optional<Map<String, String>> sweepRow(
      String model, String kind, String predictor, String callers) {
    return batching.find(
        "model", model, "callers_kind", kind, "predictor", predictor, "callers", callers);
  }

  /**
   * What every batched figure is compared with: unbatched, on platform threads, at as many callers.
   */
  private Optional<Map<String, String>> platformUnbatched(String model, String callers) {
    return sweepRow(model, "platform", "unbatched", callers);
  }

  /** A ceiling row's rows per second: its calls are runs of {@code rows_per_run} rows. */
  private static double ceilingRowsPerSecond(Map<String, String> ceiling) {
    return d(ceiling, "throughput_per_s") * d(ceiling, "rows_per_run");
  }

  /** Predictor names of the sweep in the order they first appear; unbatched first. */
  private List<String> predictors() {
    Set<String> out = new LinkedHashSet<>();
    out.add("unbatched");
    sweepRows().forEach(r -> out.add(r.get("predictor")));
    return new ArrayList<>(out);
  }

  /** The caller kinds that have rows, in {@link #CALLER_KINDS} order. */
  private List<String> callerKinds() {
    List<String> out = new ArrayList<>();
    for (String kind : CALLER_KINDS) {
      if (sweepRows().stream().anyMatch(r -> kind.equals(r.get("callers_kind")))) {
        out.add(kind);
      }
    }
    return out;
  }

  private Set<String> batchingModels() {
    Set<String> out = new LinkedHashSet<>();
    batching.rows().forEach(r -> out.add(r.get("model")));
    return out;
  }

  private Set<String> batchingCallers(String model, String kind) {
    Set<String> out = new LinkedHashSet<>();
    for (Map<String, String> r : sweepRows()) {
      if (r.get("model").equals(model) && r.get("callers_kind").equals(kind)) {
        out.add(r.get("callers"));
      }
    }
    return out;
  }

  /** The bytes {@code path} allocates per call on {@code model}, NaN if not measured. */
  private double allocBytes(String model, String path) {
    return figure(gc, model, path).map(Figure::allocBytes).orElse(Double.NaN);
  }

  private static Optional<Figure> figure(List<Figure> figures, String param, String method) {
    return figures.stream()
        .filter(f -> f.param().equals(param) && f.method().equals(method))
        .findFirst();
  }

  private static List<Figure> ordered(List<Figure> figures, String... params) {
    List<Figure> out = new ArrayList<>();
    for (String p : params) {
      figures.stream().filter(f -> f.param().equals(p)).forEach(out::add);
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // SVG

  private static final String[] COLOURS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};

  /** The engine ceiling's line: thin, dash-dotted. */
  private static final String CEILING_DASH = " stroke-width=\"1\" stroke-dasharray=\"12 3 2 3\"";

  /**
   * Two panels, calls/s and p99 against callers: a colour per model, a line style per predictor, a
   * marker per caller kind; the engine ceiling as a thin line across the calls/s panel.
   */
  String chart() {
    int panelW = 420;
    int panelH = 300;
    int gap = 60;
    int width = 2 * panelW + gap + 70;
    List<String> models = new ArrayList<>(batchingModels());
    int legendTop = panelH + 95;
    int height = legendTop + 20 * (models.size() + 1) + 15;
    StringBuilder svg = new StringBuilder();
    svg.append(
        fmt(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                + "font-family=\"sans-serif\" font-size=\"12\">\n",
            width, height, width, height));
    svg.append(fmt("<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", width, height));
    panel(
        svg,
        40,
        30,
        panelW,
        panelH,
        "calls/s (higher is better)",
        "throughput_per_s",
        models,
        true);
    panel(
        svg,
        40 + panelW + gap,
        30,
        panelW,
        panelH,
        "p99 latency, µs (lower is better)",
        "p99_us",
        models,
        false);
    for (int i = 0; i < models.size(); i++) {
      int y = legendTop + 20 * i;
      int x = 60;
      String colour = COLOURS[i % COLOURS.length];
      for (String predictor : predictors()) {
        svg.append(
            fmt(
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
                x, y, x + 30, y, colour, dash(predictor)));
        svg.append(
            fmt(
                "<text x=\"%d\" y=\"%d\">%s, %s</text>\n",
                x + 36, y + 4, esc(models.get(i)), predictor));
        x += 200;
      }
      if (!batching.where("predictor", BatchingBenchmark.CEILING).isEmpty()) {
        svg.append(
            fmt(
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\"%s/>\n",
                x, y, x + 30, y, colour, CEILING_DASH));
        svg.append(fmt("<text x=\"%d\" y=\"%d\">ceiling, rows/s</text>\n", x + 36, y + 4));
      }
    }
    int y = legendTop + 20 * models.size();
    int x = 60;
    for (String kind : callerKinds()) {
      svg.append(marker(kind, x + 15, y, "#555", kind + " callers"));
      svg.append(fmt("<text x=\"%d\" y=\"%d\">%s callers</text>\n", x + 36, y + 4, kind));
      x += 200;
    }
    svg.append(
        fmt(
            "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#555\">%s; %s</text>\n",
            40,
            height - 8,
            esc("one-row requests, closed loop; x: concurrent callers (log scale), y: log scale"),
            esc(
                DateTimeFormatter.ofPattern("yyyy-MM-dd")
                        .withZone(ZoneOffset.UTC)
                        .format(env.started())
                    + ", "
                    + env.cores()
                    + " cores, --"
                    + env.plan())));
    svg.append("</svg>\n");
    return svg.toString();
  }

  private void panel(
      StringBuilder svg,
      int left,
      int top,
      int w,
      int h,
      String title,
      String column,
      List<String> models,
      boolean ceiling) {
    List<Map<String, String>> rows = sweepRows();
    List<Map<String, String>> ceilings =
        ceiling ? batching.where("predictor", BatchingBenchmark.CEILING) : List.of();
    List<Integer> callers = new ArrayList<>();
    double min = Double.MAX_VALUE;
    double max = 0;
    for (Map<String, String> r : rows) {
      int c = Integer.parseInt(r.get("callers"));
      if (!callers.contains(c)) {
        callers.add(c);
      }
      double v = d(r, column);
      if (v > 0) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
    }
    for (Map<String, String> c : ceilings) {
      min = Math.min(min, ceilingRowsPerSecond(c));
      max = Math.max(max, ceilingRowsPerSecond(c));
    }
    callers.sort(null);
    if (callers.isEmpty() || max == 0) {
      return;
    }
    double lo = Math.floor(Math.log10(min));
    double hi = Math.ceil(Math.log10(max));
    if (hi == lo) {
      hi = lo + 1;
    }
    double xLo = Math.log(callers.get(0)) / Math.log(2);
    double xHi = Math.log(callers.get(callers.size() - 1)) / Math.log(2);
    double xSpan = xHi == xLo ? 1 : xHi - xLo;
    int plotL = left + 50;
    int plotW = w - 60;
    svg.append(
        fmt(
            "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s</text>\n",
            plotL, top - 10, esc(title)));
    svg.append(
        fmt(
            "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n",
            plotL, top, plotW, h));
    for (double e = lo; e <= hi; e++) {
      int y = (int) Math.round(top + h - (e - lo) / (hi - lo) * h);
      svg.append(
          fmt(
              "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>\n",
              plotL, y, plotL + plotW, y));
      svg.append(
          fmt(
              "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n",
              plotL - 6, y + 4, decade(e)));
    }
    for (int c : callers) {
      int x = (int) Math.round(plotL + (Math.log(c) / Math.log(2) - xLo) / xSpan * plotW);
      svg.append(
          fmt(
              "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#eee\"/>\n",
              x, top, x, top + h));
      svg.append(
          fmt("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%d</text>\n", x, top + h + 16, c));
    }
    svg.append(
        fmt(
            "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">callers</text>\n",
            plotL + plotW / 2, top + h + 34));
    for (int i = 0; i < models.size(); i++) {
      String model = models.get(i);
      String colour = COLOURS[i % COLOURS.length];
      for (Map<String, String> c : ceilings) {
        if (!c.get("model").equals(model)) {
          continue;
        }
        double y = top + h - (Math.log10(ceilingRowsPerSecond(c)) - lo) / (hi - lo) * h;
        svg.append(
            fmt(
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\"%s><title>%s ceiling: %s"
                    + " rows/s</title></line>\n",
                plotL,
                y,
                plotL + plotW,
                y,
                colour,
                CEILING_DASH,
                esc(model),
                num(ceilingRowsPerSecond(c))));
      }
      for (String kind : callerKinds()) {
        for (String predictor : predictors()) {
          StringBuilder points = new StringBuilder();
          StringBuilder markers = new StringBuilder();
          int n = 0;
          double lastX = 0;
          double lastY = 0;
          for (int c : callers) {
            Optional<Map<String, String>> r = sweepRow(model, kind, predictor, Integer.toString(c));
            if (r.isEmpty() || !(d(r.get(), column) > 0)) {
              continue;
            }
            double v = d(r.get(), column);
            double x = plotL + (Math.log(c) / Math.log(2) - xLo) / xSpan * plotW;
            double y = top + h - (Math.log10(v) - lo) / (hi - lo) * h;
            points.append(fmt("%.1f,%.1f ", x, y));
            lastX = x;
            lastY = y;
            markers.append(
                marker(
                    kind,
                    x,
                    y,
                    colour,
                    model + " " + predictor + ", " + c + " " + kind + " callers: " + num(v)));
            n++;
          }
          if (n > 1) {
            svg.append(
                fmt(
                    "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
                    points.toString().trim(), colour, dash(predictor)));
          } else if (n == 1) {
            // A lone point gets a stub in its line's style, so that its predictor can be told.
            svg.append(
                fmt(
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>"
                        + "\n",
                    lastX - 10, lastY, lastX + 10, lastY, colour, dash(predictor)));
          }
          svg.append(markers);
        }
      }
    }
  }

  /**
   * Unbatched dashed, greedy dotted, greedy with one worker dash-dotted, batched (and anything
   * else) solid.
   */
  private static String dash(String predictor) {
    switch (predictor) {
      case "unbatched":
        return " stroke-dasharray=\"7 4\"";
      case "greedy":
        return " stroke-dasharray=\"2 3\"";
      case "greedy-1":
        return " stroke-dasharray=\"8 3 2 3\"";
      default:
        return "";
    }
  }

  /**
   * A point: a circle for platform callers, a square for virtual ones, a triangle for async ones.
   */
  private static String marker(String kind, double x, double y, String colour, String title) {
    String shape;
    switch (kind) {
      case "virtual":
        shape = fmt("rect x=\"%.1f\" y=\"%.1f\" width=\"7\" height=\"7\"", x - 3.5, y - 3.5);
        break;
      case "async":
        shape =
            fmt(
                "polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\"",
                x, y - 4.5, x - 4.5, y + 3.5, x + 4.5, y + 3.5);
        break;
      default:
        shape = fmt("circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\"", x, y);
    }
    String element = shape.substring(0, shape.indexOf(' '));
    return fmt(
        "<%s class=\"%s\" fill=\"%s\"><title>%s</title></%s>\n",
        shape, kind, colour, esc(title), element);
  }

  private static String decade(double e) {
    double v = Math.pow(10, e);
    if (v >= 1e6) {
      return fmt("%.0fM", v / 1e6);
    }
    if (v >= 1e3) {
      return fmt("%.0fk", v / 1e3);
    }
    return v >= 1 ? fmt("%.0f", v) : fmt("%.2g", v);
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private static double d(Map<String, String> row, String column) {
    String v = row.get(column);
    if (v == null || v.isEmpty()) {
      return Double.NaN;
    }
    return Double.parseDouble(v);
  }

  /** Three significant digits, at least two decimals below 10. */
  static String num(double v) {
    if (Double.isNaN(v)) {
      return "–";
    }
    double a = Math.abs(v);
    if (a >= 1000) {
      return fmt("%,.0f", v);
    }
    if (a >= 100) {
      return fmt("%.1f", v);
    }
    if (a >= 10) {
      return fmt("%.2f", v);
    }
    return fmt("%.3f", v);
  }

  /** Three decimals, "–" for a figure not measured. */
  private static String threeDecimals(double v) {
    return Double.isNaN(v) ? "–" : fmt("%.3f", v);
  }

  private static String ratio(double a, double b) {
    return Double.isNaN(a) || Double.isNaN(b) || b == 0 ? "–" : fmt("%.2f", a / b);
  }

  private static String fmt(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  private static String duration(Duration d) {
    return d.toMinutes() + " min " + d.toSecondsPart() + " s";
  }

  private static Optional<String> procField(String file, String key) {
    try {
      for (String line : Files.readAllLines(Path.of(file), StandardCharsets.UTF_8)) {
        if (line.startsWith(key)) {
          int colon = line.indexOf(':');
          return Optional.of(line.substring(colon + 1).trim());
        }
      }
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
    return Optional.empty();
  }

  private static String kibToGib(String memTotal) {
    String digits = memTotal.replaceAll("[^0-9]", "");
    return digits.isEmpty() ? memTotal : fmt("%.1f GiB", Long.parseLong(digits) / 1024.0 / 1024.0);
  }

  private static String loadAverage() {
    try {
      String[] f =
          Files.readString(Path.of("/proc/loadavg"), StandardCharsets.UTF_8).trim().split("\\s+");
      return f[0] + ", " + f[1] + ", " + f[2];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }
}
