package dev.mlops.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.benchmarks.logging.DiscardingLoggerProvider;
import dev.mlops.metrics.InMemoryMetricSink;
import dev.mlops.metrics.MicrometerMetricSink;
import dev.mlops.metrics.Slf4jMetricSink;
import dev.mlops.metrics.drift.DriftBaseline;
import dev.mlops.metrics.drift.DriftMonitor;
import dev.mlops.runtime.Mlops;
import dev.mlops.testmodels.TestModels;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
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
import org.slf4j.LoggerFactory;

/**
 * What each metric sink and the drift monitor add to one prediction: one-row {@code
 * predictor.predict(row)} on breast-cancer v2, single thread, in the same run. {@code @Param sink}:
 *
 * <ul>
 *   <li>{@code noop}: {@link MetricSink#NOOP}, the default; the runtime skips the event altogether.
 *       The baseline.
 *   <li>{@code in-memory}: {@link InMemoryMetricSink}.
 *   <li>{@code slf4j-info}: {@link Slf4jMetricSink}, sample rate 1.0, its logger at {@code INFO},
 *       so prediction lines ({@code DEBUG}) are skipped after the level check: what it costs in
 *       production with debug logging off.
 *   <li>{@code slf4j-debug}: the same with the logger at {@code DEBUG}: every call is sampled in
 *       and its line formatted, then dropped by a no-op backend ({@link DiscardingLoggerProvider}),
 *       so no appender cost is included.
 *   <li>{@code micrometer}: {@link MicrometerMetricSink} bound to a {@link SimpleMeterRegistry}.
 *   <li>{@code drift}: the no-op sink plus a {@link DriftMonitor} observer with the default window
 *       (1,000 rows, evaluated every 1,000 rows on the prediction thread) against a baseline of the
 *       held-out test set and v2's predictions on it.
 *   <li>{@code drift-async}: the same monitor with {@code executor(...)}: a single background
 *       thread evaluates, the prediction thread only copies its row into the window.
 * </ul>
 *
 * <p>Teardown checks that the sink or monitor really recorded the calls.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SinkOverheadBenchmark {

  private static final String MODEL = "cancer";

  @Param({"noop", "in-memory", "slf4j-info", "slf4j-debug", "micrometer", "drift", "drift-async"})
  public String sink;

  private Path directory;
  private Mlops mlops;
  private Predictor<float[], float[]> predictor;
  private float[][] rows;
  private int next;
  private InMemoryMetricSink inMemory;
  private SimpleMeterRegistry meters;
  private DriftMonitor drift;
  private ExecutorService evaluator;

  @Setup(Level.Trial)
  public void setUp() throws IOException, OrtException {
    directory = Files.createTempDirectory("mlops-sinks");
    Path source = TestModels.copy(TestModels.BREAST_CANCER_V2, directory.resolve("source"));
    Mlops.Builder builder = Mlops.builder().localRegistry(directory.resolve("registry"));
    switch (sink) {
      case "noop":
        break;
      case "in-memory":
        inMemory = new InMemoryMetricSink();
        builder.metricSink(inMemory);
        break;
      case "slf4j-info":
        builder.metricSink(slf4j("bench.sinks.info"));
        break;
      case "slf4j-debug":
        builder.metricSink(slf4j("bench.sinks" + DiscardingLoggerProvider.DEBUG_SUFFIX));
        break;
      case "micrometer":
        MicrometerMetricSink micrometer = MicrometerMetricSink.create();
        meters = new SimpleMeterRegistry();
        micrometer.bindTo(meters);
        builder.metricSink(micrometer);
        break;
      case "drift":
        drift = DriftMonitor.builder().baseline(baseline(source)).build();
        builder.observers(drift);
        break;
      case "drift-async":
        evaluator =
            Executors.newSingleThreadExecutor(
                r -> {
                  Thread t = new Thread(r, "drift-evaluator");
                  t.setDaemon(true);
                  return t;
                });
        drift = DriftMonitor.builder().baseline(baseline(source)).executor(evaluator).build();
        builder.observers(drift);
        break;
      default:
        throw new IllegalArgumentException(
            "sink must be noop, in-memory, slf4j-info, slf4j-debug, micrometer, drift or drift-async but was "
                + sink);
    }
    mlops = builder.build();
    ModelVersion version =
        mlops
            .registry()
            .register(
                Registration.builder(MODEL, ArtifactSource.file(source)).build(),
                AuditInfo.by("bench", "setup"));
    predictor = mlops.predictor("models:/" + MODEL + "/" + version.version(), Codecs.floatRow());
    rows = BenchModel.breastCancerRows();
  }

  private static Slf4jMetricSink slf4j(String loggerName) {
    boolean debug = LoggerFactory.getLogger(loggerName).isDebugEnabled();
    if (debug != loggerName.endsWith(DiscardingLoggerProvider.DEBUG_SUFFIX)) {
      throw new IllegalStateException(
          "logger "
              + loggerName
              + " has DEBUG "
              + (debug ? "on" : "off")
              + "; expected the benchmarks'"
              + " DiscardingLoggerProvider to be the SLF4J backend (is another binding on the class path?)");
    }
    return Slf4jMetricSink.builder().loggerName(loggerName).sampleRate(1.0).build();
  }

  /** The held-out test set's features and v2's positive-class probability on each row. */
  private static DriftBaseline baseline(Path model) throws OrtException {
    float[][] features = TestModels.breastCancerTestSet().features();
    List<String> names = new ArrayList<>();
    for (int i = 0; i < features[0].length; i++) {
      names.add("f" + i);
    }
    float[] predictions = new float[features.length];
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        OrtSession session = env.createSession(model.toString(), options)) {
      for (int r = 0; r < features.length; r++) {
        try (OnnxTensor x =
                OnnxTensor.createTensor(
                    env, FloatBuffer.wrap(features[r]), new long[] {1, features[r].length});
            OrtSession.Result result = session.run(Map.of("features", x))) {
          float[][] p = (float[][]) result.get("probabilities").orElseThrow().getValue();
          predictions[r] = p[0][p[0].length - 1];
        }
      }
    }
    return DriftBaseline.builder()
        .features(names, features)
        .feature(DriftBaseline.PREDICTION, predictions)
        .build();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException, InterruptedException {
    if (evaluator != null) {
      evaluator.shutdown();
      evaluator.awaitTermination(10, TimeUnit.SECONDS);
    }
    try {
      String problem = null;
      if (inMemory != null && inMemory.total() == 0) {
        problem = "the in-memory sink counted no prediction";
      }
      if (meters != null) {
        Timer timer = meters.find(MicrometerMetricSink.PREDICTIONS).timer();
        if (timer == null || timer.count() == 0) {
          problem = "Micrometer recorded no prediction";
        }
      }
      if (drift != null && drift.stats().isEmpty()) {
        problem = "the drift monitor never evaluated a window";
      }
      if (problem != null) {
        throw new IllegalStateException(
            problem + "; the figures for sink=" + sink + " measured nothing");
      }
    } finally {
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
    float[] row = rows[next];
    next = (next + 1) & (BenchModel.ROWS - 1);
    return predictor.predict(row).value();
  }
}
