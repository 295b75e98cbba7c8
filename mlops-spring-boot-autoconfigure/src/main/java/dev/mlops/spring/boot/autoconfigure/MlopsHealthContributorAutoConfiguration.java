package dev.mlops.spring.boot.autoconfigure;

import dev.mlops.spring.boot.MlopsHealth;
import dev.mlops.spring.boot.PredictorFactory;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The {@code mlops} health contributor on Spring Boot 4 ({@code spring-boot-health}): one indicator
 * per predictor (UP when it serves a loaded, warmed-up version; OUT_OF_SERVICE in a
 * resource-preserving swap's gap; DOWN with the load failure) and, in fleet mode, {@code registry}
 * for the change feed's listener. {@link MlopsReadinessEnvironmentPostProcessor} puts it in the
 * readiness group. Off without {@code spring-boot-health}, or with {@code
 * management.health.mlops.enabled=false}.
 */
@AutoConfiguration(
    after = MlopsAutoConfiguration.class,
    afterName =
        "org.springframework.boot.health.autoconfigure.contributor.HealthContributorAutoConfiguration")
@ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
@ConditionalOnBean(MlopsHealth.class)
public class MlopsHealthContributorAutoConfiguration {

  /** The contributor's name under {@code /actuator/health}: {@value}. */
  public static final String NAME = "mlops";

  /** For Spring. */
  public MlopsHealthContributorAutoConfiguration() {}

  /**
   * The contributor. A nested class, so that the condition class of {@code
   * ConditionalOnEnabledHealthIndicator} is loaded only once the health module is known to be there
   * (spring-boot#49196).
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnEnabledHealthIndicator(NAME)
  static class Contributor {

    Contributor() {}

    /** The composite: one indicator per configured predictor, and the registry listener. */
    @Bean(name = "mlopsHealthContributor")
    @ConditionalOnMissingBean(name = "mlopsHealthContributor")
    public CompositeHealthContributor mlopsHealthContributor(
        MlopsHealth health, PredictorFactory predictors) {
      Map<String, HealthContributor> parts = new LinkedHashMap<>();
      for (String name : predictors.names()) {
        parts.put(name, (HealthIndicator) () -> toHealth(health.predictor(name)));
      }
      if (health.registryFeed().isPresent()) {
        parts.put(
            "registry",
            (HealthIndicator)
                () ->
                    health
                        .registryFeed()
                        .map(MlopsHealthContributorAutoConfiguration::toHealth)
                        .orElseGet(() -> Health.unknown().build()));
      }
      return CompositeHealthContributor.fromMap(parts);
    }
  }

  static Health toHealth(MlopsHealth.Report r) {
    Health.Builder b =
        new Health.Builder(
            switch (r.status()) {
              case UP -> Status.UP;
              case OUT_OF_SERVICE -> Status.OUT_OF_SERVICE;
              case DOWN -> Status.DOWN;
            });
    // The details' "error" names the version and the failure; withException would replace it.
    return b.withDetails(r.details()).build();
  }
}
