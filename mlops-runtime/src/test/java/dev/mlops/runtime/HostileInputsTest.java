package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.InvalidInputException;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.PredictionException;
import dev.mlops.api.PredictionTimeoutException;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.RegistryException;
import dev.mlops.api.Tensor;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.testing.Decoys;
import dev.mlops.runtime.testing.Graphs;
import dev.mlops.testmodels.TestModels;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Small hostile inputs (a registry file, an input example, a model, a call) get a typed error,
 * never a {@link StackOverflowError} or {@link OutOfMemoryError}, and the JVM goes on serving.
 */
class HostileInputsTest {

  private static final AuditInfo CI = AuditInfo.by("ci", "test");

  /** float32[1,4] -> float32[1,2]. */
  private static final float[] ROW = {1, 2, 3, 4};

  @TempDir Path tmp;
  private Decoys decoys;

  @BeforeEach
  void decoys() {
    decoys = Decoys.in(tmp.resolve("outside"));
  }

  @AfterEach
  void nothingOutsideChanged() {
    decoys.assertUntouched();
  }

  private Path registryRoot() {
    return tmp.resolve("registry");
  }

  private void registerTiny(Mlops mlops, Map<String, Tensor> example) {
    Registration.Builder b =
        Registration.builder("tiny", ArtifactSource.file(TestModels.copy(TestModels.TINY, tmp)));
    if (example != null) {
      b.inputExample(example);
    }
    mlops.registry().register(b.build(), CI);
  }

  /** An 8 KB JSON text nested 4,000 deep. */
  private static String deeplyNested() {
    return "[".repeat(4000) + "]".repeat(4000);
  }

  /** Proves the JVM still serves: a fresh runtime loads tiny and predicts. */
  private void stillServes() {
    Path dir = tmp.resolve("after-" + System.nanoTime());
    try (Mlops mlops = Mlops.builder().localRegistry(dir).build()) {
      mlops
          .registry()
          .register(
              Registration.builder(
                      "tiny", ArtifactSource.file(TestModels.copy(TestModels.TINY, dir)))
                  .build(),
              CI);
      assertThat(mlops.predictor("models:/tiny/1", Codecs.floatRow()).predict(ROW).value())
          .hasSize(2);
    }
  }

  // ------------------------------------------------------------------ registry files

  @Test
  void aDeeplyNestedStateFileIsADamagedRegistryNotAStackOverflow() throws IOException {
    try (Mlops mlops = Mlops.builder().localRegistry(registryRoot()).build()) {
      registerTiny(mlops, null);
      mlops.registry().setAlias("tiny", "production", 1, CI);
    }
    Path state = registryRoot().resolve("models/tiny/state.json");
    Files.writeString(state, deeplyNested());
    assertThat(Files.size(state)).isEqualTo(8000);
    String damaged =
        "registry state file "
            + state.toAbsolutePath().normalize()
            + " is damaged: malformed JSON at offset 64: arrays and objects nested deeper than 64";

    try (Mlops mlops = Mlops.builder().localRegistry(registryRoot()).build()) {
      assertThatThrownBy(() -> mlops.registry().aliases("tiny"))
          .isExactlyInstanceOf(RegistryException.class)
          .hasMessage(damaged);
      assertThatThrownBy(() -> mlops.registry().setAlias("tiny", "canary", 1, CI))
          .isExactlyInstanceOf(RegistryException.class)
          .hasMessage(damaged);
      assertThatThrownBy(() -> mlops.predictor("models:/tiny@production", Codecs.floatRow()))
          .isExactlyInstanceOf(RegistryException.class)
          .hasMessage(damaged);
    }
    stillServes();
  }

  @Test
  void aDeeplyNestedVersionFileIsUnreadableMetadataNotAStackOverflow() throws IOException {
    try (Mlops mlops = Mlops.builder().localRegistry(registryRoot()).build()) {
      registerTiny(mlops, null);
    }
    Path version = registryRoot().resolve("models/tiny/1/version.json");
    Files.writeString(version, deeplyNested());

    try (Mlops mlops = Mlops.builder().localRegistry(registryRoot()).build()) {
      assertThatThrownBy(() -> mlops.predictor("models:/tiny/1", Codecs.floatRow()))
          .isExactlyInstanceOf(RegistryException.class)
          .hasMessage(
              "cannot read metadata of models:/tiny/1 from "
                  + version.toAbsolutePath().normalize()
                  + ": java.lang.IllegalArgumentException: malformed JSON at offset 64: arrays and"
                  + " objects nested deeper than 64");
    }
    stillServes();
  }

  @Test
  void aDeeplyNestedAuditLineIsADamagedAuditLogNotAStackOverflow() throws IOException {
    try (Mlops mlops = Mlops.builder().localRegistry(registryRoot()).build()) {
      registerTiny(mlops, null);
    }
    Path log = registryRoot().resolve("audit.log");
    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    // A damaged line in the middle: only a torn last line is skipped.
    lines.add(0, deeplyNested());
    Files.write(log, lines, StandardCharsets.UTF_8);

    try (GovernedRegistry registry = LocalModelRegistry.open(registryRoot())) {
      assertThatThrownBy(registry::auditLog)
          .isExactlyInstanceOf(RegistryException.class)
          .hasMessage(
              "audit log "
                  + log.toAbsolutePath().normalize()
                  + " line 1 is damaged: malformed JSON at offset 64: arrays and objects nested"
                  + " deeper than 64");
    }
    stillServes();
  }

  // ------------------------------------------------------------------ input examples

  /** The 46-byte example file that declares x float32[rows,cols] and holds one float. */
  private static byte[] shortExample(long rows, long cols) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(0x4d4c5453);
      out.writeInt(1);
      out.writeInt(1);
      out.writeUTF("x");
      out.writeUTF("FLOAT");
      out.writeInt(2);
      out.writeLong(rows);
      out.writeLong(cols);
      out.writeFloat(1f);
    }
    return bytes.toByteArray();
  }

  @Test
  void anInputExampleDeclaringAHugeTensorIsRefusedByItsDigestBeforeItIsParsed() throws IOException {
    try (Mlops mlops = Mlops.builder().localRegistry(registryRoot()).build()) {
      registerTiny(mlops, Map.of("x", Tensor.ofFloats(ROW, 1, 4)));
    }
    Path example = registryRoot().resolve("models/tiny/1/input-example.bin");
    byte[] hostile = shortExample(32768, 32768);
    assertThat(hostile).hasSize(46);
    Files.write(example, hostile);

    // The REGISTER entry records the example's digest; the parser's own limits (TensorIoLimitsTest)
    // stand behind it.
    try (Mlops mlops = Mlops.builder().localRegistry(registryRoot()).build()) {
      assertThatThrownBy(() -> mlops.predictor("models:/tiny/1", Codecs.floatRow()))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining("the input example of models:/tiny/1 is not the one registered")
          .hasMessageContaining("the stored example (46 bytes)");
      assertThatThrownBy(
              () ->
                  mlops
                      .registry()
                      .inputExample(mlops.registry().get(ModelRef.parse("models:/tiny/1"))))
          .isExactlyInstanceOf(IntegrityException.class);
    }
    stillServes();
  }

  @Test
  void anInputExampleAddedToAVersionRegisteredWithoutOneIsIgnored() throws IOException {
    try (Mlops mlops = Mlops.builder().localRegistry(registryRoot()).build()) {
      registerTiny(mlops, null);
    }
    Path version = registryRoot().resolve("models/tiny/1");
    Files.write(version.resolve("input-example.bin"), shortExample(32768, 32768));
    Path json = version.resolve("version.json");
    String edited =
        Files.readString(json).replaceFirst("(\"hasInputExample\"\\s*:\\s*)false", "$1true");
    assertThat(edited).isNotEqualTo(Files.readString(json));
    Files.writeString(json, edited);

    try (Mlops mlops = Mlops.builder().localRegistry(registryRoot()).build()) {
      ModelVersion v = mlops.registry().get(ModelRef.parse("models:/tiny/1"));
      assertThat(v.hasInputExample()).isTrue();
      // Nothing vouches for the added bytes: they are neither parsed nor run.
      assertThat(mlops.registry().inputExample(v)).isEmpty();
      assertThat(mlops.predictor("models:/tiny/1", Codecs.floatRow()).predict(ROW).value())
          .hasSize(2);
    }
    stillServes();
  }

  // ------------------------------------------------------------------ outputs

  private static Map<String, Tensor> shape(long rows, long cols) {
    return Map.of("shape", Tensor.ofLongs(new long[] {rows, cols}, 2));
  }

  @Test
  void anOutputPastTheCapFailsTheCallBeforeItReachesTheHeap() {
    Path model = Graphs.copy("constant-of-shape.onnx", tmp);
    try (Mlops mlops = Mlops.builder().localRegistry(registryRoot()).build()) {
      mlops
          .registry()
          .register(Registration.builder("cos", ArtifactSource.file(model)).build(), CI);
      Predictor<Map<String, Tensor>, Map<String, Tensor>> p =
          mlops.predictor("models:/cos/1", Codecs.tensors());

      assertThatThrownBy(() -> p.predict(shape(16384, 16384)))
          .isExactlyInstanceOf(PredictionException.class)
          .hasMessage(
              "output 'y' is float32[16384,16384] (1073741824 bytes), but the outputs of one run may"
                  + " hold at most 268435456 bytes (maxOutputBytes); nothing was copied into the"
                  + " Java heap. Raise the predictor's maxOutputBytes if the model's outputs are"
                  + " meant to be this large");
      // The same predictor serves outputs within the cap.
      assertThat(p.predict(shape(2, 3)).value().get("y"))
          .isEqualTo(Tensor.ofFloats(new float[] {1, 1, 1, 1, 1, 1}, 2, 3));

      Predictor<Map<String, Tensor>, Map<String, Tensor>> small =
          mlops
              .newPredictor(ModelRef.parse("models:/cos/1"), Codecs.tensors())
              .maxOutputBytes(24)
              .build();
      assertThat(small.predict(shape(2, 3)).value().get("y").shape()).containsExactly(2, 3);
      assertThatThrownBy(() -> small.predict(shape(5, 5)))
          .isExactlyInstanceOf(PredictionException.class)
          .hasMessageStartingWith(
              "output 'y' is float32[5,5] (100 bytes), but the outputs of one run may hold at most"
                  + " 24 bytes (maxOutputBytes)");
    }
    stillServes();
  }

  @Test
  void aRunThatUsesUpItsDeadlineFailsAsATimeoutBeforeItsOutputIsCopied() {
    Path model = Graphs.copy("constant-of-shape.onnx", tmp);
    // A ticker that stands still, so that the engine run gets the call's whole timeout.
    try (Mlops mlops = Mlops.builder().localRegistry(registryRoot()).ticker(() -> 0L).build()) {
      mlops
          .registry()
          .register(Registration.builder("cos", ArtifactSource.file(model)).build(), CI);
      // A cap that lets the output through: only the deadline stands between it and the heap.
      Predictor<Map<String, Tensor>, Map<String, Tensor>> p =
          mlops
              .newPredictor(ModelRef.parse("models:/cos/1"), Codecs.tensors())
              .maxOutputBytes(1L << 30)
              .build();
      assertThatThrownBy(() -> p.predict(shape(8192, 8200), Duration.ofMillis(50)))
          .isExactlyInstanceOf(PredictionTimeoutException.class)
          .hasMessage(
              "the ONNX Runtime run passed its deadline of PT0.05S before its outputs were copied");
    }
    stillServes();
  }

  @Test
  void anEmptyInputWithAHugeDimensionIsRefusedBeforeTheEngine() {
    Path model = Graphs.copy("reduce-sum.onnx", tmp);
    try (Mlops mlops = Mlops.builder().localRegistry(registryRoot()).build()) {
      mlops
          .registry()
          .register(Registration.builder("sum", ArtifactSource.file(model)).build(), CI);
      Predictor<Map<String, Tensor>, Map<String, Tensor>> p =
          mlops
              .newPredictor(ModelRef.parse("models:/sum/1"), Codecs.tensors())
              .allowEmptyTensors()
              .build();
      Map<String, Tensor> hostile = Map.of("x", Tensor.ofFloats(new float[0], 0, 1L << 28));
      assertThatThrownBy(() -> p.predict(hostile))
          .isExactlyInstanceOf(InvalidInputException.class)
          .hasMessage(
              "input 'x': expected float32[?,?] with no dimension larger than 16777216 (a"
                  + " predictor's maxInputElements bounds every dimension, those of empty tensors"
                  + " too) but found float32[0,268435456]");
      // An empty input within the bound still reaches the engine.
      assertThat(p.predict(Map.of("x", Tensor.ofFloats(new float[0], 0, 3))).value().get("y"))
          .isEqualTo(Tensor.ofFloats(new float[3], 1, 3));
    }
    stillServes();
  }

  @Test
  void aModelWhoseWarmUpOutputIsHugeLoadsAndFailsEachCallWithATypedError() {
    Path model = Graphs.copy("expand-const.onnx", tmp);
    List<LifecycleEvent> events = new CopyOnWriteArrayList<>();
    try (Mlops mlops = Mlops.builder().localRegistry(registryRoot()).build()) {
      mlops.addListener(events::add);
      mlops.registry().register(Registration.builder("ex", ArtifactSource.file(model)).build(), CI);
      Predictor<Map<String, Tensor>, Map<String, Tensor>> p =
          mlops.predictor("models:/ex/1", Codecs.tensors());
      String tooLarge =
          "output 'y' is float32[8192,8200] (268697600 bytes), but the outputs of one run may"
              + " hold at most 268435456 bytes (maxOutputBytes); nothing was copied into the Java"
              + " heap. Raise the predictor's maxOutputBytes if the model's outputs are meant to be"
              + " this large";
      assertThat(events)
          .filteredOn(e -> e instanceof LifecycleEvent.WarmUpFailed)
          .singleElement()
          .satisfies(
              e ->
                  assertThat(((LifecycleEvent.WarmUpFailed) e).cause())
                      .isExactlyInstanceOf(PredictionException.class)
                      .hasMessage(tooLarge));
      assertThatThrownBy(() -> p.predict(Map.of("x", Tensor.ofFloats(new float[] {2}, 1))))
          .isExactlyInstanceOf(PredictionException.class)
          .hasMessage(tooLarge);
    }
    stillServes();
  }
}
