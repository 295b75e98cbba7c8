package dev.mlops.runtime.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OpsetImportsTest {

  @TempDir Path tmp;

  @Test
  void readsEveryDomainsImportWithTheDefaultDomainAsAiOnnx() {
    Path training = TestGraphs.artifact("training-op", tmp.resolve("t")).modelFile();
    Path custom = TestGraphs.artifact("custom-domain", tmp.resolve("c")).modelFile();

    assertThat(OpsetImports.read(training))
        .containsExactly(Map.entry("ai.onnx", 13L), Map.entry("ai.onnx.preview.training", 1L));
    assertThat(OpsetImports.read(custom))
        .containsExactly(Map.entry("ai.onnx", 13L), Map.entry("com.example", 1L));
    assertThat(OpsetImports.version(training, "ai.onnx.preview.training"))
        .isEqualTo(OptionalLong.of(1));
    assertThat(OpsetImports.version(training, "")).isEqualTo(OptionalLong.of(13));
    assertThat(OpsetImports.version(training, "com.example")).isEmpty();
  }

  @Test
  void skipsAGraphOfManyKilobytesToReachTheImportsAfterIt() throws Exception {
    // A graph far wider than the reader's window, before two imports; the tensor is never read.
    OnnxModels.Proto weights =
        new OnnxModels.Proto()
            .varint(1, 50_000)
            .varint(2, OnnxModels.FLOAT)
            .string(8, "W")
            .bytes(9, new byte[200_000]);
    byte[] model =
        new OnnxModels.Proto()
            .varint(1, 8)
            .message(7, new OnnxModels.Proto().string(2, "g").message(5, weights))
            .message(8, ExternalDataModels.opset("", 13))
            .message(8, ExternalDataModels.opset("ai.onnx.ml", 3))
            .toBytes();
    Path file = Files.write(tmp.resolve("wide.onnx"), model);

    assertThat(OpsetImports.read(file))
        .containsExactly(Map.entry("ai.onnx", 13L), Map.entry("ai.onnx.ml", 3L));
  }

  @Test
  void fileThatIsNoModelGivesNoImportsAndNoError() throws Exception {
    byte[] valid =
        Files.readAllBytes(TestGraphs.artifact("custom-domain", tmp.resolve("c")).modelFile());
    Path cut = Files.write(tmp.resolve("cut.onnx"), Arrays.copyOf(valid, valid.length - 3));
    Path empty = Files.write(tmp.resolve("empty.onnx"), new byte[0]);
    Path ones =
        Files.write(
            tmp.resolve("ones.onnx"), new byte[] {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1});

    assertThat(OpsetImports.read(cut))
        .containsOnlyKeys("ai.onnx"); // the second import is the one cut short
    assertThat(OpsetImports.read(empty)).isEmpty();
    assertThat(OpsetImports.read(ones)).isEmpty();
    assertThat(OpsetImports.read(tmp.resolve("missing.onnx"))).isEmpty();
  }
}
