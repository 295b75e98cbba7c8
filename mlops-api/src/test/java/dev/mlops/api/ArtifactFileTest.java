package dev.mlops.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Artifact file names: a path with a segment that is a Windows device name or ends in a dot or a
 * space is named as not portable; stream file names and attachment names with one are refused.
 */
class ArtifactFileTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "NUL.bin",
        "nul",
        "weights.",
        "weights ",
        "data/CON",
        "CON/model.onnx",
        "dir./w.bin",
        "dir /w.bin",
        "COM\u00b9",
        "lpt\u00b2.bin",
        "COM\u00b3.onnx",
        "NUL .txt",
        "a/b/aux.x.y",
        "CONIN$",
        "conout$.log"
      })
  void artifactPathsWithAnUnportableSegmentAreNamed(String path) {
    assertThat(ArtifactFile.unportableReason(path))
        .hasValueSatisfying(
            why -> assertThat(why).contains("'" + path + "'").contains("is not portable"));
  }

  @Test
  void theReasonNamesTheSegmentOfALongerPath() {
    assertThat(ArtifactFile.unportableReason("data/NUL.bin/w"))
        .hasValueSatisfying(
            why ->
                assertThat(why)
                    .startsWith("the segment 'NUL.bin' of the file path 'data/NUL.bin/w'")
                    .contains("device name NUL"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"model.onnx", "weights/w.bin", "COM10.bin", "console.log", ".hidden", "a/.b"})
  void portablePathsHaveNoReason(String path) {
    assertThat(ArtifactFile.unportableReason(path)).isEmpty();
  }

  @Test
  void storedMetadataWithAnUnportablePathStillParses() {
    // Refused when the version is verified, not when its metadata is read.
    assertThat(new ArtifactFile("NUL.bin", 1, "0".repeat(64)).path()).isEqualTo("NUL.bin");
  }

  @ParameterizedTest
  @ValueSource(strings = {"NUL.onnx", "con", "model.", "com1.onnx"})
  void streamFileNamesAndAttachmentNamesAreRefused(String name) {
    assertThatThrownBy(
            () -> ArtifactSource.stream(new java.io.ByteArrayInputStream(new byte[1]), name))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("fileName is refused")
        .hasMessageContaining("'" + name + "'");
    Registration.Builder b =
        Registration.builder("m", ArtifactSource.file(java.nio.file.Path.of("m.onnx")));
    assertThatThrownBy(() -> b.attachment(name, new byte[1]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("attachment name is refused");
  }
}
