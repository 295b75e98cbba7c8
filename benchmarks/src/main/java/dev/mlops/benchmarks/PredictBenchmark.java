package dev.mlops.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
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
import dev.mlops.testmodels.TestModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
 * One-row prediction through {@link Mlops} against raw ONNX Runtime on the same model file,
 * with the same session options (1 intra-op thread, 1 inter-op thread, {@code ALL_OPT}), in
 * the same run. Each call feeds the next row of a fixed set, so no path sees a constant input.
 *
 * <ul>
 *   <li>{@code mlopsPredict}: {@code predictor.predict(row)} with a pinned version and {@link
 *       Codecs#floatRow()}.
 *   <li>{@code rawOrtNaive}: what a hand-written integration usually does: wrap the heap array,
 *       run every output, read the float output with {@code getValue()}, close everything.
 *   <li>{@code rawOrtReusedBuffer}: the tightest plain-API raw path: one pre-allocated direct
 *       buffer refilled per call, a new tensor over it, only the float output requested, copied
 *       out into a pre-allocated array.
 * </ul>
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

  /** Rows cycled through; a power of two so the index is a mask. */
  private static final int ROWS = 64;

  @Param({"tiny", "breast-cancer"})
  public String model;

  private Path directory;
  private Mlops mlops;
  private Predictor<float[], float[]> predictor;
  private OrtEnvironment env;
  private OrtSession session;
  private String inputName;
  private String outputName;
  private Set<String> requestedOutputs;
  private long[] shape;
  private float[][] rows;
  private int next;
  private FloatBuffer reusedInput;
  private float[] reusedOutput;

  @Setup(Level.Trial)
  public void setUp() throws IOException, OrtException {
    String file;
    switch (model) {
      case "tiny":
        file = TestModels.TINY;
        inputName = "x";
        outputName = "y";
        rows = tinyRows();
        break;
      case "breast-cancer":
        file = TestModels.BREAST_CANCER_V2;
        inputName = "features";
        outputName = "probabilities";
        rows = cycle(TestModels.breastCancerTestSet().features());
        break;
      default:
        throw new IllegalArgumentException("model must be tiny or breast-cancer but was " + model);
    }
    int width = rows[0].length;
    shape = new long[] {1, width};
    requestedOutputs = Set.of(outputName);

    directory = Files.createTempDirectory("mlops-bench");
    Path source = TestModels.copy(file, directory.resolve("source"));
    mlops = Mlops.builder().localRegistry(directory.resolve("registry")).build();
    Registration registration = Registration.builder(model, ArtifactSource.file(source)).build();
    ModelVersion version = mlops.registry().register(registration, AuditInfo.by("bench", "setup"));
    predictor = mlops.predictor("models:/" + model + "/" + version.version(), Codecs.floatRow());

    // The very file the runtime's session was created from, with the engine's default options.
    Path registered = mlops.registry().verifiedArtifact(version).modelFile();
    env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(1);
      options.setInterOpNumThreads(1);
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      session = env.createSession(registered.toString(), options);
    }
    reusedInput =
        ByteBuffer.allocateDirect(width * Float.BYTES)
            .order(ByteOrder.nativeOrder())
            .asFloatBuffer();
    reusedOutput = new float[outputWidth()];
    checkPathsAgree();
    next = 0;
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException, OrtException {
    try {
      if (predictor != null) {
        predictor.close();
      }
      if (mlops != null) {
        mlops.close();
      }
      if (session != null) {
        session.close();
      }
    } finally {
      // The environment is process-wide and shared with the engine: never closed here.
      deleteRecursively(directory);
    }
  }

  @Benchmark
  public float[] mlopsPredict() {
    Prediction<float[]> p = predictor.predict(nextRow());
    return p.value();
  }

  @Benchmark
  public float[] rawOrtNaive() throws OrtException {
    float[] row = nextRow();
    try (OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(row), shape);
        OrtSession.Result result = session.run(Map.of(inputName, input))) {
      OnnxValue value = result.get(outputName).orElseThrow();
      return ((float[][]) value.getValue())[0];
    }
  }

  @Benchmark
  public float[] rawOrtReusedBuffer() throws OrtException {
    float[] row = nextRow();
    reusedInput.clear();
    reusedInput.put(row);
    reusedInput.flip();
    try (OnnxTensor input = OnnxTensor.createTensor(env, reusedInput, shape);
        OrtSession.Result result = session.run(Map.of(inputName, input), requestedOutputs)) {
      ((OnnxTensor) result.get(0)).getFloatBuffer().get(reusedOutput);
      return reusedOutput;
    }
  }

  private float[] nextRow() {
    float[] row = rows[next];
    next = (next + 1) & (ROWS - 1);
    return row;
  }

  private int outputWidth() throws OrtException {
    try (OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(rows[0]), shape);
        OrtSession.Result result = session.run(Map.of(inputName, input), requestedOutputs)) {
      return ((OnnxTensor) result.get(0)).getFloatBuffer().remaining();
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
      next = (i + 1) & (ROWS - 1);
      if (viaMlops.length == 0
          || !Arrays.equals(viaMlops, naive)
          || !Arrays.equals(viaMlops, reused)) {
        throw new IllegalStateException(
            "paths disagree on "
                + model
                + " row "
                + i
                + ": mlops "
                + Arrays.toString(viaMlops)
                + ", naive "
                + Arrays.toString(naive)
                + ", reused "
                + Arrays.toString(reused)
                + "; expected identical outputs from one model file and one set of options");
      }
    }
  }

  private static float[][] tinyRows() {
    float[][] out = new float[ROWS][4];
    for (int i = 0; i < ROWS; i++) {
      for (int j = 0; j < 4; j++) {
        out[i][j] = (i * 4 + j) * 0.25f - 8f;
      }
    }
    return out;
  }

  private static float[][] cycle(float[][] source) {
    if (source.length == 0) {
      throw new IllegalStateException("the breast-cancer test set is empty");
    }
    float[][] out = new float[ROWS][];
    for (int i = 0; i < ROWS; i++) {
      out[i] = source[i % source.length].clone();
    }
    return out;
  }

  private static void deleteRecursively(Path root) throws IOException {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(PredictBenchmark::delete);
    }
  }

  private static void delete(Path p) {
    try {
      Files.delete(p);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + p, e);
    }
  }
}
