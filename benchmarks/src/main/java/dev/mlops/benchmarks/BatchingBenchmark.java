package dev.mlops.benchmarks;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelVersion;
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
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * Throughput and latency against concurrency for one-row requests: an unbatched predictor and two
 * batched ones on the same model, in one JVM, taking turns at every concurrency level.
 *
 * <p>A plain closed-loop harness rather than JMH, because the number of threads is the swept
 * variable (JMH fixes it per run, {@code -t}) and because throughput and exact percentiles need
 * every call timed, not a sample: {@code callers} platform threads each call {@code
 * predictor.predict(row)} back to back for a warm-up and then a measured interval, {@code
 * repeats} times per point (default 2), rotating which predictor goes first. Every call that
 * starts in a measured interval is timed with {@code System.nanoTime()} and kept (a sorted array,
 * no histogram), including those that finish after the interval. Throughput is the calls started
 * in the intervals divided by their length (in a steady closed loop as many start as finish).
 *
 * <p>Also recorded per interval: the process's CPU time ({@code cpu_cores}, CPU seconds per
 * second, and {@code calls_per_cpu_s}) and the context switches of all its threads ({@code
 * switches_per_call}, from {@code /proc}). On a shared machine the share of the two cores the
 * process gets depends on the neighbours, and with per-thread fair scheduling also on how many
 * runnable threads it has (64 busy unbatched callers compete harder than two batching workers);
 * calls per CPU second does not depend on either. Switches per call show what a blocking hand-off
 * costs.
 *
 * <p>The predictors share one runtime and therefore one session per model (1 intra-op thread).
 * {@code batched} uses {@link #batchingOptions} (Triton's shape: a 1 ms queue delay, sent early
 * at a power of two); {@code greedy} sends whatever is queued at once ({@code maxQueueDelay(0)}),
 * so it never waits for company. A counting metric sink on the runtime gives the
 * rows per engine run as each call saw it; it costs both predictors the same (one event per
 * call).
 *
 * <pre>{@code
 * java -cp benchmarks/target/benchmarks.jar dev.mlops.benchmarks.BatchingBenchmark \
 *     --models=breast-cancer,wide --callers=1,4,16,64 --warmup=2 --measure=5 --repeats=2 \
 *     [--workers=2] [--delay-us=1000] [--preferred=1,2,4,8,16,32,64|none] --out=batching.tsv
 * }</pre>
 */
public final class BatchingBenchmark {

  static final String UNBATCHED = "unbatched";
  /** {@link #batchingOptions}: a batch waits up to the queue delay unless it reached a power of two. */
  static final String BATCHED = "batched";
  /** Sends whatever is queued at once: {@code maxQueueDelay(0)}, no preferred sizes. */
  static final String GREEDY = "greedy";

  /** Columns of the TSV this writes, in order. */
  static final String HEADER =
      "model\tpredictor\tcallers\tcalls\tseconds\tthroughput_per_s\tmean_us\tp50_us\tp90_us\tp99_us\tp999_us"
          + "\tmax_us\trows_per_run\terrors\tcpu_cores\tcalls_per_cpu_s\tswitches_per_call";

  /** CPU time of the whole process: callers, batching workers, ONNX Runtime, GC, JIT. */
  private static final com.sun.management.OperatingSystemMXBean CPU =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  /** The batched predictors, by the name they are reported under, in order. */
  private final Map<String, BatchingOptions> batchedKinds;

  private BatchingBenchmark(Map<String, BatchingOptions> batchedKinds) {
    this.batchedKinds = batchedKinds;
  }

  /**
   * The batched predictor's options: up to 64 rows per run; a batch's first request waits at most
   * {@code delay} for others; a batch that has reached a power of two when the queue runs dry
   * goes at once (so a lone caller does not wait the whole delay); a queue deep enough for every
   * caller; {@code workers} batches at a time (default: one per core, as each run uses one
   * intra-op thread).
   */
  static BatchingOptions batchingOptions(Duration delay, int workers, int[] preferred) {
    return BatchingOptions.builder()
        .maxBatchSize(64)
        .maxQueueDelay(delay)
        .preferredBatchSizes(preferred)
        .maxQueueSize(4096)
        .workers(workers)
        .build();
  }

  public static void main(String[] args) throws Exception {
    List<String> models = List.of("breast-cancer", "wide");
    int[] callers = {1, 4, 16, 64};
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
        throw new IllegalArgumentException("expected --name=value but got '" + arg + "'; " + usage());
      }
      switch (kv[0]) {
        case "--models":
          models = List.of(kv[1].split(","));
          break;
        case "--callers":
          callers = Arrays.stream(kv[1].split(",")).mapToInt(Integer::parseInt).toArray();
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
              kv[1].equals("none") ? new int[0] : Arrays.stream(kv[1].split(",")).mapToInt(Integer::parseInt).toArray();
          break;
        case "--out":
          out = Path.of(kv[1]);
          break;
        default:
          throw new IllegalArgumentException("unknown option " + kv[0] + "; " + usage());
      }
    }
    Map<String, BatchingOptions> kinds = new LinkedHashMap<>();
    kinds.put(BATCHED, batchingOptions(Duration.ofNanos(delayMicros * 1000), workers, preferred));
    kinds.put(GREEDY, batchingOptions(Duration.ZERO, workers, new int[0]));
    BatchingBenchmark bench = new BatchingBenchmark(kinds);
    PrintStream console = System.out;
    List<String> lines = new ArrayList<>();
    for (Map.Entry<String, BatchingOptions> k : kinds.entrySet()) {
      console.println("# " + k.getKey() + ": " + k.getValue());
      lines.add("# " + k.getKey() + ": " + k.getValue());
    }
    console.println("# per point: " + repeats + " x (warm-up " + warmup + " s, measurement " + measure + " s)");
    lines.add(HEADER);
    console.println(HEADER);
    for (String model : models) {
      for (Point p : bench.sweep(BenchModel.of(model), callers, repeats, seconds(warmup), seconds(measure))) {
        lines.add(p.tsv());
        console.println(p.tsv());
      }
    }
    if (out != null) {
      Files.write(out, lines, StandardCharsets.UTF_8);
    }
  }

  private static String usage() {
    return "options: --models=breast-cancer,wide --callers=1,4,16,64 --warmup=SECONDS --measure=SECONDS --repeats=2"
        + " --delay-us=1000 --workers=N --preferred=1,2,4,8,16,32,64|none --out=FILE.tsv (the last three for"
        + " the batched predictor; greedy takes --workers)";
  }

  private static long seconds(double s) {
    return (long) (s * 1e9);
  }

  /** One measured point. Latencies in microseconds. */
  record Point(
      String model,
      String predictor,
      int callers,
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
      double switchesPerCall) {

    String tsv() {
      return String.format(
          Locale.ROOT,
          "%s\t%s\t%d\t%d\t%.3f\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%.2f\t%.1f\t%.2f",
          model, predictor, callers, calls, seconds, throughput, mean, p50, p90, p99, p999, max, rowsPerRun,
          errors, cpuCores, callsPerCpuSecond, switchesPerCall);
    }
  }

  private List<Point> sweep(BenchModel model, int[] callers, int repeats, long warmupNanos, long measureNanos)
      throws IOException, OrtException {
    Path directory = Files.createTempDirectory("mlops-batching");
    CountingSink sink = new CountingSink();
    List<Point> points = new ArrayList<>();
    try {
      Path source = model.writeTo(directory.resolve("source"));
      if (model == BenchModel.WIDE) {
        WideModel.verify(OrtEnvironment.getEnvironment(), source);
      }
      try (Mlops mlops = Mlops.builder().localRegistry(directory.resolve("registry")).metricSink(sink).build()) {
        ModelVersion version =
            mlops.registry().register(
                Registration.builder(model.param, ArtifactSource.file(source)).build(),
                AuditInfo.by("bench", "setup"));
        ModelRef ref = ModelRef.version(model.param, version.version());
        float[][] rows = model.rows();
        Map<String, Predictor<float[], float[]>> predictors = new LinkedHashMap<>();
        predictors.put(UNBATCHED, mlops.predictor(ref, Codecs.floatRow()));
        for (Map.Entry<String, BatchingOptions> k : batchedKinds.entrySet()) {
          predictors.put(k.getKey(), mlops.newPredictor(ref, Codecs.floatRow()).batching(k.getValue()).build());
        }
        try {
          for (Map.Entry<String, Predictor<float[], float[]>> p : predictors.entrySet()) {
            checkAgree(model, rows, predictors.get(UNBATCHED), p.getValue(), p.getKey());
          }
          List<String> names = new ArrayList<>(predictors.keySet());
          for (int c : callers) {
            Map<String, List<Interval>> intervals = new LinkedHashMap<>();
            names.forEach(n -> intervals.put(n, new ArrayList<>()));
            for (int r = 0; r < repeats; r++) {
              // Rotate which goes first, so that none always follows another's heat and a
              // neighbour's burst of load is less likely to fall on one of them only.
              for (int k = 0; k < names.size(); k++) {
                String name = names.get((r + k) % names.size());
                intervals.get(name).add(drive(predictors.get(name), rows, c, warmupNanos, measureNanos, sink));
              }
            }
            for (String name : names) {
              points.add(point(model, name, c, intervals.get(name)));
            }
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

  /**
   * A batched run multiplies matrices of another height than a one-row run, so the kernels may
   * round differently; the two must still agree to float precision, or the comparison is void.
   */
  private static void checkAgree(
      BenchModel model,
      float[][] rows,
      Predictor<float[], float[]> unbatched,
      Predictor<float[], float[]> batched,
      String name) {
    for (int i = 0; i < rows.length; i++) {
      float[] a = unbatched.predict(rows[i]).value();
      float[] b = batched.predict(rows[i]).value();
      boolean same = a.length == b.length && a.length > 0;
      for (int j = 0; same && j < a.length; j++) {
        same = Math.abs(a[j] - b[j]) <= 1e-4f * Math.max(1f, Math.abs(a[j]));
      }
      if (!same) {
        throw new IllegalStateException(
            model.param + " row " + i + ": unbatched " + Arrays.toString(a) + " but " + name + " " + Arrays.toString(b)
                + "; expected the same values to float precision");
      }
    }
  }

  private static Interval drive(
      Predictor<float[], float[]> predictor,
      float[][] rows,
      int callers,
      long warmupNanos,
      long measureNanos,
      CountingSink sink) {
    Phase phase = new Phase();
    LatencyRecorder[] recorders = new LatencyRecorder[callers];
    long[] errors = new long[callers];
    Thread[] threads = new Thread[callers];
    CountDownLatch ready = new CountDownLatch(callers);
    for (int t = 0; t < callers; t++) {
      int id = t;
      recorders[t] = new LatencyRecorder();
      threads[t] =
          new Thread(
              () -> {
                LatencyRecorder recorder = recorders[id];
                int next = (id * 7) & (BenchModel.ROWS - 1);
                float checksum = 0;
                ready.countDown();
                for (;;) {
                  int state = phase.state;
                  if (state == Phase.STOP) {
                    break;
                  }
                  long start = System.nanoTime();
                  try {
                    checksum += predictor.predict(rows[next]).value()[0];
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
              },
              "caller-" + t);
      threads[t].start();
    }
    long measureStart;
    long cpuStart;
    long cpuEnd;
    long switchesStart;
    long switchesEnd;
    long measureEnd;
    try {
      ready.await();
      Thread.sleep(warmupNanos / 1_000_000);
      sink.reset();
      switchesStart = contextSwitches();
      cpuStart = CPU.getProcessCpuTime();
      measureStart = System.nanoTime();
      phase.state = Phase.MEASURE;
      Thread.sleep(measureNanos / 1_000_000);
      switchesEnd = contextSwitches(); // while the callers still exist
      cpuEnd = CPU.getProcessCpuTime();
      measureEnd = System.nanoTime();
      phase.state = Phase.STOP;
      for (Thread t : threads) {
        t.join();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while measuring", e);
    }
    return new Interval(
        recorders,
        measureEnd - measureStart,
        cpuEnd - cpuStart,
        switchesStart < 0 || switchesEnd < 0 ? -1 : switchesEnd - switchesStart,
        sink.calls.sum(),
        sink.rows.sum(),
        Arrays.stream(errors).sum());
  }

  /** One measured interval of one predictor at one concurrency. */
  private record Interval(
      LatencyRecorder[] recorders, long nanos, long cpuNanos, long switches, long sinkCalls, long sinkRows,
      long errors) {}

  /** The intervals of one predictor at one concurrency, merged: latencies pooled, totals summed. */
  private static Point point(BenchModel model, String predictor, int callers, List<Interval> intervals) {
    List<LatencyRecorder> all = new ArrayList<>();
    long nanos = 0;
    long cpu = 0;
    long switches = 0;
    long sinkCalls = 0;
    long sinkRows = 0;
    long errors = 0;
    for (Interval i : intervals) {
      all.addAll(Arrays.asList(i.recorders()));
      nanos += i.nanos();
      cpu += i.cpuNanos();
      switches = switches < 0 || i.switches() < 0 ? -1 : switches + i.switches();
      sinkCalls += i.sinkCalls();
      sinkRows += i.sinkRows();
      errors += i.errors();
    }
    long[] sorted = LatencyRecorder.mergeSorted(all.toArray(new LatencyRecorder[0]));
    double seconds = nanos / 1e9;
    double us = 1e-3;
    return new Point(
        model.param,
        predictor,
        callers,
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
        switches < 0 ? Double.NaN : (double) switches / sorted.length);
  }

  /**
   * Context switches of all this process's live threads so far, voluntary and not (Linux {@code
   * /proc/self/task/}*{@code /status}); -1 where that cannot be read. A blocking hand-off costs at
   * least one on each side, so switches per call tell a hand-off bound batcher from a compute
   * bound one.
   */
  static long contextSwitches() {
    long total = 0;
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
      for (Path task : tasks) {
        try {
          for (String line : Files.readAllLines(task.resolve("status"), StandardCharsets.US_ASCII)) {
            if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
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

  /** The caller threads' shared state: warming up, measuring or stopping. */
  private static final class Phase {
    static final int WARMUP = 0;
    static final int MEASURE = 1;
    static final int STOP = 2;

    volatile int state = WARMUP;
    private final DoubleAdder blackhole = new DoubleAdder();

    /** Keeps the results alive, so no call is optimised away. */
    void sink(float checksum) {
      blackhole.add(checksum);
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
