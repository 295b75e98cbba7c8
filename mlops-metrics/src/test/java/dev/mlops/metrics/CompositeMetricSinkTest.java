package dev.mlops.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.event.LifecycleEvent.ModelUnloaded;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.Outcome;
import dev.mlops.api.spi.PredictionEvent;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

class CompositeMetricSinkTest {

  private static final PredictionEvent EVENT =
      new PredictionEvent("m", 1, 1_000L, 0L, 1, Outcome.SUCCESS, "");
  private static final LifecycleEvent UNLOADED =
      new ModelUnloaded(Instant.parse("2026-01-01T00:00:00Z"), "m", 1);

  /** Throws from every call, counting them. */
  private static final class ThrowingSink implements MetricSink {
    final AtomicInteger calls = new AtomicInteger();

    @Override
    public void onPrediction(PredictionEvent event) {
      calls.incrementAndGet();
      throw new IllegalStateException("boom");
    }

    @Override
    public void onLifecycle(LifecycleEvent event) {
      calls.incrementAndGet();
      throw new UnsupportedOperationException("no lifecycle");
    }
  }

  /** A second failing class, to check that WARN is once per class, not once overall. */
  private static final class OtherThrowingSink implements MetricSink {
    @Override
    public void onPrediction(PredictionEvent event) {
      throw new IllegalArgumentException("other");
    }
  }

  private final RecordingLogger logger = new RecordingLogger(Level.DEBUG);
  private final AtomicLong ticker = new AtomicLong(1_000L);

  @Test
  void throwingSinkNeitherStopsTheOthersNorReachesTheCaller() {
    InMemoryMetricSink before = new InMemoryMetricSink();
    ThrowingSink throwing = new ThrowingSink();
    InMemoryMetricSink after = new InMemoryMetricSink();
    MetricSink composite = CompositeMetricSink.of(before, throwing, after);

    for (int i = 0; i < 1_000; i++) {
      composite.onPrediction(EVENT);
    }
    for (int i = 0; i < 10; i++) {
      composite.onLifecycle(UNLOADED);
    }

    assertThat(before.total()).isEqualTo(1_000);
    assertThat(after.total()).isEqualTo(1_000);
    assertThat(before.lifecycleEvents()).hasSize(10);
    assertThat(after.lifecycleEvents()).hasSize(10);
    assertThat(throwing.calls).hasValue(1_010);
  }

  @Test
  void firstFailureOfEachSinkClassIsWarnedThenDebugLinesAreLimitedToOnePerSecondPerSink() {
    ThrowingSink first = new ThrowingSink();
    ThrowingSink second = new ThrowingSink();
    CompositeMetricSink composite =
        new CompositeMetricSink(
            List.of(first, second, new OtherThrowingSink()), logger, ticker::get);

    // Call 1: first WARN (new class); second DEBUG (class already warned); other WARN.
    // Call 2: first and other each log their first DEBUG line. Calls 3-10: held back.
    for (int i = 0; i < 10; i++) {
      composite.onPrediction(EVENT);
    }
    ticker.addAndGet(TimeUnit.MILLISECONDS.toNanos(999));
    composite.onPrediction(EVENT); // 999 ms later: still held back
    ticker.addAndGet(TimeUnit.SECONDS.toNanos(1));
    composite.onLifecycle(UNLOADED); // first and second log again; other does not fail here

    List<RecordingLogger.Entry> entries = logger.entries();
    assertThat(entries)
        .extracting(RecordingLogger.Entry::level)
        .containsExactly(
            Level.WARN,
            Level.DEBUG,
            Level.WARN,
            Level.DEBUG,
            Level.DEBUG,
            Level.DEBUG,
            Level.DEBUG);
    assertThat(entries.get(0).message())
        .startsWith(
            "metric sink #0 (" + ThrowingSink.class.getName() + ") threw from onPrediction;");
    assertThat(entries.get(0).throwable()).hasMessage("boom");
    assertThat(entries.get(1).message())
        .isEqualTo(
            "metric sink #1 ("
                + ThrowingSink.class.getName()
                + ") threw from onPrediction"
                + " (0 failures not logged since the last line)");
    assertThat(entries.get(2).message())
        .startsWith("metric sink #2 (" + OtherThrowingSink.class.getName());
    assertThat(entries.get(2).throwable()).hasMessage("other");
    assertThat(entries.get(3).message())
        .isEqualTo(
            "metric sink #0 ("
                + ThrowingSink.class.getName()
                + ") threw from onPrediction"
                + " (0 failures not logged since the last line)");
    assertThat(entries.get(4).message())
        .isEqualTo(
            "metric sink #2 ("
                + OtherThrowingSink.class.getName()
                + ") threw from onPrediction"
                + " (0 failures not logged since the last line)");
    assertThat(entries.get(5).message())
        .isEqualTo(
            "metric sink #0 ("
                + ThrowingSink.class.getName()
                + ") threw from onLifecycle"
                + " (9 failures not logged since the last line)");
    assertThat(entries.get(5).throwable()).hasMessage("no lifecycle");
    assertThat(entries.get(6).message())
        .isEqualTo(
            "metric sink #1 ("
                + ThrowingSink.class.getName()
                + ") threw from onLifecycle"
                + " (10 failures not logged since the last line)");
    assertThat(first.calls).hasValue(12);
  }

  @Test
  void nothingIsLoggedAtDebugWhenDebugIsDisabled() {
    RecordingLogger warnLogger = new RecordingLogger(Level.WARN);
    CompositeMetricSink composite =
        new CompositeMetricSink(List.of(new ThrowingSink()), warnLogger, ticker::get);
    for (int i = 0; i < 100; i++) {
      composite.onPrediction(EVENT);
      ticker.addAndGet(TimeUnit.SECONDS.toNanos(2));
    }
    assertThat(warnLogger.entries())
        .singleElement()
        .extracting(RecordingLogger.Entry::level)
        .isEqualTo(Level.WARN);
  }

  @Test
  void errorsAreNotSwallowed() {
    MetricSink failing =
        event -> {
          throw new AssertionError("a bug, not a bookkeeping failure");
        };
    InMemoryMetricSink after = new InMemoryMetricSink();
    CompositeMetricSink composite = CompositeMetricSink.of(failing, after);
    assertThatThrownBy(() -> composite.onPrediction(EVENT)).isInstanceOf(AssertionError.class);
  }

  @Test
  void ofRejectsNullSinksNamingTheIndex() {
    assertThatThrownBy(() -> CompositeMetricSink.of(new InMemoryMetricSink(), null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("sinks[1] is null");
    assertThatThrownBy(() -> CompositeMetricSink.of((MetricSink[]) null))
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void ofKeepsTheSinksInOrderAndAnEmptyCompositeDropsEverything() {
    InMemoryMetricSink a = new InMemoryMetricSink();
    InMemoryMetricSink b = new InMemoryMetricSink();
    assertThat(CompositeMetricSink.of(a, b).sinks()).containsExactly(a, b);
    CompositeMetricSink empty = CompositeMetricSink.of();
    empty.onPrediction(EVENT);
    empty.onLifecycle(UNLOADED);
    assertThat(empty.sinks()).isEmpty();
  }
}
