package dev.mlops.metrics.drift;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;

/**
 * Straightforward re-implementations of the drift statistics, written apart from the production
 * code (doubles, linear scans, no sorted merges, the other series for the KS p-value), so that
 * tests compare two code paths.
 */
final class IndependentDrift {

  private IndependentDrift() {}

  /** Decile-style edges: nearest-rank quantiles j/bins, distinct, below the maximum. */
  static double[] edges(float[] reference, int bins) {
    double[] sorted = finiteSorted(reference);
    int n = sorted.length;
    List<Double> edges = new ArrayList<>();
    for (int j = 1; j < bins; j++) {
      double q = sorted[(int) Math.ceil((double) j * n / bins) - 1];
      boolean belowMax = q < sorted[n - 1];
      boolean above = edges.isEmpty() || q > edges.get(edges.size() - 1);
      if (belowMax && above) {
        edges.add(q);
      }
    }
    return edges.stream().mapToDouble(Double::doubleValue).toArray();
  }

  /** Proportion of non-NaN values per bin, counting each value against every edge. */
  static double[] proportions(float[] values, double[] edges) {
    double[] counts = new double[edges.length + 1];
    int n = 0;
    for (float v : values) {
      if (Float.isNaN(v)) {
        continue;
      }
      int bin = 0;
      for (double e : edges) {
        if (v > e) {
          bin++;
        }
      }
      counts[bin]++;
      n++;
    }
    for (int i = 0; i < counts.length; i++) {
      counts[i] /= n;
    }
    return counts;
  }

  static double psi(float[] reference, float[] window, int bins) {
    double[] edges = edges(reference, bins);
    double[] r = proportions(finite(reference), edges);
    double[] w = proportions(window, edges);
    double psi = 0;
    for (int i = 0; i < r.length; i++) {
      double ri = r[i] == 0 ? 1e-4 : r[i];
      double wi = w[i] == 0 ? 1e-4 : w[i];
      psi += (wi - ri) * Math.log(wi / ri);
    }
    return psi;
  }

  /** Exact two-sample KS: at every point of either sample, compare the fractions at or below it. */
  static double ks(float[] reference, float[] window) {
    double[] a = finiteSorted(reference);
    double[] b = nonNan(window);
    TreeSet<Double> points = new TreeSet<>();
    for (double x : a) {
      points.add(x);
    }
    for (double x : b) {
      points.add(x);
    }
    double d = 0;
    for (double p : points) {
      d = Math.max(d, Math.abs(fractionAtOrBelow(a, p) - fractionAtOrBelow(b, p)));
    }
    return d;
  }

  /**
   * Kolmogorov's Q with Stephens' correction, by the series that converges fast on each side of
   * lambda = 1.18: the Jacobi-theta form below, the alternating form above.
   */
  static double ksPValue(double d, long n, long m) {
    double en = Math.sqrt((double) n * m / (n + m));
    double lambda = (en + 0.12 + 0.11 / en) * d;
    if (lambda < 1e-3) {
      return 1.0;
    }
    double q;
    if (lambda < 1.18) {
      double sum = 0;
      for (int k = 1; k <= 50; k++) {
        sum += Math.exp(-(2 * k - 1) * (2 * k - 1) * Math.PI * Math.PI / (8 * lambda * lambda));
      }
      q = 1 - Math.sqrt(2 * Math.PI) / lambda * sum;
    } else {
      q = 0;
      for (int k = 1; k <= 50; k++) {
        q += 2 * (k % 2 == 1 ? 1 : -1) * Math.exp(-2.0 * k * k * lambda * lambda);
      }
    }
    return Math.min(1, Math.max(0, q));
  }

  static double outOfRangeRate(float[] reference, float[] window) {
    double[] r = finiteSorted(reference);
    int out = 0;
    for (float v : window) {
      if (!Float.isNaN(v) && (v < r[0] || v > r[r.length - 1])) {
        out++;
      }
    }
    return (double) out / window.length;
  }

  static double nanRate(float[] window) {
    int nan = 0;
    for (float v : window) {
      if (Float.isNaN(v)) {
        nan++;
      }
    }
    return (double) nan / window.length;
  }

  /** Nearest-rank quantile of the non-NaN values. */
  static double quantile(float[] window, double q) {
    double[] s = nonNan(window);
    return s[(int) Math.ceil(q * s.length - 1e-9) - 1];
  }

  static double populationStd(float[] values) {
    double mean = 0;
    for (float v : values) {
      mean += v;
    }
    mean /= values.length;
    double ss = 0;
    for (float v : values) {
      ss += (v - mean) * (v - mean);
    }
    return Math.sqrt(ss / values.length);
  }

  static float[] column(float[][] rows, int c) {
    float[] out = new float[rows.length];
    for (int r = 0; r < rows.length; r++) {
      out[r] = rows[r][c];
    }
    return out;
  }

  private static double fractionAtOrBelow(double[] values, double p) {
    int count = 0;
    for (double v : values) {
      if (v <= p) {
        count++;
      }
    }
    return (double) count / values.length;
  }

  private static float[] finite(float[] values) {
    float[] out = new float[values.length];
    int n = 0;
    for (float v : values) {
      if (Float.isFinite(v)) {
        out[n++] = v;
      }
    }
    return Arrays.copyOf(out, n);
  }

  private static double[] finiteSorted(float[] values) {
    return sortedDoubles(finite(values));
  }

  private static double[] nonNan(float[] values) {
    float[] out = new float[values.length];
    int n = 0;
    for (float v : values) {
      if (!Float.isNaN(v)) {
        out[n++] = v;
      }
    }
    return sortedDoubles(Arrays.copyOf(out, n));
  }

  private static double[] sortedDoubles(float[] values) {
    double[] d = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      d[i] = values[i];
    }
    Arrays.sort(d);
    return d;
  }
}
