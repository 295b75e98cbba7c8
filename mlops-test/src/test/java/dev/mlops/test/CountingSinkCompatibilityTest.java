package dev.mlops.test;

import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.PredictionEvent;
import java.util.OptionalLong;
import java.util.concurrent.atomic.LongAdder;

/** The simplest correct sink passes the whole kit, exact counts included. */
class CountingSinkCompatibilityTest
    extends MetricSinkCompatibilityKit<CountingSinkCompatibilityTest.CountingSink> {

  /** Counts calls with adders; keeps nothing else. */
  static final class CountingSink implements MetricSink {
    final LongAdder predictions = new LongAdder();
    final LongAdder lifecycle = new LongAdder();

    @Override
    public void onPrediction(PredictionEvent event) {
      predictions.increment();
    }

    @Override
    public void onLifecycle(LifecycleEvent event) {
      lifecycle.increment();
    }
  }

  @Override
  protected CountingSink createSink() {
    return new CountingSink();
  }

  @Override
  protected OptionalLong predictionCount(CountingSink sink) {
    return OptionalLong.of(sink.predictions.sum());
  }
}
