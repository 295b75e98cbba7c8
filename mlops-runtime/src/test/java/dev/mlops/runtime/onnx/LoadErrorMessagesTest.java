package dev.mlops.runtime.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ai.onnxruntime.OrtException;
import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.UnsafeModelException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each kind of model ONNX Runtime 1.29.0 refuses, opened through a real session: the message says
 * what happened in words, names the model by its path inside the artifact, and leaves ONNX
 * Runtime's native text to the cause.
 */
class LoadErrorMessagesTest {

  private static final Logger LOG = LoggerFactory.getLogger(LoadErrorMessagesTest.class);
  private static final String PREFIX = "ONNX Runtime cannot load " + TestGraphs.MODEL + ": ";

  @TempDir Path tmp;
  private OnnxRuntimeEngine engine;

  @BeforeEach
  void setUp() {
    engine = new OnnxRuntimeEngine();
  }

  @AfterEach
  void tearDown() {
    engine.close();
  }

  /**
   * Valid ONNX models that ONNX Runtime 1.29.0 cannot serve, and the message expected after the
   * prefix.
   */
  static Stream<Arguments> graphs() {
    return Stream.of(
        Arguments.of(
            Named.of("opset newer than ONNX Runtime's", "opset-future"),
            "it uses opset 30 of domain ai.onnx, but ONNX Runtime 1.29.0 supports that domain up to opset 26; "
                + "re-export the model with opset 26 or lower, or use a newer ONNX Runtime"),
        Arguments.of(
            Named.of("training-only operator", "training-op"),
            "operator Adagrad of domain ai.onnx.preview.training (opset 1) is a training-only operator, which an "
                + "inference runtime such as ONNX Runtime 1.29.0 does not run; export the model for inference, "
                + "without its training (optimizer or gradient) nodes"),
        Arguments.of(
            Named.of("operator of a custom domain", "custom-domain"),
            "operator Frob of domain com.example (opset 1) is not available in ONNX Runtime 1.29.0; it needs the "
                + "custom-operator library that defines domain com.example, or re-export the model with standard ONNX "
                + "operators"),
        Arguments.of(
            Named.of("unknown operator of the default domain", "unknown-op"),
            "a node uses operator FrobnicateV2 of domain ai.onnx at opset 13, which ONNX Runtime 1.29.0 does not "
                + "define; check the operator's name and the opset the model imports for ai.onnx (an operator added in "
                + "a later opset needs that opset), or re-export the model with standard operators"),
        Arguments.of(
            Named.of("operator without a kernel for its type", "no-kernel"),
            "node 'softplus' uses operator Softplus at opset 1, which has no implementation in ONNX Runtime 1.29.0 "
                + "for the element types it is given here; re-export the model with element types that ONNX Runtime "
                + "1.29.0 implements for Softplus (float32, for most operators)"),
        Arguments.of(
            Named.of("locale the host lacks", "locale-normalizer"),
            "operator StringNormalizer needs locale xx_YY, which this host lacks; install locale xx_YY on the host "
                + "(its language pack, or locale-gen), or re-export the model with a locale the host has"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("graphs")
  void validModelThatOnnxRuntimeLacksSomethingForIsNamedInWordsWithoutBlamingTheModel(
      String graph, String expected) {
    ArtifactLocation artifact = TestGraphs.artifact(graph, tmp);

    ModelLoadException e = refusal(artifact);

    assertThat(e.getMessage()).isEqualTo(PREFIX + expected);
    assertThat(e.getMessage()).doesNotContainIgnoringCase("valid ONNX model");
    assertClean(e, artifact);
  }

  static Stream<Named<byte[]>> unparsable() throws Exception {
    byte[] valid;
    try (InputStream in =
        LoadErrorMessagesTest.class.getResourceAsStream("/graphs/tiny-double.onnx")) {
      valid = in.readAllBytes();
    }
    byte[] random = new byte[4096];
    new Random(20240501L).nextBytes(random);
    return Stream.of(
        Named.of("tiny-double.onnx cut in half", Arrays.copyOf(valid, valid.length / 2)),
        Named.of("tiny-double.onnx less its last byte", Arrays.copyOf(valid, valid.length - 1)),
        Named.of("4 KiB of random bytes", random),
        Named.of("text", "not an onnx model\n".getBytes(StandardCharsets.UTF_8)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("unparsable")
  void bytesThatDoNotParseAreReportedAsNotAValidOnnxModel(byte[] content) throws Exception {
    Path file =
        Files.write(Files.createDirectories(tmp.resolve("files")).resolve("model.onnx"), content);
    ArtifactLocation artifact = new ArtifactLocation(tmp, file);

    ModelLoadException e = refusal(artifact);

    assertThat(e.getMessage())
        .isEqualTo(
            PREFIX
                + "it is not a valid ONNX model: its bytes do not parse as an ONNX "
                + "ModelProto (a truncated or corrupted file, or another format); expected a serialized .onnx model");
    assertClean(e, artifact);
  }

  @Test
  void emptyFileIsReportedAsAModelWithoutAGraph() throws Exception {
    Path file =
        Files.write(
            Files.createDirectories(tmp.resolve("files")).resolve("model.onnx"), new byte[0]);
    ArtifactLocation artifact = new ArtifactLocation(tmp, file);

    ModelLoadException e = refusal(artifact);

    assertThat(e.getMessage())
        .isEqualTo(
            PREFIX
                + "it is not a valid ONNX model: it has no graph (an empty or "
                + "truncated file, or another format); expected a serialized .onnx model");
    assertClean(e, artifact);
  }

  private ModelLoadException refusal(ArtifactLocation artifact) {
    ModelLoadException e =
        catchThrowableOfType(ModelLoadException.class, () -> engine.open(artifact).close());
    assertThat(e).as("opening %s", artifact.modelFile()).isNotNull();
    LOG.info("{}", e.getMessage());
    return e;
  }

  private static void assertClean(ModelLoadException e, ArtifactLocation artifact) {
    assertThat(e)
        .isExactlyInstanceOf(ModelLoadException.class)
        .isNotInstanceOf(UnsafeModelException.class);
    assertThat(e.getCause()).isInstanceOf(OrtException.class);
    assertThat(e.getCause().getMessage()).startsWith("Error code - ORT_");
    assertThat(e.getMessage())
        .doesNotContain(artifact.directory().toString())
        .doesNotContain(artifact.modelFile().toAbsolutePath().toString())
        .doesNotContain("Error code - ORT_")
        .doesNotContain("Load model from")
        .doesNotContainPattern("\\.(cc|h):\\d")
        .doesNotContain("onnxruntime::")
        .doesNotContain("\n");
  }
}
