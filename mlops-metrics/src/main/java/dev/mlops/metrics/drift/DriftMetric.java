package dev.mlops.metrics.drift;

import java.util.Locale;

/**
 * The drift and data-quality measures a {@link DriftMonitor} computes per feature, and can alarm
 * on. Each compares the monitor's sliding window with the feature's {@link DriftBaseline}, except
 * {@link #NAN_RATE}, which needs no baseline.
 */
public enum DriftMetric {
  /**
   * Population stability index over the baseline's bins: {@code sum((w - r) * ln(w / r))} with
   * {@code w} and {@code r} the window's and the reference's proportion of finite values in a bin,
   * each raised to at least {@link DriftMonitor#PSI_EPSILON} so that empty bins count. 0 for
   * identical distributions; above 0.2 is usually read as a significant shift. Alarms above the
   * threshold.
   */
  PSI,
  /**
   * Two-sample Kolmogorov–Smirnov statistic: the largest distance between the window's and the
   * reference's empirical distribution functions, {@code max |F_ref(x) - F_window(x)|} over every
   * point of both samples; from 0 to 1. Alarms above the threshold.
   */
  KS_STATISTIC,
  /**
   * Asymptotic p-value of {@link #KS_STATISTIC} for samples of the reference's and the window's
   * sizes (Kolmogorov's distribution with Stephens' small-sample correction). Small values mean the
   * samples differ; on large windows even harmless differences get tiny p-values, which is why the
   * statistic, not the p-value, has a default threshold. Alarms below the threshold.
   */
  KS_P_VALUE,
  /** Fraction of the window's rows where the value is NaN (missing). Alarms above the threshold. */
  NAN_RATE,
  /**
   * Fraction of the window's rows where the value lies outside the reference's finite range [min,
   * max] (infinities included). Alarms above the threshold.
   */
  OUT_OF_RANGE_RATE;

  /**
   * Whether a value breaches a threshold: above it, or below it for {@link #KS_P_VALUE}. A NaN
   * value (not measurable, e.g. no baseline) never breaches.
   *
   * @param value the measured value
   * @param threshold the threshold
   * @return true if the value is on the alarming side of the threshold
   */
  public boolean breaches(double value, double threshold) {
    if (Double.isNaN(value)) {
      return false;
    }
    return this == KS_P_VALUE ? value < threshold : value > threshold;
  }

  /**
   * The lower-case name used as a metric tag value, e.g. {@code ks_statistic}.
   *
   * @return the tag value
   */
  public String tag() {
    return name().toLowerCase(Locale.ROOT);
  }
}
