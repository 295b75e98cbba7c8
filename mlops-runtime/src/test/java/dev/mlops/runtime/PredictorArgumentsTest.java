package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelRef;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.SessionOptions;
import dev.mlops.api.Tensor;
import dev.mlops.api.spi.PredictionEvent;
import dev.mlops.runtime.testing.Graphs;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a predictor does with odd arguments, and what it reports per call. */
class PredictorArgumentsTest {

  private static final AuditInfo CI = AuditInfo.by("ci", "test");

  @TempDir Path tmp;
  private final List<PredictionEvent> predictions = new CopyOnWriteArrayList<>();
  private Mlops mlops;

  @BeforeEach
  void open() {
    mlops =
        Mlops.builder().localRegistry(tmp.resolve("registry")).metricSink(predictions::add).build();
  }

  @AfterEach
  void close() {
    mlops.close();
  }

  private void register(String model, Path file) {
    mlops.registry().register(Registration.builder(model, ArtifactSource.file(file)).build(), CI);
  }

  @Test
  void aZeroOrNegativeDeadlineIsRefusedEveryTime() {
    register("tiny", TestModels.copy(TestModels.TINY, tmp));
    Predictor<float[], float[]> direct = mlops.predictor("models:/tiny/1", Codecs.floatRow());
    Predictor<float[], float[]> batched =
        mlops
            .newPredictor(ModelRef.parse("models:/tiny/1"), Codecs.floatRow())
            .batching(BatchingOptions.builder().build())
            .build();
    int refused = 0;
    for (Predictor<float[], float[]> p : List.of(direct, batched)) {
      for (Duration d : List.of(Duration.ZERO, Duration.ofNanos(-1), Duration.ofSeconds(-5))) {
        for (int i = 0; i < 200; i++) {
          try {
            p.predict(new float[4], d);
          } catch (IllegalArgumentException e) {
            assertThat(e).hasMessageStartingWith("timeout must be positive but was " + d);
            refused++;
          }
        }
      }
    }
    assertThat(refused).isEqualTo(2 * 3 * 200);
    assertThat(predictions).as("refused calls reach no engine and no sink").isEmpty();
    assertThat(direct.predict(new float[4], Duration.ofSeconds(5)).version()).isEqualTo(1);
  }

  @Test
  void aNullInputIsRefusedWithAMessage() {
    register("tiny", TestModels.copy(TestModels.TINY, tmp));
    Predictor<Map<String, Tensor>, Map<String, Tensor>> p =
        mlops.predictor("models:/tiny/1", Codecs.tensors());
    assertThatThrownBy(() -> p.predict(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("input must not be null; pass the value to predict");
    assertThatThrownBy(() -> p.predictAsync(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("input must not be null; pass the value to predict");
    java.util.ArrayList<Map<String, Tensor>> some = new java.util.ArrayList<>();
    some.add(Map.of("x", Tensor.ofFloats(new float[4], 1, 4)));
    some.add(null);
    assertThatThrownBy(() -> p.predictAll(some))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("inputs[1] must not be null");
    Map<String, Tensor> missing = new java.util.HashMap<>();
    missing.put("x", null);
    assertThatThrownBy(() -> p.predict(missing))
        .isInstanceOf(dev.mlops.api.InvalidInputException.class)
        .hasMessage("input 'x': expected float32[?,4] but found no value (given: [x])");
  }

  @Test
  void theBatchSizeIsTheSignaturesBatchDimensionNotTheFirstInputsFirst() {
    register("stateful", Graphs.copy("state-first.onnx", tmp));
    Predictor<Map<String, ?>, Map<String, Tensor>> p =
        mlops.predictor("models:/stateful/1", Codecs.namedInputs());
    Map<String, Object> oneRow = new LinkedHashMap<>();
    oneRow.put("state", Tensor.ofFloats(new float[] {1, 2, 3, 10, 20, 30}, 2, 1, 3));
    oneRow.put("x", Tensor.ofFloats(new float[] {0.5f, 0.5f, 0.5f}, 1, 3));
    assertThat(p.predict(oneRow).value().get("y").floats()).containsExactly(1.5f, 2.5f, 3.5f);
    Map<String, Object> threeRows = new LinkedHashMap<>();
    threeRows.put("state", Tensor.ofFloats(new float[18], 2, 3, 3));
    threeRows.put("x", Tensor.ofFloats(new float[9], 3, 3));
    p.predict(threeRows);
    assertThat(predictions).extracting(PredictionEvent::batchSize).containsExactly(1, 3);

    // A model without a dynamic first dimension anywhere runs one row per call.
    register("lstm", Graphs.copy("lstm-empty-batch.onnx", tmp));
    Predictor<Map<String, Tensor>, Map<String, Tensor>> lstm =
        mlops.predictor("models:/lstm/1", Codecs.tensors());
    lstm.predict(
        Map.of(
            "x",
            Tensor.ofFloats(new float[6], 1, 2, 3),
            "h0",
            Tensor.ofFloats(new float[8], 1, 2, 4),
            "c0",
            Tensor.ofFloats(new float[8], 1, 2, 4)));
    assertThat(predictions).last().extracting(PredictionEvent::batchSize).isEqualTo(1);
  }

  @Test
  void aPredictorWithItsOwnSessionOptionsLoadsItsOwnSessionWithTheSameOutputs() {
    register("cancer", TestModels.copy(TestModels.BREAST_CANCER_V2, tmp));
    float[] row = TestModels.breastCancerTestSet().features()[0];
    Predictor<float[], float[]> shared =
        mlops.predictor("models:/cancer/1", Codecs.floatRow("probabilities"));
    Predictor<float[], float[]> own =
        mlops
            .newPredictor(ModelRef.parse("models:/cancer/1"), Codecs.floatRow("probabilities"))
            .sessionOptions(
                SessionOptions.builder()
                    .intraOpThreads(2)
                    .optimizationLevel(SessionOptions.OptimizationLevel.BASIC)
                    .build())
            .build();
    assertThat(mlops.sessionStats().opened()).isEqualTo(2);
    assertThat(own.predict(row).value())
        .usingComparatorWithPrecision(1e-6f)
        .containsExactly(shared.predict(row).value());
    Predictor<float[], float[]> same =
        mlops
            .newPredictor(ModelRef.parse("models:/cancer/1"), Codecs.floatRow())
            .sessionOptions(mlops.sessionOptions())
            .build();
    same.predict(row);
    assertThat(mlops.sessionStats().opened())
        .as("the runtime's options share the first session")
        .isEqualTo(2);
    assertThatThrownBy(() -> SessionOptions.builder().intraOpThreads(-1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("intraOpThreads must be >= 0 (0: the engine chooses) but was -1");
  }
}
