package dev.mlops.api;

import java.util.Objects;

/**
 * The result of one prediction and the model version that produced it.
 *
 * @param value the decoded output
 * @param model model name
 * @param version the version that ran this call
 * @param latencyNanos time spent in the call, from entry to decoded result
 * @param <O> output type
 */
public record Prediction<O>(O value, String model, long version, long latencyNanos) {
  /** Validates. */
  public Prediction {
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(model, "model");
  }
}
