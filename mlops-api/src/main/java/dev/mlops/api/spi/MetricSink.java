package dev.mlops.api.spi;

import dev.mlops.api.event.LifecycleEvent;

/**
 * Receives one {@link PredictionEvent} per prediction and every {@link LifecycleEvent}.
 *
 * <p>Called on the prediction thread, so implementations must be thread-safe, cheap and must not
 * block. The runtime catches and logs anything a sink throws; a sink never breaks a prediction.
 */
public interface MetricSink {

  /** A sink that drops everything; the default. */
  MetricSink NOOP =
      new MetricSink() {
        @Override
        public void onPrediction(PredictionEvent event) {}

        @Override
        public String toString() {
          return "MetricSink.NOOP";
        }
      };

  /** Called once per prediction call. */
  void onPrediction(PredictionEvent event);

  /** Called once per lifecycle event. Does nothing by default. */
  default void onLifecycle(LifecycleEvent event) {}

  /**
   * Called once per shadow call of a rollout's candidate, and once per shadow copy dropped; on the
   * shadow thread (or, for a drop, the caller's). Does nothing by default.
   */
  default void onShadow(ShadowEvent event) {}
}
