package dev.mlops.runtime;

import dev.mlops.api.ModelVersion;
import dev.mlops.api.Tensor;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.event.LifecycleListener;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.Outcome;
import dev.mlops.api.spi.PredictionEvent;
import dev.mlops.api.spi.PredictionObserver;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime's telemetry bus: lifecycle events to the metric sink and the listeners, one
 * prediction event per call to the sink, and the inputs and outputs of every successful engine run
 * to the observers. Whatever a sink, listener or observer throws is caught, counted and logged; it
 * never fails the caller. Thread-safe.
 */
final class Telemetry {

  private static final Logger LOG = LoggerFactory.getLogger(Telemetry.class);

  private final MetricSink sink;
  private final PredictionObserver[] observers;
  private final List<LifecycleListener> listeners = new CopyOnWriteArrayList<>();
  private final AtomicLong sinkFailures = new AtomicLong();
  private final AtomicLong observerFailures = new AtomicLong();
  private final AtomicLong listenerFailures = new AtomicLong();

  Telemetry(MetricSink sink, PredictionObserver[] observers) {
    this.sink = Objects.requireNonNull(sink, "sink");
    this.observers = observers.clone();
  }

  /** Adds a lifecycle listener; the handle's {@code close()} removes it. */
  AutoCloseable addListener(LifecycleListener listener) {
    Objects.requireNonNull(listener, "listener");
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  /**
   * Delivers a lifecycle event to the sink, then to every listener in the order they were added.
   */
  void publish(LifecycleEvent event) {
    try {
      sink.onLifecycle(event);
    } catch (RuntimeException e) {
      sinkFailed(e);
    }
    for (LifecycleListener l : listeners) {
      try {
        l.onEvent(event);
      } catch (RuntimeException e) {
        listenerFailures.incrementAndGet();
        LOG.warn("lifecycle listener {} failed on {}: {}", l, event, e.toString());
      }
    }
  }

  /**
   * Reports one prediction call.
   *
   * @param version the version that served it, 0 if none was loaded
   * @param latencyNanos from the call's start to its result or failure
   * @param queueNanos time in a batching queue, 0 without one
   * @param batchSize rows of the engine run that served it
   * @param requestKey the caller's key, {@code ""} if none
   */
  void prediction(
      String model,
      long version,
      long latencyNanos,
      long queueNanos,
      int batchSize,
      Outcome outcome,
      String requestKey,
      dev.mlops.api.Prediction.Arm arm) {
    if (sink == MetricSink.NOOP) {
      return;
    }
    try {
      sink.onPrediction(
          new PredictionEvent(
              model, version, latencyNanos, queueNanos, batchSize, outcome, requestKey, arm));
    } catch (RuntimeException e) {
      sinkFailed(e);
    }
  }

  /** Reports one shadow call of a rollout's candidate, or a dropped one. */
  void shadow(dev.mlops.api.spi.ShadowEvent event) {
    if (sink == MetricSink.NOOP) {
      return;
    }
    try {
      sink.onShadow(event);
    } catch (RuntimeException e) {
      sinkFailed(e);
    }
  }

  /** Whether any observer is set; without one the prediction path skips {@link #observe}. */
  boolean hasObservers() {
    return observers.length > 0;
  }

  /** Shows one successful engine run to every observer. */
  void observe(ModelVersion version, Map<String, Tensor> inputs, Map<String, Tensor> outputs) {
    for (PredictionObserver o : observers) {
      try {
        o.observe(version, inputs, outputs);
      } catch (RuntimeException e) {
        long n = observerFailures.incrementAndGet();
        if (n == 1 || n % 10_000 == 0) {
          LOG.warn("prediction observer {} failed ({} failures so far): {}", o, n, e.toString(), e);
        }
      }
    }
  }

  long sinkFailures() {
    return sinkFailures.get();
  }

  long observerFailures() {
    return observerFailures.get();
  }

  long listenerFailures() {
    return listenerFailures.get();
  }

  private void sinkFailed(RuntimeException e) {
    // A broken sink must never fail a prediction; log the first failure and then every 10,000th.
    long n = sinkFailures.incrementAndGet();
    if (n == 1 || n % 10_000 == 0) {
      LOG.warn("metric sink {} failed ({} failures so far): {}", sink, n, e.toString(), e);
    }
  }
}
