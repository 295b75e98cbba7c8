package dev.mlops.spring.boot;

import dev.mlops.metrics.MicrometerMetricSink;
import dev.mlops.metrics.StoreMetrics;
import dev.mlops.metrics.drift.DriftMeterBinder;
import dev.mlops.metrics.drift.DriftMonitor;
import dev.mlops.runtime.Mlops;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Micrometer, when it is on the class path and the application has a {@code MeterRegistry}: the
 * mlops metric sink, the registry feed and artifact meters, and a drift binder for every {@code
 * DriftMonitor} bean, as {@code MeterBinder} beans that Spring Boot binds to every registry.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(name = "io.micrometer.core.instrument.MeterRegistry")
@ConditionalOnBean(type = "io.micrometer.core.instrument.MeterRegistry")
@ConditionalOnProperty(
    prefix = MlopsProperties.PREFIX + ".metrics",
    name = "micrometer",
    havingValue = "true",
    matchIfMissing = true)
class MlopsMicrometerConfiguration {

  MlopsMicrometerConfiguration() {}

  /** The metric sink; the runtime reports to it, and Boot binds it to the MeterRegistry. */
  @Bean
  @ConditionalOnMissingBean
  MicrometerMetricSink mlopsMicrometerMetricSink() {
    return MicrometerMetricSink.create();
  }

  /** The registry's change feed and artifact transfers (fleet mode), as meters. */
  @Bean
  MeterBinder mlopsStoreMetrics(ObjectProvider<Mlops> mlops) {
    return registry -> {
      Mlops m = mlops.getObject();
      StoreMetrics.of(m.registry().store()::feedStatus, m.registry().artifacts()::transferStatus)
          .bindTo(registry);
    };
  }

  /** Every drift monitor bean's gauges and alarm counter. */
  @Bean
  MeterBinder mlopsDriftMeters(ObjectProvider<DriftMonitor> monitors) {
    return (MeterRegistry registry) ->
        monitors.orderedStream().forEach(d -> DriftMeterBinder.of(d).bindTo(registry));
  }
}
