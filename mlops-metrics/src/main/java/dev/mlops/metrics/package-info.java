/**
 * Metric sinks. {@link dev.mlops.metrics.InMemoryMetricSink} keeps exact counts, latency
 * percentiles, batch sizes and recent lifecycle events in memory (tests, the CLI, the quickstart);
 * {@link dev.mlops.metrics.Slf4jMetricSink} writes sampled {@code key=value} lines through SLF4J;
 * {@link dev.mlops.metrics.MicrometerMetricSink} records into a Micrometer registry and is the
 * {@code MeterBinder} that binds it (Micrometer is an optional dependency, needed only by that
 * class); {@link dev.mlops.metrics.CompositeMetricSink} fans out to several sinks and keeps one
 * failing sink from reaching the others or the caller. Every sink here is thread-safe, never blocks
 * on the prediction path and passes {@code dev.mlops.test.MetricSinkCompatibilityKit}. Drift and
 * data-quality monitoring lives in {@link dev.mlops.metrics.drift}.
 */
package dev.mlops.metrics;
