package dev.mlops.spring.boot.autoconfigure;

import dev.mlops.spring.boot.ReadinessGroup;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * Puts the {@code mlops} health contributor in the readiness group where Boot's availability probes
 * are on, so that a load balancer stops routing to an instance whose predictors do not serve (a
 * resource-preserving swap's gap, a failed load); see {@link ReadinessGroup}.
 */
public final class MlopsReadinessEnvironmentPostProcessor
    implements EnvironmentPostProcessor, Ordered {

  /** For Spring Boot's factory loader. */
  public MlopsReadinessEnvironmentPostProcessor() {}

  @Override
  public void postProcessEnvironment(
      ConfigurableEnvironment environment, SpringApplication application) {
    ReadinessGroup.apply(environment);
  }

  @Override
  public int getOrder() {
    return Ordered.LOWEST_PRECEDENCE;
  }
}
