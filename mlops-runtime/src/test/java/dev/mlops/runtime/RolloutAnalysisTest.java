package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.AnalysisPolicy;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditDetails;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.Codecs;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.Rollout;
import dev.mlops.api.RolloutSpec;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Automatic rollouts on real models: a candidate that fails on 5 % of its inputs is rolled back by
 * the analysis; a healthy one steps through its schedule and is promoted; a window with too few
 * calls decides nothing.
 */
class RolloutAnalysisTest {

  private static final AuditInfo OPS = AuditInfo.by("ops", "analysis test");

  @TempDir Path tmp;

  private Mlops runtime(Mlops.Builder b, String candidateFile) {
    Mlops mlops = b.localRegistry(tmp.resolve("registry")).build();
    for (String file : List.of(TestModels.BREAST_CANCER_V1, candidateFile)) {
      mlops
          .registry()
          .register(
              Registration.builder(
                      "cancer",
                      ArtifactSource.file(TestModels.copy(file, tmp.resolve("v-" + file))))
                  .build(),
              OPS);
    }
    mlops.registry().setAlias("cancer", "production", 1, OPS);
    return mlops;
  }

  /** Failed calls by arm, as the runtime reports them to its metric sink. */
  private static final class FailuresByArm implements dev.mlops.api.spi.MetricSink {
    final AtomicLong stable = new AtomicLong();
    final AtomicLong candidate = new AtomicLong();

    @Override
    public void onPrediction(dev.mlops.api.spi.PredictionEvent e) {
      if (e.outcome() != dev.mlops.api.spi.Outcome.SUCCESS) {
        (e.arm() == Prediction.Arm.CANDIDATE ? candidate : stable).incrementAndGet();
      }
    }
  }

  /** Callers on the alias, until stopped: every 20th row fails on the flaky model. */
  private static final class Callers implements AutoCloseable {
    final AtomicBoolean stop = new AtomicBoolean();
    final AtomicLong failures = new AtomicLong();
    final AtomicLong calls = new AtomicLong();
    final List<Thread> threads = new ArrayList<>();

    Callers(Predictor<float[], float[]> p, int n) {
      for (int t = 0; t < n; t++) {
        Thread thread =
            new Thread(
                () -> {
                  long i = 0;
                  while (!stop.get()) {
                    float[] row = new float[30];
                    if (i++ % 20 == 0) {
                      row[0] = TestModels.FLAKY_THRESHOLD * 5;
                    }
                    try {
                      Prediction<float[]> r = p.predict(row);
                      calls.incrementAndGet();
                      assertThat(r.value()).hasSize(2);
                    } catch (RuntimeException e) {
                      failures.incrementAndGet();
                    }
                  }
                });
        threads.add(thread);
        thread.start();
      }
    }

    @Override
    public void close() {
      stop.set(true);
      try {
        for (Thread t : threads) {
          t.join(30_000);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void await(java.util.function.BooleanSupplier c, Duration limit, String what) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + limit + ": " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
  }

  @Test
  void aCandidateFailingOnFivePercentOfItsCallsIsRolledBackAndTheStableArmNeverFails()
      throws Exception {
    Duration interval = Duration.ofMillis(400);
    int threshold = 3;
    FailuresByArm failed = new FailuresByArm();
    try (Mlops mlops =
        runtime(Mlops.builder().metricSink(failed), TestModels.BREAST_CANCER_FLAKY)) {
      List<LifecycleEvent.RolloutChanged> changes = new CopyOnWriteArrayList<>();
      mlops.addListener(
          e -> {
            if (e instanceof LifecycleEvent.RolloutChanged c) {
              changes.add(c);
            }
          });
      Predictor<float[], float[]> p =
          mlops.predictor("models:/cancer@production", Codecs.floatRow());
      try (Callers callers = new Callers(p, 2)) {
        long started = System.nanoTime();
        mlops
            .registry()
            .startRollout(
                "cancer",
                "production",
                RolloutSpec.of(2)
                    .weightPercent(50)
                    .every(interval)
                    .analysis(
                        AnalysisPolicy.builder()
                            .maxErrorRate(0.01)
                            .minRequests(50)
                            .failureThreshold(threshold)
                            .build()),
                OPS);
        await(
            () -> changes.stream().anyMatch(c -> c.change().equals("rollback")),
            Duration.ofSeconds(60),
            "an automatic rollback");
        long tookMillis = (System.nanoTime() - started) / 1_000_000;
        Rollout after = mlops.registry().rolloutStatus("cancer", "production").orElseThrow();
        LoggerFactory.getLogger(RolloutAnalysisTest.class)
            .info(
                "rolled back {} ms after the start (interval {} ms x threshold {}): {}",
                tookMillis,
                interval.toMillis(),
                threshold,
                after.reason());
        assertThat(after.state()).isEqualTo(Rollout.State.ROLLED_BACK);
        assertThat(after.weight()).isZero();
        assertThat(after.reason())
            .startsWith("auto-rollback: error rate ")
            .contains("% > 1.0 %")
            .endsWith("in 3 of 3 checks");
        // The first window starts when the decider first sees the rollout (within 100 ms), and
        // each check ends a window: three windows, plus the decider's 100 ms rounds.
        assertThat(tookMillis).isLessThan(interval.toMillis() * (threshold + 1) + 1_000);
        // After the rollback every call is stable again.
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(300));
        long candidateFailures = failed.candidate.get();
        for (int i = 0; i < 200; i++) {
          float[] row = new float[30];
          row[0] = TestModels.FLAKY_THRESHOLD * 5;
          assertThat(p.predict(row).arm()).isEqualTo(Prediction.Arm.STABLE);
        }
        assertThat(failed.stable.get()).as("failures on the stable arm").isZero();
        assertThat(candidateFailures).as("the candidate's failures").isPositive();
        assertThat(failed.candidate.get())
            .as("candidate failures after the rollback")
            .isEqualTo(candidateFailures);
        assertThat(callers.failures.get())
            .as("failed calls, all on the candidate")
            .isEqualTo(candidateFailures);
      }
      List<AuditEntry> ended =
          mlops.registry().audit(AuditQuery.builder().actions(AuditAction.END_ROLLOUT).build());
      assertThat(ended).hasSize(1);
      assertThat(ended.get(0).actor()).isEqualTo(RolloutDecider.ACTOR);
      assertThat(ended.get(0).details()).containsEntry(AuditDetails.CHANGE, "rollback");
      assertThat(ended.get(0).reason()).startsWith("auto-rollback: error rate");
      LifecycleEvent.RolloutChanged rollback =
          changes.stream().filter(c -> c.change().equals("rollback")).findFirst().orElseThrow();
      assertThat(rollback.reason()).isEqualTo(ended.get(0).reason());
      assertThat(mlops.registry().aliases("cancer")).containsEntry("production", 1L);
    }
  }

  @Test
  void aStepSchedulePromotesEndToEndAndTheAliasMovesByCompareAndSet() throws Exception {
    try (Mlops mlops = runtime(Mlops.builder(), TestModels.BREAST_CANCER_V2)) {
      Predictor<float[], float[]> p =
          mlops.predictor("models:/cancer@production", Codecs.floatRow());
      try (Callers callers = new Callers(p, 2)) {
        Rollout started =
            mlops
                .registry()
                .startRollout(
                    "cancer",
                    "production",
                    RolloutSpec.of(2)
                        .steps(10, 50, 100)
                        .every(Duration.ofMillis(250))
                        .analysis(AnalysisPolicy.builder().minRequests(20).build()),
                    OPS);
        assertThat(started.weight()).as("the first step").isEqualTo(1_000);
        await(
            () ->
                mlops
                    .registry()
                    .rolloutStatus("cancer", "production")
                    .map(r -> r.state() == Rollout.State.PROMOTED)
                    .orElse(false),
            Duration.ofSeconds(60),
            "promotion");
        assertThat(callers.failures.get()).isZero();
      }
      assertThat(mlops.registry().aliases("cancer")).containsEntry("production", 2L);
      List<AuditEntry> audit =
          mlops
              .registry()
              .audit(
                  AuditQuery.builder()
                      .actions(
                          AuditAction.START_ROLLOUT,
                          AuditAction.UPDATE_ROLLOUT,
                          AuditAction.END_ROLLOUT,
                          AuditAction.SET_ALIAS)
                      .build());
      assertThat(audit)
          .extracting(
              e ->
                  e.action()
                      + ":"
                      + e.details().getOrDefault(AuditDetails.CHANGE, "-")
                      + ":"
                      + e.details().getOrDefault(AuditDetails.WEIGHT, "-"))
          .containsExactly(
              "SET_ALIAS:-:-",
              "START_ROLLOUT:start:1000",
              "UPDATE_ROLLOUT:weight:5000",
              "UPDATE_ROLLOUT:weight:10000",
              "SET_ALIAS:-:-",
              "END_ROLLOUT:promote:10000");
      assertThat(audit.subList(2, 6))
          .allSatisfy(e -> assertThat(e.actor()).isEqualTo(RolloutDecider.ACTOR));
    }
  }

  @Test
  void aWindowWithTooFewCandidateCallsDecidesNothing() {
    TestTicker ticker = new TestTicker();
    try (Mlops mlops =
        runtime(
            Mlops.builder().ticker(ticker).rolloutDecisions(false),
            TestModels.BREAST_CANCER_FLAKY)) {
      Predictor<float[], float[]> p =
          mlops.predictor("models:/cancer@production", Codecs.floatRow());
      mlops
          .registry()
          .startRollout(
              "cancer",
              "production",
              RolloutSpec.of(2)
                  .steps(10, 100)
                  .every(Duration.ofSeconds(10))
                  .analysis(
                      AnalysisPolicy.builder().minRequests(1_000).failureThreshold(1).build()),
              OPS);
      mlops.decideRollouts(); // the first window starts
      for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 100; i++) {
          float[] row = new float[30];
          row[0] = TestModels.FLAKY_THRESHOLD * 5; // fails on the candidate
          try {
            p.predict(row);
          } catch (RuntimeException e) {
            // the candidate's failures; too few to decide
          }
        }
        ticker.advance(Duration.ofSeconds(11));
        mlops.decideRollouts();
      }
      Rollout r = mlops.registry().rolloutStatus("cancer", "production").orElseThrow();
      assertThat(r.state()).isEqualTo(Rollout.State.RUNNING);
      assertThat(r.weight()).isEqualTo(1_000);
    }
  }
}
