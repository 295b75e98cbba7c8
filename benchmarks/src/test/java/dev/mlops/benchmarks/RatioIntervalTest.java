package dev.mlops.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class RatioIntervalTest {

  private static final String[] NAMES = {"a", "b", "c"};

  /** Rounds whose path 0 takes {@code ratios[r]} times as long as path 1; path 2 takes 1. */
  private static List<double[]> rounds(double... ratios) {
    List<double[]> rounds = new ArrayList<>();
    for (int r = 0; r < ratios.length; r++) {
      double scale = 100 + r; // each round at its own load level: only the ratio matters
      rounds.add(new double[] {ratios[r] * scale, scale, 1});
    }
    return rounds;
  }

  @Test
  void averagesTheRoundsLogarithmsWithStudentsIntervalWhenThereAreFewRounds() {
    RatioInterval r = RatioInterval.of("m", NAMES, rounds(1.0, 1.3, 1.1), 0, 1);

    // Three rounds, three batches of one; t(2) = 4.303.
    double[] logs = {0, Math.log(1.3), Math.log(1.1)};
    double m = (logs[0] + logs[1] + logs[2]) / 3;
    double sd =
        Math.sqrt(
            ((logs[0] - m) * (logs[0] - m)
                    + (logs[1] - m) * (logs[1] - m)
                    + (logs[2] - m) * (logs[2] - m))
                / 2);
    double half = 4.303 * sd / Math.sqrt(3);
    assertThat(r.rounds()).isEqualTo(3);
    assertThat(r.geomean()).isCloseTo(Math.cbrt(1.0 * 1.3 * 1.1), within(1e-12));
    assertThat(r.low()).isCloseTo(Math.exp(m - half), within(1e-12));
    assertThat(r.high()).isCloseTo(Math.exp(m + half), within(1e-12));
    assertThat(r.p50()).isCloseTo(1.1, within(1e-12));
    assertThat(r.numerator()).isEqualTo("a");
    assertThat(r.denominator()).isEqualTo("b");
  }

  @Test
  void takesTheIntervalFromBatchesOfConsecutiveRounds() {
    // 40 rounds: 20 at 1.0, then 20 at 1.2. Twenty batches of two: ten means of 1.0, ten of 1.2.
    double[] ratios = new double[40];
    for (int i = 0; i < ratios.length; i++) {
      ratios[i] = i < 20 ? 1.0 : 1.2;
    }
    RatioInterval r = RatioInterval.of("m", NAMES, rounds(ratios), 0, 1);

    double half = 2.093 * (Math.log(1.2) / 2 * Math.sqrt(20.0 / 19)) / Math.sqrt(20);
    assertThat(r.geomean()).isCloseTo(Math.sqrt(1.2), within(1e-12));
    assertThat(r.low()).isCloseTo(Math.sqrt(1.2) * Math.exp(-half), within(1e-12));
    assertThat(r.high()).isCloseTo(Math.sqrt(1.2) * Math.exp(half), within(1e-12));
    assertThat(r.p50()).isCloseTo(1.1, within(1e-12));
  }

  @Test
  void givesTheReciprocalWhenThePathsSwap() {
    // The arithmetic mean of the ratios would be 1.25 both ways round: each path "slower".
    RatioInterval forward = RatioInterval.of("m", NAMES, rounds(2.0, 0.5), 0, 1);
    RatioInterval backward = RatioInterval.of("m", NAMES, rounds(2.0, 0.5), 1, 0);

    assertThat(forward.geomean()).isCloseTo(1.0, within(1e-12));
    assertThat(backward.geomean()).isCloseTo(1.0, within(1e-12));
    RatioInterval skewed = RatioInterval.of("m", NAMES, rounds(1.1, 1.3, 0.9, 1.2), 0, 1);
    RatioInterval inverse = RatioInterval.of("m", NAMES, rounds(1.1, 1.3, 0.9, 1.2), 1, 0);
    assertThat(skewed.geomean() * inverse.geomean()).isCloseTo(1.0, within(1e-12));
    assertThat(skewed.low() * inverse.high()).isCloseTo(1.0, within(1e-12));
    assertThat(skewed.high() * inverse.low()).isCloseTo(1.0, within(1e-12));
  }

  @Test
  void hasANarrowIntervalWhenEveryRoundAgrees() {
    double[] ratios = new double[1000];
    Arrays.fill(ratios, 1.02);

    RatioInterval r = RatioInterval.of("m", NAMES, rounds(ratios), 0, 1);

    assertThat(r.low()).isCloseTo(1.02, within(1e-12));
    assertThat(r.high()).isCloseTo(1.02, within(1e-12));
  }

  @Test
  void dividesTheChosenPaths() {
    RatioInterval r = RatioInterval.of("m", NAMES, rounds(1.0, 1.0), 1, 2);

    // Path 1 takes 100 and 101 in the two rounds, path 2 takes 1.
    assertThat(r.geomean()).isCloseTo(Math.sqrt(100 * 101), within(1e-12));
    assertThat(r.numerator()).isEqualTo("b");
    assertThat(r.denominator()).isEqualTo("c");
  }

  @Test
  void hasNoIntervalFromOneRoundAndRefusesNone() {
    RatioInterval one = RatioInterval.of("m", NAMES, rounds(1.05), 0, 1);

    assertThat(one.geomean()).isCloseTo(1.05, within(1e-12));
    assertThat(one.low()).isNaN();
    assertThat(one.high()).isNaN();
    assertThatThrownBy(() -> RatioInterval.of("wide", NAMES, List.of(), 0, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("expected at least one round of wide but there were none; measure for longer");
  }

  @Test
  void writesOneTsvCellPerHeaderColumn() {
    RatioInterval r =
        new RatioInterval(
            "wide", "shared:mlopsPredict", "shared:djlPredict", 812, 0.99, 0.98, 1.0, 0.995);

    assertThat(RatioInterval.HEADER.split("\t"))
        .containsExactly(
            "model",
            "numerator",
            "denominator",
            "rounds",
            "geomean_ratio",
            "ci_low",
            "ci_high",
            "p50_ratio");
    assertThat(r.tsv())
        .isEqualTo(
            "wide\tshared:mlopsPredict\tshared:djlPredict\t812\t0.99000\t0.98000\t1.00000\t0.99500");
  }
}
