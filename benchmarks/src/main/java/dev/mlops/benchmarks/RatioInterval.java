package dev.mlops.benchmarks;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * How much slower one path is than another, round by round, with a 95 % confidence interval. A
 * round of {@link InterleavedPredict} runs one block of each path back to back, so the ratio of
 * their block means cancels most of whatever load the machine had in that round; the rounds' ratios
 * are then averaged.
 *
 * <p>Averaged geometrically (the mean of the logarithms): the arithmetic mean of {@code x / y} over
 * noisy rounds exceeds 1 even for two identical paths (by about the square of the blocks'
 * coefficient of variation, a percent or more on a loaded machine), and it would not be the
 * reciprocal of the mean of {@code y / x}. The geometric mean is both; one round slowed by a burst
 * of load also weighs less in it.
 *
 * <p>Consecutive rounds may share a burst of load, so the rounds are not taken as independent: the
 * interval comes from batch means (the rounds cut into up to {@value #BATCHES} runs of consecutive
 * rounds, Student's t over the batches' mean logarithm). Where rounds are independent that gives
 * the usual interval; where they are correlated, a wider one instead of a falsely narrow one.
 *
 * @param model the model measured
 * @param numerator the path whose time is divided
 * @param denominator the path it is divided by
 * @param rounds the rounds measured
 * @param geomean the geometric mean over rounds of the ratio of block means
 * @param low the lower end of the 95 % interval for {@code geomean}; NaN below two rounds
 * @param high the upper end; NaN below two rounds
 * @param p50 the median of the rounds' ratios
 */
record RatioInterval(
    String model,
    String numerator,
    String denominator,
    int rounds,
    double geomean,
    double low,
    double high,
    double p50) {

  /** The columns of {@link #tsv()}. */
  static final String HEADER =
      "model\tnumerator\tdenominator\trounds\tgeomean_ratio\tci_low\tci_high\tp50_ratio";

  static final int BATCHES = 20;

  /** Student's t, two-sided 95 %, for 1 to {@code BATCHES - 1} degrees of freedom. */
  private static final double[] T_975 = {
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093
  };

  /**
   * The ratio of path {@code numerator} to path {@code denominator} over {@code rounds}, each round
   * holding every path's block mean (in path order, as {@code names}).
   */
  static RatioInterval of(
      String model, String[] names, List<double[]> rounds, int numerator, int denominator) {
    int n = rounds.size();
    if (n == 0) {
      throw new IllegalArgumentException(
          "expected at least one round of " + model + " but there were none; measure for longer");
    }
    double[] ratios = new double[n];
    double[] logs = new double[n];
    double sum = 0;
    for (int r = 0; r < n; r++) {
      double[] round = rounds.get(r);
      ratios[r] = round[numerator] / round[denominator];
      logs[r] = Math.log(ratios[r]);
      sum += logs[r];
    }
    double meanLog = sum / n;
    double low = Double.NaN;
    double high = Double.NaN;
    if (n >= 2) {
      int batches = Math.min(BATCHES, n);
      double[] batchMeans = new double[batches];
      for (int b = 0; b < batches; b++) {
        int from = (int) ((long) b * n / batches);
        int to = (int) ((long) (b + 1) * n / batches);
        double s = 0;
        for (int r = from; r < to; r++) {
          s += logs[r];
        }
        batchMeans[b] = s / (to - from);
      }
      double half = T_975[batches - 2] * standardDeviation(batchMeans) / Math.sqrt(batches);
      low = Math.exp(meanLog - half);
      high = Math.exp(meanLog + half);
    }
    double[] sorted = ratios.clone();
    Arrays.sort(sorted);
    double p50 = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    return new RatioInterval(
        model, names[numerator], names[denominator], n, Math.exp(meanLog), low, high, p50);
  }

  private static double standardDeviation(double[] values) {
    double mean = 0;
    for (double v : values) {
      mean += v;
    }
    mean /= values.length;
    double squares = 0;
    for (double v : values) {
      squares += (v - mean) * (v - mean);
    }
    return Math.sqrt(squares / (values.length - 1));
  }

  /** A line under {@link #HEADER}. */
  String tsv() {
    return String.format(
        Locale.ROOT,
        "%s\t%s\t%s\t%d\t%.5f\t%.5f\t%.5f\t%.5f",
        model,
        numerator,
        denominator,
        rounds,
        geomean,
        low,
        high,
        p50);
  }

  /** The same for people. */
  String summary() {
    return String.format(
        Locale.ROOT,
        "%s %s / %s: geometric mean %.4f (95 %% CI %.4f to %.4f), p50 %.4f, %d rounds",
        model,
        numerator,
        denominator,
        geomean,
        low,
        high,
        p50,
        rounds);
  }
}
