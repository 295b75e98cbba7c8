package dev.mlops.api;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The checks a rollout's candidate must pass in every analysis window (one {@link
 * RolloutPlan#interval()}), shaped like Flagger's and Argo Rollouts' metric analysis: an error rate
 * at most {@code maxErrorRate}; a p99 latency at most {@code maxP99}, and at most {@code
 * maxP99Ratio} times the stable arm's p99. A window with fewer than {@code minRequests} candidate
 * calls is inconclusive, not a pass. After {@code failureThreshold} failed windows the rollout
 * rolls back: weight 0, marked {@link Rollout.State#ROLLED_BACK}, audited with the failed checks.
 *
 * <pre>{@code
 * AnalysisPolicy.builder().maxErrorRate(0.01).maxP99(Duration.ofMillis(500)).minRequests(100)
 *     .failureThreshold(3).build();
 * }</pre>
 *
 * @param maxErrorRate the highest share of failed candidate calls (engine or codec errors and
 *     timeouts; refused inputs and overload do not count), 0 to 1
 * @param maxP99 the highest p99 latency of the candidate, if bounded
 * @param maxP99Ratio the highest ratio of the candidate's p99 to the stable arm's, 0 for none
 * @param minRequests the fewest candidate calls that make a window conclusive, at least 1
 * @param failureThreshold failed windows that roll the rollout back, at least 1
 */
public record AnalysisPolicy(
    double maxErrorRate,
    Optional<Duration> maxP99,
    double maxP99Ratio,
    long minRequests,
    int failureThreshold) {

  /** Validates. */
  public AnalysisPolicy {
    if (!(maxErrorRate >= 0 && maxErrorRate <= 1)) {
      throw new IllegalArgumentException("maxErrorRate must be 0 to 1, was " + maxErrorRate);
    }
    Objects.requireNonNull(maxP99, "maxP99");
    maxP99.ifPresent(
        d -> {
          if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("maxP99 must be positive, was " + d);
          }
        });
    if (!(maxP99Ratio >= 0) || Double.isInfinite(maxP99Ratio)) {
      throw new IllegalArgumentException("maxP99Ratio must be >= 0 (0: none), was " + maxP99Ratio);
    }
    if (minRequests < 1) {
      throw new IllegalArgumentException("minRequests must be >= 1, was " + minRequests);
    }
    if (failureThreshold < 1) {
      throw new IllegalArgumentException("failureThreshold must be >= 1, was " + failureThreshold);
    }
  }

  /** Starts a policy: error rate at most 1 %, no latency bound, 100 calls, 3 failed windows. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds an {@link AnalysisPolicy}. Not thread-safe. */
  public static final class Builder {
    private double maxErrorRate = 0.01;
    private Duration maxP99;
    private double maxP99Ratio;
    private long minRequests = 100;
    private int failureThreshold = 3;

    private Builder() {}

    /** The highest share of failed candidate calls, 0 to 1 (default 0.01). */
    public Builder maxErrorRate(double rate) {
      this.maxErrorRate = rate;
      return this;
    }

    /** The highest p99 latency of the candidate (default: none). */
    public Builder maxP99(Duration p99) {
      this.maxP99 = Objects.requireNonNull(p99, "p99");
      return this;
    }

    /** The highest ratio of the candidate's p99 to the stable arm's (default: none). */
    public Builder maxP99Ratio(double ratio) {
      this.maxP99Ratio = ratio;
      return this;
    }

    /** The fewest candidate calls that make a window conclusive (default 100). */
    public Builder minRequests(long requests) {
      this.minRequests = requests;
      return this;
    }

    /** Failed windows that roll back (default 3). */
    public Builder failureThreshold(int windows) {
      this.failureThreshold = windows;
      return this;
    }

    /**
     * Builds the policy.
     *
     * @throws IllegalArgumentException naming a value out of range
     */
    public AnalysisPolicy build() {
      return new AnalysisPolicy(
          maxErrorRate, Optional.ofNullable(maxP99), maxP99Ratio, minRequests, failureThreshold);
    }
  }
}
