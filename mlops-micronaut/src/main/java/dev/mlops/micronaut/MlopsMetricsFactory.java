package dev.mlops.micronaut;

import dev.mlops.api.spi.MetricSink;
import dev.mlops.metrics.MicrometerMetricSink;
import dev.mlops.metrics.drift.DriftMeterBinder;
import dev.mlops.metrics.drift.DriftMonitor;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.configuration.metrics.micrometer.MeterRegistryFactory;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Requires;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import java.util.List;

/**
 * Micrometer meters for mlops, made when micronaut-micrometer is on the class path and its metrics
 * are on ({@code micronaut.metrics.enabled}, true by default): the {@link MicrometerMetricSink}
 * (bound to the application's {@link MeterRegistry} and handed to the runtime with every other
 * {@link MetricSink} bean), and a {@link DriftMeterBinder} for each {@link DriftMonitor} bean of
 * the application (which the runtime also observes predictions with). A bean named {@code
 * micrometer} of type {@code MetricSink} replaces the sink.
 */
@Factory
@Requires(classes = {MeterRegistry.class, MeterRegistryFactory.class, MicrometerMetricSink.class})
@Requires(property = "micronaut.metrics.enabled", notEquals = "false")
public class MlopsMetricsFactory {

  /** The sink, bound to the registry; typed as a MetricSink so that nothing binds it twice. */
  @Singleton
  @Named("micrometer")
  @Bean(typed = MetricSink.class)
  @Requires(missingBeans = MicrometerMetricSink.class)
  MetricSink micrometerMetricSink(MeterRegistry registry) {
    MicrometerMetricSink sink = MicrometerMetricSink.create();
    sink.bindTo(registry);
    return sink;
  }

  /** The drift gauges of each drift monitor bean. */
  @Context
  @Bean(typed = DriftMeters.class)
  DriftMeters driftMeters(List<DriftMonitor> monitors, MeterRegistry registry) {
    for (DriftMonitor m : monitors) {
      DriftMeterBinder.of(m).bindTo(registry);
    }
    return new DriftMeters(monitors.size());
  }

  /** The drift monitors bound. */
  record DriftMeters(int monitors) {}
}
