package dev.mlops.runtime.attacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.Tensor;
import dev.mlops.api.UnsafeModelException;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.runtime.onnx.ExternalDataModels;
import dev.mlops.runtime.onnx.ExternalDataModels.Placement;
import dev.mlops.runtime.onnx.OnnxRuntimeEngine;
import dev.mlops.runtime.testing.Decoys;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine opens only regular files of the artifact: a model file or external data that is a link
 * to a file outside, or a FIFO, is refused before ONNX Runtime is handed the path.
 */
class Finding09EngineLinkTest {

  @TempDir Path tmp;
  private Decoys decoys;
  private OnnxRuntimeEngine engine;

  @BeforeEach
  void open() throws Exception {
    decoys = Decoys.in(tmp.resolve("outside"));
    TestModels.copy(TestModels.BREAST_CANCER_V1, decoys.dir());
    Files.write(decoys.dir().resolve("weights-outside.bin"), ExternalDataModels.weightBytes());
    decoys = Decoys.in(decoys.dir());
    engine = new OnnxRuntimeEngine();
  }

  @AfterEach
  void close() {
    engine.close();
    decoys.assertUntouched();
  }

  @Test
  void modelFileLinkedOutsideIsRefused() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("art"));
    Path link =
        Files.createSymbolicLink(
            dir.resolve("model.onnx"), decoys.file(TestModels.BREAST_CANCER_V1));
    assertThatThrownBy(() -> engine.open(new ArtifactLocation(dir, link)))
        .isInstanceOf(UnsafeModelException.class)
        .hasMessageContaining("model.onnx is a symbolic link");
  }

  @Test
  void externalDataLinkedOutsideIsRefused() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("art"));
    Path model = dir.resolve("model.onnx");
    Files.write(model, ExternalDataModels.of(Placement.INITIALIZER, "w.bin").toBytes());
    Files.createSymbolicLink(dir.resolve("w.bin"), decoys.file("weights-outside.bin"));
    assertThatThrownBy(() -> engine.open(new ArtifactLocation(dir, model)))
        .isInstanceOf(UnsafeModelException.class)
        .hasMessageContaining("w.bin");

    // The same model with its own copy of the weights opens and runs.
    Files.delete(dir.resolve("w.bin"));
    Files.write(dir.resolve("w.bin"), ExternalDataModels.weightBytes());
    try (ModelSession s = engine.open(new ArtifactLocation(dir, model))) {
      assertThat(s.run(Map.of("x", Tensor.ofFloats(new float[3], 1, 3))).get("y").floats())
          .containsExactly(ExternalDataModels.WEIGHTS);
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void fifoModelFileIsRefusedWithoutBlocking() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("art"));
    Path fifo = dir.resolve("model.onnx");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
    assertThat(mkfifo.waitFor()).isZero();
    assertThatThrownBy(() -> engine.open(new ArtifactLocation(dir, fifo)))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("not a regular file");
  }
}
