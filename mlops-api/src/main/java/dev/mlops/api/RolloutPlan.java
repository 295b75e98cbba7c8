package dev.mlops.api;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How a rollout moves on its own: a step schedule of weights, one step per {@code interval} while
 * the analysis passes, ending in promotion after the last step; and the analysis that rolls it
 * back. {@link #MANUAL} has neither: only calls on the registry change the rollout.
 *
 * @param steps the weights to go through, in basis points, strictly increasing, each 1 to 10,000;
 *     empty for none. After the last step passes, the alias is promoted
 * @param interval how long each step and each analysis window lasts; zero for a manual plan
 * @param analysis the checks each window must pass, if any
 */
public record RolloutPlan(
    List<Integer> steps, Duration interval, Optional<AnalysisPolicy> analysis) {

  /** No steps, no analysis. */
  public static final RolloutPlan MANUAL =
      new RolloutPlan(List.of(), Duration.ZERO, Optional.empty());

  /** Validates and copies the list. */
  public RolloutPlan {
    steps = List.copyOf(steps);
    Objects.requireNonNull(interval, "interval");
    Objects.requireNonNull(analysis, "analysis");
    int last = 0;
    for (int s : steps) {
      if (s <= last || s > Rollout.FULL) {
        throw new IllegalArgumentException(
            "steps must be strictly increasing weights of 1 to 10000 basis points, were " + steps);
      }
      last = s;
    }
    if (interval.isNegative()) {
      throw new IllegalArgumentException("interval must not be negative, was " + interval);
    }
    if ((!steps.isEmpty() || analysis.isPresent()) && interval.isZero()) {
      throw new IllegalArgumentException(
          "a plan with steps or an analysis needs a positive interval (RolloutSpec.every)");
    }
  }

  /** Whether the plan changes the rollout on its own (it has steps or an analysis). */
  public boolean automatic() {
    return !steps.isEmpty() || analysis.isPresent();
  }

  /** The first step above {@code weight}, if any. */
  public Optional<Integer> stepAfter(int weight) {
    for (int s : steps) {
      if (s > weight) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }
}
