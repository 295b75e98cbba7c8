package dev.mlops.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LatencyHistogramTest {

  @Test
  void bucketsTileTheRangeWithoutGapsOrOverlaps() {
    assertThat(LatencyHistogram.lowerBound(0)).isZero();
    for (int i = 1; i < LatencyHistogram.BUCKETS; i++) {
      assertThat(LatencyHistogram.lowerBound(i))
          .as("bucket %d", i)
          .isEqualTo(LatencyHistogram.lowerBound(i - 1) + LatencyHistogram.width(i - 1));
    }
    int last = LatencyHistogram.BUCKETS - 1;
    assertThat(LatencyHistogram.lowerBound(last) + LatencyHistogram.width(last) - 1)
        .isEqualTo(LatencyHistogram.MAX_TRACKABLE);
    assertThat(LatencyHistogram.MAX_TRACKABLE).isGreaterThan(60_000_000_000L);
  }

  @Test
  void everyValueMapsToTheBucketHoldingItAndIsWithinOneSixtyFourthOfItsRepresentative() {
    for (int i = 0; i < LatencyHistogram.BUCKETS; i++) {
      long low = LatencyHistogram.lowerBound(i);
      long high = low + LatencyHistogram.width(i) - 1;
      for (long v : new long[] {low, (low + high) / 2, high}) {
        assertThat(LatencyHistogram.index(v)).as("index of %d", v).isEqualTo(i);
        long error = Math.abs(LatencyHistogram.representative(i) - v);
        assertThat((double) error).as("error at %d", v).isLessThanOrEqualTo(v / 64.0);
      }
    }
  }

  @Test
  void outOfRangeValuesAreClampedToTheEndBuckets() {
    assertThat(LatencyHistogram.index(-1)).isZero();
    assertThat(LatencyHistogram.index(Long.MAX_VALUE)).isEqualTo(LatencyHistogram.BUCKETS - 1);
  }

  @Test
  void quantilesOfARandomSampleAreWithinTheStatedError() {
    Random random = new Random(7);
    LatencyHistogram histogram = new LatencyHistogram();
    int n = 50_000;
    long[] values = new long[n];
    for (int i = 0; i < n; i++) {
      // Log-normal-ish around 2 ms, like a real service.
      values[i] = (long) Math.exp(Math.log(2e6) + random.nextGaussian());
      histogram.record(values[i]);
    }
    Arrays.sort(values);
    long[] snapshot = histogram.snapshot();
    assertThat(Arrays.stream(snapshot).sum()).isEqualTo(n);
    for (double q = 0.001; q < 1.0; q += 0.001) {
      long exact = values[(int) Math.max(1, Math.ceil(q * n)) - 1];
      long reported = LatencyHistogram.valueAtQuantile(snapshot, n, q);
      assertThat((double) Math.abs(reported - exact))
          .as("q=%.3f exact=%d reported=%d", q, exact, reported)
          .isLessThanOrEqualTo(exact * LatencyHistogram.MAX_RELATIVE_ERROR);
    }
  }

  @Test
  void emptySnapshotReportsZero() {
    LatencyHistogram histogram = new LatencyHistogram();
    assertThat(LatencyHistogram.valueAtQuantile(histogram.snapshot(), 0, 0.5)).isZero();
  }
}
