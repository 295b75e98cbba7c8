package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.PredictionException;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.Tensor;
import dev.mlops.api.TensorSpec;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.runtime.testing.Graphs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link PredictorBuilder#maxOutputBytes}: what it counts, its default, and its option rules. */
class OutputCapTest {

  private static final AuditInfo CI = AuditInfo.by("ci", "test");

  @TempDir Path tmp;

  private static Map<String, Tensor> shape(long rows, long cols) {
    return Map.of("shape", Tensor.ofLongs(new long[] {rows, cols}, 2));
  }

  @Test
  void theOutputsOfOneRunAreCountedTogetherAtTheirNativeElementSize() {
    Path model = Graphs.copy("two-constants.onnx", tmp);
    try (Mlops mlops = Mlops.builder().localRegistry(tmp.resolve("registry")).build()) {
      mlops
          .registry()
          .register(Registration.builder("two", ArtifactSource.file(model)).build(), CI);
      // a: float32[2,5] = 40 bytes; b: int64[2,5] = 80 bytes; 120 together.
      Predictor<Map<String, Tensor>, Map<String, Tensor>> exact =
          mlops
              .newPredictor(ModelRef.parse("models:/two/1"), Codecs.tensors())
              .maxOutputBytes(120)
              .build();
      Map<String, Tensor> out = exact.predict(shape(2, 5)).value();
      assertThat(out.get("a")).isEqualTo(Tensor.ofFloats(filled(10, 1f), 2, 5));
      assertThat(out.get("b")).isEqualTo(Tensor.ofLongs(filled(10, 2L), 2, 5));

      Predictor<Map<String, Tensor>, Map<String, Tensor>> under =
          mlops
              .newPredictor(ModelRef.parse("models:/two/1"), Codecs.tensors())
              .maxOutputBytes(119)
              .build();
      assertThatThrownBy(() -> under.predict(shape(2, 5)))
          .isExactlyInstanceOf(PredictionException.class)
          .hasMessage(
              "output 'b' is int64[2,5] (80 bytes; 120 with the outputs before it), but the outputs"
                  + " of one run may hold at most 119 bytes (maxOutputBytes); nothing was copied"
                  + " into the Java heap. Raise the predictor's maxOutputBytes if the model's"
                  + " outputs are meant to be this large");
      // Empty outputs hold nothing.
      Predictor<Map<String, Tensor>, Map<String, Tensor>> empty =
          mlops
              .newPredictor(ModelRef.parse("models:/two/1"), Codecs.tensors())
              .maxOutputBytes(1)
              .build();
      assertThat(empty.predict(shape(0, 1L << 40)).value().get("b").shape())
          .containsExactly(0, 1L << 40);
    }
  }

  @Test
  void theDefaultIs256MiB() {
    assertThat(ModelSession.DEFAULT_MAX_OUTPUT_BYTES).isEqualTo(268_435_456L);
    Path model = Graphs.copy("constant-of-shape.onnx", tmp);
    try (Mlops mlops = Mlops.builder().localRegistry(tmp.resolve("registry")).build()) {
      mlops
          .registry()
          .register(Registration.builder("cos", ArtifactSource.file(model)).build(), CI);
      Predictor<Map<String, Tensor>, Map<String, Tensor>> p =
          mlops.predictor("models:/cos/1", Codecs.tensors());
      // 8192 x 8192 float32 is exactly 256 MiB; one more row is past it.
      assertThat(p.predict(shape(8192, 8192)).value().get("y").shape()).containsExactly(8192, 8192);
      assertThatThrownBy(() -> p.predict(shape(8193, 8192)))
          .isExactlyInstanceOf(PredictionException.class)
          .hasMessageStartingWith(
              "output 'y' is float32[8193,8192] (268468224 bytes), but the outputs of one run may"
                  + " hold at most 268435456 bytes (maxOutputBytes)");
    }
  }

  @Test
  void theOptionIsSetOnceAndPositive() {
    try (Mlops mlops = Mlops.builder().localRegistry(tmp.resolve("registry")).build()) {
      PredictorBuilder<float[], float[]> b =
          mlops.newPredictor(ModelRef.parse("models:/tiny/1"), Codecs.floatRow());
      assertThatThrownBy(() -> b.maxOutputBytes(0))
          .isExactlyInstanceOf(IllegalArgumentException.class)
          .hasMessage("maxOutputBytes must be >= 1 but was 0");
      b.maxOutputBytes(10);
      assertThatThrownBy(() -> b.maxOutputBytes(20))
          .isExactlyInstanceOf(IllegalStateException.class)
          .hasMessage("maxOutputBytes: already set");
    }
  }

  @Test
  void theSpiDefaultMeasuresWhatAnEngineWithoutItsOwnCheckReturned() {
    ModelSignature signature =
        new ModelSignature(
            List.of(new TensorSpec("x", dev.mlops.api.ElementType.FLOAT, List.of(1L))),
            List.of(
                new TensorSpec("y", dev.mlops.api.ElementType.BOOL, List.of(3L)),
                new TensorSpec("z", dev.mlops.api.ElementType.STRING, List.of(2L))));
    ModelSession session =
        new ModelSession() {
          @Override
          public ModelSignature signature() {
            return signature;
          }

          @Override
          public Map<String, Tensor> run(Map<String, Tensor> inputs) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            out.put("y", Tensor.ofBooleans(new boolean[] {true, false, true}, 3));
            out.put("z", Tensor.ofStrings(new String[] {"a", "b"}, 2));
            return out;
          }

          @Override
          public void close() {}
        };
    Map<String, Tensor> in = Map.of("x", Tensor.ofFloats(new float[] {1}, 1));
    Set<String> both = Set.of("y", "z");
    // bool counts 1 byte, a string 8: 3 + 16 = 19.
    assertThat(session.run(in, both, null, 19)).containsOnlyKeys("y", "z");
    assertThatThrownBy(() -> session.run(in, both, Duration.ofSeconds(1), 18))
        .isExactlyInstanceOf(PredictionException.class)
        .hasMessage(
            "output 'z' is string[2] (16 bytes; 19 with the outputs before it), but the outputs of"
                + " one run may hold at most 18 bytes (maxOutputBytes). Raise the predictor's"
                + " maxOutputBytes if the model's outputs are meant to be this large");
    assertThatThrownBy(() -> session.run(in, both, null, -1))
        .isExactlyInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxOutputBytes must be >= 0 but was -1");
  }

  private static float[] filled(int n, float v) {
    float[] a = new float[n];
    java.util.Arrays.fill(a, v);
    return a;
  }

  private static long[] filled(int n, long v) {
    long[] a = new long[n];
    java.util.Arrays.fill(a, v);
    return a;
  }
}
