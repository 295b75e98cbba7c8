package dev.mlops.metrics;

import dev.mlops.api.spi.MetricSink;
import dev.mlops.test.MetricSinkCompatibilityKit;

class NoopMetricSinkCompatibilityTest extends MetricSinkCompatibilityKit<MetricSink> {

  @Override
  protected MetricSink createSink() {
    return MetricSink.NOOP;
  }
}
