package dev.mlops.metrics.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DriftMathTest {

  @Test
  void ksStatisticEqualsTheExactDefinitionOnRandomSamplesWithTies() {
    Random random = new Random(11);
    for (int trial = 0; trial < 200; trial++) {
      int n = 1 + random.nextInt(60);
      int m = 1 + random.nextInt(60);
      float[] a = new float[n];
      float[] b = new float[m];
      double shift = random.nextDouble();
      for (int i = 0; i < n; i++) {
        a[i] = random.nextInt(20); // small integers: many ties within and across samples
      }
      for (int i = 0; i < m; i++) {
        b[i] = (float) Math.floor(random.nextInt(20) + shift * 5);
      }
      double expected = IndependentDrift.ks(a, b);
      Arrays.sort(a);
      Arrays.sort(b);
      assertThat(DriftMath.ksStatistic(a, n, b, m))
          .as("trial %d", trial)
          .isCloseTo(expected, within(1e-15));
      assertThat(DriftMath.ksStatistic(b, m, a, n)).isCloseTo(expected, within(1e-15));
    }
  }

  @Test
  void ksPValueAgreesWithTheOtherSeriesAcrossTheRange() {
    for (int n : new int[] {10, 71, 1_000, 100_000}) {
      for (int m : new int[] {5, 72, 1_000}) {
        for (double d = 0.0; d <= 1.0; d += 0.005) {
          assertThat(DriftMath.ksPValue(d, n, m))
              .as("d=%s n=%d m=%d", d, n, m)
              .isCloseTo(IndependentDrift.ksPValue(d, n, m), within(1e-6));
        }
      }
    }
    assertThat(DriftMath.ksPValue(0.0, 100, 100)).isEqualTo(1.0);
    assertThat(DriftMath.ksPValue(1.0, 1_000, 1_000)).isLessThan(1e-100);
    assertThat(DriftMath.ksPValue(0.5, 0, 10)).isNaN();
  }

  @Test
  void psiOfIdenticalProportionsIsZeroAndEmptyBinsCountAsEpsilon() {
    double[] ref = {0.25, 0.25, 0.25, 0.25};
    assertThat(DriftMath.psi(ref, ref.clone(), 1e-4)).isZero();
    double[] window = {0.5, 0.5, 0.0, 0.0};
    double expected =
        2 * (0.5 - 0.25) * Math.log(0.5 / 0.25) + 2 * (1e-4 - 0.25) * Math.log(1e-4 / 0.25);
    assertThat(DriftMath.psi(ref, window, 1e-4)).isCloseTo(expected, within(1e-12));
  }
}
