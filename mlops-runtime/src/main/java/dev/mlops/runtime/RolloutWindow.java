package dev.mlops.runtime;

import dev.mlops.api.spi.Outcome;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * What one arm of a rollout saw in one analysis window: calls, failed calls and a latency histogram
 * (four buckets per power of two, so a percentile is known to within 19 %). Recording costs two
 * atomic additions; thread-safe.
 */
final class RolloutWindow {

  private static final int BUCKETS = 4 * 64;

  private final LongAdder calls = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final AtomicLongArray latency = new AtomicLongArray(BUCKETS);

  /** One call that ended with {@code outcome} after {@code nanos}. */
  void record(Outcome outcome, long nanos) {
    calls.increment();
    if (outcome == Outcome.ERROR || outcome == Outcome.TIMEOUT) {
      errors.increment();
    }
    latency.incrementAndGet(bucket(Math.max(1, nanos)));
  }

  static int bucket(long nanos) {
    int msb = 63 - Long.numberOfLeadingZeros(nanos);
    int sub = msb >= 2 ? (int) ((nanos >>> (msb - 2)) & 3) : 0;
    return msb * 4 + sub;
  }

  /** The upper bound of a bucket, in nanoseconds. */
  static long upper(int bucket) {
    int msb = bucket / 4;
    int sub = bucket % 4;
    if (msb < 2) {
      return 1L << (msb + 1);
    }
    return (1L << msb) + ((long) (sub + 1) << (msb - 2));
  }

  /** Counts of one or more windows. */
  record Counts(long calls, long errors, long[] latency) {
    static Counts empty() {
      return new Counts(0, 0, new long[BUCKETS]);
    }

    Counts plus(RolloutWindow w) {
      long[] l = latency.clone();
      for (int i = 0; i < BUCKETS; i++) {
        l[i] += w.latency.get(i);
      }
      return new Counts(calls + w.calls.sum(), errors + w.errors.sum(), l);
    }

    double errorRate() {
      return calls == 0 ? 0 : errors / (double) calls;
    }

    /** The 99th percentile latency, in nanoseconds (0 without calls). */
    long p99() {
      long total = 0;
      for (long n : latency) {
        total += n;
      }
      if (total == 0) {
        return 0;
      }
      long rank = (long) Math.ceil(total * 0.99);
      long seen = 0;
      for (int i = 0; i < BUCKETS; i++) {
        seen += latency[i];
        if (seen >= rank) {
          return upper(i);
        }
      }
      return upper(BUCKETS - 1);
    }
  }
}
