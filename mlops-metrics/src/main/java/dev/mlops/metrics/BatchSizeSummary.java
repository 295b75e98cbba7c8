package dev.mlops.metrics;

/**
 * Sizes of the engine batches that served one model version's calls, as returned by {@link
 * InMemoryMetricSink#batchSize(String, long)}. Only calls that reached the engine (batch size of at
 * least 1) are counted. An immutable value; safe to share between threads.
 *
 * @param count number of calls with a batch size of at least 1
 * @param meanSize mean batch size over those calls, 0 when {@code count} is 0
 */
public record BatchSizeSummary(long count, double meanSize) {

  /** The summary of no calls at all. */
  public static final BatchSizeSummary EMPTY = new BatchSizeSummary(0, 0.0);

  /**
   * Validates.
   *
   * @param count number of calls with a batch size of at least 1
   * @param meanSize mean batch size over those calls
   * @throws IllegalArgumentException if {@code count} is negative or {@code meanSize} is negative
   *     or not finite
   */
  public BatchSizeSummary {
    if (count < 0) {
      throw new IllegalArgumentException("count must be >= 0 but was " + count);
    }
    if (!(meanSize >= 0.0) || Double.isInfinite(meanSize)) {
      throw new IllegalArgumentException(
          "meanSize must be a finite number >= 0 but was " + meanSize);
    }
  }
}
