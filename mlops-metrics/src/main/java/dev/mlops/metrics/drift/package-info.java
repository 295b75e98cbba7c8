/**
 * Drift and data-quality monitoring. A {@link dev.mlops.metrics.drift.DriftBaseline} describes the
 * reference data (usually the training data) per feature and is stored with the model version as an
 * attachment; a {@link dev.mlops.metrics.drift.DriftMonitor}, registered with the runtime as a
 * {@link dev.mlops.api.spi.PredictionObserver}, keeps a sliding window of each version's inputs and
 * predictions, measures them against the baseline ({@link dev.mlops.metrics.drift.DriftMetric}:
 * PSI, Kolmogorov–Smirnov, NaN and out-of-range rates), exposes the results as {@link
 * dev.mlops.metrics.drift.DriftStats} and, through {@link
 * dev.mlops.metrics.drift.DriftMeterBinder}, as Micrometer gauges, and sends a {@link
 * dev.mlops.metrics.drift.DriftAlarm} each time a measure crosses its threshold. Memory per
 * monitored feature is bounded by the window size; see {@link
 * dev.mlops.metrics.drift.DriftMonitor}.
 */
package dev.mlops.metrics.drift;
