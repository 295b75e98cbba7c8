package dev.mlops.metrics.drift;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One feature's drift and data-quality measures over a {@link DriftMonitor}'s sliding window, as of
 * one evaluation. Measures that need a baseline are NaN when the version has none for the feature;
 * measures of values are NaN when the window holds no non-NaN value. Quantiles are nearest-rank
 * ({@code sorted[ceil(q * n) - 1]}) over the window's non-NaN values; being exact on the window,
 * they are the monitor's quantile sketch.
 *
 * @param model model name
 * @param version model version
 * @param feature feature name, or {@link DriftBaseline#PREDICTION}
 * @param evaluatedAt when the evaluation ran
 * @param observed rows observed for this version since monitoring began
 * @param windowRows rows in the window at the evaluation
 * @param nanRate fraction of window rows with a NaN value
 * @param outOfRangeRate fraction of window rows outside the reference range
 * @param psi population stability index against the reference bins
 * @param ksStatistic Kolmogorov–Smirnov statistic against the reference sample
 * @param ksPValue asymptotic p-value of {@code ksStatistic}
 * @param p05 5th percentile of the window
 * @param p50 median of the window
 * @param p95 95th percentile of the window
 * @param binProportions the window's proportion of non-NaN values in each reference bin (the
 *     sliding-window histogram); empty without a baseline
 */
public record DriftStats(
    String model,
    long version,
    String feature,
    Instant evaluatedAt,
    long observed,
    int windowRows,
    double nanRate,
    double outOfRangeRate,
    double psi,
    double ksStatistic,
    double ksPValue,
    double p05,
    double p50,
    double p95,
    List<Double> binProportions) {

  /**
   * Validates and copies the list.
   *
   * @param model model name
   * @param version model version
   * @param feature feature name, or {@link DriftBaseline#PREDICTION}
   * @param evaluatedAt when the evaluation ran
   * @param observed rows observed for this version since monitoring began
   * @param windowRows rows in the window at the evaluation
   * @param nanRate fraction of window rows with a NaN value
   * @param outOfRangeRate fraction of window rows outside the reference range
   * @param psi population stability index against the reference bins
   * @param ksStatistic Kolmogorov–Smirnov statistic against the reference sample
   * @param ksPValue asymptotic p-value of {@code ksStatistic}
   * @param p05 5th percentile of the window
   * @param p50 median of the window
   * @param p95 95th percentile of the window
   * @param binProportions the window's proportion of non-NaN values in each reference bin (the
   *     sliding-window histogram); empty without a baseline
   * @throws NullPointerException if an object field is null
   */
  public DriftStats {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(feature, "feature");
    Objects.requireNonNull(evaluatedAt, "evaluatedAt");
    binProportions = List.copyOf(binProportions);
  }

  /**
   * The value of one measure.
   *
   * @param metric the measure
   * @return its value, NaN if not measurable
   */
  public double value(DriftMetric metric) {
    switch (metric) {
      case PSI:
        return psi;
      case KS_STATISTIC:
        return ksStatistic;
      case KS_P_VALUE:
        return ksPValue;
      case NAN_RATE:
        return nanRate;
      case OUT_OF_RANGE_RATE:
        return outOfRangeRate;
      default:
        throw new AssertionError(metric);
    }
  }
}
