package dev.mlops.metrics;

import dev.mlops.test.MetricSinkCompatibilityKit;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

class AsyncMetricSinkCompatibilityTest extends MetricSinkCompatibilityKit<AsyncMetricSink> {

  private static final ExecutorService DRAIN =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "async-sink-test");
            t.setDaemon(true);
            return t;
          });

  @Override
  protected AsyncMetricSink createSink() {
    return AsyncMetricSink.wrap(new InMemoryMetricSink(), DRAIN, 100_000);
  }
}
