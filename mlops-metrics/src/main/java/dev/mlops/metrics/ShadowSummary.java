package dev.mlops.metrics;

/**
 * The shadow copies of one rollout, as returned by {@link InMemoryMetricSink#shadow(String,
 * String)}: copies of stable calls run on the rollout's candidate and discarded. An immutable
 * value; safe to share between threads.
 *
 * @param copies copies run on the candidate, whatever their outcome
 * @param dropped copies dropped without running (the shadow was saturated, or the candidate was no
 *     longer routed)
 * @param failed copies whose candidate run failed, timeouts included
 * @param argmaxDifferences successful copies whose arg-max (a classifier's class) differed from the
 *     stable answer's
 * @param maxAbsDifference the largest absolute difference between the candidate's and the stable
 *     outputs over every compared copy; 0 when none was compared, infinite when shapes differed
 * @param latency the candidate's run times, queueing excluded
 */
public record ShadowSummary(
    long copies,
    long dropped,
    long failed,
    long argmaxDifferences,
    double maxAbsDifference,
    LatencySummary latency) {

  /** The summary of no copies at all. */
  public static final ShadowSummary EMPTY =
      new ShadowSummary(0, 0, 0, 0, 0.0, LatencySummary.EMPTY);

  /**
   * Validates.
   *
   * @throws IllegalArgumentException if a count is negative or {@code maxAbsDifference} is negative
   *     or NaN
   * @throws NullPointerException if {@code latency} is null
   */
  public ShadowSummary {
    if (copies < 0 || dropped < 0 || failed < 0 || argmaxDifferences < 0) {
      throw new IllegalArgumentException(
          "counts must be >= 0 but were copies="
              + copies
              + ", dropped="
              + dropped
              + ", failed="
              + failed
              + ", argmaxDifferences="
              + argmaxDifferences);
    }
    if (!(maxAbsDifference >= 0.0)) {
      throw new IllegalArgumentException(
          "maxAbsDifference must be >= 0 but was " + maxAbsDifference);
    }
    java.util.Objects.requireNonNull(latency, "latency");
  }
}
