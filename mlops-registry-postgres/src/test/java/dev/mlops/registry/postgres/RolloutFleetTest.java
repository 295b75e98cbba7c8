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

  /** A fresh database's registry URI, without listen or cache parameters. */
  private static String fleetDatabase(String name) {
    String url = TestDatabases.newDatabase(name);
    String db = url.substring(url.lastIndexOf('/') + 1, url.indexOf('?'));
    return "postgresql://localhost:"
        + TestDatabases.server().getPort()
        + "/"
        + db
        + "?user=postgres";
  }

  /**
   * A registry that writes without listening, with {@code files} registered and production at 1.
   */
  private GovernedRegistry writer(String base, String... files) {
    GovernedRegistry writer =
        RegistryProvider.openUri(
            URI.create(base + "&listen=false&cache=" + tmp.resolve("writer-cache")),
            OnnxRuntimeEngine.builder().build(),
            Clock.systemUTC());
    for (String file : files) {
      writer.register(
          Registration.builder(
                  "cancer", ArtifactSource.file(TestModels.copy(file, tmp.resolve(file))))
              .build(),
          OPS);
    }
    writer.setAlias("cancer", "production", 1, OPS);
    return writer;
  }

  @Test
  void threeInstancesRouteEachKeyToTheSameArmAndAllStopWhenTheRolloutIsAborted() throws Exception {
    String base = fleetDatabase("rollouts");
    List<Mlops> instances = new ArrayList<>();
    try (GovernedRegistry writer =
        writer(base, TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2)) {
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
      // The share of keys a weight takes is binomial around it (the rollout's id salts the hash):
      // over 10,000 keys one standard deviation is 0.46 %, so the 3 % margin is 6.5 of them.
      int candidates = 0;
      for (int k = 0; k < 10_000; k++) {
        CallOptions key = CallOptions.NONE.requestKey("user-" + k);
        Prediction.Arm first = predictors.get(0).predict(ROW, key).arm();
        for (Predictor<float[], float[]> p : predictors.subList(1, 3)) {
          assertThat(p.predict(ROW, key).arm()).as("arm of user-" + k).isEqualTo(first);
        }
        if (first == Prediction.Arm.CANDIDATE) {
          candidates++;
        }
      }
      assertThat(candidates / 100.0).as("keys on the candidate, %").isBetween(27.0, 33.0);
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

  /**
   * One instance decides, the others follow: only instance 0 runs rollout decisions; all three take
   * traffic; the candidate fails on 5 % of its rows. The rollback instance 0 decides reaches the
   * other two through the registry, and no stable call fails anywhere.
   */
  @Test
  void anAutomaticRollbackDecidedByOneInstanceIsFollowedByEveryInstance() throws Exception {
    String base = fleetDatabase("rollbacks");
    List<Mlops> instances = new ArrayList<>();
    List<Thread> callers = new ArrayList<>();
    java.util.concurrent.atomic.AtomicBoolean stop =
        new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicLong stableFailures =
        new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicLong candidateFailures =
        new java.util.concurrent.atomic.AtomicLong();
    try (GovernedRegistry writer =
        writer(base, TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_FLAKY)) {
      List<Predictor<float[], float[]>> predictors = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        Mlops m =
            Mlops.builder()
                .registry(URI.create(base + "&cache=" + tmp.resolve("cache-" + i)))
                .rolloutDecisions(i == 0)
                .metricSink(
                    e -> {
                      if (e.outcome() != dev.mlops.api.spi.Outcome.SUCCESS) {
                        (e.arm() == Prediction.Arm.CANDIDATE ? candidateFailures : stableFailures)
                            .incrementAndGet();
                      }
                    })
                .build();
        instances.add(m);
        predictors.add(m.predictor("models:/cancer@production", Codecs.floatRow()));
      }
      for (Predictor<float[], float[]> p : predictors) {
        Thread t =
            new Thread(
                () -> {
                  long i = 0;
                  while (!stop.get()) {
                    float[] row = new float[30];
                    if (i++ % 20 == 0) {
                      row[0] = TestModels.FLAKY_THRESHOLD * 5;
                    }
                    try {
                      p.predict(row);
                    } catch (RuntimeException e) {
                      // counted by the sink, by arm
                    }
                  }
                });
        callers.add(t);
        t.start();
      }
      long started = System.nanoTime();
      Rollout r =
          writer.startRollout(
              "cancer",
              "production",
              RolloutSpec.of(2)
                  .weightPercent(50)
                  .every(java.time.Duration.ofMillis(300))
                  .analysis(
                      dev.mlops.api.AnalysisPolicy.builder()
                          .maxErrorRate(0.01)
                          .minRequests(20)
                          .failureThreshold(2)
                          .build()),
              OPS);
      for (Mlops m : instances) {
        await(
            () ->
                m.registry().rolloutStatus("cancer", "production").orElseThrow().state()
                    == Rollout.State.ROLLED_BACK,
            "every instance sees the rollback");
      }
      long rolledBackAfter = System.nanoTime() - started;
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
      stop.set(true);
      for (Thread t : callers) {
        t.join(30_000);
      }
      Rollout end = instances.get(2).registry().rolloutStatus("cancer", "production").orElseThrow();
      assertThat(end.id()).isEqualTo(r.id());
      assertThat(end.weight()).isZero();
      assertThat(end.reason()).startsWith("auto-rollback: error rate ");
      List<dev.mlops.api.AuditEntry> ends =
          writer.audit(
              dev.mlops.api.AuditQuery.builder()
                  .actions(dev.mlops.api.AuditAction.END_ROLLOUT)
                  .build());
      assertThat(ends).hasSize(1);
      assertThat(ends.get(0).actor()).isEqualTo("mlops-rollouts");
      assertThat(candidateFailures.get()).isPositive();
      assertThat(stableFailures.get()).isZero();
      org.slf4j.LoggerFactory.getLogger(RolloutFleetTest.class)
          .info(
              "fleet rollback: decided by instance 0 and seen by all 3 {} ms after the start;"
                  + " candidate failures {}, stable failures {}",
              rolledBackAfter / 1_000_000,
              candidateFailures.get(),
              stableFailures.get());
    } finally {
      stop.set(true);
      for (Thread t : callers) {
        t.join(30_000);
      }
      for (Mlops m : instances) {
        m.close();
      }
    }
  }
}
