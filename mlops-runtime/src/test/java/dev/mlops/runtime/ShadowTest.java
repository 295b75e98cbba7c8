package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.AnalysisPolicy;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditDetails;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.CallOptions;
import dev.mlops.api.Codecs;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.Rollout;
import dev.mlops.api.RolloutSpec;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.Outcome;
import dev.mlops.api.spi.PredictionEvent;
import dev.mlops.api.spi.ShadowEvent;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shadow traffic on real models: copies of stable calls run on the candidate off the caller's
 * thread, are compared and discarded; a failing or slow candidate never reaches the caller; a
 * saturated shadow drops and counts; a shadow-only rollout's analysis rolls a failing challenger
 * back.
 */
class ShadowTest {

  private static final AuditInfo OPS = AuditInfo.by("ops", "shadow test");

  @TempDir Path tmp;

  /** v1 of the classifier at production, and {@code candidate} as version 2. */
  private Mlops runtime(Mlops.Builder b, String candidate) {
    Mlops mlops = b.localRegistry(tmp.resolve("registry")).swapExecutor(Runnable::run).build();
    for (String file : List.of(TestModels.BREAST_CANCER_V1, candidate)) {
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

  /** Every prediction and shadow event the runtime reports. */
  private static final class Events implements MetricSink {
    final List<ShadowEvent> shadow = new CopyOnWriteArrayList<>();
    final AtomicLong callerFailures = new AtomicLong();
    final AtomicLong candidateArm = new AtomicLong();

    @Override
    public void onPrediction(PredictionEvent e) {
      if (e.outcome() != Outcome.SUCCESS) {
        callerFailures.incrementAndGet();
      }
      if (e.arm() == Prediction.Arm.CANDIDATE) {
        candidateArm.incrementAndGet();
      }
    }

    @Override
    public void onShadow(ShadowEvent e) {
      shadow.add(e);
    }

    long count(java.util.function.Predicate<ShadowEvent> p) {
      return shadow.stream().filter(p).count();
    }
  }

  /** Rows of the classifier: every 20th fails on the flaky model. */
  private static float[] row(long i) {
    float[] row = new float[30];
    for (int f = 0; f < 30; f++) {
      row[f] = (float) ((i * 31 + f * 7) % 97) / 10f;
    }
    if (i % 20 == 0) {
      row[0] = TestModels.FLAKY_THRESHOLD * 5;
    }
    return row;
  }

  private static void await(java.util.function.BooleanSupplier c, Duration limit, String what) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + limit + ": " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
    }
  }

  /**
   * Starts a shadow-only rollout of v2 whose analysis counts every call but decides only after an
   * hour, and waits until predictors route it.
   */
  private static void startCountedShadow(Mlops mlops, String model) {
    mlops
        .registry()
        .startRollout(
            model,
            "production",
            RolloutSpec.of(2)
                .shadowPercent(100)
                .analysis(AnalysisPolicy.builder().minRequests(1).build())
                .every(Duration.ofHours(1)),
            OPS);
    await(() -> !mlops.routes().isEmpty(), Duration.ofSeconds(10), "the rollout is routed");
  }

  @Test
  void aShadowOnlyRolloutMirrorsEveryCallAndTheCandidatesFailuresNeverReachTheCaller() {
    Events events = new Events();
    try (Mlops mlops =
            runtime(
                Mlops.builder().metricSink(events).shadowCapacity(100_000),
                TestModels.BREAST_CANCER_FLAKY);
        Predictor<float[], float[]> p =
            mlops.predictor("models:/cancer@production", Codecs.floatRow());
        Predictor<float[], float[]> v1 = mlops.predictor("models:/cancer/1", Codecs.floatRow())) {
      Rollout r =
          mlops
              .registry()
              .startRollout("cancer", "production", RolloutSpec.of(2).shadowPercent(100), OPS);
      assertThat(r.weight()).isZero();
      assertThat(r.shadow()).isEqualTo(Rollout.FULL);
      await(
          () -> p instanceof DefaultPredictor<?, ?> d && d.binding().route() != null,
          Duration.ofSeconds(10),
          "the predictor routes the rollout");
      int n = 2_000;
      for (int i = 0; i < n; i++) {
        float[] in = row(i);
        Prediction<float[]> got = p.predict(in, CallOptions.NONE.requestKey("user-" + i));
        assertThat(got.version()).isEqualTo(1);
        assertThat(got.arm()).isEqualTo(Prediction.Arm.STABLE);
        // The caller's result is exactly the stable version's, flaky rows included.
        assertThat(got.value()).containsExactly(v1.predict(in).value());
      }
      await(
          () -> events.shadow.size() == n && mlops.state().shadow().inFlight() == 0,
          Duration.ofSeconds(30),
          "every copy is run or dropped");
      RuntimeState.Shadow s = mlops.state().shadow();
      assertThat(s.dropped()).isZero();
      assertThat(s.mirrored()).isEqualTo(n);
      // Every 20th row fails on the candidate: 100 failures, none seen by a caller.
      assertThat(s.failed()).isEqualTo(n / 20);
      assertThat(events.count(e -> e.outcome() == Outcome.ERROR)).isEqualTo(n / 20);
      assertThat(events.callerFailures.get()).isZero();
      assertThat(events.candidateArm.get()).isZero();
      // The flaky model answers every other row exactly as v1 does.
      List<ShadowEvent> ok =
          events.shadow.stream().filter(e -> e.outcome() == Outcome.SUCCESS).toList();
      assertThat(ok).hasSize(n - n / 20);
      assertThat(ok)
          .allSatisfy(
              e -> {
                assertThat(e.rollout()).isEqualTo(r.id());
                assertThat(e.stableVersion()).isEqualTo(1);
                assertThat(e.candidateVersion()).isEqualTo(2);
                assertThat(e.comparison()).contains(new ShadowEvent.Comparison(0.0, false));
              });
      // The audit and the stored rollout carry the shadow share.
      List<AuditEntry> started =
          mlops.registry().audit(AuditQuery.builder().actions(AuditAction.START_ROLLOUT).build());
      assertThat(started.get(0).details()).containsEntry(AuditDetails.SHADOW, "10000");
      assertThat(mlops.registry().rolloutStatus("cancer", "production").orElseThrow().shadow())
          .isEqualTo(Rollout.FULL);
    }
  }

  @Test
  void aDifferentCandidateIsComparedRowByRow() {
    Events events = new Events();
    try (Mlops mlops = runtime(Mlops.builder().metricSink(events), TestModels.BREAST_CANCER_V2);
        Predictor<float[], float[]> p =
            mlops.predictor("models:/cancer@production", Codecs.floatRow());
        Predictor<float[], float[]> v2 = mlops.predictor("models:/cancer/2", Codecs.floatRow())) {
      mlops
          .registry()
          .startRollout("cancer", "production", RolloutSpec.of(2).shadowPercent(100), OPS);
      await(
          () -> ((DefaultPredictor<?, ?>) p).binding().route() != null,
          Duration.ofSeconds(10),
          "the predictor routes the rollout");
      int n = 200;
      double expectedMax = 0;
      boolean expectedArgmax = false;
      List<float[]> stableOut = new ArrayList<>();
      for (int i = 1; i <= n; i++) {
        float[] in = row(i * 20 + 1); // no row at the flaky threshold
        in[0] = i % 2 == 0 ? 25f : 5f;
        float[] a = p.predict(in).value();
        float[] b = v2.predict(in).value();
        stableOut.add(a);
        for (int k = 0; k < a.length; k++) {
          expectedMax = Math.max(expectedMax, Math.abs(a[k] - b[k]));
        }
        expectedArgmax |= (a[1] > a[0]) != (b[1] > b[0]);
      }
      await(() -> events.shadow.size() == n, Duration.ofSeconds(30), "every copy is run");
      double max =
          events.shadow.stream()
              .mapToDouble(e -> e.comparison().orElseThrow().maxAbsDifference())
              .max()
              .orElseThrow();
      boolean argmax =
          events.shadow.stream().anyMatch(e -> e.comparison().orElseThrow().argmaxDiffers());
      // The shadow compared the same outputs the callers would have had from each version.
      assertThat(max)
          .isGreaterThan(0)
          .isEqualTo(expectedMax, org.assertj.core.data.Offset.offset(1e-6));
      assertThat(argmax).isEqualTo(expectedArgmax);
    }
  }

  @Test
  void aSaturatedShadowDropsAndCountsAndTheCallerNeverWaitsForASlowCandidate() {
    Events events = new Events();
    ExecutorService one = Executors.newSingleThreadExecutor();
    AtomicLong candidateRuns = new AtomicLong();
    try (Mlops mlops =
            runtime(
                Mlops.builder()
                    .metricSink(events)
                    .shadowExecutor(one)
                    .shadowCapacity(4)
                    .observers(
                        (version, inputs, outputs) -> {
                          if (version.version() == 2) {
                            // A candidate 5 ms slower per call than the stable version.
                            candidateRuns.incrementAndGet();
                            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
                          }
                        }),
                TestModels.BREAST_CANCER_V1);
        Predictor<float[], float[]> p =
            mlops.predictor("models:/cancer@production", Codecs.floatRow())) {
      mlops
          .registry()
          .startRollout("cancer", "production", RolloutSpec.of(2).shadowPercent(100), OPS);
      await(
          () -> ((DefaultPredictor<?, ?>) p).binding().route() != null,
          Duration.ofSeconds(10),
          "the predictor routes the rollout");
      int n = 2_000;
      for (int i = 0; i < n; i++) {
        assertThat(p.predict(row(i * 20 + 1)).version()).isEqualTo(1);
      }
      await(
          () -> mlops.state().shadow().inFlight() == 0,
          Duration.ofSeconds(30),
          "the shadow drains");
      RuntimeState.Shadow s = mlops.state().shadow();
      // 2,000 calls of ~0.1 ms against a candidate of 5 ms and room for 4: most copies dropped.
      assertThat(s.dropped()).isGreaterThan(n / 2);
      assertThat(s.mirrored() + s.dropped()).isEqualTo(n);
      assertThat(s.mirrored()).isEqualTo(candidateRuns.get());
      assertThat(s.capacity()).isEqualTo(4);
      assertThat(s.deadline()).isEqualTo(Duration.ofSeconds(Mlops.DEFAULT_SHADOW_SECONDS));
      assertThat(events.count(ShadowEvent::dropped)).isEqualTo(s.dropped());
      assertThat(events.callerFailures.get()).isZero();
    } finally {
      one.shutdownNow();
    }
  }

  @Test
  void batchedAndAsyncCallsAreMirroredAndCountedForTheStableArm() throws Exception {
    Events events = new Events();
    try (Mlops mlops =
            runtime(
                Mlops.builder().metricSink(events).rolloutDecisions(false).shadowCapacity(100_000),
                TestModels.BREAST_CANCER_FLAKY);
        Predictor<float[], float[]> p =
            mlops
                .newPredictor(
                    dev.mlops.api.ModelRef.parse("models:/cancer@production"), Codecs.floatRow())
                .batching(BatchingOptions.builder().maxBatchSize(8).build())
                .build()) {
      startCountedShadow(mlops, "cancer");
      int n = 400;
      List<CompletableFuture<Prediction<float[]>>> futures = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        futures.add(p.predictAsync(row(i * 20 + 1)));
      }
      for (CompletableFuture<Prediction<float[]>> f : futures) {
        assertThat(f.get(30, TimeUnit.SECONDS).version()).isEqualTo(1);
      }
      await(() -> events.shadow.size() == n, Duration.ofSeconds(30), "every copy is run");
      assertThat(events.count(e -> e.outcome() == Outcome.SUCCESS)).isEqualTo(n);
      assertThat(events.shadow)
          .allSatisfy(
              e -> assertThat(e.comparison()).contains(new ShadowEvent.Comparison(0, false)));
      // Every async batched call on the stable arm is in the stable window; the mirrored ones are
      // the shadow-only rollout's candidate arm.
      Binding.Route route = mlops.routes().get(0);
      await(
          () -> route.counted(false) == n && route.counted(true) == n,
          Duration.ofSeconds(10),
          "both windows count " + n + " calls");
      assertThat(route.counted(false)).isEqualTo(n);
      assertThat(route.counted(true)).isEqualTo(n);
    }
  }

  /**
   * A challenger that never ends ({@code loop-forever.onnx}, a Loop of 2^62 trips, as a version of
   * {@code loop-once.onnx}): every copy is terminated inside ONNX Runtime at the shadow deadline,
   * reported as a timeout and counted against the candidate; the callers get v1's answers and the
   * shadow thread is free again for the next copy.
   */
  @Test
  void aCopyPastTheShadowDeadlineIsTerminatedAndCountsAsTheCandidatesTimeout() {
    Events events = new Events();
    Duration shadowDeadline = Duration.ofMillis(100);
    try (Mlops mlops =
        Mlops.builder()
            .localRegistry(tmp.resolve("registry"))
            .swapExecutor(Runnable::run)
            .metricSink(events)
            .rolloutDecisions(false)
            // The hostile candidate would loop in its own warm-up run.
            .warmUp(dev.mlops.api.WarmUpPolicy.NONE)
            .shadowDeadline(shadowDeadline)
            .build()) {
      for (String file : List.of("loop-once.onnx", "loop-forever.onnx")) {
        Path copy = dev.mlops.runtime.testing.Graphs.copy(file, tmp.resolve("src-" + file));
        mlops
            .registry()
            .register(Registration.builder("loop", ArtifactSource.file(copy)).build(), OPS);
      }
      mlops.registry().setAlias("loop", "production", 1, OPS);
      try (Predictor<float[], float[]> p =
          mlops.predictor("models:/loop@production", Codecs.floatRow())) {
        startCountedShadow(mlops, "loop");
        int n = 5;
        for (int i = 0; i < n; i++) {
          Prediction<float[]> answer = p.predict(new float[] {i});
          assertThat(answer.version()).isEqualTo(1);
          assertThat(answer.value()).containsExactly((float) i);
        }
        await(() -> events.shadow.size() == n, Duration.ofSeconds(60), "every copy ends");
        assertThat(events.shadow)
            .allSatisfy(
                e -> {
                  assertThat(e.dropped()).isFalse();
                  assertThat(e.candidateVersion()).isEqualTo(2);
                  assertThat(e.outcome()).isEqualTo(Outcome.TIMEOUT);
                  assertThat(e.latencyNanos()).isGreaterThanOrEqualTo(shadowDeadline.toNanos());
                  assertThat(e.comparison()).isEmpty();
                });
        RuntimeState.Shadow s = mlops.state().shadow();
        assertThat(s.mirrored()).isEqualTo(n);
        assertThat(s.failed()).isEqualTo(n);
        assertThat(s.inFlight()).isZero();
        assertThat(s.deadline()).isEqualTo(shadowDeadline);
        assertThat(events.callerFailures.get()).isZero();
        // The shadow-only rollout's analysis sees the copies as its candidate arm's calls.
        Binding.Route route = mlops.routes().get(0);
        await(() -> route.counted(true) == n, Duration.ofSeconds(10), "the copies are counted");
      }
    }
    assertThatThrownBy(() -> Mlops.builder().shadowDeadline(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("shadowDeadline must be positive");
  }

  @Test
  void aShadowOnlyRolloutOfAFailingChallengerIsRolledBackByItsAnalysis() {
    Events events = new Events();
    try (Mlops mlops = runtime(Mlops.builder().metricSink(events), TestModels.BREAST_CANCER_FLAKY);
        Predictor<float[], float[]> p =
            mlops.predictor("models:/cancer@production", Codecs.floatRow())) {
      mlops
          .registry()
          .startRollout(
              "cancer",
              "production",
              RolloutSpec.of(2)
                  .shadowPercent(100)
                  .every(Duration.ofMillis(300))
                  .analysis(
                      AnalysisPolicy.builder()
                          .maxErrorRate(0.01)
                          .minRequests(50)
                          .failureThreshold(2)
                          .build()),
              OPS);
      long i = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (mlops.registry().rolloutStatus("cancer", "production").orElseThrow().active()) {
        assertThat(System.nanoTime()).as("rolled back within 30 s").isLessThan(deadline);
        assertThat(p.predict(row(i++)).version()).isEqualTo(1);
      }
      Rollout r = mlops.registry().rolloutStatus("cancer", "production").orElseThrow();
      assertThat(r.state()).isEqualTo(Rollout.State.ROLLED_BACK);
      // The mirrored calls are the candidate's arm: about 5 % of them fail (a saturated shadow
      // drops
      // some copies, so the window is a sample of the calls).
      assertThat(r.reason())
          .matches("auto-rollback: error rate [3-9]\\.\\d % > 1\\.0 % in 2 of 2 checks");
      assertThat(events.callerFailures.get()).isZero();
    }
  }
}
