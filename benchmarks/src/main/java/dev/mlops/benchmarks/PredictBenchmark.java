package dev.mlops.benchmarks;

import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.TranslateException;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.runtime.Mlops;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
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

/**
 * One-row prediction through {@link Mlops} against raw ONNX Runtime on the same model file, with
 * the same session options (1 intra-op thread, 1 inter-op thread, {@code ALL_OPT}), in the same
 * run. Each call feeds the next row of a fixed set, so no path sees a constant input.
 *
 * <ul>
 *   <li>{@code mlopsPredict}: {@code predictor.predict(row)} with a pinned version and {@link
 *       Codecs#floatRow()}.
 *   <li>{@code rawOrtNaive}: what a hand-written integration usually does: wrap the heap array, run
 *       every output, read the float output with {@code getValue()}, close everything.
 *   <li>{@code rawOrtReusedBuffer}: one pre-allocated direct buffer refilled per call, a new tensor
 *       over it, only the float output requested, copied out into a pre-allocated array.
 *   <li>{@code rawOrtLimit}: the limit, the fastest path ONNX Runtime's Java API allows: pinned
 *       input and output tensors made once, the input refilled per call, the run writing into the
 *       pinned output (only that output computed), copied out into a pre-allocated array ({@link
 *       RawOrt#limit}).
 *   <li>{@code djlPredict}: the same file through DJL's OnnxRuntime engine (the nearest rival), a
 *       {@code Predictor<float[], float[]>} with a minimal translator ({@link DjlOnnx}).
 * </ul>
 *
 * <p>Models: {@code tiny} and {@code breast-cancer} from {@code mlops-test-models}, and {@code
 * wide}, a 512 → 2048 → 2048 → 10 MLP that {@link WideModel} writes at setup. DJL must create the
 * process-wide ONNX Runtime environment, so setup starts it before anything else.
 *
 * <p>Run it from the shaded jar: {@code java -jar benchmarks/target/benchmarks.jar
 * PredictBenchmark}; see {@code benchmarks/README.md}.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PredictBenchmark {

  private static final int ROWS = BenchModel.ROWS;

  /** The paths' benchmark names; mlops first. */
  static final String[] PATHS = {
    "mlopsPredict", "rawOrtNaive", "rawOrtReusedBuffer", "rawOrtLimit", "djlPredict"
  };

  @Param({"tiny", "breast-cancer", "wide"})
  public String model;

  private Path directory;
  private Mlops mlops;
  private Predictor<float[], float[]> predictor;

  /**
   * Each raw path has a session of its own, like mlops and DJL (see {@link InterleavedPredict}).
   */
  private OrtSession naiveSession;

  private OrtSession reusedSession;
  private OrtSession limitSession;
  private float[][] rows;
  private int next;
  private RawOrt naive;
  private RawOrt reused;
  private RawOrt limit;
  private ZooModel<float[], float[]> djlModel;
  private ai.djl.inference.Predictor<float[], float[]> djlPredictor;

  @Setup(Level.Trial)
  public void setUp() throws IOException, OrtException {
    // First: DJL fails to start once anything else has created the OrtEnvironment.
    DjlOnnx.start();
    BenchModel m = BenchModel.of(model);
    rows = m.rows();

    directory = Files.createTempDirectory("mlops-bench");
    Path source = m.writeTo(directory.resolve("source"));
    if (m == BenchModel.WIDE) {
      WideModel.verify(OrtEnvironment.getEnvironment(), source);
    }
    mlops = Mlops.builder().localRegistry(directory.resolve("registry")).build();
    Registration registration = Registration.builder(model, ArtifactSource.file(source)).build();
    ModelVersion version = mlops.registry().register(registration, AuditInfo.by("bench", "setup"));
    predictor = mlops.predictor("models:/" + model + "/" + version.version(), Codecs.floatRow());

    // The stored file whose verified copy the runtime's session was created from (the same
    // bytes), with the engine's default options, for the raw paths and DJL alike.
    Path registered =
        mlops
            .registry()
            .artifacts()
            .materialize(version.digest(), version.files())
            .resolve(version.modelFile());
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(1);
      options.setInterOpNumThreads(1);
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      naiveSession = env.createSession(registered.toString(), options);
      reusedSession = env.createSession(registered.toString(), options);
      limitSession = env.createSession(registered.toString(), options);
    }
    naive = new RawOrt(naiveSession, m, rows[0].length);
    reused = new RawOrt(reusedSession, m, rows[0].length);
    limit = new RawOrt(limitSession, m, rows[0].length);
    djlModel = DjlOnnx.load(registered);
    djlPredictor = djlModel.newPredictor();
    checkPathsAgree();
    next = 0;
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException, OrtException {
    try {
      if (djlPredictor != null) {
        djlPredictor.close();
      }
      if (djlModel != null) {
        djlModel.close();
      }
      if (predictor != null) {
        predictor.close();
      }
      if (mlops != null) {
        mlops.close();
      }
      for (RawOrt raw : new RawOrt[] {naive, reused, limit}) {
        if (raw != null) {
          raw.close();
        }
      }
      if (naiveSession != null) {
        naiveSession.close();
      }
      if (reusedSession != null) {
        reusedSession.close();
      }
      if (limitSession != null) {
        limitSession.close();
      }
    } finally {
      // The environment is process-wide and shared with the engine: never closed here.
      BenchModel.deleteRecursively(directory);
    }
  }

  @Benchmark
  public float[] mlopsPredict() {
    Prediction<float[]> p = predictor.predict(nextRow());
    return p.value();
  }

  @Benchmark
  public float[] rawOrtNaive() throws OrtException {
    return naive.naive(nextRow());
  }

  @Benchmark
  public float[] rawOrtReusedBuffer() throws OrtException {
    return reused.reusedBuffer(nextRow());
  }

  @Benchmark
  public float[] rawOrtLimit() throws OrtException {
    return limit.limit(nextRow());
  }

  @Benchmark
  public float[] djlPredict() throws TranslateException {
    return djlPredictor.predict(nextRow());
  }

  /** The mlops predictor, for {@link SharedSessionPaths}; set between setUp and tearDown. */
  Predictor<float[], float[]> predictor() {
    return predictor;
  }

  private float[] nextRow() {
    float[] row = rows[next];
    next = (next + 1) & (ROWS - 1);
    return row;
  }

  /**
   * Fails unless every path's output for one row equals the first's (mlops's) and is not empty.
   *
   * @param where the model and row, for the message
   * @param expected what equal outputs were expected from, for the message
   * @param names the paths, in the order of {@code outputs}
   */
  static void requireSameOutputs(
      String where, String expected, String[] names, float[]... outputs) {
    boolean same = outputs[0].length != 0;
    for (int i = 1; i < outputs.length; i++) {
      same &= Arrays.equals(outputs[0], outputs[i]);
    }
    if (!same) {
      StringBuilder m = new StringBuilder("paths disagree on ").append(where).append(':');
      for (int i = 0; i < outputs.length; i++) {
        m.append(i == 0 ? " " : ", ").append(names[i]).append(' ');
        m.append(Arrays.toString(outputs[i]));
      }
      throw new IllegalStateException(m.append("; expected ").append(expected).toString());
    }
  }

  /** A benchmark that compares paths computing different things measures nothing. */
  private void checkPathsAgree() throws OrtException {
    for (int i = 0; i < ROWS; i++) {
      float[] viaMlops = mlopsPredict().clone();
      next = i;
      float[] naive = rawOrtNaive().clone();
      next = i;
      float[] reused = rawOrtReusedBuffer().clone();
      next = i;
      float[] pinned = rawOrtLimit().clone();
      next = i;
      float[] djl;
      try {
        djl = djlPredict().clone();
      } catch (TranslateException e) {
        throw new IllegalStateException("DJL failed on " + model + " row " + i + ": " + e, e);
      }
      next = (i + 1) & (ROWS - 1);
      requireSameOutputs(
          model + " row " + i,
          "identical outputs from one model file and one set of options",
          PATHS,
          viaMlops,
          naive,
          reused,
          pinned,
          djl);
    }
  }
}
