package dev.mlops.api.spi;

import java.util.Objects;

/**
 * One prediction call as seen by a {@link MetricSink}.
 *
 * @param model model name
 * @param version the version that served it, 0 if none was loaded
 * @param latencyNanos time from entry to result or failure
 * @param queueNanos time spent waiting in a batching queue, 0 without batching
 * @param batchSize number of rows in the engine run that served it
 * @param outcome how it ended
 * @param requestKey the caller's request key, empty if none
 * @param arm the rollout arm the call was routed to ({@code STABLE} without a rollout)
 */
public record PredictionEvent(
    String model,
    long version,
    long latencyNanos,
    long queueNanos,
    int batchSize,
    Outcome outcome,
    String requestKey,
    dev.mlops.api.Prediction.Arm arm) {
  /** Validates. */
  public PredictionEvent {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(requestKey, "requestKey");
    Objects.requireNonNull(arm, "arm");
  }

  /** A call on the stable arm. */
  public PredictionEvent(
      String model,
      long version,
      long latencyNanos,
      long queueNanos,
      int batchSize,
      Outcome outcome,
      String requestKey) {
    this(
        model,
        version,
        latencyNanos,
        queueNanos,
        batchSize,
        outcome,
        requestKey,
        dev.mlops.api.Prediction.Arm.STABLE);
  }
}
