package dev.mlops.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ElementType;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.Tensor;
import dev.mlops.api.TensorSpec;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading the MLflow fixture, and the JSON forms of inputs. */
class MlflowModelTest {

  @TempDir Path work;

  private static final ModelSignature CANCER =
      new ModelSignature(
          List.of(TensorSpec.of("features", ElementType.FLOAT, TensorSpec.DYNAMIC, 30)),
          List.of(
              TensorSpec.of("probabilities", ElementType.FLOAT, TensorSpec.DYNAMIC, 2),
              TensorSpec.of("label", ElementType.INT64, TensorSpec.DYNAMIC)));

  private Path fixture() throws Exception {
    Path src =
        Path.of(MlflowModelTest.class.getResource("/mlflow/cancer-mlp/MLmodel").toURI())
            .getParent();
    Path dir = Files.createDirectories(work.resolve("model"));
    try (Stream<Path> files = Files.list(src)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.copy(f, dir.resolve(f.getFileName().toString()));
      }
    }
    Files.write(dir.resolve("model.onnx"), TestModels.bytes(TestModels.BREAST_CANCER_V2));
    return dir;
  }

  @Test
  void readsTheOnnxFlavourSignatureRunIdAndExample() throws Exception {
    MlflowModel m = MlflowModel.read(fixture());
    assertThat(m.modelFile()).isEqualTo("model.onnx");
    assertThat(m.runId()).isEqualTo("8c3e6f2b1a9d4e7f9b0c2d4e6f8a1b3c");
    assertThat(m.inputs())
        .containsExactly(new MlflowModel.Spec("features", "float32", List.of(-1L, 30L)));
    assertThat(m.outputs()).hasSize(2);
    assertThat(m.mismatches(CANCER)).isEmpty();
    Map<String, Tensor> example = JsonTensors.inputs(m.inputExample().get(), CANCER, "example");
    assertThat(example.get("features").shape()).containsExactly(2, 30);
    assertThat(example.get("features").floats()[0]).isEqualTo(12.75f);
    assertThat(m.tags())
        .containsEntry("mlflow.flavor", "onnx")
        .containsEntry("mlflow.onnx_version", "1.17.0");
  }

  @Test
  void namesEveryDisagreementWithTheGraph() throws Exception {
    MlflowModel m = MlflowModel.read(fixture());
    ModelSignature other =
        new ModelSignature(
            List.of(TensorSpec.of("features", ElementType.DOUBLE, TensorSpec.DYNAMIC, 31)),
            List.of(TensorSpec.of("probabilities", ElementType.FLOAT, TensorSpec.DYNAMIC, 2)));
    assertThat(m.mismatches(other))
        .containsExactly(
            "input 'features': the MLmodel says float32[-1, 30] but the ONNX graph has"
                + " float64[?,31]",
            "output 'label' (int64[-1]) is not in the ONNX graph");
  }

  @Test
  void refusesADirectoryWithoutTheOnnxFlavour() throws Exception {
    Path dir = fixture();
    Files.writeString(
        dir.resolve("MLmodel"), "flavors:\n  sklearn:\n    pickled_model: model.pkl\nrun_id: r1\n");
    assertThatThrownBy(() -> MlflowModel.read(dir))
        .isInstanceOf(CliException.class)
        .hasMessage(
            dir.resolve("MLmodel")
                + ": expected the onnx flavour (flavors.onnx) but found the flavours [sklearn]");
  }

  @Test
  void jsonInputsNameWhatIsWrong() {
    assertThatThrownBy(
            () -> JsonTensors.inputs(List.of(List.of(1.0, 2.0), List.of(3.0)), CANCER, "stdin"))
        .isInstanceOf(CliException.class)
        .hasMessage(
            "stdin input 'features': expected a regular nested array of shape [2, 2] but found an"
                + " array of 1 at depth 1");
    assertThatThrownBy(() -> JsonTensors.inputs(Map.of("x", List.of(1.0)), CANCER, "stdin"))
        .isInstanceOf(CliException.class)
        .hasMessage("stdin: expected the inputs [features] but found an input named 'x'");
    Tensor t =
        JsonTensors.tensor(List.of(List.of(1L, 2L), List.of(3L, 4L)), ElementType.INT64, "x");
    assertThat(t.longs()).containsExactly(1, 2, 3, 4);
    assertThat(JsonTensors.toJson(t)).isEqualTo(List.of(List.of(1L, 2L), List.of(3L, 4L)));
  }
}
