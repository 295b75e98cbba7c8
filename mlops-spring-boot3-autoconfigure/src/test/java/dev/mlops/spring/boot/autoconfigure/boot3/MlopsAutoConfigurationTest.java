package dev.mlops.spring.boot.autoconfigure.boot3;

import dev.mlops.spring.boot.contract.MlopsAutoConfigurationContract;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.actuate.autoconfigure.health.HealthContributorAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.health.HealthEndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration;
import org.springframework.boot.actuate.health.CompositeHealthContributor;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthContributor;
import org.springframework.boot.actuate.health.HealthEndpointGroups;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.context.ApplicationContext;
import org.springframework.core.env.StandardEnvironment;

/** The conditions of the contract, on Spring Boot 3.5 and its Micrometer 1.15. */
class MlopsAutoConfigurationTest extends MlopsAutoConfigurationContract {

  @Override
  protected AutoConfigurations mlops() {
    return AutoConfigurations.of(
        MlopsAutoConfiguration.class, MlopsHealthContributorAutoConfiguration.class);
  }

  @Override
  protected AutoConfigurations health() {
    return AutoConfigurations.of(
        HealthContributorAutoConfiguration.class, HealthEndpointAutoConfiguration.class);
  }

  @Override
  protected AutoConfigurations metrics() {
    return AutoConfigurations.of(MetricsAutoConfiguration.class);
  }

  @Override
  protected String[] healthPackages() {
    return new String[] {"org.springframework.boot.actuate.health"};
  }

  @Override
  protected int bootLine() {
    return 3;
  }

  @Override
  protected String micrometerLine() {
    return "1.15.";
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
