package dev.mlops.api;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@link ModelRegistry#startRollout} starts: the candidate version, its first weight, and its
 * plan (steps and analysis).
 *
 * <pre>{@code
 * registry.startRollout("fraud", "production", RolloutSpec.of(7).weightPercent(5), audit);
 * registry.startRollout("fraud", "production",
 *     RolloutSpec.of(7).steps(5, 25, 50, 100).every(Duration.ofMinutes(5))
 *         .analysis(AnalysisPolicy.builder().maxErrorRate(0.01).build()),
 *     audit);
 * // Champion/challenger: no traffic on the candidate, every stable call mirrored to it.
 * registry.startRollout("fraud", "production", RolloutSpec.of(7).shadowPercent(100), audit);
 * }</pre>
 *
 * <p>With steps and no explicit weight, the rollout starts at the first step.
 *
 * @param candidate the version to roll out behind the alias
 * @param weight its first share of the calls, in basis points (0 to 10,000)
 * @param shadow the share of the stable arm's calls mirrored to the candidate, in basis points
 * @param plan its steps and analysis
 */
public record RolloutSpec(long candidate, int weight, int shadow, RolloutPlan plan) {

  /** Validates. */
  public RolloutSpec {
    if (candidate < 1) {
      throw new IllegalArgumentException("candidate must be a version >= 1, was " + candidate);
    }
    Rollout.checkWeight("weight", weight);
    Rollout.checkWeight("shadow", shadow);
    Objects.requireNonNull(plan, "plan");
  }

  /** A rollout of {@code candidate} at weight 0 (no call routed to it until the weight grows). */
  public static RolloutSpec of(long candidate) {
    return new RolloutSpec(candidate, 0, 0, RolloutPlan.MANUAL);
  }

  /** This spec with a first weight in basis points (0 to 10,000). */
  public RolloutSpec weight(int basisPoints) {
    return new RolloutSpec(candidate, basisPoints, shadow, plan);
  }

  /** This spec with a first weight as a percentage (0 to 100, to 0.01). */
  public RolloutSpec weightPercent(double percent) {
    return new RolloutSpec(candidate, basisPoints(percent), shadow, plan);
  }

  /**
   * This spec with a step schedule, in percent (e.g. 5, 25, 50, 100): one step per {@link #every}
   * while the analysis passes, then promotion. Without an explicit weight, the first step is the
   * starting weight.
   */
  public RolloutSpec steps(double... percents) {
    List<Integer> bp = new ArrayList<>();
    for (double p : percents) {
      bp.add(basisPoints(p));
    }
    RolloutPlan next =
        new RolloutPlan(
            bp,
            plan.interval().isZero() ? Duration.ofMinutes(1) : plan.interval(),
            plan.analysis());
    return new RolloutSpec(
        candidate, weight == 0 && !bp.isEmpty() ? bp.get(0) : weight, shadow, next);
  }

  /** This spec with each step and analysis window lasting {@code interval} (default 1 min). */
  public RolloutSpec every(Duration interval) {
    return new RolloutSpec(
        candidate, weight, shadow, new RolloutPlan(plan.steps(), interval, plan.analysis()));
  }

  /** This spec with an analysis whose failures roll the rollout back. */
  public RolloutSpec analysis(AnalysisPolicy policy) {
    return new RolloutSpec(
        candidate,
        weight,
        shadow,
        new RolloutPlan(
            plan.steps(),
            plan.interval().isZero() ? Duration.ofMinutes(1) : plan.interval(),
            Optional.of(policy)));
  }

  /**
   * This spec with a shadow share in basis points (0 to 10,000): that share of the calls the stable
   * version answers also runs on the candidate, off the caller's thread, and is compared and
   * discarded.
   */
  public RolloutSpec shadow(int basisPoints) {
    return new RolloutSpec(candidate, weight, basisPoints, plan);
  }

  /** This spec with a shadow share as a percentage (0 to 100, to 0.01); see {@link #shadow}. */
  public RolloutSpec shadowPercent(double percent) {
    return new RolloutSpec(candidate, weight, basisPoints(percent), plan);
  }

  /**
   * A percentage in basis points, to the nearest.
   *
   * @throws IllegalArgumentException if not within 0 to 100
   */
  public static int basisPoints(double percent) {
    if (!(percent >= 0 && percent <= 100)) {
      throw new IllegalArgumentException("a weight must be 0 to 100 %, was " + percent);
    }
    return (int) Math.round(percent * 100);
  }
}
