package dev.mlops.runtime;

import dev.mlops.api.ModelVersion;
import dev.mlops.api.Tensor;
import dev.mlops.api.spi.Outcome;
import dev.mlops.api.spi.ShadowEvent;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime's shadow traffic: copies of calls the stable arm answered, run on a rollout's
 * candidate on the shadow executor, compared with the stable outputs and discarded. At most {@code
 * capacity} copies wait or run at once, whatever the executor; a copy beyond that, or one the
 * executor refuses, is dropped and counted, never waited for. The caller's thread only hands the
 * copy over (its inputs and outputs are immutable tensors, shared, not copied). Each copy runs
 * under a deadline counted from its start on the shadow thread; a copy past it is terminated inside
 * the engine and reported with {@link Outcome#TIMEOUT}, so a hung candidate cannot hold the shadow
 * threads. Thread-safe.
 */
final class ShadowCalls {

  private static final Logger LOG = LoggerFactory.getLogger(ShadowCalls.class);

  private final Executor executor;
  private final Semaphore room;
  private final int capacity;
  private final Duration deadline;
  private final Telemetry telemetry;
  private final AtomicLong mirrored = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();

  ShadowCalls(Executor executor, int capacity, Duration deadline, Telemetry telemetry) {
    this.executor = executor;
    this.capacity = capacity;
    this.deadline = deadline;
    this.room = new Semaphore(capacity);
    this.telemetry = telemetry;
  }

  /**
   * Hands a copy of a call the stable arm answered to the shadow executor, or drops it when the
   * shadow is saturated. Never blocks and never throws.
   */
  <I, O> void offer(
      CallPipeline<I, O> pipeline,
      Binding.Route route,
      ModelVersion stable,
      Map<String, Tensor> inputs,
      Map<String, Tensor> outputs) {
    if (!room.tryAcquire()) {
      drop(pipeline, route, stable);
      return;
    }
    try {
      executor.execute(
          () -> {
            try {
              run(pipeline, route, stable, inputs, outputs);
            } finally {
              room.release();
            }
          });
    } catch (RejectedExecutionException e) {
      room.release();
      drop(pipeline, route, stable);
    }
  }

  private void drop(CallPipeline<?, ?> pipeline, Binding.Route route, ModelVersion stable) {
    long n = dropped.incrementAndGet();
    if (n == 1 || n % 10_000 == 0) {
      LOG.debug("shadow calls of rollout {} dropped: {} so far", route.rollout.id(), n);
    }
    telemetry.shadow(
        new ShadowEvent(
            pipeline.model(),
            route.rollout.id(),
            stable.version(),
            route.rollout.candidate(),
            true,
            Outcome.OVERLOADED,
            0,
            Optional.empty()));
  }

  /** On the shadow thread: the candidate's run on the stable call's inputs, compared. */
  private <I, O> void run(
      CallPipeline<I, O> pipeline,
      Binding.Route route,
      ModelVersion stable,
      Map<String, Tensor> inputs,
      Map<String, Tensor> outputs) {
    SessionHandle h = route.candidate.tryAcquire() ? route.candidate : null;
    if (h == null) {
      // The rollout changed or ended meanwhile: its candidate is no longer leased for routing.
      drop(pipeline, route, stable);
      return;
    }
    mirrored.incrementAndGet();
    long start = pipeline.now();
    Outcome outcome = Outcome.ERROR;
    Optional<ShadowEvent.Comparison> comparison = Optional.empty();
    try {
      Map<String, Tensor> mine =
          pipeline.shadowRun(h, inputs, CallPipeline.deadline(start, deadline));
      outcome = Outcome.SUCCESS;
      comparison = Optional.of(compare(outputs, mine));
    } catch (RuntimeException e) {
      outcome = CallPipeline.outcome(e);
      long n = failed.incrementAndGet();
      if (n == 1 || n % 10_000 == 0) {
        LOG.debug("shadow call on {} failed ({} so far): {}", h.version.ref(), n, e.toString());
      }
    } finally {
      h.releaseAfterCall();
    }
    long latency = pipeline.now() - start;
    if (route.rollout.weight() == 0 && route.analysed()) {
      // A shadow-only rollout's analysis runs on the mirrored calls: they are its candidate arm.
      route.record(true, outcome, latency);
    }
    telemetry.shadow(
        new ShadowEvent(
            pipeline.model(),
            route.rollout.id(),
            stable.version(),
            h.version.version(),
            false,
            outcome,
            latency,
            comparison));
  }

  /**
   * How far {@code candidate}'s outputs are from {@code stable}'s: the largest absolute difference
   * over the outputs both have, and whether a row's arg-max (a classifier's class) changed.
   */
  static ShadowEvent.Comparison compare(Map<String, Tensor> stable, Map<String, Tensor> candidate) {
    double max = 0;
    boolean argmax = false;
    boolean first = true;
    for (Map.Entry<String, Tensor> e : stable.entrySet()) {
      Tensor a = e.getValue();
      Tensor b = candidate.get(e.getKey());
      if (b == null) {
        continue;
      }
      max = Math.max(max, maxAbsDifference(a, b));
      if (first && a.rank() >= 1) {
        first = false;
        argmax = argmaxDiffers(a, b);
      }
    }
    return new ShadowEvent.Comparison(max, argmax);
  }

  private static double maxAbsDifference(Tensor a, Tensor b) {
    if (!java.util.Arrays.equals(a.shape(), b.shape()) || a.type() != b.type()) {
      return Double.POSITIVE_INFINITY;
    }
    int n = a.elementCount();
    if (!numeric(a)) {
      return java.util.Objects.deepEquals(a.data(), b.data()) ? 0 : Double.POSITIVE_INFINITY;
    }
    double max = 0;
    for (int i = 0; i < n; i++) {
      double x = value(a, i);
      double y = value(b, i);
      if (Double.isNaN(x) || Double.isNaN(y)) {
        if (Double.isNaN(x) != Double.isNaN(y)) {
          return Double.POSITIVE_INFINITY;
        }
        continue;
      }
      max = Math.max(max, Math.abs(x - y));
    }
    return max;
  }

  /**
   * Whether a row's arg-max over the last dimension differs; for a rank-1 output (labels, one per
   * row), whether a row's value differs.
   */
  private static boolean argmaxDiffers(Tensor a, Tensor b) {
    if (!java.util.Arrays.equals(a.shape(), b.shape()) || a.type() != b.type()) {
      return true;
    }
    if (!numeric(a)) {
      return !java.util.Objects.deepEquals(a.data(), b.data());
    }
    int n = a.elementCount();
    int width = a.rank() == 1 ? 1 : (int) a.dim(a.rank() - 1);
    if (width == 0) {
      return false;
    }
    for (int row = 0; row + width <= n; row += width) {
      if (width == 1) {
        if (Double.compare(value(a, row), value(b, row)) != 0) {
          return true;
        }
      } else if (argmax(a, row, width) != argmax(b, row, width)) {
        return true;
      }
    }
    return false;
  }

  private static int argmax(Tensor t, int from, int width) {
    int best = 0;
    double bestValue = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < width; i++) {
      double v = value(t, from + i);
      if (v > bestValue) {
        bestValue = v;
        best = i;
      }
    }
    return best;
  }

  private static boolean numeric(Tensor t) {
    switch (t.type()) {
      case STRING:
      case FLOAT16:
      case BFLOAT16:
        return false;
      default:
        return true;
    }
  }

  private static double value(Tensor t, int i) {
    switch (t.type()) {
      case FLOAT:
        return t.floats()[i];
      case DOUBLE:
        return t.doubles()[i];
      case INT8:
        return t.bytes()[i];
      case UINT8:
        return t.bytes()[i] & 0xff;
      case INT16:
        return t.shorts()[i];
      case INT32:
        return t.ints()[i];
      case INT64:
        return t.longs()[i];
      case BOOL:
        return t.booleans()[i] ? 1 : 0;
      default:
        throw new IllegalArgumentException("not numeric: " + t.type());
    }
  }

  /** What {@link Mlops#state()} reports of the shadow traffic. */
  RuntimeState.Shadow state() {
    return new RuntimeState.Shadow(
        mirrored.get(),
        dropped.get(),
        failed.get(),
        capacity - room.availablePermits(),
        capacity,
        deadline);
  }
}
