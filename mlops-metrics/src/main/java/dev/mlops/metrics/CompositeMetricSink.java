package dev.mlops.metrics;

import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.PredictionEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link MetricSink} that hands every event to each of several sinks, in order.
 *
 * <p>A sink that throws a {@link RuntimeException} neither stops the sinks after it nor reaches the
 * caller. The first failure of each sink class is logged once at {@code WARN} with its stack trace;
 * later failures are logged at {@code DEBUG}, at most once a second per sink, with the number of
 * failures left out since the last line. {@link Error}s are not caught.
 *
 * <p><b>Thread-safety.</b> Immutable and thread-safe, provided the sinks are (the {@link
 * MetricSink} contract requires it). Events are delivered on the calling thread; nothing is queued.
 * The failure path takes no lock.
 */
public final class CompositeMetricSink implements MetricSink {

  private static final long DEBUG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final List<MetricSink> sinks;
  private final FailureLog[] failureLogs;
  private final Set<Class<?>> warned = ConcurrentHashMap.newKeySet();
  private final Logger logger;
  private final LongSupplier ticker;

  /**
   * For tests: a recording logger and a fake ticker (nanoseconds, like {@link System#nanoTime}).
   */
  CompositeMetricSink(List<MetricSink> sinks, Logger logger, LongSupplier ticker) {
    this.sinks = List.copyOf(sinks);
    this.logger = Objects.requireNonNull(logger, "logger");
    this.ticker = Objects.requireNonNull(ticker, "ticker");
    this.failureLogs = new FailureLog[this.sinks.size()];
    long now = ticker.getAsLong();
    for (int i = 0; i < failureLogs.length; i++) {
      failureLogs[i] = new FailureLog(now);
    }
  }

  /**
   * A sink that fans out to {@code sinks}, in the order given. No sinks at all is allowed and drops
   * everything. Thread-safe.
   *
   * @param sinks the sinks, in delivery order; the array is copied
   * @return the composite
   * @throws NullPointerException if {@code sinks} or any element is null
   */
  public static CompositeMetricSink of(MetricSink... sinks) {
    Objects.requireNonNull(sinks, "sinks");
    List<MetricSink> list = new ArrayList<>(sinks.length);
    for (int i = 0; i < sinks.length; i++) {
      if (sinks[i] == null) {
        throw new NullPointerException("sinks[" + i + "] is null");
      }
      list.add(sinks[i]);
    }
    return new CompositeMetricSink(
        list, LoggerFactory.getLogger(CompositeMetricSink.class), System::nanoTime);
  }

  /**
   * The sinks events go to. Thread-safe.
   *
   * @return an unmodifiable list, in delivery order
   */
  public List<MetricSink> sinks() {
    return sinks;
  }

  /**
   * Hands the event to every sink in turn; a sink's {@link RuntimeException} is logged (see the
   * class description) and the next sink still gets the event. Never throws what a sink threw.
   * Thread-safe.
   */
  @Override
  public void onPrediction(PredictionEvent event) {
    for (int i = 0; i < failureLogs.length; i++) {
      try {
        sinks.get(i).onPrediction(event);
      } catch (RuntimeException e) {
        failed(i, "onPrediction", e);
      }
    }
  }

  /**
   * Hands the event to every sink in turn; a sink's {@link RuntimeException} is logged (see the
   * class description) and the next sink still gets the event. Never throws what a sink threw.
   * Thread-safe.
   */
  @Override
  public void onLifecycle(LifecycleEvent event) {
    for (int i = 0; i < failureLogs.length; i++) {
      try {
        sinks.get(i).onLifecycle(event);
      } catch (RuntimeException e) {
        failed(i, "onLifecycle", e);
      }
    }
  }

  /** Delivers the event to every sink in order; a failing sink is logged and skipped. */
  @Override
  public void onShadow(dev.mlops.api.spi.ShadowEvent event) {
    for (int i = 0; i < failureLogs.length; i++) {
      try {
        sinks.get(i).onShadow(event);
      } catch (RuntimeException e) {
        failed(i, "onShadow", e);
      }
    }
  }

  /** Lists the sinks, e.g. {@code CompositeMetricSink[InMemoryMetricSink[...], ...]}. */
  @Override
  public String toString() {
    return "CompositeMetricSink" + sinks;
  }

  private void failed(int index, String method, RuntimeException e) {
    Class<?> type = sinks.get(index).getClass();
    if (warned.add(type)) {
      logger.warn(
          "metric sink #{} ({}) threw from {}; it keeps receiving events, and further failures of"
              + " this sink class are logged at DEBUG at most once a second per sink",
          index,
          type.getName(),
          method,
          e);
      return;
    }
    if (!logger.isDebugEnabled()) {
      return;
    }
    FailureLog log = failureLogs[index];
    long now = ticker.getAsLong();
    long next = log.nextLineNanos.get();
    if (now - next < 0 || !log.nextLineNanos.compareAndSet(next, now + DEBUG_INTERVAL_NANOS)) {
      log.suppressed.increment();
      return;
    }
    logger.debug(
        "metric sink #{} ({}) threw from {} ({} failures not logged since the last line)",
        index,
        type.getName(),
        method,
        log.suppressed.sumThenReset(),
        e);
  }

  /** Rate-limit state of one sink's DEBUG failure lines. */
  private static final class FailureLog {
    final AtomicLong nextLineNanos;
    final LongAdder suppressed = new LongAdder();

    FailureLog(long now) {
      nextLineNanos = new AtomicLong(now);
    }
  }
}
