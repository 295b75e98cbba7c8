package dev.mlops.metrics;

import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.PredictionEvent;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a sink off the prediction thread: events go into a bounded queue that one task at a time
 * drains into the delegate on the given executor. When the queue is full an event is dropped and
 * counted, so a slow or stuck delegate never blocks a prediction.
 *
 * <p>Thread-safe. Events reach the delegate in the order they were queued, from one thread at a
 * time. {@link #close()} stops accepting events and lets the queued ones drain.
 */
public final class AsyncMetricSink implements MetricSink, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(AsyncMetricSink.class);

  private final MetricSink delegate;
  private final Executor executor;
  private final ArrayBlockingQueue<Object> queue;
  private final AtomicBoolean draining = new AtomicBoolean();
  private final LongAdder dropped = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private volatile boolean closed;

  private AsyncMetricSink(MetricSink delegate, Executor executor, int capacity) {
    this.delegate = delegate;
    this.executor = executor;
    this.queue = new ArrayBlockingQueue<>(capacity);
  }

  /**
   * Wraps {@code delegate}.
   *
   * @param delegate the sink that may be slow
   * @param executor runs the draining task; the caller owns it
   * @param capacity events that may wait; more are dropped
   */
  public static AsyncMetricSink wrap(MetricSink delegate, Executor executor, int capacity) {
    Objects.requireNonNull(delegate, "delegate");
    Objects.requireNonNull(executor, "executor");
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be >= 1 but was " + capacity);
    }
    return new AsyncMetricSink(delegate, executor, capacity);
  }

  @Override
  public void onPrediction(PredictionEvent event) {
    enqueue(event);
  }

  @Override
  public void onLifecycle(LifecycleEvent event) {
    enqueue(event);
  }

  /** Queues the event for the delegate; drops and counts it when the queue is full. */
  @Override
  public void onShadow(dev.mlops.api.spi.ShadowEvent event) {
    enqueue(event);
  }

  private void enqueue(Object event) {
    if (closed || !queue.offer(event)) {
      dropped.increment();
      return;
    }
    if (draining.compareAndSet(false, true)) {
      try {
        executor.execute(this::drain);
      } catch (RejectedExecutionException e) {
        draining.set(false);
        queue.remove(event);
        dropped.increment();
      }
    }
  }

  private void drain() {
    for (; ; ) {
      Object e;
      while ((e = queue.poll()) != null) {
        try {
          if (e instanceof PredictionEvent) {
            delegate.onPrediction((PredictionEvent) e);
          } else if (e instanceof dev.mlops.api.spi.ShadowEvent) {
            delegate.onShadow((dev.mlops.api.spi.ShadowEvent) e);
          } else {
            delegate.onLifecycle((LifecycleEvent) e);
          }
        } catch (RuntimeException ex) {
          failed.increment();
          if (failed.sum() == 1) {
            LOG.warn(
                "metric sink {} failed; further failures are counted, not logged", delegate, ex);
          }
        }
      }
      draining.set(false);
      // An event queued after the last poll but before the flag dropped would wait for the next
      // one; take the drain back if so.
      if (queue.isEmpty() || !draining.compareAndSet(false, true)) {
        return;
      }
    }
  }

  /** Events dropped because the queue was full (or the sink closed). */
  public long dropped() {
    return dropped.sum();
  }

  /** Events the delegate threw on. */
  public long failed() {
    return failed.sum();
  }

  /** Events waiting now. */
  public int queued() {
    return queue.size();
  }

  /** Stops accepting events; the queued ones still drain. Idempotent. */
  @Override
  public void close() {
    closed = true;
  }

  @Override
  public String toString() {
    return "AsyncMetricSink["
        + delegate
        + ", capacity "
        + (queue.size() + queue.remainingCapacity())
        + "]";
  }
}
