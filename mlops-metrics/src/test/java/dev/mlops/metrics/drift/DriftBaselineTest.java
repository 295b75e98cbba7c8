package dev.mlops.metrics.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DriftBaselineTest {

  private static float[] range(int from, int to) {
    float[] v = new float[to - from + 1];
    for (int i = 0; i < v.length; i++) {
      v[i] = from + i;
    }
    return v;
  }

  private static DriftBaseline.Feature single(float[] values) {
    return DriftBaseline.builder().feature("x", values).build().feature("x").orElseThrow();
  }

  @Test
  void edgesAreNearestRankDecilesAndProportionsCountTheReference() {
    float[] values = range(1, 100);
    // Shuffle: the baseline must not depend on the order of the rows.
    Random random = new Random(1);
    for (int i = values.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      float t = values[i];
      values[i] = values[j];
      values[j] = t;
    }
    DriftBaseline.Feature f = single(values);
    assertThat(f.binEdges()).containsExactly(10f, 20f, 30f, 40f, 50f, 60f, 70f, 80f, 90f);
    assertThat(f.binProportions())
        .containsExactly(0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1);
    assertThat(f.min()).isEqualTo(1f);
    assertThat(f.max()).isEqualTo(100f);
    assertThat(f.count()).isEqualTo(100);
    assertThat(f.sample()).containsExactly(range(1, 100));
    assertThat(f.bin(10f)).as("an edge value belongs to the bin below it").isZero();
    assertThat(f.bin(10.5f)).isEqualTo(1);
    assertThat(f.bin(-1e9f)).isZero();
    assertThat(f.bin(1e9f)).isEqualTo(9);
  }

  @Test
  void edgesRoundTheRankUpWhenBinsDoNotDivideTheCount() {
    // n = 7, 4 bins: ranks ceil(7/4) = 2, ceil(14/4) = 4, ceil(21/4) = 6, i.e. values 20, 40, 60.
    DriftBaseline.Feature f =
        DriftBaseline.builder()
            .bins(4)
            .feature("x", new float[] {70f, 10f, 60f, 20f, 50f, 30f, 40f})
            .build()
            .feature("x")
            .orElseThrow();
    assertThat(f.binEdges()).containsExactly(20f, 40f, 60f);
    assertThat(f.binProportions()).containsExactly(2 / 7.0, 2 / 7.0, 2 / 7.0, 1 / 7.0);
  }

  @Test
  void tiedQuantilesMergeBinsAndNoEdgeSitsAtTheMaximum() {
    float[] mostlyZero = new float[100];
    for (int i = 80; i < 100; i++) {
      mostlyZero[i] = i - 79; // 1 .. 20
    }
    DriftBaseline.Feature f = single(mostlyZero);
    assertThat(f.binEdges()).containsExactly(0f, 10f);
    assertThat(f.binProportions()).containsExactly(0.8, 0.1, 0.1);

    DriftBaseline.Feature constant = single(new float[] {3f, 3f, 3f, 3f});
    assertThat(constant.binEdges()).isEmpty();
    assertThat(constant.binProportions()).containsExactly(1.0);
  }

  @Test
  void nanAndInfiniteReferenceValuesAreLeftOutAndCounted() {
    DriftBaseline.Feature f =
        single(
            new float[] {
              Float.NaN, 1f, Float.POSITIVE_INFINITY, 2f, Float.NaN, 3f, Float.NEGATIVE_INFINITY
            });
    assertThat(f.count()).isEqualTo(3);
    assertThat(f.nanCount()).isEqualTo(2);
    assertThat(f.min()).isEqualTo(1f);
    assertThat(f.max()).isEqualTo(3f);
    assertThat(f.sample()).containsExactly(1f, 2f, 3f);

    DriftBaseline.Feature empty = single(new float[] {Float.NaN, Float.NaN});
    assertThat(empty.count()).isZero();
    assertThat(empty.min()).isNaN();
    assertThat(empty.sample()).isEmpty();
  }

  @Test
  void aLargeReferenceKeepsQuantilesWithinOneOverTheSampleLimitOfItsDistribution() {
    Random random = new Random(3);
    int n = 100_000;
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) Math.exp(random.nextGaussian());
    }
    DriftBaseline.Feature f = single(values);
    float[] sample = f.sample();
    assertThat(sample).hasSize(DriftBaseline.DEFAULT_SAMPLE_LIMIT);
    float[] sorted = values.clone();
    Arrays.sort(sorted);
    assertThat(sample[sample.length - 1]).isEqualTo(sorted[n - 1]);
    // Compare the two empirical distribution functions at every reference value.
    int s = 0;
    double worst = 0;
    for (int i = 0; i < n; i++) {
      if (i + 1 < n && sorted[i + 1] == sorted[i]) {
        continue;
      }
      while (s < sample.length && sample[s] <= sorted[i]) {
        s++;
      }
      worst = Math.max(worst, Math.abs((double) (i + 1) / n - (double) s / sample.length));
    }
    assertThat(worst).isLessThanOrEqualTo(1.0 / DriftBaseline.DEFAULT_SAMPLE_LIMIT);
    assertThat(f.count()).isEqualTo(n);
  }

  @Test
  void roundTripsThroughItsDocumentedByteFormat() {
    DriftBaseline baseline =
        DriftBaseline.builder()
            .bins(4)
            .sampleLimit(16)
            .features(
                List.of("a", "b-é"), new float[][] {{1f, 5f}, {2f, Float.NaN}, {3f, 7f}, {4f, 8f}})
            .feature(DriftBaseline.PREDICTION, range(1, 40))
            .build();
    byte[] bytes = baseline.toBytes();
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    byte[] magic = new byte[4];
    buffer.get(magic);
    assertThat(new String(magic, StandardCharsets.US_ASCII)).isEqualTo("MLDB");
    assertThat(buffer.getInt()).as("format version").isEqualTo(1);
    assertThat(buffer.getInt()).as("feature count").isEqualTo(3);
    assertThat(buffer.getShort()).as("UTF length of 'a'").isEqualTo((short) 1);

    DriftBaseline read = DriftBaseline.fromBytes(bytes);
    assertThat(read).isEqualTo(baseline);
    assertThat(read.featureNames()).containsExactly("a", "b-é", DriftBaseline.PREDICTION);
    assertThat(read.feature(DriftBaseline.PREDICTION).orElseThrow().sample()).hasSize(16);
    assertThat(read.feature("b-é").orElseThrow().nanCount()).isEqualTo(1);
    assertThat(read.toBytes()).isEqualTo(bytes);
  }

  @Test
  void corruptBytesAreRejectedSayingWhatIsWrong() {
    byte[] good = DriftBaseline.compute(List.of("a"), new float[][] {{1f}, {2f}, {3f}}).toBytes();
    assertThatThrownBy(
            () -> DriftBaseline.fromBytes("not a baseline".getBytes(StandardCharsets.US_ASCII)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("magic");
    byte[] future = good.clone();
    future[7] = 2;
    assertThatThrownBy(() -> DriftBaseline.fromBytes(future))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("format version 2");
    assertThatThrownBy(() -> DriftBaseline.fromBytes(Arrays.copyOf(good, good.length - 3)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("truncated");
    assertThatThrownBy(() -> DriftBaseline.fromBytes(Arrays.copyOf(good, good.length + 2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unexpected bytes");
  }

  @Test
  void invalidInputIsRejectedNamingTheProblem() {
    assertThatThrownBy(
            () -> DriftBaseline.compute(List.of("a", "b"), new float[][] {{1f, 2f}, {3f}}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("row 1 has 1 values but there are 2 feature names");
    assertThatThrownBy(() -> DriftBaseline.compute(List.of("a", "a"), new float[][] {{1f, 2f}}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'a' was already added");
    assertThatThrownBy(() -> DriftBaseline.compute(List.of(" "), new float[][] {{1f}}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("blank");
    assertThatThrownBy(() -> DriftBaseline.builder().bins(1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bins");
    assertThatThrownBy(() -> DriftBaseline.builder().feature("a", new float[] {1f}).bins(5))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("before the first column");
    assertThatThrownBy(() -> DriftBaseline.builder().sampleLimit(64).sampleLimit(64))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("sampleLimit");
    assertThatThrownBy(() -> DriftBaseline.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("at least one feature");
  }
}
