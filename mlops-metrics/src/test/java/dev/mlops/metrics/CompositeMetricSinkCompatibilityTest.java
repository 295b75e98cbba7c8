package dev.mlops.metrics;

import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.PredictionEvent;
import dev.mlops.test.MetricSinkCompatibilityKit;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.OptionalLong;

/**
 * A composite of every shipped sink plus one that always throws: the composite must still pass, and
 * the in-memory sink inside it must count every prediction.
 */
class CompositeMetricSinkCompatibilityTest extends MetricSinkCompatibilityKit<CompositeMetricSink> {

  /** Throws from every call. */
  private static final class AlwaysThrows implements MetricSink {
    @Override
    public void onPrediction(PredictionEvent event) {
      throw new IllegalStateException("broken sink");
    }

    @Override
    public void onLifecycle(LifecycleEvent event) {
      throw new IllegalStateException("broken sink");
    }
  }

  @Override
  protected CompositeMetricSink createSink() {
    MicrometerMetricSink micrometer = MicrometerMetricSink.create();
    micrometer.bindTo(new SimpleMeterRegistry());
    return CompositeMetricSink.of(
        new AlwaysThrows(),
        new InMemoryMetricSink(),
        Slf4jMetricSink.builder().loggerName("mlops.kit.composite").sampleRate(0.5).build(),
        micrometer,
        MetricSink.NOOP);
  }

  @Override
  protected OptionalLong predictionCount(CompositeMetricSink sink) {
    return OptionalLong.of(((InMemoryMetricSink) sink.sinks().get(1)).total());
  }

  @Override
  protected int maxRetainedEvents() {
    return InMemoryMetricSink.LIFECYCLE_CAPACITY;
  }
}
