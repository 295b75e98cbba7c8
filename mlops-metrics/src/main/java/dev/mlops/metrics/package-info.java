/**
 * Metric sinks that need no metrics library: {@link dev.mlops.metrics.InMemoryMetricSink} keeps
 * exact counts, latency percentiles, batch sizes and recent lifecycle events in memory (tests, the
 * CLI, the quickstart); {@link dev.mlops.metrics.Slf4jMetricSink} writes sampled {@code key=value}
 * lines through SLF4J; {@link dev.mlops.metrics.CompositeMetricSink} fans out to several sinks and
 * keeps one failing sink from reaching the others or the caller. Every sink here is thread-safe and
 * never blocks on the prediction path.
 */
package dev.mlops.metrics;
