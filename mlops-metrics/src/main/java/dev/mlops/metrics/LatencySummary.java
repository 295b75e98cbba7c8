package dev.mlops.metrics;

/**
 * Latency of the calls one model version served, as returned by {@link
 * InMemoryMetricSink#latency(String, long)}. An immutable value; safe to share between threads.
 *
 * <p>{@code count}, {@code meanNanos} and {@code maxNanos} are exact. The percentiles come from a
 * fixed log-linear histogram and are within 1/64 (about 1.6%) of the true nearest-rank value for
 * latencies up to about 68.7 s; never above {@code maxNanos}.
 *
 * @param count number of calls, whatever their outcome
 * @param meanNanos mean latency in nanoseconds, 0 when {@code count} is 0
 * @param maxNanos largest latency seen in nanoseconds, 0 when {@code count} is 0
 * @param p50Nanos median latency in nanoseconds, 0 when {@code count} is 0
 * @param p99Nanos 99th-percentile latency in nanoseconds, 0 when {@code count} is 0
 */
public record LatencySummary(
    long count, double meanNanos, long maxNanos, long p50Nanos, long p99Nanos) {

  /** The summary of no calls at all: every field 0. */
  public static final LatencySummary EMPTY = new LatencySummary(0, 0.0, 0, 0, 0);

  /**
   * Validates.
   *
   * @param count number of calls
   * @param meanNanos mean latency in nanoseconds
   * @param maxNanos largest latency in nanoseconds
   * @param p50Nanos median latency in nanoseconds
   * @param p99Nanos 99th-percentile latency in nanoseconds
   * @throws IllegalArgumentException if a field is negative or {@code meanNanos} is not finite
   */
  public LatencySummary {
    if (count < 0 || maxNanos < 0 || p50Nanos < 0 || p99Nanos < 0) {
      throw new IllegalArgumentException(
          "count and latencies must be >= 0 but were count="
              + count
              + " max="
              + maxNanos
              + " p50="
              + p50Nanos
              + " p99="
              + p99Nanos);
    }
    if (!(meanNanos >= 0.0) || Double.isInfinite(meanNanos)) {
      throw new IllegalArgumentException(
          "meanNanos must be a finite number >= 0 but was " + meanNanos);
    }
  }
}
