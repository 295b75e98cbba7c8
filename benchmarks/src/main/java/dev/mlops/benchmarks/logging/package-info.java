/**
 * A discarding SLF4J backend for the benchmarks, so that the cost of a metric sink's logging is
 * measured without the cost of any real appender.
 */
package dev.mlops.benchmarks.logging;
