package dev.mlops.metrics;

import dev.mlops.test.MetricSinkCompatibilityKit;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.OptionalLong;

/** Bound to a real SimpleMeterRegistry; counts are the sum of the prediction timers' counts. */
class MicrometerMetricSinkCompatibilityTest
    extends MetricSinkCompatibilityKit<MicrometerMetricSink> {

  private final Map<MicrometerMetricSink, MeterRegistry> registries = new IdentityHashMap<>();

  @Override
  protected MicrometerMetricSink createSink() {
    MeterRegistry registry = new SimpleMeterRegistry();
    MicrometerMetricSink sink = MicrometerMetricSink.create();
    sink.bindTo(registry);
    registries.put(sink, registry);
    return sink;
  }

  @Override
  protected OptionalLong predictionCount(MicrometerMetricSink sink) {
    long total = 0;
    for (Timer timer : registries.get(sink).find(MicrometerMetricSink.PREDICTIONS).timers()) {
      total += timer.count();
    }
    return OptionalLong.of(total);
  }
}
