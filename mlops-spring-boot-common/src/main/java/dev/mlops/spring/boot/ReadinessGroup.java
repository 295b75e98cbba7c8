package dev.mlops.spring.boot;

import java.util.Map;
import java.util.Optional;
import org.springframework.boot.cloud.CloudPlatform;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.Environment;
import org.springframework.core.env.MapPropertySource;

/**
 * The default that puts the {@code mlops} health contributor in Actuator's readiness group, for the
 * Boot-line modules' environment post-processors: {@code
 * management.endpoint.health.group.readiness.include=readinessState,mlops}. Set, with the lowest
 * precedence, only where Boot's availability probes are on ({@code
 * management.endpoint.health.probes.enabled=true}, or on Kubernetes or Cloud Foundry), as only then
 * does the {@code readinessState} contributor exist; never where the application sets the group's
 * members itself or turns the mlops contributor off.
 */
public final class ReadinessGroup {

  /** The property set. */
  public static final String INCLUDE = "management.endpoint.health.group.readiness.include";

  /** The value set. */
  public static final String MEMBERS = "readinessState,mlops";

  private ReadinessGroup() {}

  /** The default for this environment, if one applies. */
  public static Optional<String> defaultInclude(Environment environment) {
    if (environment.containsProperty(INCLUDE)
        || !environment.getProperty("management.health.mlops.enabled", Boolean.class, true)
        || !environment.getProperty("management.health.defaults.enabled", Boolean.class, true)) {
      return Optional.empty();
    }
    Boolean probes =
        environment.getProperty("management.endpoint.health.probes.enabled", Boolean.class);
    CloudPlatform platform = CloudPlatform.getActive(environment);
    boolean on =
        probes != null
            ? probes
            : platform == CloudPlatform.KUBERNETES || platform == CloudPlatform.CLOUD_FOUNDRY;
    return on ? Optional.of(MEMBERS) : Optional.empty();
  }

  /** Adds the default to the environment, last, if one applies. */
  public static void apply(ConfigurableEnvironment environment) {
    defaultInclude(environment)
        .ifPresent(
            v ->
                environment
                    .getPropertySources()
                    .addLast(new MapPropertySource("mlopsReadinessGroup", Map.of(INCLUDE, v))));
  }
}
