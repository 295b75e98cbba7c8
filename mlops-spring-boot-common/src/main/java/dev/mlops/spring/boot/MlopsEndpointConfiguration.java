package dev.mlops.spring.boot;

import dev.mlops.runtime.Mlops;
import dev.mlops.spring.boot.actuate.MlopsEndpoint;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The {@code mlops} Actuator endpoint, when Actuator is present and the endpoint is exposed. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(
    name = {
      "org.springframework.boot.actuate.endpoint.annotation.Endpoint",
      "org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint"
    })
class MlopsEndpointConfiguration {

  MlopsEndpointConfiguration() {}

  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnAvailableEndpoint(endpoint = MlopsEndpoint.class)
  MlopsEndpoint mlopsEndpoint(
      Mlops mlops, PredictorFactory predictors, MlopsHealth health, MlopsProperties properties) {
    return new MlopsEndpoint(mlops, predictors, health, properties.getEndpoint().isWritesEnabled());
  }
}
