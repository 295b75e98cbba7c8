package dev.mlops.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

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
import dev.mlops.runtime.Mlops;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SharedSessionTest {

  private static final BenchModel MODEL = BenchModel.BREAST_CANCER;

  /**
   * DJL must create the process-wide ONNX Runtime environment; if another test class in this JVM
   * made it first, the DJL test cannot run here (it does when this class runs alone).
   */
  private static boolean djlStarted;

  @TempDir static Path dir;
  private static Mlops mlops;
  private static Predictor<float[], float[]> predictor;

  @BeforeAll
  static void startDjlThenLoadTheModel() {
    try {
      DjlOnnx.start();
      djlStarted = true;
    } catch (IllegalStateException e) {
      djlStarted = false;
    }
    mlops = Mlops.builder().localRegistry(dir.resolve("registry")).build();
    predictor = pinnedPredictor(mlops, "cancer");
  }

  @AfterAll
  static void close() {
    predictor.close();
    mlops.close();
  }

  private static Predictor<float[], float[]> pinnedPredictor(Mlops runtime, String name) {
    Path source = MODEL.writeTo(dir.resolve("source-" + name));
    ModelVersion version =
        runtime
            .registry()
            .register(
                Registration.builder(name, ArtifactSource.file(source)).build(),
                AuditInfo.by("test", "setup"));
    return runtime.predictor("models:/" + name + "/" + version.version(), Codecs.floatRow());
  }

  private static float[] run(OrtSession session, float[] row) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OnnxTensor input =
            OnnxTensor.createTensor(env, FloatBuffer.wrap(row), new long[] {1, row.length});
        OrtSession.Result result = session.run(Map.of(MODEL.input, input), Set.of(MODEL.output))) {
      return ((float[][]) result.get(MODEL.output).orElseThrow().getValue())[0];
    }
  }

  @Test
  void computesWhatThePredictorComputesOnEveryRow() throws OrtException {
    OrtSession session = SharedSession.of(predictor);

    assertThat(session.getInputNames()).containsExactly(MODEL.input);
    for (float[] row : MODEL.rows()) {
      float[] expected = predictor.predict(row).value();
      assertThat(expected).hasSize(2);
      assertThat(run(session, row)).containsExactly(expected);
    }
  }

  @Test
  void isTheSessionTheRuntimeClosesWithThePredictor() throws OrtException {
    // A session of the benchmark's own would stay open; the runtime's closes with the runtime.
    Mlops own = Mlops.builder().localRegistry(dir.resolve("own-registry")).build();
    Predictor<float[], float[]> p = pinnedPredictor(own, "closing");
    OrtSession session = SharedSession.of(p);
    float[] row = MODEL.rows()[0];
    assertThat(run(session, row)).containsExactly(p.predict(row).value());

    p.close();
    own.close();

    assertThatThrownBy(() -> run(session, row))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void rejectsAPredictorThatFollowsTheLatestVersion() {
    try (Predictor<float[], float[]> latest =
        mlops.predictor("models:/cancer", Codecs.floatRow())) {
      assertThatThrownBy(() -> SharedSession.of(latest))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("expected a predictor pinned to a version")
          .hasMessageContaining("models:/cancer");
    }
  }

  @Test
  void namesTheFieldItExpectedWhenTheRuntimeLayoutChanged() {
    assertThatThrownBy(
            () -> SharedSession.field("a string", SharedSession.PREDICTOR_CLASS, "binding"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "expected a dev.mlops.runtime.DefaultPredictor holding field 'binding' but found a java.lang.String;"
                + " the mlops runtime's internals changed: update SharedSession");
    assertThatThrownBy(
            () -> SharedSession.field(predictor, SharedSession.PREDICTOR_CLASS, "renamed"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith(
            "expected field 'renamed' in dev.mlops.runtime.DefaultPredictor but it has [")
        .hasMessageContaining("binding")
        .hasMessageEndingWith("; the mlops runtime's internals changed: update SharedSession");
  }

  @Test
  void runsDjlOnTheSharedSessionAndLeavesItOpenWhenClosed() throws Exception {
    assumeThat(djlStarted).as("DJL started first in this JVM (run this class alone)").isTrue();
    float[] row = MODEL.rows()[0];
    float[] expected = predictor.predict(row).value().clone();

    // The constructor checks that all five paths agree on every row.
    try (SharedSessionPaths paths = new SharedSessionPaths(predictor, MODEL)) {
      assertThat(paths.djlPredict()).containsExactly(expected);
      assertThat(paths.rawOrtReusedBuffer()).containsExactly(expected);
      assertThat(paths.rawOrtNaive()).containsExactly(expected);
      assertThat(paths.rawOrtLimit()).containsExactly(expected);
      assertThat(paths.mlopsPredict()).containsExactly(expected);
    }

    assertThat(run(SharedSession.of(predictor), row)).containsExactly(expected);
    assertThat(predictor.predict(row).value()).containsExactly(expected);
  }
}
