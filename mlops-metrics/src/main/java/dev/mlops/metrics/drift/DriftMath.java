package dev.mlops.metrics.drift;

/** The statistics of drift detection, on sorted arrays; no allocation. */
final class DriftMath {

  private DriftMath() {}

  /**
   * Population stability index of {@code window} against {@code reference} proportions, each
   * proportion raised to at least {@code epsilon}.
   */
  static double psi(double[] reference, double[] window, double epsilon) {
    double sum = 0.0;
    for (int i = 0; i < reference.length; i++) {
      double r = Math.max(reference[i], epsilon);
      double w = Math.max(window[i], epsilon);
      sum += (w - r) * Math.log(w / r);
    }
    return sum;
  }

  /**
   * Two-sample Kolmogorov–Smirnov statistic of the first {@code n} values of {@code a} and the
   * first {@code m} of {@code b}, both sorted ascending and NaN-free: the largest difference of
   * their empirical distribution functions, evaluated after every distinct value of either.
   */
  static double ksStatistic(float[] a, int n, float[] b, int m) {
    int i = 0;
    int j = 0;
    double d = 0.0;
    while (i < n && j < m) {
      float x = Math.min(a[i], b[j]);
      while (i < n && a[i] <= x) {
        i++;
      }
      while (j < m && b[j] <= x) {
        j++;
      }
      d = Math.max(d, Math.abs((double) i / n - (double) j / m));
    }
    return d;
  }

  /**
   * Asymptotic p-value of a two-sample KS statistic {@code d} for sample sizes {@code n} and {@code
   * m}: Kolmogorov's {@code Q(lambda) = 2 sum (-1)^(j-1) exp(-2 j^2 lambda^2)} at {@code lambda =
   * (en + 0.12 + 0.11 / en) d}, {@code en = sqrt(n m / (n + m))} (Stephens' correction, as in
   * Numerical Recipes' {@code probks}).
   */
  static double ksPValue(double d, long n, long m) {
    if (n <= 0 || m <= 0 || Double.isNaN(d)) {
      return Double.NaN;
    }
    double en = Math.sqrt((double) n * m / ((double) n + m));
    double lambda = (en + 0.12 + 0.11 / en) * d;
    double a2 = -2.0 * lambda * lambda;
    double fac = 2.0;
    double sum = 0.0;
    double previous = 0.0;
    for (int j = 1; j <= 100; j++) {
      double term = fac * Math.exp(a2 * j * j);
      sum += term;
      if (Math.abs(term) <= 0.001 * previous || Math.abs(term) <= 1.0e-8 * sum) {
        return Math.min(1.0, Math.max(0.0, sum));
      }
      fac = -fac;
      previous = Math.abs(term);
    }
    return 1.0; // the series only fails to converge for lambda near 0, where Q is 1
  }

  /** Nearest-rank quantile {@code numerator / denominator} of the first {@code n} sorted values. */
  static double quantile(float[] sorted, int n, int numerator, int denominator) {
    if (n == 0) {
      return Double.NaN;
    }
    return sorted[DriftBaseline.Feature.nearestRank(numerator, denominator, n)];
  }
}
