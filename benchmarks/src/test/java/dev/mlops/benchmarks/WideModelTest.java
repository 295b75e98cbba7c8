package dev.mlops.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WideModelTest {

  @TempDir Path dir;

  @Test
  void writesAModelThatOnnxRuntimeLoadsWithADynamicBatchDimension() throws Exception {
    Path file = WideModel.write(dir);

    assertThat(Files.size(file)).isBetween(21_000_000L, 21_200_000L);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        OrtSession session = env.createSession(file.toString(), options)) {
      NodeInfo x = session.getInputInfo().get("x");
      NodeInfo y = session.getOutputInfo().get("y");
      assertThat(((TensorInfo) x.getInfo()).getShape()).containsExactly(-1, 512);
      assertThat(((TensorInfo) y.getInfo()).getShape()).containsExactly(-1, 10);
    }
  }

  @Test
  void computesWhatTheJavaForwardPassComputes() throws Exception {
    // verify() runs three rows and compares them with the double-precision forward pass.
    WideModel.verify(OrtEnvironment.getEnvironment(), WideModel.write(dir));
  }

  @Test
  void hasTheSizeOfA512To2048To2048To10Perceptron() {
    long expected = 512L * 2048 + 2048 + 2048L * 2048 + 2048 + 2048L * 10 + 10;

    assertThat(WideModel.parameterCount()).isEqualTo(expected).isEqualTo(5_267_466L);
  }

  @Test
  void drawsTheSameWeightsAndRowsEveryTime() {
    assertThat(WideModel.parameters()[2]).isEqualTo(WideModel.parameters()[2]);
    assertThat(WideModel.rows(4)).isDeepEqualTo(WideModel.rows(4));
  }
}
