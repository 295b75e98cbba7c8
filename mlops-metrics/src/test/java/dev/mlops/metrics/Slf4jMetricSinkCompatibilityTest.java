package dev.mlops.metrics;

import dev.mlops.test.MetricSinkCompatibilityKit;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.event.Level;

/**
 * Runs the kit with every level enabled, so that every event is formatted; counts the prediction
 * lines (sample rate 1: every prediction is a line).
 */
class Slf4jMetricSinkCompatibilityTest extends MetricSinkCompatibilityKit<Slf4jMetricSink> {

  private final java.util.Map<Slf4jMetricSink, CountingLogger> loggers =
      new java.util.IdentityHashMap<>();

  @Override
  protected Slf4jMetricSink createSink() {
    CountingLogger logger = new CountingLogger();
    Slf4jMetricSink sink =
        new Slf4jMetricSink(
            logger, 1.0, Level.DEBUG, () -> ThreadLocalRandom.current().nextDouble());
    loggers.put(sink, logger);
    return sink;
  }

  @Override
  protected OptionalLong predictionCount(Slf4jMetricSink sink) {
    return OptionalLong.of(loggers.get(sink).count(Level.DEBUG));
  }
}
