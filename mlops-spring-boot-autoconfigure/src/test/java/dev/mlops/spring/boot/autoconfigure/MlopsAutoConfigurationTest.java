package dev.mlops.spring.boot.autoconfigure;

import dev.mlops.spring.boot.contract.MlopsAutoConfigurationContract;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroups;
import org.springframework.boot.health.autoconfigure.actuate.endpoint.HealthEndpointAutoConfiguration;
import org.springframework.boot.health.autoconfigure.contributor.HealthContributorAutoConfiguration;
import org.springframework.boot.health.autoconfigure.registry.HealthContributorRegistryAutoConfiguration;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.context.ApplicationContext;
import org.springframework.core.env.StandardEnvironment;

/** The conditions of the contract, on Spring Boot 4.0 and its Micrometer 1.16. */
class MlopsAutoConfigurationTest extends MlopsAutoConfigurationContract {

  @Override
  protected AutoConfigurations mlops() {
    return AutoConfigurations.of(
        MlopsAutoConfiguration.class, MlopsHealthContributorAutoConfiguration.class);
  }

  @Override
  protected AutoConfigurations health() {
    return AutoConfigurations.of(
        HealthContributorAutoConfiguration.class,
        HealthContributorRegistryAutoConfiguration.class,
        HealthEndpointAutoConfiguration.class);
  }

  @Override
  protected AutoConfigurations metrics() {
    return AutoConfigurations.of(MetricsAutoConfiguration.class);
  }

  @Override
  protected String[] healthPackages() {
    return new String[] {"org.springframework.boot.health"};
  }

  @Override
  protected int bootLine() {
    return 4;
  }

  @Override
  protected String micrometerLine() {
    return "1.16.";
  }

  @Override
  protected Map<String, Object> health(ApplicationContext context, String part) {
    CompositeHealthContributor c =
        context.getBean("mlopsHealthContributor", CompositeHealthContributor.class);
    HealthContributor hc = c.getContributor(part);
    if (hc == null) {
      return null;
    }
    Health h = ((HealthIndicator) hc).health();
    Map<String, Object> out = new LinkedHashMap<>(h.getDetails());
    out.put("status", h.getStatus().getCode());
    return out;
  }

  @Override
  protected boolean hasHealthContributor(ApplicationContext context) {
    return context.containsBean("mlopsHealthContributor");
  }

  @Override
  protected void postProcessReadiness(StandardEnvironment environment) {
    new MlopsReadinessEnvironmentPostProcessor()
        .postProcessEnvironment(environment, new SpringApplication());
  }

  @Override
  protected boolean readinessIncludes(ApplicationContext context, String member) {
    return context.getBean(HealthEndpointGroups.class).get("readiness").isMember(member);
  }
}
