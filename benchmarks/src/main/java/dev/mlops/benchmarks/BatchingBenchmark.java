package dev.mlops.benchmarks;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.PredictionEvent;
import dev.mlops.runtime.BatchingOptions;
import dev.mlops.runtime.Mlops;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntToDoubleFunction;

/**
 * Throughput and latency against concurrency for one-row requests: an unbatched predictor and two
 * batched ones on the same model, in one JVM, taking turns at every concurrency level, driven by
 * one or more kinds of callers; and the engine's ceiling, the most rows per second any batcher
 * could serve here.
 *
 * <p>A plain closed-loop harness rather than JMH, because the number of callers is the swept
 * variable (JMH fixes it per run, {@code -t}) and because throughput and exact percentiles need
 * every call timed, not a sample: {@code callers} callers each issue a request as soon as their
 * previous one has returned, for a warm-up and then a measured interval, {@code repeats} times per
 * point (default 2), rotating which predictor (and caller kind) goes first. Every call that starts
 * in a measured interval is timed with {@code System.nanoTime()} and kept (a sorted array, no
 * histogram), including those that finish after the interval. Throughput is the calls started in
 * the intervals divided by their length (in a steady closed loop as many start as finish).
 *
 * <p><b>Caller kinds</b> ({@code --callers-kind}, default {@code platform}). Batching hands every
 * request from its caller to a worker and the result back; what that hand-off costs depends on who
 * waits. Between two platform threads it is a park and an unpark, an OS context switch each way (a
 * round trip measured 38–45 µs on the 2-vCPU development VM, several times a small model's run);
 * between two virtual threads it is a continuation switch (0.6 µs there, Temurin 25).
 *
 * <ul>
 *   <li>{@code platform}: platform threads, each calling {@code predictor.predict(row)} back to
 *       back. The warm-up starts once all of them run.
 *   <li>{@code virtual}: the same on virtual threads (JDK 21 or later; created by reflection, as
 *       the module compiles for Java 17). Virtual threads are not time-sliced: a caller that never
 *       blocks (the unbatched predictor's, whose engine run pins its carrier) keeps its carrier, so
 *       only as many of them run as there are carriers (one per core) and the rest never start
 *       until the interval ends. So nothing waits for all callers to start, and {@code
 *       active_callers} tells how many made a call in every measured interval.
 *   <li>{@code async}: logical callers without a thread each, each a closed loop on {@code
 *       predictor.predictAsync(row)}: when a request's future completes, its callback records the
 *       latency (from just before {@code predictAsync}) and issues the next request. The callback
 *       runs on the thread that completed the future (a batching worker; for the unbatched
 *       predictor the runtime's executor), as a non-blocking server's reply would: handing it to an
 *       executor of the harness would add a thread hand-off per call, the very cost measured here.
 *       A future that completes before its callback is attached runs the callback on the issuing
 *       thread; a counter per caller turns that into a loop instead of a recursion, so the stack
 *       cannot grow. At the end of the interval no more requests are issued and the harness waits
 *       for those in flight.
 * </ul>
 *
 * <p>Also recorded per interval: the process's CPU time ({@code cpu_cores}, CPU seconds per second,
 * and {@code calls_per_cpu_s}) and the context switches of all its threads ({@code
 * switches_per_call}, from {@code /proc}). On a shared machine the share of the two cores the
 * process gets depends on the neighbours, and with per-thread fair scheduling also on how many
 * runnable threads it has (64 busy unbatched callers compete harder than two batching workers);
 * calls per CPU second does not depend on either. Switches per call show what a blocking hand-off
 * costs.
 *
 * <p>The predictors share one runtime and therefore one session per model (1 intra-op thread).
 * {@code batched} uses {@link #batchingOptions} (Triton's shape: a 1 ms queue delay, sent early at
 * a power of two); {@code greedy} sends whatever is queued at once ({@code maxQueueDelay(0)}), so
 * it never waits for company; {@code greedy-1} is {@code greedy} with one worker, which suits a
 * model whose run takes a few microseconds: a second worker then mostly takes requests away from
 * the first one's batch (with async callers, whose next requests come from the completing worker's
 * own callbacks, it halves the calls per CPU second). A counting metric sink on the runtime gives
 * the rows per engine run as each call saw it; it costs both predictors the same (one event per
 * call).
 *
 * <p><b>Engine ceiling</b> (predictor {@code ceiling}; {@code --ceiling=false} skips it): as many
 * platform threads as the batched predictors have workers each run full {@value #CEILING_ROWS}-row
 * batches back to back through an unbatched {@link Codecs#floatBatch()} predictor on the same
 * runtime, so on the same session. A call there is one 64-row run, so its rows per second are
 * {@code throughput_per_s × rows_per_run}: no batcher with that many workers can serve more rows
 * per second on this machine, whatever its callers.
 *
 * <pre>{@code
 * java -cp benchmarks/target/benchmarks.jar dev.mlops.benchmarks.BatchingBenchmark \
 *     --models=breast-cancer,wide --callers=1,4,16,64 --callers-kind=platform,virtual,async \
 *     --warmup=2 --measure=5 --repeats=2 [--ceiling=true] \
 *     [--workers=2] [--delay-us=1000] [--preferred=1,2,4,8,16,32,64|none] --out=batching.tsv
 * }</pre>
 */
public final class BatchingBenchmark {

  static final String UNBATCHED = "unbatched";

  /**
   * {@link #batchingOptions}: a batch waits up to the queue delay unless it reached a power of two.
   */
  static final String BATCHED = "batched";

  /** Sends whatever is queued at once: {@code maxQueueDelay(0)}, no preferred sizes. */
  static final String GREEDY = "greedy";

  /** {@link #GREEDY} with a single worker. */
  static final String GREEDY_ONE_WORKER = "greedy-1";

  /** Full batches back to back on the engine, without a batcher: see the class comment. */
  static final String CEILING = "ceiling";

  /** Rows per engine run of the ceiling; the batched predictors' {@code maxBatchSize}. */
  static final int CEILING_ROWS = BenchModel.ROWS;

  /**
   * Columns of the TSV this writes, in order. {@code active_callers}: the fewest callers that made
   * a call in one of the point's measured intervals. {@code jdk}: the JVM that measured the row.
   */
  static final String HEADER =
      "model\tpredictor\tcallers_kind\tcallers\tactive_callers\tcalls\tseconds\tthroughput_per_s\tmean_us\tp50_us"
          + "\tp90_us\tp99_us\tp999_us\tmax_us\trows_per_run\terrors\tcpu_cores\tcalls_per_cpu_s\tswitches_per_call"
          + "\tjdk";

  /** CPU time of the whole process: callers, batching workers, ONNX Runtime, GC, JIT. */
  private static final com.sun.management.OperatingSystemMXBean CPU =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  /** The JVM this runs on, as the {@code jdk} column gives it. */
  private static final String JDK =
      System.getProperty("java.runtime.version") + " (" + System.getProperty("java.vendor") + ")";

  /** Async callers still in flight this long after their interval ended are reported as stuck. */
  private static final long STOP_TIMEOUT_SECONDS = 60;

  /** Who issues the requests of one point; see the class comment. */
  enum CallerKind {
    PLATFORM,
    VIRTUAL,
    ASYNC;

    /** The name in options and in the TSV. */
    String label() {
      return name().toLowerCase(Locale.ROOT);
    }

    static CallerKind of(String label) {
      for (CallerKind k : values()) {
        if (k.label().equals(label)) {
          return k;
        }
      }
      throw new IllegalArgumentException(
          "callers kind must be platform, virtual or async but was '" + label + "'");
    }
  }

  /** The batched predictors, by the name they are reported under, in order. */
  private final Map<String, BatchingOptions> batchedKinds;

  private final List<CallerKind> callerKinds;

  /** Threads of the ceiling (the batched predictors' workers); 0 for none. */
  private final int ceilingThreads;

  /** Creates the {@code virtual} callers; null when that kind is not run. */
  private final ThreadFactory virtualThreads;

  private BatchingBenchmark(
      Map<String, BatchingOptions> batchedKinds, List<CallerKind> callerKinds, int ceilingThreads) {
    this.batchedKinds = batchedKinds;
    this.callerKinds = callerKinds;
    this.ceilingThreads = ceilingThreads;
    this.virtualThreads = callerKinds.contains(CallerKind.VIRTUAL) ? virtualThreadFactory() : null;
  }

  /**
   * The batched predictor's options: up to 64 rows per run; a batch's first request waits at most
   * {@code delay} for others; a batch that has reached a power of two when the queue runs dry goes
   * at once (so a lone caller does not wait the whole delay); a queue deep enough for every caller;
   * {@code workers} batches at a time (default: one per core, as each run uses one intra-op
   * thread).
   */
  static BatchingOptions batchingOptions(Duration delay, int workers, int[] preferred) {
    return BatchingOptions.builder()
        .maxBatchSize(CEILING_ROWS)
        .maxQueueDelay(delay)
        .preferredBatchSizes(preferred)
        .maxQueueSize(4096)
        .workers(workers)
        .build();
  }

  public static void main(String[] args) throws Exception {
    List<String> models = List.of("breast-cancer", "wide");
    int[] callers = {1, 4, 16, 64};
    List<CallerKind> callerKinds = List.of(CallerKind.PLATFORM);
    boolean ceiling = true;
    double warmup = 2;
    double measure = 5;
    int repeats = 2;
    long delayMicros = 1000;
    int workers = Runtime.getRuntime().availableProcessors();
    int[] preferred = {1, 2, 4, 8, 16, 32, 64};
    Path out = null;
    for (String arg : args) {
      String[] kv = arg.split("=", 2);
      if (kv.length != 2 || !kv[0].startsWith("--")) {
        throw new IllegalArgumentException(
            "expected --name=value but got '" + arg + "'; " + usage());
      }
      switch (kv[0]) {
        case "--models":
          models = List.of(kv[1].split(","));
          break;
        case "--callers":
          callers = Arrays.stream(kv[1].split(",")).mapToInt(Integer::parseInt).toArray();
          break;
        case "--callers-kind":
          callerKinds = Arrays.stream(kv[1].split(",")).map(CallerKind::of).distinct().toList();
          break;
        case "--ceiling":
          if (!kv[1].equals("true") && !kv[1].equals("false")) {
            throw new IllegalArgumentException(
                "--ceiling must be true or false but was '" + kv[1] + "'");
          }
          ceiling = kv[1].equals("true");
          break;
        case "--warmup":
          warmup = Double.parseDouble(kv[1]);
          break;
        case "--measure":
          measure = Double.parseDouble(kv[1]);
          break;
        case "--repeats":
          repeats = Integer.parseInt(kv[1]);
          break;
        case "--delay-us":
          delayMicros = Long.parseLong(kv[1]);
          break;
        case "--workers":
          workers = Integer.parseInt(kv[1]);
          break;
        case "--preferred":
          preferred =
              kv[1].equals("none")
                  ? new int[0]
                  : Arrays.stream(kv[1].split(",")).mapToInt(Integer::parseInt).toArray();
          break;
        case "--out":
          out = Path.of(kv[1]);
          break;
        default:
          throw new IllegalArgumentException("unknown option " + kv[0] + "; " + usage());
      }
    }
    for (int c : callers) {
      if (c < 1) {
        throw new IllegalArgumentException("--callers must all be >= 1 but one was " + c);
      }
    }
    Map<String, BatchingOptions> kinds = new LinkedHashMap<>();
    kinds.put(BATCHED, batchingOptions(Duration.ofNanos(delayMicros * 1000), workers, preferred));
    kinds.put(GREEDY, batchingOptions(Duration.ZERO, workers, new int[0]));
    if (workers > 1) {
      kinds.put(GREEDY_ONE_WORKER, batchingOptions(Duration.ZERO, 1, new int[0]));
    }
    BatchingBenchmark bench = new BatchingBenchmark(kinds, callerKinds, ceiling ? workers : 0);
    PrintStream console = System.out;
    List<String> lines = new ArrayList<>();
    for (Map.Entry<String, BatchingOptions> k : kinds.entrySet()) {
      console.println("# " + k.getKey() + ": " + k.getValue());
      lines.add("# " + k.getKey() + ": " + k.getValue());
    }
    console.println(
        "# per point: "
            + repeats
            + " x (warm-up "
            + warmup
            + " s, measurement "
            + measure
            + " s); JDK "
            + JDK);
    lines.add(HEADER);
    console.println(HEADER);
    for (String model : models) {
      for (Point p :
          bench.sweep(BenchModel.of(model), callers, repeats, seconds(warmup), seconds(measure))) {
        lines.add(p.tsv());
        console.println(p.tsv());
      }
    }
    if (out != null) {
      Files.write(out, lines, StandardCharsets.UTF_8);
    }
  }

  private static String usage() {
    return "options: --models=breast-cancer,wide --callers=1,4,16,64 --callers-kind=platform,virtual,async"
        + " (virtual needs JDK 21+) --ceiling=true|false --warmup=SECONDS --measure=SECONDS --repeats=2"
        + " --delay-us=1000 --workers=N --preferred=1,2,4,8,16,32,64|none --out=FILE.tsv (delay and preferred sizes"
        + " for the batched predictor; greedy and the ceiling take --workers)";
  }

  private static long seconds(double s) {
    return (long) (s * 1e9);
  }

  /**
   * Virtual threads through reflection: {@code Thread.ofVirtual()} is a Java 21 API and this module
   * compiles for Java 17.
   */
  static ThreadFactory virtualThreadFactory() {
    if (Runtime.version().feature() < 21) {
      throw new IllegalStateException(
          "--callers-kind=virtual needs virtual threads, so a JDK 21 or later, but this"
              + " is "
              + JDK
              + "; run it with a newer java or leave virtual out");
    }
    try {
      Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
      return (ThreadFactory)
          Class.forName("java.lang.Thread$Builder").getMethod("factory").invoke(builder);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(
          "could not create a virtual thread factory on " + JDK + ": " + e, e);
    }
  }

  /** One measured point. Latencies in microseconds. */
  record Point(
      String model,
      String predictor,
      String callersKind,
      int callers,
      int activeCallers,
      long calls,
      double seconds,
      double throughput,
      double mean,
      double p50,
      double p90,
      double p99,
      double p999,
      double max,
      double rowsPerRun,
      long errors,
      double cpuCores,
      double callsPerCpuSecond,
      double switchesPerCall,
      String jdk) {

    String tsv() {
      return String.format(
          Locale.ROOT,
          "%s\t%s\t%s\t%d\t%d\t%d\t%.3f\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%.2f\t%.1f\t%.2f\t%s",
          model,
          predictor,
          callersKind,
          callers,
          activeCallers,
          calls,
          seconds,
          throughput,
          mean,
          p50,
          p90,
          p99,
          p999,
          max,
          rowsPerRun,
          errors,
          cpuCores,
          callsPerCpuSecond,
          switchesPerCall,
          jdk);
    }
  }

  /** One predictor driven by one kind of callers: what takes turns at each point. */
  private record Turn(CallerKind kind, String predictor) {}

  private List<Point> sweep(
      BenchModel model, int[] callers, int repeats, long warmupNanos, long measureNanos)
      throws IOException, OrtException {
    Path directory = Files.createTempDirectory("mlops-batching");
    CountingSink sink = new CountingSink();
    List<Point> points = new ArrayList<>();
    try {
      Path source = model.writeTo(directory.resolve("source"));
      if (model == BenchModel.WIDE) {
        WideModel.verify(OrtEnvironment.getEnvironment(), source);
      }
      try (Mlops mlops =
          Mlops.builder().localRegistry(directory.resolve("registry")).metricSink(sink).build()) {
        ModelVersion version =
            mlops
                .registry()
                .register(
                    Registration.builder(model.param, ArtifactSource.file(source)).build(),
                    AuditInfo.by("bench", "setup"));
        ModelRef ref = ModelRef.version(model.param, version.version());
        float[][] rows = model.rows();
        Map<String, Predictor<float[], float[]>> predictors = new LinkedHashMap<>();
        predictors.put(UNBATCHED, mlops.predictor(ref, Codecs.floatRow()));
        for (Map.Entry<String, BatchingOptions> k : batchedKinds.entrySet()) {
          predictors.put(
              k.getKey(),
              mlops.newPredictor(ref, Codecs.floatRow()).batching(k.getValue()).build());
        }
        try (Predictor<float[][], float[][]> batch = mlops.predictor(ref, Codecs.floatBatch())) {
          float[][] expected = new float[rows.length][];
          Arrays.setAll(expected, i -> predictors.get(UNBATCHED).predict(rows[i]).value());
          for (Map.Entry<String, Predictor<float[], float[]>> p : predictors.entrySet()) {
            for (int i = 0; i < rows.length; i++) {
              checkAgree(model, i, expected[i], p.getValue().predict(rows[i]).value(), p.getKey());
            }
          }
          float[][] batchOut = batch.predict(rows).value();
          for (int i = 0; i < rows.length; i++) {
            checkAgree(model, i, expected[i], batchOut[i], CEILING);
          }
          List<Turn> turns = new ArrayList<>();
          for (CallerKind kind : callerKinds) {
            predictors.keySet().forEach(name -> turns.add(new Turn(kind, name)));
          }
          for (int c : callers) {
            Map<Turn, List<Interval>> intervals = new LinkedHashMap<>();
            turns.forEach(t -> intervals.put(t, new ArrayList<>()));
            for (int r = 0; r < repeats; r++) {
              // Rotate which goes first, so that none always follows another's heat and a
              // neighbour's burst of load is less likely to fall on one of them only.
              for (int k = 0; k < turns.size(); k++) {
                Turn turn = turns.get((r + k) % turns.size());
                Callers load = callers(turn.kind(), predictors.get(turn.predictor()), rows, c);
                intervals.get(turn).add(drive(load, warmupNanos, measureNanos, sink));
              }
            }
            for (Turn t : turns) {
              points.add(point(model, t.predictor(), t.kind(), c, intervals.get(t)));
            }
          }
          if (ceilingThreads > 0) {
            List<Interval> intervals = new ArrayList<>();
            for (int r = 0; r < repeats; r++) {
              Callers load =
                  new ThreadCallers(
                      Thread::new, true, ceilingThreads, i -> batch.predict(rows).value()[0][0]);
              intervals.add(drive(load, warmupNanos, measureNanos, sink));
            }
            points.add(point(model, CEILING, CallerKind.PLATFORM, ceilingThreads, intervals));
          }
        } finally {
          predictors.values().forEach(Predictor::close);
        }
      }
    } finally {
      BenchModel.deleteRecursively(directory);
    }
    return points;
  }

  /** {@code callers} callers of one kind, each cycling through the rows from its own start. */
  private Callers callers(
      CallerKind kind, Predictor<float[], float[]> predictor, float[][] rows, int callers) {
    IntToDoubleFunction call = i -> predictor.predict(rows[i]).value()[0];
    switch (kind) {
      case PLATFORM:
        return new ThreadCallers(Thread::new, true, callers, call);
      case VIRTUAL:
        return new ThreadCallers(virtualThreads, false, callers, call);
      case ASYNC:
        return new AsyncCallers(predictor, rows, callers);
      default:
        throw new IllegalStateException("unhandled callers kind " + kind);
    }
  }

  /**
   * A batched run multiplies matrices of another height than a one-row run, so the kernels may
   * round differently; the two must still agree to float precision, or the comparison is void.
   */
  private static void checkAgree(
      BenchModel model, int row, float[] unbatched, float[] other, String name) {
    boolean same = unbatched.length == other.length && unbatched.length > 0;
    for (int j = 0; same && j < unbatched.length; j++) {
      same = Math.abs(unbatched[j] - other[j]) <= 1e-4f * Math.max(1f, Math.abs(unbatched[j]));
    }
    if (!same) {
      throw new IllegalStateException(
          model.param
              + " row "
              + row
              + ": unbatched "
              + Arrays.toString(unbatched)
              + " but "
              + name
              + " "
              + Arrays.toString(other)
              + "; expected the same values to float precision");
    }
  }

  /**
   * Starts the callers, lets them warm up, measures one interval, stops them and waits for them.
   */
  private static Interval drive(
      Callers callers, long warmupNanos, long measureNanos, CountingSink sink) {
    long measureStart;
    long cpuStart;
    long cpuEnd;
    long switchesStart;
    long switchesEnd;
    long measureEnd;
    try {
      callers.start();
      Thread.sleep(warmupNanos / 1_000_000);
      sink.reset();
      switchesStart = contextSwitches();
      cpuStart = CPU.getProcessCpuTime();
      measureStart = System.nanoTime();
      callers.phase.state = Phase.MEASURE;
      Thread.sleep(measureNanos / 1_000_000);
      switchesEnd = contextSwitches(); // while the callers still exist
      cpuEnd = CPU.getProcessCpuTime();
      measureEnd = System.nanoTime();
      callers.phase.state = Phase.STOP;
      callers.awaitStopped();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while measuring", e);
    }
    return new Interval(
        callers.recorders,
        measureEnd - measureStart,
        cpuEnd - cpuStart,
        switchesStart < 0 || switchesEnd < 0 ? -1 : switchesEnd - switchesStart,
        sink.calls.sum(),
        sink.rows.sum(),
        callers.errors());
  }

  /** One measured interval of one predictor at one concurrency. */
  private record Interval(
      LatencyRecorder[] recorders,
      long nanos,
      long cpuNanos,
      long switches,
      long sinkCalls,
      long sinkRows,
      long errors) {

    /** Callers that made at least one call in the interval. */
    int active() {
      return (int) Arrays.stream(recorders).filter(r -> r.size() > 0).count();
    }
  }

  /** The intervals of one predictor at one concurrency, merged: latencies pooled, totals summed. */
  private static Point point(
      BenchModel model, String predictor, CallerKind kind, int callers, List<Interval> intervals) {
    List<LatencyRecorder> all = new ArrayList<>();
    long nanos = 0;
    long cpu = 0;
    long switches = 0;
    long sinkCalls = 0;
    long sinkRows = 0;
    long errors = 0;
    int active = callers;
    for (Interval i : intervals) {
      all.addAll(Arrays.asList(i.recorders()));
      nanos += i.nanos();
      cpu += i.cpuNanos();
      switches = switches < 0 || i.switches() < 0 ? -1 : switches + i.switches();
      sinkCalls += i.sinkCalls();
      sinkRows += i.sinkRows();
      errors += i.errors();
      active = Math.min(active, i.active());
    }
    long[] sorted = LatencyRecorder.mergeSorted(all.toArray(new LatencyRecorder[0]));
    double seconds = nanos / 1e9;
    double us = 1e-3;
    return new Point(
        model.param,
        predictor,
        kind.label(),
        callers,
        active,
        sorted.length,
        seconds,
        sorted.length / seconds,
        LatencyRecorder.mean(sorted) * us,
        LatencyRecorder.percentile(sorted, 0.50) * us,
        LatencyRecorder.percentile(sorted, 0.90) * us,
        LatencyRecorder.percentile(sorted, 0.99) * us,
        LatencyRecorder.percentile(sorted, 0.999) * us,
        (sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1]) * us,
        sinkCalls == 0 ? Double.NaN : (double) sinkRows / sinkCalls,
        errors,
        cpu / 1e9 / seconds,
        sorted.length / (cpu / 1e9),
        switches < 0 ? Double.NaN : (double) switches / sorted.length,
        JDK);
  }

  /**
   * Context switches of all this process's live threads so far, voluntary and not (Linux {@code
   * /proc/self/task/}*{@code /status}); -1 where that cannot be read. A blocking hand-off costs at
   * least one on each side, so switches per call tell a hand-off bound batcher from a compute bound
   * one.
   */
  static long contextSwitches() {
    long total = 0;
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
      for (Path task : tasks) {
        try {
          for (String line :
              Files.readAllLines(task.resolve("status"), StandardCharsets.US_ASCII)) {
            if (line.startsWith("voluntary_ctxt_switches:")
                || line.startsWith("nonvoluntary_ctxt_switches:")) {
              total += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            }
          }
        } catch (IOException e) {
          // The thread ended between the listing and the read: its switches are lost either way.
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return total;
  }

  /** The callers' shared state: warming up, measuring or stopping. */
  private static final class Phase {
    static final int WARMUP = 0;
    static final int MEASURE = 1;
    static final int STOP = 2;

    volatile int state = WARMUP;
    private final DoubleAdder blackhole = new DoubleAdder();

    /** Keeps the results alive, so no call is optimised away. */
    void sink(double checksum) {
      blackhole.add(checksum);
    }
  }

  /** The callers of one interval, a latency recorder each, steered by one {@link Phase}. */
  private abstract static class Callers {
    final Phase phase = new Phase();
    final LatencyRecorder[] recorders;

    Callers(int callers) {
      recorders = new LatencyRecorder[callers];
      Arrays.setAll(recorders, i -> new LatencyRecorder());
    }

    /** Starts calling (the warm-up). */
    abstract void start() throws InterruptedException;

    /** Returns once the phase is {@link Phase#STOP} and every call has returned. */
    abstract void awaitStopped() throws InterruptedException;

    /** Calls that failed, once stopped. */
    abstract long errors();
  }

  /** A thread per caller, from {@code threads}, each calling {@code call} back to back. */
  private static final class ThreadCallers extends Callers {
    private final ThreadFactory threads;

    /** Whether {@link #start} waits until every caller runs; never for virtual threads. */
    private final boolean awaitStart;

    /** Makes one call on the row of the given index and returns a number to keep it alive. */
    private final IntToDoubleFunction call;

    private final Thread[] running;
    private final long[] errors;
    private final CountDownLatch started;

    ThreadCallers(
        ThreadFactory threads, boolean awaitStart, int callers, IntToDoubleFunction call) {
      super(callers);
      this.threads = threads;
      this.awaitStart = awaitStart;
      this.call = call;
      this.running = new Thread[callers];
      this.errors = new long[callers];
      this.started = new CountDownLatch(callers);
    }

    @Override
    void start() throws InterruptedException {
      for (int t = 0; t < running.length; t++) {
        int id = t;
        running[t] = threads.newThread(() -> callLoop(id));
        running[t].setName("caller-" + t);
        running[t].start();
      }
      if (awaitStart) {
        started.await();
      }
    }

    private void callLoop(int id) {
      LatencyRecorder recorder = recorders[id];
      int next = (id * 7) & (BenchModel.ROWS - 1);
      double checksum = 0;
      started.countDown();
      for (; ; ) {
        int state = phase.state;
        if (state == Phase.STOP) {
          break;
        }
        long start = System.nanoTime();
        try {
          checksum += call.applyAsDouble(next);
        } catch (RuntimeException e) {
          errors[id]++;
        }
        long end = System.nanoTime();
        next = (next + 1) & (BenchModel.ROWS - 1);
        if (state == Phase.MEASURE) {
          recorder.record(end - start);
        }
      }
      phase.sink(checksum);
    }

    @Override
    void awaitStopped() throws InterruptedException {
      for (Thread t : running) {
        t.join();
      }
    }

    @Override
    long errors() {
      return Arrays.stream(errors).sum();
    }
  }

  /**
   * Logical callers on {@code predictAsync}, each with one request in flight; see the class
   * comment.
   */
  private static final class AsyncCallers extends Callers {
    private final Chain[] chains;
    private final CountDownLatch stopped;

    /**
     * Issues every caller's first request. Not the measuring thread: if futures kept completing at
     * once (a closed predictor fails every call), a caller would loop on it until told to stop.
     */
    private final Thread starter;

    AsyncCallers(Predictor<float[], float[]> predictor, float[][] rows, int callers) {
      super(callers);
      this.stopped = new CountDownLatch(callers);
      this.chains = new Chain[callers];
      Arrays.setAll(
          chains,
          id -> new Chain(predictor, rows, (id * 7) & (BenchModel.ROWS - 1), recorders[id]));
      this.starter =
          new Thread(
              () -> {
                for (Chain c : chains) {
                  c.next();
                }
              },
              "async-starter");
    }

    @Override
    void start() {
      starter.start();
    }

    @Override
    void awaitStopped() throws InterruptedException {
      starter.join();
      if (!stopped.await(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        throw new IllegalStateException(
            stopped.getCount()
                + " of "
                + chains.length
                + " async callers still had a"
                + " request in flight "
                + STOP_TIMEOUT_SECONDS
                + " s after their interval ended; expected every future"
                + " of predictAsync to complete");
      }
    }

    @Override
    long errors() {
      return Arrays.stream(chains).mapToLong(c -> c.errors).sum();
    }

    /**
     * One logical caller. Its fields are written by whichever thread runs its callback, one request
     * at a time; the future's completion orders each callback after the issue before it.
     */
    private final class Chain {
      private final Predictor<float[], float[]> predictor;
      private final float[][] rows;
      private final LatencyRecorder recorder;

      /**
       * Requests to issue, counting the one being issued: a callback that finds it above zero
       * leaves its request to the thread already in {@link #next}'s loop instead of recursing.
       */
      private final AtomicInteger owed = new AtomicInteger();

      private int row;
      private long start;
      private boolean measured;
      private double checksum;
      long errors;

      Chain(
          Predictor<float[], float[]> predictor,
          float[][] rows,
          int row,
          LatencyRecorder recorder) {
        this.predictor = predictor;
        this.rows = rows;
        this.row = row;
        this.recorder = recorder;
      }

      void next() {
        if (owed.getAndIncrement() != 0) {
          return;
        }
        do {
          issue();
        } while (owed.decrementAndGet() != 0);
      }

      private void issue() {
        int state = phase.state;
        if (state == Phase.STOP) {
          phase.sink(checksum);
          stopped.countDown();
          return;
        }
        measured = state == Phase.MEASURE;
        float[] input = rows[row];
        row = (row + 1) & (BenchModel.ROWS - 1);
        start = System.nanoTime();
        CompletableFuture<Prediction<float[]>> f;
        try {
          f = predictor.predictAsync(input);
        } catch (RuntimeException e) {
          f =
              CompletableFuture.failedFuture(
                  e); // the contract says it fails the future; count it alike
        }
        f.whenComplete(this::completed);
      }

      private void completed(Prediction<float[]> p, Throwable failure) {
        long end = System.nanoTime();
        if (failure == null) {
          checksum += p.value()[0];
        } else {
          errors++;
        }
        if (measured) {
          recorder.record(end - start);
        }
        next();
      }
    }
  }

  /** Counts calls and the rows of the engine run that served each. */
  private static final class CountingSink implements MetricSink {
    private final LongAdder calls = new LongAdder();
    private final LongAdder rows = new LongAdder();

    @Override
    public void onPrediction(PredictionEvent event) {
      calls.increment();
      rows.add(event.batchSize());
    }

    void reset() {
      calls.reset();
      rows.reset();
    }
  }
}
