package dev.mlops.metrics.drift;

import java.time.Instant;
import java.util.Objects;

/**
 * A drift or data-quality measure crossed its threshold: raised when it moves to the alarming side,
 * cleared when it moves back. A {@link DriftMonitor} sends one alarm per crossing, never one per
 * evaluation while the measure stays on the same side.
 *
 * @param time when the evaluation that saw the crossing ran
 * @param model model name
 * @param version model version
 * @param feature the feature, or {@link DriftBaseline#PREDICTION} for the prediction
 * @param metric what was measured
 * @param value the measured value
 * @param threshold the configured threshold
 * @param state whether the alarm was raised or cleared
 */
public record DriftAlarm(
    Instant time,
    String model,
    long version,
    String feature,
    DriftMetric metric,
    double value,
    double threshold,
    DriftAlarm.State state) {

  /** Whether an alarm starts or ends. */
  public enum State {
    /** The measure crossed to the alarming side of its threshold. */
    RAISED,
    /** The measure went back to the normal side. */
    CLEARED
  }

  /**
   * Validates.
   *
   * @param time when the evaluation that saw the crossing ran
   * @param model model name
   * @param version model version
   * @param feature the feature, or {@link DriftBaseline#PREDICTION} for the prediction
   * @param metric what was measured
   * @param value the measured value
   * @param threshold the configured threshold
   * @param state whether the alarm was raised or cleared
   * @throws NullPointerException if an object field is null
   */
  public DriftAlarm {
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(feature, "feature");
    Objects.requireNonNull(metric, "metric");
    Objects.requireNonNull(state, "state");
  }
}
