package dev.mlops.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.Outcome;
import dev.mlops.api.spi.PredictionEvent;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AsyncMetricSinkTest {

  private static PredictionEvent event(int i) {
    return new PredictionEvent("m", 1, i, 0, 1, Outcome.SUCCESS, "k" + i);
  }

  @Test
  void stuckDelegateNeverBlocksTheCallerAndExcessEventsAreDroppedAndCounted() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<PredictionEvent> seen = new CopyOnWriteArrayList<>();
    MetricSink stuck =
        e -> {
          entered.countDown();
          try {
            release.await(30, TimeUnit.SECONDS);
          } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
          }
          seen.add(e);
        };
    ExecutorService executor = Executors.newSingleThreadExecutor();
    try (AsyncMetricSink sink = AsyncMetricSink.wrap(stuck, executor, 10)) {
      sink.onPrediction(event(0));
      assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue(); // event 0 is stuck in the delegate
      for (int i = 1; i <= 100; i++) {
        sink.onPrediction(event(i)); // all return although the delegate is stuck
      }
      assertThat(sink.queued()).isEqualTo(10);
      assertThat(sink.dropped()).isEqualTo(90);
      release.countDown();
      executor.shutdown();
      assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
    // Event 0, then the 10 that fit in the queue, in order.
    assertThat(seen)
        .extracting(PredictionEvent::latencyNanos)
        .containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
  }

  @Test
  void throwingDelegateIsCountedAndLaterEventsStillArrive() throws Exception {
    List<PredictionEvent> seen = new CopyOnWriteArrayList<>();
    MetricSink flaky =
        e -> {
          if (e.latencyNanos() % 2 == 0) {
            throw new IllegalStateException("even");
          }
          seen.add(e);
        };
    ExecutorService executor = Executors.newSingleThreadExecutor();
    AsyncMetricSink sink = AsyncMetricSink.wrap(flaky, executor, 1000);
    for (int i = 0; i < 100; i++) {
      sink.onPrediction(event(i));
    }
    executor.shutdown();
    assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    assertThat(sink.failed()).isEqualTo(50);
    assertThat(seen).hasSize(50);
    sink.close();
    sink.onPrediction(event(1));
    assertThat(sink.dropped()).isEqualTo(1);
  }
}
