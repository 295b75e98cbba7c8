package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.InvalidInputException;
import dev.mlops.api.ModelRef;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.Tensor;
import dev.mlops.runtime.testing.Graphs;
import dev.mlops.testmodels.TestModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An empty tensor can abort ONNX Runtime's process; the predictor refuses one before native code
 * sees it, unless it was built to allow them.
 */
class ZeroSizeGuardTest {

  private static final AuditInfo CI = AuditInfo.by("ci", "test");

  @TempDir Path tmp;

  private static Map<String, Tensor> lstmInputs(int batch) {
    return Map.of(
        "x", Tensor.ofFloats(new float[batch * 3], 1, batch, 3),
        "h0", Tensor.ofFloats(new float[batch * 4], 1, batch, 4),
        "c0", Tensor.ofFloats(new float[batch * 4], 1, batch, 4));
  }

  @Test
  void rawOnnxRuntimeAbortsTheJvmOnAnEmptyBatch() throws Exception {
    Path model = Graphs.copy("lstm-empty-batch.onnx", tmp);
    Path out = tmp.resolve("child.out");
    Process child =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                EmptyBatchChild.class.getName(),
                model.toString())
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("child finished").isTrue();
    String transcript = Files.readString(out, StandardCharsets.UTF_8);
    assertThat(transcript).contains("RUNNING").doesNotContain("SURVIVED");
    assertThat(child.exitValue())
        .as("exit code (134 = SIGABRT); output: " + transcript)
        .isEqualTo(134);
  }

  @Test
  void theGuardedPredictorRefusesAnEmptyBatchAndKeepsServing() {
    Path model = Graphs.copy("lstm-empty-batch.onnx", tmp);
    try (Mlops mlops = Mlops.builder().localRegistry(tmp.resolve("registry")).build()) {
      mlops
          .registry()
          .register(Registration.builder("lstm", ArtifactSource.file(model)).build(), CI);
      Predictor<Map<String, Tensor>, Map<String, Tensor>> p =
          mlops.predictor("models:/lstm/1", Codecs.tensors());

      assertThatThrownBy(() -> p.predict(lstmInputs(0)))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageEndingWith(
              "with no dimension of size 0 (ONNX Runtime can abort the process on empty tensors;"
                  + " a predictor built with allowEmptyTensors() passes them) but found float32[1,0,3]");
      // The JVM is alive and the predictor serves, with the outputs of raw ONNX Runtime.
      assertThat(p.predict(lstmInputs(2)).value()).isEqualTo(Graphs.runRaw(model, lstmInputs(2)));
    }
  }

  @Test
  void aPredictorThatAllowsEmptyTensorsPassesThemToTheEngine() throws Exception {
    Path model = TestModels.copy(TestModels.TINY, tmp);
    try (Mlops mlops = Mlops.builder().localRegistry(tmp.resolve("registry")).build()) {
      mlops
          .registry()
          .register(Registration.builder("tiny", ArtifactSource.file(model)).build(), CI);
      Map<String, Tensor> none = Map.of("x", Tensor.ofFloats(new float[0], 0, 4));
      Predictor<Map<String, Tensor>, Map<String, Tensor>> guarded =
          mlops.predictor("models:/tiny/1", Codecs.tensors());
      assertThatThrownBy(() -> guarded.predict(none)).isInstanceOf(InvalidInputException.class);
      Predictor<Map<String, Tensor>, Map<String, Tensor>> open =
          mlops
              .newPredictor(ModelRef.parse("models:/tiny/1"), Codecs.tensors())
              .allowEmptyTensors()
              .build();
      assertThat(open.predict(none).value().get("y").shape()).containsExactly(0, 2);
      // An empty row for floatRow is a [1,0] tensor, refused before it reaches the engine too.
      assertThatThrownBy(
              () -> mlops.predictor("models:/tiny/1", Codecs.floatRow()).predict(new float[0]))
          .isInstanceOf(InvalidInputException.class);
    }
  }
}
