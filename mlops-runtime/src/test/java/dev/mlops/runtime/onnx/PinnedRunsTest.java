package dev.mlops.runtime.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ClosedException;
import dev.mlops.api.PredictionException;
import dev.mlops.api.Tensor;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pinned runs on real sessions: outputs learned on a run's second call and written in place by ONNX
 * Runtime after it, identical to what the public method gives; a model whose output shapes depend
 * on its input values; output caps, deadlines, failures and inputs that cannot be pinned; and both
 * ways into ONNX Runtime, its entry point and the public method.
 */
class PinnedRunsTest {

  @TempDir Path tmp;

  private OnnxRuntimeEngine engine;

  @AfterEach
  void tearDown() {
    if (engine != null) {
      engine.close();
    }
    System.clearProperty(DirectRun.PROPERTY);
  }

  /** The engine, with its sessions taking ONNX Runtime's entry point or the public method. */
  private OnnxRuntimeEngine engine(boolean direct) {
    if (direct) {
      System.clearProperty(DirectRun.PROPERTY);
    } else {
      System.setProperty(DirectRun.PROPERTY, "false");
    }
    engine = new OnnxRuntimeEngine();
    return engine;
  }

  private ModelSession open(String model) {
    Path file = TestModels.copy(model, tmp.resolve(model + "-" + System.nanoTime()));
    return engine.open(new ArtifactLocation(file.getParent(), file));
  }

  @Test
  void theEntryPointIsFoundOnTheBindingThisBuildPins() {
    // A new ONNX Runtime whose binding changed fails here, rather than running slower unseen.
    assertThat(DirectRun.enabled()).isTrue();
  }

  @Test
  void outputsAreLearnedOnARunsSecondCallThenWrittenInPlaceWithTheSameResults() {
    for (boolean direct : new boolean[] {true, false}) {
      engine(direct);
      try (ModelSession session = open(TestModels.TINY)) {
        for (int i = 0; i < 50; i++) {
          float[] x = {i, -i, 0.5f * i, 1};
          Map<String, Tensor> out = session.run(Map.of("x", Tensor.ofFloats(x, 1, 4)));
          assertThat(out.get("y").shape()).containsExactly(1, 2);
          assertThat(out.get("y").floats())
              .as("call %d, direct %s", i, direct)
              .containsExactly(TestModels.tinyOutput(x));
          if (i == 0) {
            // A run learns its outputs from its second call on: one used once makes none.
            assertThat(engine.pinnedTensors().made()).isEqualTo(1);
          }
        }
        // One thread, one shape: one run of one input tensor and one output tensor.
        assertThat(engine.pinnedTensors().made()).isEqualTo(2);
        assertThat(engine.pinnedTensors().closed()).isZero();
      }
      assertThat(engine.pinnedTensors().closed()).isEqualTo(2);
      engine.close();
    }
  }

  @Test
  void bothOutputsOfTheClassifierArePinnedAndMatchTheConvertedRun() {
    engine(true);
    float[][] rows = TestModels.breastCancerTestSet().features();
    try (ModelSession session = open(TestModels.BREAST_CANCER_V2)) {
      for (int i = 0; i < 40; i++) {
        float[] row = rows[i % rows.length];
        Map<String, Tensor> pinned = session.run(Map.of("features", Tensor.ofFloats(row, 1, 30)));
        // The same row twice: a second shape, with pinned runs of its own.
        float[] two = new float[60];
        System.arraycopy(row, 0, two, 0, 30);
        System.arraycopy(row, 0, two, 30, 30);
        Map<String, Tensor> pair = session.run(Map.of("features", Tensor.ofFloats(two, 2, 30)));
        assertThat(pinned.keySet())
            .containsExactlyElementsOf(
                session.signature().outputs().stream().map(o -> o.name()).toList());
        assertThat(pinned.get("label").longs()[0]).isEqualTo(pair.get("label").longs()[1]);
        float[] p = pinned.get("probabilities").floats();
        float[] q = pair.get("probabilities").floats();
        assertThat(new float[] {q[2], q[3]}).containsExactly(p);
      }
      // Two shapes, each one input and two outputs.
      assertThat(engine.pinnedTensors().made()).isEqualTo(6);
    }
    assertThat(engine.pinnedTensors().closed()).isEqualTo(6);
  }

  @Test
  void outputShapesThatDependOnInputValuesStopOutputPinningAndEveryRunIsRight() {
    for (boolean direct : new boolean[] {true, false}) {
      engine(direct);
      try (ModelSession session =
          engine.open(TestGraphs.artifact("nonzero", tmp.resolve("nz" + direct)))) {
        // [2, nonzero count]: the second call pins [2, 3]; the last needs [2, 1].
        Map<String, Tensor> one =
            session.run(Map.of("x", Tensor.ofFloats(new float[] {0, 5, 0, 0}, 1, 4)));
        assertThat(one.get("y").shape()).containsExactly(2, 1);
        assertThat(one.get("y").longs()).containsExactly(0, 1);
        for (int i = 0; i < 5; i++) {
          Map<String, Tensor> three =
              session.run(Map.of("x", Tensor.ofFloats(new float[] {1, 2, 3, 0}, 1, 4)));
          assertThat(three.get("y").shape()).as("direct %s", direct).containsExactly(2, 3);
          assertThat(three.get("y").longs()).containsExactly(0, 0, 0, 0, 1, 2);
        }
        Map<String, Tensor> again =
            session.run(Map.of("x", Tensor.ofFloats(new float[] {0, 5, 0, 0}, 1, 4)));
        assertThat(again.get("y").longs()).containsExactly(0, 1);
        // The learned output was closed when the shapes turned out to vary; none was made after.
        assertThat(engine.pinnedTensors().made()).isEqualTo(2);
        assertThat(engine.pinnedTensors().closed()).isEqualTo(1);
      }
      assertThat(engine.pinnedTensors().closed()).isEqualTo(2);
      engine.close();
    }
  }

  @Test
  void aPinnedOutputOverTheCapIsRefusedBeforeItIsCopiedWithTheUsualMessage() {
    engine(true);
    try (ModelSession session = open(TestModels.TINY)) {
      Map<String, Tensor> in = Map.of("x", Tensor.ofFloats(new float[] {1, 2, 3, 4}, 1, 4));
      session.run(in); // the next call learns y float32[1,2]
      assertThat(session.run(in, Set.of("y"), null, 8).get("y").floats())
          .containsExactly(TestModels.tinyOutput(new float[] {1, 2, 3, 4}));
      assertThatThrownBy(() -> session.run(in, Set.of("y"), null, 7))
          .isInstanceOf(PredictionException.class)
          .hasMessageContaining("output 'y' is float32[1,2] (8 bytes)")
          .hasMessageContaining("may hold at most 7 bytes (maxOutputBytes)")
          .hasMessageContaining("nothing was copied into the Java heap");
      // The run refused did not disturb the pool: the next call still runs.
      assertThat(session.run(in).get("y").floats()).hasSize(2);
    }
  }

  @Test
  void runsWithADeadlineUseTheirOwnRunOptionsOnPinnedOutputs() {
    engine(true);
    try (ModelSession session = open(TestModels.TINY)) {
      for (int i = 0; i < 20; i++) {
        float[] x = {i, 1, 2, 3};
        Map<String, Tensor> out =
            session.run(Map.of("x", Tensor.ofFloats(x, 1, 4)), Set.of("y"), Duration.ofSeconds(5));
        assertThat(out.get("y").floats()).containsExactly(TestModels.tinyOutput(x));
      }
    }
  }

  @Test
  void aModelFailingOnSomeRowsFailsThemAndKeepsItsPinnedOutputsForTheOthers() {
    engine(true);
    float[] good = TestModels.breastCancerTestSet().features()[0];
    float[] bad = good.clone();
    bad[0] = TestModels.FLAKY_THRESHOLD * 2;
    try (ModelSession session = open(TestModels.BREAST_CANCER_FLAKY)) {
      Supplier<Map<String, Tensor>> ok =
          () -> session.run(Map.of("features", Tensor.ofFloats(good, 1, 30)));
      Map<String, Tensor> first = ok.get();
      for (int i = 0; i < 3; i++) {
        assertThatThrownBy(() -> session.run(Map.of("features", Tensor.ofFloats(bad, 1, 30))))
            .isInstanceOf(PredictionException.class)
            .hasMessageContaining("ONNX Runtime failed to run the model");
        assertThat(ok.get().get("probabilities").floats())
            .containsExactly(first.get("probabilities").floats());
      }
      // Failures whose retry failed too say nothing about output shapes: nothing was unpinned.
      assertThat(engine.pinnedTensors().closed()).isZero();
    }
  }

  @Test
  void anInputThatCannotBePinnedGetsATensorOfItsOwnPerCallAndIsClosed() {
    engine(true);
    Path file = OnnxModels.identity(OnnxModels.STRING).writeTo(tmp.resolve("strings.onnx"));
    try (ModelSession session = engine.open(new ArtifactLocation(tmp, file))) {
      for (int i = 0; i < 10; i++) {
        String[] x = {"a" + i, "b", "c"};
        Map<String, Tensor> out = session.run(Map.of("x", Tensor.ofStrings(x, 1, 3)));
        assertThat(out.get("y").strings()).containsExactly(x);
      }
      // Strings are neither pinned in nor out: each call converted its own input and closed it.
      assertThat(engine.pinnedTensors().made()).isZero();
    }
  }

  @Test
  void aBatchsPartsAreStagedStraightIntoPinnedTensorsOfTheStackedShape() {
    for (boolean direct : new boolean[] {true, false}) {
      engine(direct);
      try (ModelSession session = open(TestModels.TINY)) {
        float[][] rows = {{1, 2, 3, 4}, {-1, 0.5f, 2, 0}, {0, 0, 0, 1}, {3, 3, 3, 3}};
        List<Map<String, Tensor>> parts =
            List.of(
                Map.of("x", Tensor.ofFloats(rows[0], 1, 4)),
                Map.of("x", Tensor.ofFloats(concat(rows[1], rows[2]), 2, 4)),
                Map.of("x", Tensor.ofFloats(rows[3], 1, 4)));
        for (int call = 0; call < 3; call++) {
          Map<String, Tensor> out =
              session.runStacked(parts, Set.of("y"), null, ModelSession.DEFAULT_MAX_OUTPUT_BYTES);
          assertThat(out.get("y").shape()).containsExactly(4, 2);
          float[] expected = new float[0];
          for (float[] row : rows) {
            expected = concat(expected, TestModels.tinyOutput(row));
          }
          assertThat(out.get("y").floats()).as("direct %s", direct).containsExactly(expected);
        }
        // One run of the stacked shape [4, 4]: its input and, learned, its output.
        assertThat(engine.pinnedTensors().made()).isEqualTo(2);
        // A part of another row shape is not stacked: the heap stack refuses it by name.
        List<Map<String, Tensor>> ragged =
            List.of(
                Map.of("x", Tensor.ofFloats(rows[0], 1, 4)),
                Map.of("x", Tensor.ofFloats(new float[] {1, 2}, 1, 2)));
        assertThatThrownBy(() -> session.runStacked(ragged, Set.of("y"), null, 1 << 20))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("cannot stack float32[1,2] onto float32[1,4]");
      }
      assertThat(engine.pinnedTensors().closed()).isEqualTo(2);
      engine.close();
    }
  }

  @Test
  void aRunAfterCloseIsRefusedRatherThanReachingFreedNativeMemory() {
    engine(true);
    ModelSession session = open(TestModels.TINY);
    Map<String, Tensor> in = Map.of("x", Tensor.ofFloats(new float[] {1, 2, 3, 4}, 1, 4));
    session.run(in);
    session.close();
    assertThatThrownBy(() -> session.run(in))
        .isInstanceOf(ClosedException.class)
        .hasMessage("the ONNX Runtime session is closed");
    assertThat(engine.pinnedTensors().closed()).isEqualTo(engine.pinnedTensors().made());
  }

  private static float[] concat(float[] a, float[] b) {
    float[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
