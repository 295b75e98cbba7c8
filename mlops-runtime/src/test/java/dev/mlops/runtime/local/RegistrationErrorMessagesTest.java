package dev.mlops.runtime.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.Registration;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.testing.Graphs;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A registration that ONNX Runtime cannot load says which model and which of the user's files, and
 * what ONNX Runtime lacks, in words: not the registry's staging copy, which is gone by the time the
 * message is read, nor the native text, which is the cause.
 */
class RegistrationErrorMessagesTest {

  private static final AuditInfo CI = AuditInfo.by("ci", "test");

  @TempDir Path tmp;

  private ModelLoadException refusal(String model, String graph) {
    Path file = Graphs.copy(graph, tmp.resolve("exports"));
    try (GovernedRegistry registry = LocalModelRegistry.open(tmp.resolve("registry"))) {
      Throwable t =
          org.assertj.core.api.Assertions.catchThrowable(
              () ->
                  registry.register(
                      Registration.builder(model, ArtifactSource.file(file)).build(), CI));
      assertThat(t).isExactlyInstanceOf(ModelLoadException.class);
      assertThat(registry.models()).isEmpty();
      return (ModelLoadException) t;
    }
  }

  private void assertNoInternals(ModelLoadException e) {
    assertThat(e.getMessage())
        .doesNotContain(tmp.resolve("registry").toString())
        .doesNotContain("staging")
        .doesNotContain("Error code - ORT_")
        .doesNotContain(".cc:")
        .doesNotContain("valid ONNX model");
    assertThat(e).hasRootCauseInstanceOf(ai.onnxruntime.OrtException.class);
  }

  @Test
  void aModelStampedWithAnOpsetTooNewNamesTheModelTheSourceFileAndBothOpsets() {
    ModelLoadException e = refusal("future", "opset-future.onnx");
    assertThat(e)
        .hasMessage(
            "cannot register "
                + tmp.resolve("exports").resolve("opset-future.onnx")
                + " as a new version of models:/future: ONNX Runtime cannot load opset-future.onnx: it uses opset 30 of"
                + " domain ai.onnx, but ONNX Runtime 1.29.0 supports that domain up to opset 26; re-export the model with"
                + " opset 26 or lower, or use a newer ONNX Runtime");
    assertNoInternals(e);
  }

  @Test
  void aTrainingOperatorIsNamedWithItsDomainAndOpset() {
    ModelLoadException e = refusal("trainer", "training-op.onnx");
    assertThat(e.getMessage())
        .startsWith(
            "cannot register "
                + tmp.resolve("exports").resolve("training-op.onnx")
                + " as a new version of models:/trainer: ONNX Runtime cannot load training-op.onnx: ")
        .contains(
            "operator Adagrad of domain ai.onnx.preview.training (opset 1) is a training-only operator")
        .contains("export the model for inference");
    assertNoInternals(e);
  }

  @Test
  void aLocaleTheHostLacksIsNamed() {
    ModelLoadException e = refusal("text", "locale-normalizer.onnx");
    assertThat(e.getMessage())
        .contains("operator StringNormalizer needs locale xx_YY, which this host lacks");
    assertNoInternals(e);
  }
}
