package dev.mlops.metrics;

import dev.mlops.test.MetricSinkCompatibilityKit;
import java.util.OptionalLong;

class InMemoryMetricSinkCompatibilityTest extends MetricSinkCompatibilityKit<InMemoryMetricSink> {

  @Override
  protected InMemoryMetricSink createSink() {
    return new InMemoryMetricSink();
  }

  @Override
  protected OptionalLong predictionCount(InMemoryMetricSink sink) {
    return OptionalLong.of(sink.total());
  }

  @Override
  protected int maxRetainedEvents() {
    return InMemoryMetricSink.LIFECYCLE_CAPACITY;
  }
}
