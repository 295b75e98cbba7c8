package dev.mlops.runtime.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ONNX Runtime's telemetry is off unless the engine's builder turns it on. */
class TelemetryTest {

  @TempDir Path tmp;

  @Test
  void anEngineTurnsTelemetryOffOnTheProcessEnvironmentByDefault() {
    TelemetryCalls calls = new TelemetryCalls();
    try (OnnxRuntimeEngine engine = calls.build(b -> b)) {
      assertThat(calls.calls()).containsExactly(false);
      assertThat(calls.environments()).containsExactly(OrtEnvironment.getEnvironment());
      // The engine still serves once telemetry is off.
      Path model = TestModels.copy(TestModels.TINY, tmp);
      try (ModelSession s = engine.open(new ArtifactLocation(tmp, model))) {
        assertThat(s.signature().inputs()).isNotEmpty();
      }
    }
  }

  @Test
  void telemetryIsOnOnlyWhenTheBuilderAsksForIt() {
    TelemetryCalls on = new TelemetryCalls();
    on.build(b -> b.telemetry(true)).close();
    assertThat(on.calls()).containsExactly(true);
    TelemetryCalls off = new TelemetryCalls();
    off.build(b -> b.telemetry(false)).close();
    assertThat(off.calls()).containsExactly(false);
  }

  @Test
  void theOptionIsSetOnce() {
    assertThatThrownBy(() -> OnnxRuntimeEngine.builder().telemetry(true).telemetry(false))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("telemetry was already set to true");
  }

  @Test
  void anEngineThatCannotTurnTelemetryOffIsNotBuilt() {
    assertThatThrownBy(
            () ->
                OnnxRuntimeEngine.builder()
                    .telemetrySwitch(
                        (env, enabled) -> {
                          throw new OrtException("refused by the native library");
                        })
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cannot turn ONNX Runtime's telemetry off")
        .hasMessageContaining("refused by the native library");
  }
}
