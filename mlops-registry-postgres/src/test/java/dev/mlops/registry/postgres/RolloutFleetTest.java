package dev.mlops.registry.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.CallOptions;
import dev.mlops.api.Codecs;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.Rollout;
import dev.mlops.api.RolloutSpec;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.onnx.OnnxRuntimeEngine;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.RegistryProvider;
import dev.mlops.testmodels.TestModels;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rollout on the PostgreSQL registry: three instances apply the same rollout, route every key to
 * the same arm, and all go back to the stable version when it is aborted.
 */
class RolloutFleetTest {

  private static final AuditInfo OPS = AuditInfo.by("ops", "rollout fleet test");
  private static final float[] ROW = new float[30];

  @TempDir Path tmp;

  private static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 30 s: " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
  }

  @Test
  void threeInstancesRouteEachKeyToTheSameArmAndAllStopWhenTheRolloutIsAborted() throws Exception {
    String url = TestDatabases.newDatabase("rollouts");
    String db = url.substring(url.lastIndexOf('/') + 1, url.indexOf('?'));
    String base =
        "postgresql://localhost:" + TestDatabases.server().getPort() + "/" + db + "?user=postgres";
    List<Mlops> instances = new ArrayList<>();
    try (GovernedRegistry writer =
        RegistryProvider.openUri(
            URI.create(base + "&listen=false&cache=" + tmp.resolve("writer-cache")),
            OnnxRuntimeEngine.builder().build(),
            Clock.systemUTC())) {
      for (String file : List.of(TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2)) {
        writer.register(
            Registration.builder(
                    "cancer", ArtifactSource.file(TestModels.copy(file, tmp.resolve(file))))
                .build(),
            OPS);
      }
      writer.setAlias("cancer", "production", 1, OPS);
      List<Predictor<float[], float[]>> predictors = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        Mlops m =
            Mlops.builder()
                .registry(URI.create(base + "&cache=" + tmp.resolve("cache-" + i)))
                .build();
        instances.add(m);
        predictors.add(m.predictor("models:/cancer@production", Codecs.floatRow()));
      }

      Rollout r =
          writer.startRollout("cancer", "production", RolloutSpec.of(2).weightPercent(30), OPS);
      // Every instance follows the start: some of 100 keys reach the candidate everywhere.
      for (Predictor<float[], float[]> p : predictors) {
        await(
            () -> {
              for (int k = 0; k < 100; k++) {
                if (p.predict(ROW, CallOptions.NONE.requestKey("user-" + k)).arm()
                    == Prediction.Arm.CANDIDATE) {
                  return true;
                }
              }
              return false;
            },
            "an instance routes to the candidate");
      }
      int candidates = 0;
      for (int k = 0; k < 2_000; k++) {
        CallOptions key = CallOptions.NONE.requestKey("user-" + k);
        Prediction.Arm first = predictors.get(0).predict(ROW, key).arm();
        for (Predictor<float[], float[]> p : predictors.subList(1, 3)) {
          assertThat(p.predict(ROW, key).arm()).as("arm of user-" + k).isEqualTo(first);
        }
        if (first == Prediction.Arm.CANDIDATE) {
          candidates++;
        }
      }
      assertThat(candidates / 20.0).as("keys on the candidate, %").isBetween(27.0, 33.0);
      for (Mlops m : instances) {
        assertThat(m.registry().rolloutStatus("cancer", "production")).contains(r);
      }

      writer.abortRollout("cancer", "production", AuditInfo.by("ops", "aborted from the writer"));
      for (Predictor<float[], float[]> p : predictors) {
        await(
            () -> {
              for (int k = 0; k < 200; k++) {
                if (p.predict(ROW, CallOptions.NONE.requestKey("user-" + k)).arm()
                    != Prediction.Arm.STABLE) {
                  return false;
                }
              }
              return true;
            },
            "an instance stops routing to the candidate");
      }
      assertThat(instances.get(2).registry().rolloutStatus("cancer", "production").orElseThrow())
          .extracting(Rollout::state, Rollout::reason)
          .containsExactly(Rollout.State.ABORTED, "aborted from the writer");
    } finally {
      for (Mlops m : instances) {
        m.close();
      }
    }
  }
}
