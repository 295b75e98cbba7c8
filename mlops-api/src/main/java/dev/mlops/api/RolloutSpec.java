package dev.mlops.api;

/**
 * What {@link ModelRegistry#startRollout} starts: the candidate version and its first weight.
 *
 * <pre>{@code
 * registry.startRollout("fraud", "production", RolloutSpec.of(7).weightPercent(5), audit);
 * }</pre>
 *
 * @param candidate the version to roll out behind the alias
 * @param weight its first share of the calls, in basis points (0 to 10,000)
 */
public record RolloutSpec(long candidate, int weight) {

  /** Validates. */
  public RolloutSpec {
    if (candidate < 1) {
      throw new IllegalArgumentException("candidate must be a version >= 1, was " + candidate);
    }
    Rollout.checkWeight("weight", weight);
  }

  /** A rollout of {@code candidate} at weight 0 (no call routed to it until the weight grows). */
  public static RolloutSpec of(long candidate) {
    return new RolloutSpec(candidate, 0);
  }

  /** This spec with a first weight in basis points (0 to 10,000). */
  public RolloutSpec weight(int basisPoints) {
    return new RolloutSpec(candidate, basisPoints);
  }

  /** This spec with a first weight as a percentage (0 to 100, to 0.01). */
  public RolloutSpec weightPercent(double percent) {
    return new RolloutSpec(candidate, basisPoints(percent));
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
