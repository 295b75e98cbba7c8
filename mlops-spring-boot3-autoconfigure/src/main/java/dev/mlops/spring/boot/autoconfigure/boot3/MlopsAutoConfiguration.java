package dev.mlops.spring.boot.autoconfigure.boot3;

import dev.mlops.spring.boot.BootLine;
import dev.mlops.spring.boot.MlopsConfiguration;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Import;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Auto-configuration of mlops for Spring Boot 3.5: the shared beans of {@link MlopsConfiguration}
 * (runtime, registry, predictors, endpoint, Micrometer binders, lifecycle) and the health
 * contributors of {@link MlopsHealthContributorAutoConfiguration}. On Spring Boot 4 it fails
 * startup and names {@code mlops-spring-boot-starter}.
 */
@AutoConfiguration(
    afterName = {
      "org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration",
      "org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration",
      "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration"
    })
@Conditional(MlopsAutoConfiguration.OnBoot3.class)
@Import(MlopsConfiguration.class)
public class MlopsAutoConfiguration {

  /** This module. */
  static final String MODULE = "mlops-spring-boot3-autoconfigure";

  /** For Spring. */
  public MlopsAutoConfiguration() {}

  /** Matches on Spring Boot 3; on another line, fails with the module to use instead. */
  static final class OnBoot3 implements org.springframework.context.annotation.Condition {
    @Override
    public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
      BootLine.require(
          BootLine.detect(context.getClassLoader()),
          3,
          MODULE,
          "mlops-spring-boot3-starter (mlops-spring-boot3-autoconfigure)",
          "mlops-spring-boot-starter (mlops-spring-boot-autoconfigure)");
      return true;
    }
  }
}
