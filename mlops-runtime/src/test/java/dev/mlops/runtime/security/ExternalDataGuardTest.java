package dev.mlops.runtime.security;

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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The external-data traversal suite: every way a model can point ONNX Runtime at a file it must not
 * read is refused before ONNX Runtime sees the model, and a legitimate external-data model still
 * loads and computes the right result.
 */
class ExternalDataGuardTest {

  @TempDir Path tmp;
  private Path art;
  private Path outside;
  private OnnxRuntimeEngine engine;

  @BeforeEach
  void artifactDirectoryAndASecretOutsideIt() throws Exception {
    art = Files.createDirectories(tmp.resolve("art"));
    Files.write(art.resolve("weights.bin"), ExternalDataModels.weightBytes());
    outside = Files.createDirectories(tmp.resolve("outside"));
    // Same size as the real weights, so that only the path rules can refuse it.
    Files.write(outside.resolve("secret.bin"), ExternalDataModels.weightBytes());
    Files.write(tmp.resolve("x"), ExternalDataModels.weightBytes());
    engine = new OnnxRuntimeEngine();
  }

  @AfterEach
  void closeEngine() {
    engine.close();
  }

  private ArtifactLocation write(byte[] model) throws Exception {
    Path file = Files.write(art.resolve("model.onnx"), model);
    return new ArtifactLocation(art, file);
  }

  private ArtifactLocation write(Placement where, String location, String offset, String length)
      throws Exception {
    return write(ExternalDataModels.of(where, location, offset, length).toBytes());
  }

  private static float[] run(ModelSession session) {
    Map<String, Tensor> out =
        session.run(Map.of("x", Tensor.ofFloats(new float[] {1, 2, 3, 10, 20, 30}, 2, 3)));
    return out.get("y").floats();
  }

  private static final float[] EXPECTED = {2.5f, 0f, 3.25f, 11.5f, 18f, 30.25f};

  // ------------------------------------------------------------------ legitimate use

  @ParameterizedTest
  @EnumSource(
      value = Placement.class,
      names = {"INITIALIZER", "CONSTANT"})
  void validExternalDataLoadsAndComputesWithTheExternalWeights(Placement where) throws Exception {
    ArtifactLocation loc = write(where, "weights.bin", "0", "12");

    assertThat(ExternalDataGuard.check(loc, List.of("model.onnx", "weights.bin")))
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.location()).isEqualTo("weights.bin");
              assertThat(r.path()).isEqualTo("weights.bin");
              assertThat(r.offset()).isZero();
              assertThat(r.length()).isEqualTo(OptionalLong.of(12));
            });
    try (ModelSession session = engine.open(loc)) {
      assertThat(run(session)).containsExactly(EXPECTED);
    }
  }

  @Test
  void validExternalDataInASubdirectoryAtAnOffsetWithoutLengthLoads() throws Exception {
    Path data = Files.createDirectories(art.resolve("data"));
    byte[] padded = new byte[16 + 12];
    System.arraycopy(ExternalDataModels.weightBytes(), 0, padded, 16, 12);
    Files.write(data.resolve("w.bin"), padded);
    ArtifactLocation loc = write(Placement.INITIALIZER, "./data//w.bin", "16", null);

    assertThat(ExternalDataGuard.check(loc))
        .extracting(ExternalDataGuard.Reference::path)
        .containsExactly("data/w.bin");
    try (ModelSession session = engine.open(loc)) {
      assertThat(run(session)).containsExactly(EXPECTED);
    }
  }

  @Test
  void aModelWithoutExternalDataHasNoReferences() throws Exception {
    ArtifactLocation loc =
        write(
            dev.mlops.testmodels.TestModels.bytes(
                dev.mlops.testmodels.TestModels.BREAST_CANCER_V2));
    assertThat(ExternalDataGuard.check(loc, List.of("model.onnx"))).isEmpty();
  }

  // ------------------------------------------------------------------ the traversal suite

  /** One bad reference: how to set it up, and words the refusal must contain. */
  private record Bad(Placement where, String location, String offset, String length, String rule) {}

  static Stream<Arguments> traversals() {
    return Stream.of(
        bad("dot-dot", Placement.INITIALIZER, "../x", "0", "12", "'..' segment"),
        bad(
            "dot-dot after a directory",
            Placement.INITIALIZER,
            "a/../../x",
            "0",
            "12",
            "'..' segment"),
        bad(
            "dot-dot that stays inside",
            Placement.INITIALIZER,
            "data/../weights.bin",
            "0",
            "12",
            "'..' segment"),
        bad("absolute path", Placement.INITIALIZER, "ABSOLUTE", "0", "12", "absolute path"),
        bad("drive letter", Placement.INITIALIZER, "C:/x", "0", "12", "absolute path"),
        bad("backslash traversal", Placement.INITIALIZER, "..\\x", "0", "12", "backslash"),
        bad("NUL byte", Placement.INITIALIZER, "weights.bin\0.txt", "0", "12", "NUL"),
        bad(
            "ORT memory-address marker",
            Placement.INITIALIZER,
            "*/_ORT_MEM_ADDR_/*",
            "0",
            "12",
            "in-memory address"),
        bad("empty location", Placement.INITIALIZER, "", "0", "12", "location is empty"),
        bad("no location", Placement.INITIALIZER, null, "0", "12", "names no location"),
        bad("missing file", Placement.INITIALIZER, "nope.bin", "0", "12", "does not exist"),
        bad("a directory", Placement.INITIALIZER, "data", "0", "12", "not a regular file"),
        bad(
            "offset past the end",
            Placement.INITIALIZER,
            "weights.bin",
            "13",
            null,
            "past the end"),
        bad("length past the end", Placement.INITIALIZER, "weights.bin", "4", "12", "past the end"),
        bad(
            "shape past the end without a length",
            Placement.INITIALIZER,
            "weights.bin",
            "4",
            null,
            "past the end"),
        bad(
            "length shorter than the shape",
            Placement.INITIALIZER,
            "weights.bin",
            "0",
            "8",
            "shorter than"),
        bad(
            "huge offset",
            Placement.INITIALIZER,
            "weights.bin",
            "9223372036854775807",
            "12",
            "past the end"),
        bad(
            "offset too large for a long",
            Placement.INITIALIZER,
            "weights.bin",
            "9999999999999999999",
            "1",
            "too large"),
        bad(
            "negative offset",
            Placement.INITIALIZER,
            "weights.bin",
            "-1",
            "12",
            "non-negative decimal"),
        bad(
            "hex offset",
            Placement.INITIALIZER,
            "weights.bin",
            "0x0",
            "12",
            "non-negative decimal"),
        bad(
            "negative length",
            Placement.INITIALIZER,
            "weights.bin",
            "0",
            "-12",
            "non-negative decimal"),
        bad(
            "in a Constant node attribute",
            Placement.CONSTANT,
            "../x",
            "0",
            "12",
            "node 'const' (Constant) attribute 'value'"),
        bad(
            "in the subgraph of an If node",
            Placement.IF_SUBGRAPH,
            "../x",
            "0",
            "12",
            "node 'if0' (If) attribute 'then_branch'"),
        bad(
            "in a Loop body inside an If branch",
            Placement.NESTED_SUBGRAPH,
            "../x",
            "0",
            "12",
            "attribute 'body'"),
        bad(
            "in a sparse initializer",
            Placement.SPARSE_INITIALIZER,
            "../x",
            "0",
            "12",
            "sparse initializer values"),
        bad("in a model-local function", Placement.FUNCTION, "../x", "0", "12", "function 'AddW'"));
  }

  private static Arguments bad(
      String name, Placement where, String location, String offset, String length, String rule) {
    return Arguments.of(Named.of(name, new Bad(where, location, offset, length, rule)));
  }

  @ParameterizedTest
  @MethodSource("traversals")
  void refusedByTheGuardAndByTheEngineBeforeOnnxRuntimeReadsIt(Bad bad) throws Exception {
    Files.createDirectories(art.resolve("data"));
    String location =
        "ABSOLUTE".equals(bad.location())
            ? outside.resolve("secret.bin").toString()
            : bad.location();
    ArtifactLocation loc = write(bad.where(), location, bad.offset(), bad.length());

    assertThatThrownBy(() -> ExternalDataGuard.check(loc, List.of("model.onnx", "weights.bin")))
        .isInstanceOf(UnsafeModelException.class)
        // Named as the user knows it, relative to the artifact, not by where a staging copy lies.
        .hasMessageStartingWith("model file model.onnx is refused: ")
        .hasMessageNotContaining(art.toString())
        .hasMessageContaining(bad.rule());
    // The engine runs the same check first, so the refusal keeps its type.
    assertThatThrownBy(() -> engine.open(loc))
        .isInstanceOf(UnsafeModelException.class)
        .hasMessageContaining(bad.rule());
  }

  @Test
  void symlinkedParentDirectoryIsRefused() throws Exception {
    Files.createSymbolicLink(art.resolve("linked"), outside);
    ArtifactLocation loc = write(Placement.INITIALIZER, "linked/secret.bin", "0", "12");

    assertThatThrownBy(() -> ExternalDataGuard.check(loc))
        .isInstanceOf(UnsafeModelException.class)
        .hasMessageContaining("initializer 'W'")
        .hasMessageContaining("'linked/secret.bin'")
        .hasMessageContaining("parent directory linked is a symbolic link");
    assertThatThrownBy(() -> engine.open(loc)).isInstanceOf(UnsafeModelException.class);
  }

  @Test
  void symlinkedFileIsRefused() throws Exception {
    Files.createSymbolicLink(art.resolve("w.bin"), outside.resolve("secret.bin"));
    ArtifactLocation loc = write(Placement.INITIALIZER, "w.bin", "0", "12");

    assertThatThrownBy(() -> ExternalDataGuard.check(loc))
        .isInstanceOf(UnsafeModelException.class)
        .hasMessageContaining("the file w.bin is a symbolic link");
    assertThatThrownBy(() -> engine.open(loc)).isInstanceOf(UnsafeModelException.class);
  }

  @Test
  void symlinkInsideTheDirectoryIsRefusedToo() throws Exception {
    Files.createSymbolicLink(art.resolve("alias.bin"), art.resolve("weights.bin"));
    ArtifactLocation loc = write(Placement.INITIALIZER, "alias.bin", "0", "12");

    assertThatThrownBy(() -> ExternalDataGuard.check(loc))
        .isInstanceOf(UnsafeModelException.class)
        .hasMessageContaining("symbolic link");
  }

  @Test
  void hardLinkToAFileOutsideIsRefused() throws Exception {
    Files.createLink(art.resolve("hard.bin"), outside.resolve("secret.bin"));
    ArtifactLocation loc = write(Placement.INITIALIZER, "hard.bin", "0", "12");

    assertThatThrownBy(() -> ExternalDataGuard.check(loc))
        .isInstanceOf(UnsafeModelException.class)
        .hasMessageContaining("'hard.bin'")
        .hasMessageContaining("2 hard links");
    assertThatThrownBy(() -> engine.open(loc)).isInstanceOf(UnsafeModelException.class);
  }

  @Test
  void fileNotInTheManifestIsRefusedEvenInsideTheDirectory() throws Exception {
    Files.write(art.resolve("planted.bin"), ExternalDataModels.weightBytes());
    ArtifactLocation loc = write(Placement.INITIALIZER, "planted.bin", "0", "12");

    assertThatThrownBy(() -> ExternalDataGuard.check(loc, Set.of("model.onnx", "weights.bin")))
        .isInstanceOf(UnsafeModelException.class)
        .hasMessageContaining("planted.bin is not in the version's manifest");
    // Without a manifest (an engine on its own), any plain file of the directory is allowed.
    assertThat(ExternalDataGuard.check(loc)).hasSize(1);
  }

  @Test
  void modelFileBehindASymlinkedDirectoryIsRefused() throws Exception {
    Files.write(
        outside.resolve("model.onnx"),
        ExternalDataModels.of(Placement.INITIALIZER, "secret.bin").toBytes());
    Files.createSymbolicLink(art.resolve("sub"), outside);
    ArtifactLocation loc = new ArtifactLocation(art, art.resolve("sub/model.onnx"));

    assertThatThrownBy(() -> ExternalDataGuard.check(loc))
        .isInstanceOf(UnsafeModelException.class)
        .hasMessageContaining("outside the artifact directory");
  }

  @Test
  void anOffsetSmuggledIntoASecondOccurrenceOfTheTensorIsMergedAndRefused() throws Exception {
    // Protobuf merges both occurrences into one tensor: weights.bin at offset 4096.
    ArtifactLocation loc =
        write(ExternalDataModels.constantSplitAcrossTwoOccurrences("weights.bin", "4096"));

    assertThatThrownBy(() -> ExternalDataGuard.check(loc))
        .isInstanceOf(UnsafeModelException.class)
        .hasMessageContaining("offset 4096 is past the end");
    assertThat(
            ExternalDataGuard.check(
                write(ExternalDataModels.constantSplitAcrossTwoOccurrences("weights.bin", "0"))))
        .singleElement()
        .satisfies(r -> assertThat(r.offset()).isZero());
  }

  @Test
  void everyLocationOfATensorIsChecked() throws Exception {
    // ONNX Runtime keeps the last 'location'; an earlier bad one must not pass unnoticed either.
    byte[] model = ExternalDataModels.of(Placement.INITIALIZER, "../x", "0", "12").toBytes();
    ArtifactLocation loc = write(model);
    assertThatThrownBy(() -> ExternalDataGuard.check(loc)).isInstanceOf(UnsafeModelException.class);
  }

  @Test
  void onnxRuntimeFormatModelsAreRefused() throws Exception {
    Path ort = Files.write(art.resolve("model.ort"), new byte[] {1, 2, 3});
    assertThatThrownBy(() -> ExternalDataGuard.check(new ArtifactLocation(art, ort)))
        .isInstanceOf(UnsafeModelException.class)
        .hasMessageContaining(".ort format");
  }

  @Test
  void malformedProtobufIsAModelLoadExceptionNamingTheFile() throws Exception {
    byte[] good = ExternalDataModels.of(Placement.INITIALIZER, "weights.bin").toBytes();
    ArtifactLocation truncated = write(java.util.Arrays.copyOf(good, good.length - 3));
    assertThatThrownBy(() -> ExternalDataGuard.check(truncated))
        .isExactlyInstanceOf(ModelLoadException.class)
        .hasMessageContaining("model.onnx is not a valid ONNX protobuf");
    ArtifactLocation badWire = write(new byte[] {0x0f});
    assertThatThrownBy(() -> ExternalDataGuard.check(badWire))
        .isExactlyInstanceOf(ModelLoadException.class)
        .hasMessageContaining("invalid wire type 7");
  }
}
