/**
 * The published test kit: abstract JUnit 5 compatibility suites that every implementation of an
 * mlops SPI extends and must pass, in the manner of Micrometer's {@code
 * MeterRegistryCompatibilityKit}. {@link dev.mlops.test.MetricSinkCompatibilityKit} checks {@link
 * dev.mlops.api.spi.MetricSink}s: every event kind accepted, thread-safety with exact counts, no
 * blocking, bounded retention, and correct behaviour as the sink of a real runtime serving a real
 * ONNX model. Add this module with {@code test} scope.
 */
package dev.mlops.test;
