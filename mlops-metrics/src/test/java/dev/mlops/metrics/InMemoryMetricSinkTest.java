package dev.mlops.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.RolloutSpec;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.event.LifecycleEvent.ModelLoaded;
import dev.mlops.api.event.LifecycleEvent.ModelUnloaded;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.Outcome;
import dev.mlops.api.spi.PredictionEvent;
import dev.mlops.api.spi.ShadowEvent;
import dev.mlops.runtime.Mlops;
import dev.mlops.testmodels.TestModels;
import dev.mlops.testmodels.TestSet;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InMemoryMetricSinkTest {

  private static final Outcome[] OUTCOMES = Outcome.values();
  private static final String[] MODELS = {"cancer", "fraud"};
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private final InMemoryMetricSink sink = new InMemoryMetricSink();

  private static PredictionEvent event(
      String model, long version, long latencyNanos, Outcome outcome) {
    return new PredictionEvent(model, version, latencyNanos, 0L, 1, outcome, "");
  }

  /** The i-th event of the concurrency test; every thread sends the same sequence. */
  private static PredictionEvent concurrentEvent(int i) {
    String model = MODELS[i % 2];
    long version = 1 + (i / 2) % 3;
    Outcome outcome = OUTCOMES[(i / 6) % OUTCOMES.length];
    long latency = (i % 1_000 + 1) * 1_000L;
    int batch = 1 + i % 4;
    return new PredictionEvent(model, version, latency, 0L, batch, outcome, "k" + i);
  }

  @Test
  void countsAreExactAfterEightThreadsRecordTenThousandEventsEach() throws Exception {
    int threads = 8;
    int perThread = 10_000;
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread worker =
          new Thread(
              () -> {
                try {
                  start.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  return;
                }
                for (int i = 0; i < perThread; i++) {
                  sink.onPrediction(concurrentEvent(i));
                }
              });
      worker.start();
      workers.add(worker);
    }
    start.countDown();
    for (Thread worker : workers) {
      worker.join(TimeUnit.SECONDS.toMillis(30));
      assertThat(worker.isAlive()).isFalse();
    }

    // Expected values, computed independently and sequentially.
    Map<String, Long> byOutcome = new HashMap<>();
    Map<String, Long> byVersion = new HashMap<>();
    Map<String, Long> latencySum = new HashMap<>();
    Map<String, Long> latencyMax = new HashMap<>();
    Map<String, Long> batchSum = new HashMap<>();
    for (int i = 0; i < perThread; i++) {
      PredictionEvent e = concurrentEvent(i);
      String mv = e.model() + "/" + e.version();
      byOutcome.merge(mv + "/" + e.outcome(), (long) threads, Long::sum);
      byVersion.merge(mv, (long) threads, Long::sum);
      latencySum.merge(mv, threads * e.latencyNanos(), Long::sum);
      latencyMax.merge(mv, e.latencyNanos(), Math::max);
      batchSum.merge(mv, (long) threads * e.batchSize(), Long::sum);
    }

    assertThat(sink.total()).isEqualTo((long) threads * perThread);
    long sumOfCells = 0;
    for (String model : MODELS) {
      assertThat(sink.versions(model)).containsExactly(1L, 2L, 3L);
      for (long version = 1; version <= 3; version++) {
        String mv = model + "/" + version;
        long calls = byVersion.get(mv);
        assertThat(sink.count(model, version)).as(mv).isEqualTo(calls);
        for (Outcome outcome : OUTCOMES) {
          long expected = byOutcome.getOrDefault(mv + "/" + outcome, 0L);
          assertThat(sink.count(model, version, outcome))
              .as(mv + "/" + outcome)
              .isEqualTo(expected);
          sumOfCells += sink.count(model, version, outcome);
        }
        LatencySummary latency = sink.latency(model, version);
        assertThat(latency.count()).as(mv).isEqualTo(calls);
        assertThat(latency.maxNanos()).as(mv).isEqualTo(latencyMax.get(mv));
        assertThat(latency.meanNanos()).as(mv).isEqualTo((double) latencySum.get(mv) / calls);
        BatchSizeSummary batch = sink.batchSize(model, version);
        assertThat(batch.count()).as(mv).isEqualTo(calls);
        assertThat(batch.meanSize()).as(mv).isEqualTo((double) batchSum.get(mv) / calls);
      }
    }
    assertThat(sumOfCells).isEqualTo((long) threads * perThread);
  }

  @Test
  void latencyPercentilesAreWithinOneSixtyFourthOfExactValuesOverOneMicrosecondToSixtySeconds() {
    // Log-uniform between 1 µs and 60 s: every octave of the histogram gets samples.
    Random random = new Random(42);
    int n = 200_000;
    long[] values = new long[n];
    double logMin = Math.log(1_000.0);
    double logMax = Math.log(60e9);
    for (int i = 0; i < n; i++) {
      values[i] = (long) Math.exp(logMin + random.nextDouble() * (logMax - logMin));
      sink.onPrediction(event("m", 1, values[i], Outcome.SUCCESS));
    }
    long[] sorted = values.clone();
    Arrays.sort(sorted);

    LatencySummary summary = sink.latency("m", 1);
    assertThat(summary.count()).isEqualTo(n);
    assertThat(summary.maxNanos()).isEqualTo(sorted[n - 1]);
    assertThat(summary.meanNanos())
        .isCloseTo(Arrays.stream(values).average().orElseThrow(), within(1e-3));
    assertWithinStatedError(summary.p50Nanos(), nearestRank(sorted, 0.50));
    assertWithinStatedError(summary.p99Nanos(), nearestRank(sorted, 0.99));
  }

  @Test
  void bimodalLatencyPutsMedianInTheFastModeAndP99InTheSlowMode() {
    // 97 fast calls (100 µs) and 3 slow ones (50 ms) per hundred: p50 fast, p99 slow.
    for (int i = 0; i < 10_000; i++) {
      long latency = i % 100 < 97 ? 100_000L : 50_000_000L;
      sink.onPrediction(event("m", 1, latency, Outcome.SUCCESS));
    }
    LatencySummary summary = sink.latency("m", 1);
    assertWithinStatedError(summary.p50Nanos(), 100_000L);
    assertWithinStatedError(summary.p99Nanos(), 50_000_000L);
    assertThat(summary.maxNanos()).isEqualTo(50_000_000L);
    assertThat(summary.meanNanos()).isEqualTo(0.97 * 100_000 + 0.03 * 50_000_000, within(1e-6));
  }

  @Test
  void percentilesNeverExceedTheExactMax() {
    sink.onPrediction(event("m", 1, 1_000_001L, Outcome.SUCCESS));
    LatencySummary summary = sink.latency("m", 1);
    assertThat(summary.maxNanos()).isEqualTo(1_000_001L);
    assertThat(summary.p50Nanos()).isLessThanOrEqualTo(1_000_001L);
    assertThat(summary.p99Nanos()).isLessThanOrEqualTo(1_000_001L);
    assertWithinStatedError(summary.p99Nanos(), 1_000_001L);
  }

  @Test
  void latencyBeyondTheHistogramSaturatesPercentilesButKeepsMaxAndMeanExact() {
    long tenMinutes = TimeUnit.MINUTES.toNanos(10);
    sink.onPrediction(event("m", 1, tenMinutes, Outcome.TIMEOUT));
    LatencySummary summary = sink.latency("m", 1);
    assertThat(summary.maxNanos()).isEqualTo(tenMinutes);
    assertThat(summary.meanNanos()).isEqualTo((double) tenMinutes);
    assertThat(summary.p99Nanos())
        .isBetween(TimeUnit.SECONDS.toNanos(67), TimeUnit.SECONDS.toNanos(69));
  }

  @Test
  void negativeLatencyCountsAsZero() {
    sink.onPrediction(event("m", 1, -5L, Outcome.SUCCESS));
    assertThat(sink.latency("m", 1)).isEqualTo(new LatencySummary(1, 0.0, 0, 0, 0));
  }

  @Test
  void unknownModelVersionHasZeroCountsAndEmptySummaries() {
    sink.onPrediction(event("m", 1, 1_000L, Outcome.SUCCESS));
    assertThat(sink.count("m", 2)).isZero();
    assertThat(sink.count("other", 1, Outcome.SUCCESS)).isZero();
    assertThat(sink.latency("m", 2)).isEqualTo(LatencySummary.EMPTY);
    assertThat(sink.batchSize("other", 1)).isEqualTo(BatchSizeSummary.EMPTY);
    assertThat(sink.versions("other")).isEmpty();
  }

  @Test
  void batchSizeStatsLeaveOutCallsThatNeverReachedTheEngine() {
    sink.onPrediction(new PredictionEvent("m", 1, 1_000L, 0L, 4, Outcome.SUCCESS, ""));
    sink.onPrediction(new PredictionEvent("m", 1, 1_000L, 0L, 8, Outcome.SUCCESS, ""));
    sink.onPrediction(new PredictionEvent("m", 1, 1_000L, 0L, 0, Outcome.INVALID_INPUT, ""));
    assertThat(sink.batchSize("m", 1)).isEqualTo(new BatchSizeSummary(2, 6.0));
    assertThat(sink.count("m", 1)).isEqualTo(3);
  }

  @Test
  void versionsAndModelsAreSortedAndUnmodifiable() {
    for (long version : new long[] {10, 2, 7}) {
      sink.onPrediction(event("b", version, 1_000L, Outcome.SUCCESS));
    }
    sink.onPrediction(event("a", 1, 1_000L, Outcome.SUCCESS));
    assertThat(sink.versions("b")).containsExactly(2L, 7L, 10L);
    assertThat(sink.models()).containsExactly("a", "b");
    assertThatThrownBy(() -> sink.versions("b").add(3L))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void lifecycleBufferKeepsOnlyTheMostRecentTenThousandEventsOldestFirst() {
    int extra = 25;
    for (int v = 1; v <= InMemoryMetricSink.LIFECYCLE_CAPACITY + extra; v++) {
      sink.onLifecycle(new ModelUnloaded(T0, "m", v));
    }
    List<LifecycleEvent> events = sink.lifecycleEvents();
    assertThat(events).hasSize(10_000);
    assertThat(((ModelUnloaded) events.get(0)).version()).isEqualTo(extra + 1L);
    assertThat(((ModelUnloaded) events.get(events.size() - 1)).version())
        .isEqualTo(10_000L + extra);
    assertThatThrownBy(() -> events.add(new ModelUnloaded(T0, "m", 1)))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void lifecycleEventsKeepArrivalOrder() {
    ModelLoaded loaded = new ModelLoaded(T0, "m", 1, 5L);
    ModelUnloaded unloaded = new ModelUnloaded(T0, "m", 1);
    sink.onLifecycle(loaded);
    sink.onLifecycle(unloaded);
    assertThat(sink.lifecycleEvents()).containsExactly(loaded, unloaded);
  }

  @Test
  void resetForgetsCallsAndLifecycleEvents() {
    sink.onPrediction(event("m", 1, 1_000L, Outcome.SUCCESS));
    sink.onLifecycle(new ModelUnloaded(T0, "m", 1));
    sink.reset();
    assertThat(sink.total()).isZero();
    assertThat(sink.count("m", 1)).isZero();
    assertThat(sink.models()).isEmpty();
    assertThat(sink.lifecycleEvents()).isEmpty();
    sink.onPrediction(event("m", 1, 1_000L, Outcome.SUCCESS));
    assertThat(sink.count("m", 1, Outcome.SUCCESS)).isEqualTo(1);
  }

  @Test
  void reportHasOneRowPerModelVersionWithCallsErrorsLatenciesAndBatch() {
    for (int i = 0; i < 100; i++) {
      sink.onPrediction(
          new PredictionEvent(
              "cancer", 2, 250_000L, 0L, 4, i < 3 ? Outcome.ERROR : Outcome.SUCCESS, ""));
    }
    sink.onPrediction(new PredictionEvent("cancer", 1, 2_500_000_000L, 0L, 1, Outcome.TIMEOUT, ""));

    assertThat(sink.report())
        .isEqualTo(
            "model   version  calls  errors    p50    p99    max  batch\n"
                + "cancer        1      1       1  2.50s  2.50s  2.50s    1.0\n"
                + "cancer        2    100       3  250us  250us  250us    4.0\n");
  }

  @Test
  void reportSaysSoWhenNothingWasRecorded() {
    assertThat(sink.report()).isEqualTo("no predictions recorded\n");
  }

  private static ShadowEvent copy(
      String rollout, Outcome outcome, long latencyNanos, double difference, boolean argmax) {
    return new ShadowEvent(
        "cancer",
        rollout,
        1,
        2,
        false,
        outcome,
        latencyNanos,
        outcome == Outcome.SUCCESS
            ? Optional.of(new ShadowEvent.Comparison(difference, argmax))
            : Optional.empty());
  }

  private static ShadowEvent drop(String rollout) {
    return new ShadowEvent("cancer", rollout, 1, 2, true, Outcome.OVERLOADED, 0, Optional.empty());
  }

  @Test
  void shadowCopiesAreCountedPerRolloutWithFailuresArgmaxChangesTheLargestDifferenceAndLatency() {
    sink.onShadow(copy("r1", Outcome.SUCCESS, 100_000L, 0.25, false));
    sink.onShadow(copy("r1", Outcome.SUCCESS, 300_000L, 0.5, true));
    sink.onShadow(copy("r1", Outcome.TIMEOUT, 2_000_000L, 0, false));
    sink.onShadow(drop("r1"));
    sink.onShadow(drop("r1"));
    sink.onShadow(copy("r2", Outcome.SUCCESS, 1_000L, Double.POSITIVE_INFINITY, true));

    ShadowSummary r1 = sink.shadow("cancer", "r1");
    assertThat(r1.copies()).isEqualTo(3);
    assertThat(r1.dropped()).isEqualTo(2);
    assertThat(r1.failed()).isEqualTo(1);
    assertThat(r1.argmaxDifferences()).isEqualTo(1);
    assertThat(r1.maxAbsDifference()).isEqualTo(0.5);
    assertThat(r1.latency().count()).isEqualTo(3);
    assertThat(r1.latency().maxNanos()).isEqualTo(2_000_000L);
    assertThat(sink.shadow("cancer", "r2").maxAbsDifference()).isInfinite();
    assertThat(sink.shadowedRollouts("cancer")).containsExactly("r1", "r2");
    assertThat(sink.shadowedRollouts("fraud")).isEmpty();
    assertThat(sink.shadow("cancer", "r3")).isEqualTo(ShadowSummary.EMPTY);
    // Shadow copies are not predictions.
    assertThat(sink.total()).isZero();
    assertThat(sink.models()).isEmpty();

    assertThat(sink.report())
        .isEqualTo(
            "no predictions recorded\n"
                + "\n"
                + "shadow  rollout  copies  dropped  failed  argmax  max-diff    p50     p99\n"
                + "cancer  r1            3        2       1       1     0.500  299us  2.00ms\n"
                + "cancer  r2            1        0       0       1  Infinity    1us     1us\n");

    sink.reset();
    assertThat(sink.shadow("cancer", "r1")).isEqualTo(ShadowSummary.EMPTY);
    assertThat(sink.shadowedRollouts("cancer")).isEmpty();
  }

  /**
   * A shadow-only rollout on real models: v2 (an MLP) shadows v1 (a logistic regression) on the
   * classifier; the sink's summary agrees with every event the runtime reported.
   */
  @Test
  void aRealShadowOnlyRolloutIsSummedUpPerRollout(@TempDir Path tmp) throws Exception {
    List<ShadowEvent> seen = new CopyOnWriteArrayList<>();
    MetricSink recorder =
        new MetricSink() {
          @Override
          public void onPrediction(PredictionEvent event) {}

          @Override
          public void onShadow(ShadowEvent event) {
            seen.add(event);
          }
        };
    TestSet test = TestModels.breastCancerTestSet();
    int n = 50;
    String id;
    try (Mlops mlops =
        Mlops.builder()
            .localRegistry(tmp.resolve("registry"))
            .metricSink(CompositeMetricSink.of(sink, recorder))
            .swapExecutor(Runnable::run)
            .build()) {
      for (String file : List.of(TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2)) {
        mlops
            .registry()
            .register(
                Registration.builder(
                        "cancer",
                        ArtifactSource.file(TestModels.copy(file, tmp.resolve("src-" + file))))
                    .build(),
                AuditInfo.by("alice", "shadow summary"));
      }
      AuditInfo alice = AuditInfo.by("alice", "shadow summary");
      mlops.registry().setAlias("cancer", "production", 1, alice);
      id =
          mlops
              .registry()
              .startRollout("cancer", "production", RolloutSpec.of(2).shadowPercent(100), alice)
              .id();
      try (Predictor<float[], float[]> predictor =
          mlops.predictor("models:/cancer@production", Codecs.floatRow())) {
        for (int i = 0; i < n; i++) {
          assertThat(predictor.predict(test.features()[i]).version()).isEqualTo(1);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (seen.size() < n) {
          assertThat(System.nanoTime()).as("every copy is reported").isLessThan(deadline);
          Thread.sleep(2);
        }
      }
    }
    ShadowSummary summary = sink.shadow("cancer", id);
    assertThat(summary.copies() + summary.dropped()).isEqualTo(n);
    assertThat(summary.copies()).isEqualTo(seen.stream().filter(e -> !e.dropped()).count());
    assertThat(summary.failed()).isZero();
    assertThat(summary.argmaxDifferences())
        .isEqualTo(
            seen.stream()
                .filter(
                    e -> e.comparison().map(ShadowEvent.Comparison::argmaxDiffers).orElse(false))
                .count());
    double largest =
        seen.stream()
            .flatMap(e -> e.comparison().stream())
            .mapToDouble(ShadowEvent.Comparison::maxAbsDifference)
            .max()
            .orElseThrow();
    assertThat(summary.maxAbsDifference()).isEqualTo(largest).isGreaterThan(0);
    assertThat(summary.latency().count()).isEqualTo(summary.copies());
    assertThat(sink.total()).isEqualTo(n);
    assertThat(sink.report())
        .containsPattern("\nshadow +rollout +copies +dropped")
        .containsPattern("\ncancer +" + id + " +" + summary.copies() + " +" + summary.dropped());
  }

  @Test
  void formatNanosPicksMicrosecondsMillisecondsOrSeconds() {
    assertThat(InMemoryMetricSink.formatNanos(999_999L)).isEqualTo("999us");
    assertThat(InMemoryMetricSink.formatNanos(1_234_567L)).isEqualTo("1.23ms");
    assertThat(InMemoryMetricSink.formatNanos(61_000_000_000L)).isEqualTo("61.00s");
  }

  private static long nearestRank(long[] sorted, double quantile) {
    int rank = (int) Math.max(1, Math.ceil(quantile * sorted.length));
    return sorted[rank - 1];
  }

  private static void assertWithinStatedError(long actual, long exact) {
    assertThat((double) Math.abs(actual - exact))
        .as("reported %d for exact %d", actual, exact)
        .isLessThanOrEqualTo(exact * LatencyHistogram.MAX_RELATIVE_ERROR);
  }
}
