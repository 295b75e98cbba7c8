package dev.mlops.api;

import java.util.Objects;

/**
 * The result of one prediction and the model version that produced it.
 *
 * @param value the decoded output
 * @param model model name
 * @param version the version that ran this call
 * @param latencyNanos time spent in the call, from entry to decoded result
 * @param arm the arm of the alias's rollout that answered: {@link Arm#CANDIDATE} when the call was
 *     routed to the candidate, {@link Arm#STABLE} otherwise (also without a rollout)
 * @param <O> output type
 */
public record Prediction<O>(O value, String model, long version, long latencyNanos, Arm arm) {

  /** Which arm of a rollout answered a call. */
  public enum Arm {
    /** The version the reference resolves to: the alias's target, or a pinned or latest version. */
    STABLE,
    /** A rollout's candidate. */
    CANDIDATE;

    /** The lower-case name, as metrics tag it. */
    public String tag() {
      return this == STABLE ? "stable" : "candidate";
    }
  }

  /** Validates. */
  public Prediction {
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(arm, "arm");
  }

  /** A prediction on the stable arm. */
  public Prediction(O value, String model, long version, long latencyNanos) {
    this(value, model, version, latencyNanos, Arm.STABLE);
  }
}
