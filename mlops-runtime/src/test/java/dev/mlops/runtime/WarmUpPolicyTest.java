package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.Tensor;
import dev.mlops.api.WarmUpPolicy;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.spi.InferenceEngine;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.runtime.onnx.OnnxRuntimeEngine;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.testing.CapturedLogs;
import dev.mlops.runtime.testing.Graphs;
import dev.mlops.runtime.validation.ChildJvmValidator;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.event.Level;

/**
 * Valid models that synthetic warm-up inputs (zeros, every dynamic dimension 1) cannot run, because
 * an input is shape-like: they are served, with outputs equal to raw ONNX Runtime's, under the
 * default best-effort policy, and refused only where the policy or a failing input example says so.
 */
class WarmUpPolicyTest {

  private static final AuditInfo CI = AuditInfo.by("ci", "test");

  @TempDir Path tmp;
  private final List<LifecycleEvent> events = new CopyOnWriteArrayList<>();

  /** A graph and inputs it runs correctly on, while the synthetic ones fail. */
  record Case(String file, Map<String, Tensor> inputs, String synthetic) {}

  static Stream<Arguments> shapeLikeInputs() {
    return Stream.of(
        named(
            new Case(
                "pad-reflect.onnx",
                Map.of("x", Tensor.ofFloats(new float[] {1, 2, 3}, 1, 3)),
                "x:float32[1,1]")),
        named(
            new Case(
                "slice-step.onnx",
                Map.of(
                    "x",
                    Tensor.ofFloats(range(16), 2, 8),
                    "steps",
                    Tensor.ofLongs(new long[] {3}, 1)),
                "x:float32[1,8], steps:int64[1]")),
        named(
            new Case(
                "reshape-shape.onnx",
                Map.of(
                    "x",
                    Tensor.ofFloats(range(12), 2, 6),
                    "shape",
                    Tensor.ofLongs(new long[] {3, 2, 2}, 3)),
                "x:float32[1,6], shape:int64[3]")),
        named(
            new Case(
                "resize-scales.onnx",
                Map.of(
                    "x", Tensor.ofFloats(new float[] {1, 2, 3, 4}, 1, 1, 2, 2),
                    "scales", Tensor.ofFloats(new float[] {1, 1, 2, 3}, 4)),
                "x:float32[1,1,1,1], scales:float32[4]")),
        named(
            new Case(
                "mod-int.onnx",
                Map.of(
                    "a",
                    Tensor.ofLongs(new long[] {7, -7, 9, 10}, 4),
                    "b",
                    Tensor.ofLongs(new long[] {3, 3, -4, 5}, 4)),
                "a:int64[1], b:int64[1]")));
  }

  private static Arguments named(Case c) {
    return Arguments.of(Named.of(c.file(), c));
  }

  private static float[] range(int n) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = i * 0.5f - 1;
    }
    return out;
  }

  @BeforeEach
  void clearLogs() {
    CapturedLogs.clear();
  }

  private Mlops runtime(WarmUpPolicy policy) {
    Mlops.Builder b = Mlops.builder().localRegistry(tmp.resolve("registry"));
    if (policy != null) {
      b.warmUp(policy);
    }
    Mlops mlops = b.build();
    mlops.addListener(events::add);
    return mlops;
  }

  private static List<CapturedLogs.Line> warmUpWarnings() {
    return CapturedLogs.lines(Level.WARN, "dev.mlops").stream()
        .filter(l -> l.message().contains("warm-up"))
        .toList();
  }

  @ParameterizedTest
  @MethodSource("shapeLikeInputs")
  void servedWithoutAnInputExampleLikeRawOnnxRuntimeAfterOneWarning(Case c) {
    Path file = Graphs.copy(c.file(), tmp);
    try (Mlops mlops = runtime(null)) {
      mlops.registry().register(Registration.builder("m", ArtifactSource.file(file)).build(), CI);
      // The alias check proves the version loads; it does not need the synthetic run to pass.
      mlops.registry().setAlias("m", "production", 1, CI);
      Predictor<Map<String, Tensor>, Map<String, Tensor>> p =
          mlops.predictor("models:/m@production", Codecs.tensors());

      assertThat(p.predict(c.inputs()).value()).isEqualTo(Graphs.runRaw(file, c.inputs()));

      assertThat(warmUpWarnings())
          .singleElement()
          .satisfies(
              l ->
                  assertThat(l.message())
                      .startsWith(
                          "warm-up of models:/m/1 on synthetic zeros (\"\" for strings, false for booleans) with every"
                              + " dynamic dimension set to 1: "
                              + c.synthetic()
                              + " failed: ")
                      .contains("it serves anyway")
                      .contains("Registration.Builder.inputExample"));
      assertThat(events)
          .filteredOn(e -> e instanceof LifecycleEvent.WarmUpFailed)
          .singleElement()
          .satisfies(
              e -> assertThat(((LifecycleEvent.WarmUpFailed) e).inputs()).endsWith(c.synthetic()));
      assertThat(events).noneMatch(e -> e instanceof LifecycleEvent.ModelLoadFailed);
      assertThat(mlops.registry().auditLog()).noneMatch(a -> a.action() == AuditAction.LOAD_FAILED);

      // A second predictor shares the loaded session: no second load, no second warning.
      try (Predictor<Map<String, Tensor>, Map<String, Tensor>> again =
          mlops.predictor("models:/m/1", Codecs.tensors())) {
        assertThat(again.predict(c.inputs()).value()).isEqualTo(Graphs.runRaw(file, c.inputs()));
      }
      assertThat(warmUpWarnings()).hasSize(1);
      assertThat(mlops.sessionStats().opened()).isEqualTo(1);
    }
  }

  @ParameterizedTest
  @MethodSource("shapeLikeInputs")
  void requiringAnInputExampleRefusesAVersionWithoutOneAndServesOneWithIt(Case c) {
    Path file = Graphs.copy(c.file(), tmp);
    try (Mlops mlops = runtime(WarmUpPolicy.REQUIRE_INPUT_EXAMPLE)) {
      mlops.registry().register(Registration.builder("m", ArtifactSource.file(file)).build(), CI);
      assertThatThrownBy(() -> mlops.predictor("models:/m/1", Codecs.tensors()))
          .isInstanceOf(ModelLoadException.class)
          .hasMessage(
              "models:/m/1 has no input example, but the warm-up policy REQUIRE_INPUT_EXAMPLE needs one;"
                  + " register the version with Registration.Builder.inputExample(...) or use WarmUpPolicy.BEST_EFFORT");
      assertThatThrownBy(() -> mlops.registry().setAlias("m", "production", 1, CI))
          .isInstanceOf(ModelLoadException.class)
          .hasMessageContaining("the warm-up policy REQUIRE_INPUT_EXAMPLE needs one");
      assertThat(mlops.registry().aliases("m")).isEmpty();

      mlops
          .registry()
          .register(
              Registration.builder("m", ArtifactSource.file(file)).inputExample(c.inputs()).build(),
              CI);
      Predictor<Map<String, Tensor>, Map<String, Tensor>> p =
          mlops.predictor("models:/m/2", Codecs.tensors());
      assertThat(p.predict(c.inputs()).value()).isEqualTo(Graphs.runRaw(file, c.inputs()));
      assertThat(warmUpWarnings()).isEmpty();
      assertThat(mlops.sessionStats().opened()).isEqualTo(1);
    }
  }

  @Test
  void aRegistrationWhoseInputExampleFailsIsRefused() {
    Path file = Graphs.copy("slice-step.onnx", tmp);
    Map<String, Tensor> zeroStep =
        Map.of("x", Tensor.ofFloats(range(8), 1, 8), "steps", Tensor.ofLongs(new long[] {0}, 1));
    try (Mlops mlops = runtime(null)) {
      assertThatThrownBy(
              () ->
                  mlops
                      .registry()
                      .register(
                          Registration.builder("m", ArtifactSource.file(file))
                              .inputExample(zeroStep)
                              .build(),
                          CI))
          .isInstanceOf(ModelLoadException.class)
          .hasMessageStartingWith(
              "cannot register "
                  + file
                  + " as a new version of models:/m: warm-up of the new"
                  + " version with its input example failed: ")
          .hasMessageContaining("'step' value cannot be 0");
      assertThat(mlops.registry().models()).isEmpty();
    }
  }

  @Test
  void aVersionWhoseInputExampleFailsAtLoadDoesNotLoad() {
    // Registered through an engine whose sessions never run (so the registration's own run of the
    // example passes), then loaded by a runtime on real ONNX Runtime, which runs the example.
    Path file = Graphs.copy("slice-step.onnx", tmp);
    Map<String, Tensor> zeroStep =
        Map.of("x", Tensor.ofFloats(range(8), 1, 8), "steps", Tensor.ofLongs(new long[] {0}, 1));
    try (OnnxRuntimeEngine real = new OnnxRuntimeEngine();
        GovernedRegistry registry =
            LocalModelRegistry.builder(tmp.resolve("registry")).engine(new NoRun(real)).build()) {
      registry.register(
          Registration.builder("m", ArtifactSource.file(file)).inputExample(zeroStep).build(), CI);
    }
    try (Mlops mlops = runtime(null)) {
      assertThatThrownBy(() -> mlops.predictor("models:/m/1", Codecs.tensors()))
          .isInstanceOf(ModelLoadException.class)
          .hasMessageStartingWith("warm-up of models:/m/1 with its input example failed: ")
          .hasMessageContaining("'step' value cannot be 0");
      assertThat(events).filteredOn(e -> e instanceof LifecycleEvent.ModelLoadFailed).hasSize(1);
      assertThat(mlops.registry().auditLog())
          .filteredOn(a -> a.action() == AuditAction.LOAD_FAILED)
          .singleElement()
          .satisfies(a -> assertThat(a.details()).containsEntry("version", "1"));
      assertThat(mlops.sessionStats().opened()).isZero();
    }
  }

  @Test
  void noneRunsNothingAndAPredictorAskingForMoreWarmsTheSharedSessionUp() {
    Path file = Graphs.copy("pad-reflect.onnx", tmp);
    Map<String, Tensor> row = Map.of("x", Tensor.ofFloats(new float[] {1, 2, 3}, 1, 3));
    try (Mlops mlops = runtime(WarmUpPolicy.NONE)) {
      mlops.registry().register(Registration.builder("m", ArtifactSource.file(file)).build(), CI);
      Predictor<Map<String, Tensor>, Map<String, Tensor>> quiet =
          mlops.predictor("models:/m/1", Codecs.tensors());
      assertThat(quiet.predict(row).value()).isEqualTo(Graphs.runRaw(file, row));
      assertThat(warmUpWarnings()).isEmpty();
      assertThat(events).noneMatch(e -> e instanceof LifecycleEvent.WarmUpFailed);

      Predictor<Map<String, Tensor>, Map<String, Tensor>> eager =
          mlops
              .newPredictor(dev.mlops.api.ModelRef.parse("models:/m/1"), Codecs.tensors())
              .warmUp(WarmUpPolicy.BEST_EFFORT)
              .build();
      assertThat(eager.predict(row).value()).isEqualTo(Graphs.runRaw(file, row));
      assertThat(warmUpWarnings()).hasSize(1);
      assertThat(events).filteredOn(e -> e instanceof LifecycleEvent.WarmUpFailed).hasSize(1);
      assertThat(mlops.sessionStats().opened())
          .as("one session, warmed up when the stricter predictor came")
          .isEqualTo(1);
    }
  }

  @Test
  void theChildJvmAppliesTheSamePolicy() {
    Path file = Graphs.copy("pad-reflect.onnx", tmp);
    ArtifactLocation location = new ArtifactLocation(tmp, file);
    // Best effort (the default): the synthetic failure does not refuse the model, as in-process.
    ChildJvmValidator.defaults().validate(location);
    assertThatThrownBy(
            () ->
                ChildJvmValidator.builder()
                    .warmUp(WarmUpPolicy.REQUIRE_INPUT_EXAMPLE)
                    .build()
                    .validate(location))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining(
            "has no input example, but the warm-up policy REQUIRE_INPUT_EXAMPLE needs one");

    try (Mlops mlops =
        Mlops.builder()
            .registry(
                LocalModelRegistry.builder(tmp.resolve("registry"))
                    .validateInChildJvm(ChildJvmValidator.defaults())
                    .build())
            .build()) {
      mlops.registry().register(Registration.builder("m", ArtifactSource.file(file)).build(), CI);
      Map<String, Tensor> row = Map.of("x", Tensor.ofFloats(new float[] {1, 2, 3}, 1, 3));
      assertThat(mlops.predictor("models:/m/1", Codecs.tensors()).predict(row).value())
          .isEqualTo(Graphs.runRaw(file, row));
      mlops.registry().close();
    }
  }

  /**
   * The real engine, with sessions whose runs return nothing: registration cannot run an example.
   */
  private static final class NoRun implements InferenceEngine {
    private final InferenceEngine real;

    NoRun(InferenceEngine real) {
      this.real = real;
    }

    @Override
    public String name() {
      return "no-run";
    }

    @Override
    public ModelSession open(ArtifactLocation artifact) {
      ModelSession s = real.open(artifact);
      return new ModelSession() {
        @Override
        public dev.mlops.api.ModelSignature signature() {
          return s.signature();
        }

        @Override
        public Map<String, Tensor> run(Map<String, Tensor> inputs) {
          return Map.of();
        }

        @Override
        public void close() {
          s.close();
        }
      };
    }

    @Override
    public void close() {}
  }
}
