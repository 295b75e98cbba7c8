package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.ClosedException;
import dev.mlops.api.Codecs;
import dev.mlops.api.InvalidInputException;
import dev.mlops.api.Lineage;
import dev.mlops.api.ModelNotFoundException;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.Tensor;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.testmodels.TestModels;
import dev.mlops.testmodels.TestSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PredictorTest {

  private static final AuditInfo ALICE = AuditInfo.by("alice", "test");

  @TempDir Path tmp;
  private Mlops mlops;
  private final List<LifecycleEvent> events = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    mlops = Mlops.builder().localRegistry(tmp.resolve("registry")).build();
    mlops.addListener(
        e -> {
          synchronized (events) {
            events.add(e);
            events.notifyAll();
          }
        });
    register(TestModels.BREAST_CANCER_V1, "logistic regression");
    register(TestModels.BREAST_CANCER_V2, "mlp");
  }

  @AfterEach
  void tearDown() {
    mlops.close();
  }

  private ModelVersion register(String file, String description) {
    Path model = TestModels.copy(file, tmp.resolve("src-" + file));
    return mlops
        .registry()
        .register(
            Registration.builder("cancer", ArtifactSource.file(model))
                .description(description)
                .lineage(
                    new Lineage(
                        "run-" + file,
                        "sklearn breast_cancer 75/25 seed 42",
                        Map.of("accuracy", TestModels.reportedAccuracy(file))))
                .build(),
            ALICE);
  }

  @Test
  void pinnedVersionsReproduceTheHeldOutAccuracyTheTrainingScriptReported() {
    TestSet test = TestModels.breastCancerTestSet();
    for (int v = 1; v <= 2; v++) {
      try (Predictor<float[], Map<String, Tensor>> p =
          mlops.predictor("models:/cancer/" + v, asMap(Codecs.floatRow()))) {
        int[] predicted = new int[test.size()];
        for (int i = 0; i < test.size(); i++) {
          Prediction<Map<String, Tensor>> r = p.predict(test.features()[i]);
          assertThat(r.version()).isEqualTo(v);
          predicted[i] = (int) r.value().get("label").longs()[0];
        }
        String file = v == 1 ? TestModels.BREAST_CANCER_V1 : TestModels.BREAST_CANCER_V2;
        assertThat(test.accuracy(predicted)).isEqualTo(TestModels.reportedAccuracy(file));
      }
    }
  }

  /** floatRow encoding with every output decoded, to read the int64 label. */
  private static dev.mlops.api.Codec<float[], Map<String, Tensor>> asMap(
      dev.mlops.api.Codec<float[], float[]> row) {
    return new dev.mlops.api.Codec<>() {
      @Override
      public Map<String, Tensor> encode(float[] input, dev.mlops.api.ModelSignature signature) {
        return row.encode(input, signature);
      }

      @Override
      public Map<String, Tensor> decode(
          Map<String, Tensor> outputs, dev.mlops.api.ModelSignature signature) {
        return outputs;
      }
    };
  }

  @Test
  void floatBatchReturnsOneProbabilityRowPerInputRowMatchingSingleRowCalls() {
    TestSet test = TestModels.breastCancerTestSet();
    try (Predictor<float[][], float[][]> batch =
            mlops.predictor("models:/cancer/2", Codecs.floatBatch("probabilities"));
        Predictor<float[], float[]> single =
            mlops.predictor("models:/cancer/2", Codecs.floatRow("probabilities"))) {
      float[][] out = batch.predict(test.features()).value();
      assertThat(out).hasNumberOfRows(test.size());
      for (int i = 0; i < test.size(); i++) {
        assertThat(out[i]).hasSize(2);
        assertThat(out[i][0] + out[i][1]).isCloseTo(1f, org.assertj.core.data.Offset.offset(1e-5f));
        assertThat(out[i])
            .containsExactly(
                single.predict(test.features()[i]).value(),
                org.assertj.core.data.Offset.offset(1e-6f));
      }
    }
  }

  @Test
  void namedInputsOfDifferentElementTypesGiveTheDocumentedScore() {
    mlops
        .registry()
        .register(
            Registration.builder(
                    "mixed",
                    ArtifactSource.file(TestModels.copy(TestModels.MIXED_INPUTS, tmp.resolve("m"))))
                .build(),
            ALICE);
    try (Predictor<Map<String, ?>, Map<String, Tensor>> p =
        mlops.predictor("models:/mixed", Codecs.namedInputs())) {
      for (long category = 0; category < TestModels.mixedInputsCategories(); category++) {
        float amount = 10.5f + category;
        Map<String, Tensor> out = p.predict(Map.of("amount", amount, "category", category)).value();
        assertThat(out.get("score").floats())
            .containsExactly(TestModels.mixedInputsScore(amount, category));
      }
      assertThatThrownBy(() -> p.predict(Map.of("amount", 1.0f, "category", 1.5)))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("category")
          .hasMessageContaining("int64");
    }
  }

  @Test
  void wrongShapeIsRejectedNamingTheInputWhatWasExpectedAndWhatCame() {
    try (Predictor<float[], float[]> p = mlops.predictor("models:/cancer/1", Codecs.floatRow())) {
      assertThatThrownBy(() -> p.predict(new float[29]))
          .isInstanceOf(InvalidInputException.class)
          .hasMessage("input 'features': expected float32[?,30] but found float32[1,29]");
      assertThat(p.predict(new float[30]).version()).isEqualTo(1);
    }
  }

  @Test
  void rawTensorsWithWrongElementTypeOrUnknownNameAreRejected() {
    try (Predictor<Map<String, Tensor>, Map<String, Tensor>> p =
        mlops.predictor("models:/cancer/1", Codecs.tensors())) {
      assertThatThrownBy(
              () -> p.predict(Map.of("features", Tensor.ofDoubles(new double[30], 1, 30))))
          .isInstanceOf(InvalidInputException.class)
          .hasMessage("input 'features': expected float32[?,30] but found float64[1,30]");
      assertThatThrownBy(
              () ->
                  p.predict(
                      Map.of(
                          "features",
                          Tensor.ofFloats(new float[30], 1, 30),
                          "extra",
                          Tensor.ofFloats(new float[1], 1))))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("'extra'");
      assertThatThrownBy(() -> p.predict(Map.of()))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("no value");
    }
  }

  @Test
  void predictorFollowingAnAliasSwitchesWhenTheAliasMoves() throws Exception {
    mlops.registry().setAlias("cancer", "production", 1, ALICE);
    try (Predictor<float[], float[]> p =
        mlops.predictor("models:/cancer@production", Codecs.floatRow())) {
      assertThat(p.predict(new float[30]).version()).isEqualTo(1);
      mlops.registry().setAlias("cancer", "production", 2, AuditInfo.by("bob", "v2 scores better"));
      // The switch happens before its event is published, so once the event is in, v2 serves.
      awaitEvents(LifecycleEvent.VersionSwapped.class, 1);
      assertThat(p.servingVersion()).map(ModelVersion::version).contains(2L);
      assertThat(p.predict(new float[30]).version()).isEqualTo(2);
      assertThat(events)
          .anySatisfy(
              e ->
                  assertThat(e)
                      .isInstanceOfSatisfying(
                          LifecycleEvent.VersionSwapped.class,
                          s -> {
                            assertThat(s.fromVersion()).isEqualTo(1);
                            assertThat(s.toVersion()).isEqualTo(2);
                          }));
    }
    // Both versions stay cached for rollback until the runtime closes.
    assertThat(mlops.sessionStats().opened()).isEqualTo(2);
    assertThat(mlops.sessionStats().closed()).isZero();
    mlops.close();
    Mlops.SessionStats stats = mlops.sessionStats();
    assertThat(stats.opened()).isEqualTo(2);
    assertThat(stats.closed()).isEqualTo(2);
    assertThat(stats.loaded()).isZero();
  }

  @Test
  void tamperedArtifactIsNotLoadedAndTheOldVersionKeepsServing() throws Exception {
    ModelVersion v3 = register(TestModels.BREAST_CANCER_V2, "to be tampered with");
    mlops.registry().setAlias("cancer", "production", 2, ALICE);
    Path file = dev.mlops.runtime.testing.Stored.modelFile(mlops.registry(), v3);
    try (Predictor<float[], float[]> p =
        mlops.predictor("models:/cancer@production", Codecs.floatRow())) {
      Files.write(file, new byte[] {1, 2, 3}, StandardOpenOption.APPEND);
      assertThatThrownBy(() -> mlops.registry().setAlias("cancer", "production", 3, ALICE))
          .isInstanceOf(dev.mlops.api.ModelLoadException.class)
          .hasMessageContaining("refusing to point an alias at models:/cancer/3")
          .hasMessageContaining("use forceAlias");
      assertThat(mlops.registry().aliases("cancer")).containsEntry("production", 2L);
      mlops
          .registry()
          .forceAlias("cancer", "production", 3, AuditInfo.by("mallory", "skip the check"));
      assertThat(mlops.registry().auditLog())
          .last()
          .satisfies(
              a ->
                  assertThat(a.details()).containsEntry("forced", "true").containsEntry("to", "3"));
      // Two loads of v3 failed in this runtime: setAlias's check (through the session cache) and
      // the
      // predictor's swap after the forced move.
      awaitEvents(LifecycleEvent.ModelLoadFailed.class, 2);
      assertThat(events)
          .filteredOn(e -> e instanceof LifecycleEvent.ModelLoadFailed)
          .hasSize(2)
          .allSatisfy(
              e ->
                  assertThat(((LifecycleEvent.ModelLoadFailed) e).cause())
                      .isInstanceOf(dev.mlops.api.IntegrityException.class)
                      .hasMessageContaining("expected sha256 " + v3.files().get(0).sha256()));
      assertThat(p.predict(new float[30]).version()).isEqualTo(2);
    }
    // The failed load is in the audit log, for "which loads or verifications failed?".
    assertThat(mlops.registry().auditLog())
        .filteredOn(
            a ->
                a.action() == dev.mlops.api.AuditAction.VERIFICATION_FAILED
                    || a.action() == dev.mlops.api.AuditAction.LOAD_FAILED)
        .anySatisfy(a -> assertThat(a.details()).containsEntry("version", "3"));
  }

  @Test
  void unknownReferencesFailWithWhatExists() {
    assertThatThrownBy(() -> mlops.predictor("models:/cancer/9", Codecs.floatRow()))
        .isInstanceOf(ModelNotFoundException.class)
        .hasMessage("model 'cancer' has no version 9; versions: [1, 2]");
    assertThatThrownBy(() -> mlops.predictor("models:/cancer@staging", Codecs.floatRow()))
        .isInstanceOf(ModelNotFoundException.class)
        .hasMessageContaining("no alias 'staging'");
  }

  @Test
  void observersSeeTheValidatedInputsAndTheOutputsOfEverySuccessfulCall() {
    List<String> seen = new CopyOnWriteArrayList<>();
    try (Mlops observed =
            Mlops.builder()
                .registry(mlops.registry())
                .observers(
                    (version, inputs, outputs) ->
                        seen.add(
                            version.version()
                                + ":"
                                + inputs.get("features").describe()
                                + "->"
                                + outputs.keySet()),
                    (version, inputs, outputs) -> {
                      throw new IllegalStateException(
                          "a broken observer must not fail predictions");
                    })
                .build();
        Predictor<float[], float[]> p = observed.predictor("models:/cancer/2", Codecs.floatRow())) {
      p.predict(new float[30]);
      assertThatThrownBy(() -> p.predict(new float[3])).isInstanceOf(InvalidInputException.class);
      p.predict(new float[30]);
    }
    // floatRow reads only the first float32 output, so only that one is computed and copied.
    assertThat(seen)
        .containsExactly("2:float32[1,30]->[probabilities]", "2:float32[1,30]->[probabilities]");
  }

  @Test
  void closedPredictorRefusesCallsAndReleasesItsSession() {
    Predictor<float[], float[]> p = mlops.predictor("models:/cancer", Codecs.floatRow());
    assertThat(p.predict(new float[30]).version()).isEqualTo(2);
    p.close();
    p.close();
    assertThatThrownBy(() -> p.predict(new float[30])).isInstanceOf(ClosedException.class);
    // The shared cache keeps the version warm; evicting it closes the session now that no
    // predictor serves it.
    assertThat(mlops.sessionStats().loaded()).isEqualTo(1);
    mlops.evict(mlops.registry().get(dev.mlops.api.ModelRef.parse("models:/cancer/2")));
    assertThat(mlops.sessionStats().loaded()).isZero();
    assertThat(mlops.sessionStats().closed()).isEqualTo(1);
  }

  @Test
  void predictAllAndPredictAsyncAgreeWithPredict() throws Exception {
    TestSet test = TestModels.breastCancerTestSet();
    try (Predictor<float[], float[]> p = mlops.predictor("models:/cancer/1", Codecs.floatRow())) {
      List<float[]> rows = new ArrayList<>(List.of(test.features()).subList(0, 20));
      List<Prediction<float[]>> all = p.predictAll(rows);
      assertThat(all).hasSize(20);
      for (int i = 0; i < 20; i++) {
        assertThat(all.get(i).value()).containsExactly(p.predict(rows.get(i)).value());
        assertThat(p.predictAsync(rows.get(i)).get(10, TimeUnit.SECONDS).value())
            .containsExactly(all.get(i).value());
      }
    }
  }

  /** Waits, woken by each event, until {@code n} events of {@code type} have been published. */
  private void awaitEvents(Class<? extends LifecycleEvent> type, int n)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    synchronized (events) {
      while (events.stream().filter(type::isInstance).count() < n) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError(
              "fewer than " + n + " " + type.getSimpleName() + " events within 20 s: " + events);
        }
        TimeUnit.NANOSECONDS.timedWait(events, left);
      }
    }
  }
}
