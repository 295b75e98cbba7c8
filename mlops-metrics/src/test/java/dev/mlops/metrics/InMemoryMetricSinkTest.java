package dev.mlops.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.event.LifecycleEvent.ModelLoaded;
import dev.mlops.api.event.LifecycleEvent.ModelUnloaded;
import dev.mlops.api.spi.Outcome;
import dev.mlops.api.spi.PredictionEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

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
