package dev.mlops.api.spi;

import java.util.Objects;
import java.util.Optional;

/**
 * One shadow (mirrored) call of a rollout's candidate as seen by a {@link MetricSink}: a copy of a
 * call the stable version answered, run on the candidate off the caller's thread and discarded; or
 * a copy dropped because the shadow executor was saturated.
 *
 * @param model model name
 * @param rollout the rollout's id
 * @param stableVersion the version that answered the caller
 * @param candidateVersion the candidate the copy ran on (or would have)
 * @param dropped whether the copy was dropped without running (the shadow queue was full, or the
 *     candidate was no longer routed); then {@code outcome} is {@link Outcome#OVERLOADED}, the
 *     latency 0 and there is no comparison
 * @param outcome how the candidate's run ended, decoding included
 * @param latencyNanos the candidate's run, from its start on the shadow thread (queueing excluded)
 * @param comparison how far the candidate's outputs were from the stable ones, when it succeeded
 *     and the outputs could be compared
 */
public record ShadowEvent(
    String model,
    String rollout,
    long stableVersion,
    long candidateVersion,
    boolean dropped,
    Outcome outcome,
    long latencyNanos,
    Optional<Comparison> comparison) {

  /** Validates. */
  public ShadowEvent {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(rollout, "rollout");
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(comparison, "comparison");
  }

  /**
   * How the candidate's outputs differ from the stable version's on the same inputs.
   *
   * @param maxAbsDifference the largest absolute difference between two corresponding numeric
   *     output elements, over every output both read (0 when identical; infinite when shapes differ
   *     or one side has NaN where the other does not)
   * @param argmaxDiffers whether any row's arg-max over the first output's last dimension differs:
   *     for a classifier's scores, whether the predicted class changed
   */
  public record Comparison(double maxAbsDifference, boolean argmaxDiffers) {}
}
