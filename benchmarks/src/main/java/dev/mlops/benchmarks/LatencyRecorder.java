package dev.mlops.benchmarks;

import java.util.Arrays;

/**
 * Every latency of one thread, in nanoseconds, in a growing array: no histogram, no bucketing, so
 * percentiles are exact. Not thread-safe; one per caller thread, merged at the end.
 */
final class LatencyRecorder {

  private long[] values = new long[1 << 14];
  private int size;

  void record(long nanos) {
    if (size == values.length) {
      values = Arrays.copyOf(values, values.length * 2);
    }
    values[size++] = nanos;
  }

  int size() {
    return size;
  }

  /** All values of all recorders, sorted ascending. */
  static long[] mergeSorted(LatencyRecorder... recorders) {
    int total = 0;
    for (LatencyRecorder r : recorders) {
      total += r.size;
    }
    long[] all = new long[total];
    int at = 0;
    for (LatencyRecorder r : recorders) {
      System.arraycopy(r.values, 0, all, at, r.size);
      at += r.size;
    }
    Arrays.sort(all);
    return all;
  }

  /** Nearest-rank percentile of sorted values, {@code p} in {@code [0, 1]}; NaN if empty. */
  static double percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p * sorted.length);
    return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
  }

  static double mean(long[] values) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double sum = 0;
    for (long v : values) {
      sum += v;
    }
    return sum / values.length;
  }
}
