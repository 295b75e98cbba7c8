package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditDetails;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.CallOptions;
import dev.mlops.api.Codecs;
import dev.mlops.api.ConflictException;
import dev.mlops.api.IncompatibleSignatureException;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.Rollout;
import dev.mlops.api.RolloutSpec;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.PredictionEvent;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Rollouts on the embedded registry with real models: routing by weight, sticky keys, the arm in
 * every prediction and metric event, and each change audited and raised as an event.
 */
class RolloutTest {

  private static final AuditInfo OPS = AuditInfo.by("ops", "rollout test");
  private static final float[] ROW = new float[30];

  @TempDir Path tmp;

  /** v1 and v2 of the classifier, production at v1; v3 an incompatible model. */
  private Mlops runtime(MetricSink sink) {
    Mlops mlops =
        Mlops.builder()
            .localRegistry(tmp.resolve("registry"))
            .metricSink(sink)
            .swapExecutor(Runnable::run)
            .build();
    for (String file : List.of(TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2)) {
      mlops
          .registry()
          .register(
              Registration.builder(
                      "cancer", ArtifactSource.file(TestModels.copy(file, tmp.resolve(file))))
                  .build(),
              OPS);
    }
    mlops
        .registry()
        .register(
            Registration.builder(
                    "cancer",
                    ArtifactSource.file(
                        TestModels.copy(TestModels.TINY, tmp.resolve(TestModels.TINY))))
                .build(),
            OPS);
    mlops.registry().setAlias("cancer", "production", 1, OPS);
    return mlops;
  }

  /** Counts prediction events by arm and version. */
  private static final class ArmCounts implements MetricSink {
    final Map<String, AtomicLong> counts = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public void onPrediction(PredictionEvent e) {
      counts
          .computeIfAbsent(e.arm().tag() + "/v" + e.version(), k -> new AtomicLong())
          .incrementAndGet();
    }

    long get(String key) {
      AtomicLong n = counts.get(key);
      return n == null ? 0 : n.get();
    }
  }

  @Test
  void aWeightOfTenPercentWithoutKeysLandsWithinHalfAPointOver100000Calls() {
    ArmCounts sink = new ArmCounts();
    try (Mlops mlops = runtime(sink)) {
      Predictor<float[], float[]> p =
          mlops.predictor("models:/cancer@production", Codecs.floatRow());
      mlops
          .registry()
          .startRollout("cancer", "production", RolloutSpec.of(2).weightPercent(10), OPS);

      int candidate = 0;
      for (int i = 0; i < 100_000; i++) {
        Prediction<float[]> r = p.predict(ROW);
        if (r.arm() == Prediction.Arm.CANDIDATE) {
          assertThat(r.version()).isEqualTo(2);
          candidate++;
        } else {
          assertThat(r.version()).isEqualTo(1);
        }
      }
      LoggerFactory.getLogger(RolloutTest.class)
          .info("weight 10 %: {} of 100,000 calls on the candidate", candidate);
      assertThat(candidate / 1000.0).as("candidate share, %").isBetween(9.5, 10.5);
      assertThat(sink.get("candidate/v2")).isEqualTo(candidate);
      assertThat(sink.get("stable/v1")).isEqualTo(100_000 - candidate);
      assertThat(mlops.registry().aliases("cancer")).containsEntry("production", 1L);
    }
  }

  @Test
  void asyncCallsWithoutKeysPickTheirArmOnceByWeight() throws Exception {
    try (Mlops mlops = runtime(MetricSink.NOOP)) {
      Predictor<float[], float[]> p =
          mlops.predictor("models:/cancer@production", Codecs.floatRow());
      mlops
          .registry()
          .startRollout("cancer", "production", RolloutSpec.of(2).weightPercent(10), OPS);
      int candidate = 0;
      for (int i = 0; i < 50_000; i++) {
        if (p.predictAsync(ROW).get().arm() == Prediction.Arm.CANDIDATE) {
          candidate++;
        }
      }
      assertThat(candidate / 500.0).as("candidate share of async calls, %").isBetween(9.0, 11.0);
    }
  }

  @Test
  void keysStayOnTheirArmAndAGrowingWeightMovesThemOnlyToTheCandidate() {
    try (Mlops mlops = runtime(MetricSink.NOOP)) {
      Predictor<float[], float[]> p =
          mlops.predictor("models:/cancer@production", Codecs.floatRow());
      mlops
          .registry()
          .startRollout("cancer", "production", RolloutSpec.of(2).weightPercent(10), OPS);

      // Each key's share is binomial around the weight (the rollout's id salts the hash): over
      // 50,000 keys the margins below are more than 7 standard deviations.
      Map<String, Prediction.Arm> at10 = new HashMap<>();
      for (int k = 0; k < 50_000; k++) {
        String key = "user-" + k;
        Prediction.Arm first = p.predict(ROW, CallOptions.NONE.requestKey(key)).arm();
        Prediction.Arm again = p.predict(ROW, CallOptions.NONE.requestKey(key)).arm();
        assertThat(again).as("arm of " + key + " on its second call").isEqualTo(first);
        at10.put(key, first);
      }
      long candidates10 = at10.values().stream().filter(a -> a == Prediction.Arm.CANDIDATE).count();
      assertThat(candidates10 / 500.0).as("keys on the candidate at 10 %, %").isBetween(9.0, 11.0);

      mlops.registry().setRolloutWeight("cancer", "production", 2_500, OPS);
      int movedBack = 0;
      int onCandidate = 0;
      for (Map.Entry<String, Prediction.Arm> e : at10.entrySet()) {
        Prediction.Arm now = p.predict(ROW, CallOptions.NONE.requestKey(e.getKey())).arm();
        if (e.getValue() == Prediction.Arm.CANDIDATE && now == Prediction.Arm.STABLE) {
          movedBack++;
        }
        if (now == Prediction.Arm.CANDIDATE) {
          onCandidate++;
        }
      }
      LoggerFactory.getLogger(RolloutTest.class)
          .info(
              "50,000 keys: {} on the candidate at 10 %, {} at 25 %, {} moved back",
              candidates10, onCandidate, movedBack);
      assertThat(movedBack).as("keys moved from candidate back to stable").isZero();
      assertThat(onCandidate / 500.0).as("keys on the candidate at 25 %, %").isBetween(23.5, 26.5);
    }
  }

  @Test
  void eachChangeIsAuditedAndRaisedAndPromotionMovesTheAliasByCompareAndSet() throws Exception {
    try (Mlops mlops = runtime(MetricSink.NOOP)) {
      List<LifecycleEvent.RolloutChanged> events = new CopyOnWriteArrayList<>();
      mlops.addListener(
          e -> {
            if (e instanceof LifecycleEvent.RolloutChanged c) {
              events.add(c);
            }
          });
      Predictor<float[], float[]> p =
          mlops.predictor("models:/cancer@production", Codecs.floatRow());
      var registry = mlops.registry();

      Rollout started = registry.startRollout("cancer", "production", RolloutSpec.of(2), OPS);
      assertThat(started.state()).isEqualTo(Rollout.State.RUNNING);
      assertThat(started.weight()).isZero();
      assertThat(p.predict(ROW).arm()).as("weight 0").isEqualTo(Prediction.Arm.STABLE);
      assertThatThrownBy(
              () -> registry.startRollout("cancer", "production", RolloutSpec.of(2), OPS))
          .isInstanceOf(ConflictException.class)
          .hasMessageContaining("is already running");
      assertThatThrownBy(() -> registry.setAlias("cancer", "production", 2, OPS))
          .isInstanceOf(ConflictException.class)
          .hasMessageContaining("promote or abort the rollout first");

      assertThatThrownBy(() -> registry.resumeRollout("cancer", "production", OPS))
          .isInstanceOf(ConflictException.class)
          .hasMessageContaining("is running, not paused");
      registry.setRolloutWeight("cancer", "production", Rollout.FULL, OPS);
      assertThat(p.predict(ROW).arm()).as("weight 100 %").isEqualTo(Prediction.Arm.CANDIDATE);
      registry.pauseRollout("cancer", "production", OPS);
      assertThatThrownBy(() -> registry.setRolloutWeight("cancer", "production", 10, OPS))
          .isInstanceOf(ConflictException.class)
          .hasMessageContaining("is paused");
      assertThat(p.predict(ROW).version()).as("a paused rollout still routes").isEqualTo(2);
      registry.resumeRollout("cancer", "production", OPS);
      Rollout promoted = registry.promoteRollout("cancer", "production", OPS);
      assertThat(promoted.state()).isEqualTo(Rollout.State.PROMOTED);
      assertThat(registry.aliases("cancer")).containsEntry("production", 2L);
      Prediction<float[]> after = p.predict(ROW);
      assertThat(after.version()).isEqualTo(2);
      assertThat(after.arm())
          .as("after promotion v2 is the stable arm")
          .isEqualTo(Prediction.Arm.STABLE);
      assertThat(registry.rolloutStatus("cancer", "production")).contains(promoted);

      List<AuditEntry> audit =
          registry.audit(
              AuditQuery.builder()
                  .model("cancer")
                  .actions(
                      AuditAction.START_ROLLOUT,
                      AuditAction.UPDATE_ROLLOUT,
                      AuditAction.END_ROLLOUT,
                      AuditAction.SET_ALIAS)
                  .build());
      assertThat(audit)
          .extracting(e -> e.action() + ":" + e.details().getOrDefault(AuditDetails.CHANGE, "-"))
          .containsExactly(
              "SET_ALIAS:-",
              "START_ROLLOUT:start",
              "UPDATE_ROLLOUT:weight",
              "UPDATE_ROLLOUT:pause",
              "UPDATE_ROLLOUT:resume",
              "SET_ALIAS:-",
              "END_ROLLOUT:promote");
      assertThat(audit.get(5).details())
          .containsEntry(AuditDetails.FROM, "1")
          .containsEntry(AuditDetails.TO, "2");
      assertThat(events)
          .extracting(LifecycleEvent.RolloutChanged::change)
          .containsExactly("start", "weight", "pause", "resume", "promote");
      assertThat(events.get(4).rollout().state()).isEqualTo(Rollout.State.PROMOTED);
    }
  }

  @Test
  void anAbortedRolloutSendsEveryCallToTheStableVersion() {
    try (Mlops mlops = runtime(MetricSink.NOOP)) {
      Predictor<float[], float[]> p =
          mlops.predictor("models:/cancer@production", Codecs.floatRow());
      mlops
          .registry()
          .startRollout("cancer", "production", RolloutSpec.of(2).weightPercent(100), OPS);
      assertThat(p.predict(ROW).version()).isEqualTo(2);

      Rollout aborted =
          mlops.registry().abortRollout("cancer", "production", AuditInfo.by("ops", "bad canary"));
      assertThat(aborted.state()).isEqualTo(Rollout.State.ABORTED);
      assertThat(aborted.weight()).isZero();
      assertThat(aborted.reason()).isEqualTo("bad canary");
      for (int i = 0; i < 1000; i++) {
        assertThat(p.predict(ROW).arm()).isEqualTo(Prediction.Arm.STABLE);
      }
      assertThatThrownBy(() -> mlops.registry().pauseRollout("cancer", "production", OPS))
          .isInstanceOf(ConflictException.class)
          .hasMessageContaining("no rollout is active");
      // A new rollout can start once the last one ended.
      assertThat(mlops.registry().startRollout("cancer", "production", RolloutSpec.of(2), OPS).id())
          .isNotEqualTo(aborted.id());
    }
  }

  @Test
  void aPredictorBuiltDuringARolloutRoutesFromItsFirstCall() {
    try (Mlops mlops = runtime(MetricSink.NOOP)) {
      mlops
          .registry()
          .startRollout("cancer", "production", RolloutSpec.of(2).weightPercent(100), OPS);
      Predictor<float[], float[]> p =
          mlops.predictor("models:/cancer@production", Codecs.floatRow());
      Prediction<float[]> first = p.predict(ROW);
      assertThat(first.arm()).isEqualTo(Prediction.Arm.CANDIDATE);
      assertThat(first.version()).isEqualTo(2);
      Predictor<float[], float[]> pinned = mlops.predictor("models:/cancer/1", Codecs.floatRow());
      assertThat(pinned.predict(ROW).arm())
          .as("a pinned reference ignores rollouts")
          .isEqualTo(Prediction.Arm.STABLE);
    }
  }

  @Test
  void anIncompatibleOrMissingCandidateIsRefusedBeforeAnythingChanges() {
    try (Mlops mlops = runtime(MetricSink.NOOP)) {
      var registry = mlops.registry();
      assertThatThrownBy(
              () -> registry.startRollout("cancer", "production", RolloutSpec.of(3), OPS))
          .isInstanceOf(IncompatibleSignatureException.class);
      assertThatThrownBy(
              () -> registry.startRollout("cancer", "production", RolloutSpec.of(9), OPS))
          .isInstanceOf(dev.mlops.api.ModelNotFoundException.class);
      assertThatThrownBy(
              () -> registry.startRollout("cancer", "production", RolloutSpec.of(1), OPS))
          .isInstanceOf(ConflictException.class)
          .hasMessageContaining("points at version 1 already");
      assertThatThrownBy(() -> registry.startRollout("cancer", "canary", RolloutSpec.of(2), OPS))
          .isInstanceOf(dev.mlops.api.ModelNotFoundException.class)
          .hasMessageContaining("has no alias 'canary'");
      assertThatThrownBy(() -> RolloutSpec.of(2).weightPercent(101))
          .isInstanceOf(IllegalArgumentException.class);
      assertThat(registry.rolloutStatus("cancer", "production")).isEmpty();
      assertThat(registry.audit(AuditQuery.builder().actions(AuditAction.START_ROLLOUT).build()))
          .isEmpty();
    }
  }

  @Test
  void aForcedAliasMoveLeavesAnActiveRolloutWithoutEffect() {
    try (Mlops mlops = runtime(MetricSink.NOOP)) {
      Predictor<float[], float[]> p =
          mlops.predictor("models:/cancer@production", Codecs.floatRow());
      mlops
          .registry()
          .startRollout("cancer", "production", RolloutSpec.of(2).weightPercent(100), OPS);
      assertThat(p.predict(ROW).arm()).isEqualTo(Prediction.Arm.CANDIDATE);
      mlops.registry().forceAlias("cancer", "production", 2, OPS);
      assertThat(mlops.registry().activeRollout("cancer", "production")).isEmpty();
      Prediction<float[]> r = p.predict(ROW);
      assertThat(r.version()).isEqualTo(2);
      assertThat(r.arm()).isEqualTo(Prediction.Arm.STABLE);
    }
  }
}
