package dev.mlops.metrics;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Fixed log-linear histogram of nanosecond values, lock-free to record into.
 *
 * <p>Values below 64 ns get a bucket each (exact). Above that, each power of two {@code [2^e,
 * 2^(e+1))} is cut into 32 equal buckets, so a bucket is at most 1/32 as wide as its lower bound;
 * reporting its midpoint is off by at most 1/64 (1.5625%) of the true value. The top octave is
 * {@code [2^35, 2^36)} ns, so the bound holds up to 2^36 - 1 ns (about 68.7 s), which covers the 1
 * µs to 60 s range latencies live in; larger values are counted in the last bucket. 1,024 buckets,
 * 8 KiB per histogram.
 */
final class LatencyHistogram {

  static final int SUB_BITS = 5;
  static final int SUB_COUNT = 1 << SUB_BITS;
  static final int MAX_EXPONENT = 35;
  static final int BUCKETS = (MAX_EXPONENT - SUB_BITS + 2) * SUB_COUNT;

  /** Largest value recorded in its own bucket; anything above is clamped to it. */
  static final long MAX_TRACKABLE = (1L << (MAX_EXPONENT + 1)) - 1;

  /** Largest relative error of {@link #representative} against any value in the bucket. */
  static final double MAX_RELATIVE_ERROR = 1.0 / (2 * SUB_COUNT);

  private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);

  void record(long nanos) {
    counts.incrementAndGet(index(nanos));
  }

  /** Copies the counts; each bucket is read atomically, the whole copy is not. */
  long[] snapshot() {
    long[] copy = new long[BUCKETS];
    for (int i = 0; i < BUCKETS; i++) {
      copy[i] = counts.get(i);
    }
    return copy;
  }

  static int index(long nanos) {
    long v = Math.min(Math.max(nanos, 0L), MAX_TRACKABLE);
    if (v < 2 * SUB_COUNT) {
      return (int) v;
    }
    int shift = 63 - Long.numberOfLeadingZeros(v) - SUB_BITS;
    return shift * SUB_COUNT + (int) (v >>> shift);
  }

  static long lowerBound(int index) {
    if (index < 2 * SUB_COUNT) {
      return index;
    }
    int shift = index / SUB_COUNT - 1;
    long sub = index % SUB_COUNT + SUB_COUNT;
    return sub << shift;
  }

  static long width(int index) {
    return index < 2 * SUB_COUNT ? 1L : 1L << (index / SUB_COUNT - 1);
  }

  /** The midpoint of the bucket: within {@link #MAX_RELATIVE_ERROR} of every value in it. */
  static long representative(int index) {
    return lowerBound(index) + (width(index) >>> 1);
  }

  /**
   * Nearest-rank quantile: the representative of the bucket holding the {@code ceil(q * n)}-th
   * smallest value (at least the first). 0 when the snapshot is empty.
   */
  static long valueAtQuantile(long[] snapshot, long total, double quantile) {
    if (total <= 0) {
      return 0L;
    }
    long rank = Math.max(1L, (long) Math.ceil(quantile * total));
    long seen = 0;
    for (int i = 0; i < snapshot.length; i++) {
      seen += snapshot[i];
      if (seen >= rank) {
        return representative(i);
      }
    }
    // Only reachable if total exceeds the snapshot's sum; the top non-empty bucket is the answer.
    for (int i = snapshot.length - 1; i >= 0; i--) {
      if (snapshot[i] > 0) {
        return representative(i);
      }
    }
    return 0L;
  }
}
