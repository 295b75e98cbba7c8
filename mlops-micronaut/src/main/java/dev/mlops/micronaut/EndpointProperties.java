package dev.mlops.micronaut;

import io.micronaut.context.annotation.ConfigurationProperties;

/**
 * The management endpoint's own switch, {@code mlops.endpoint.writes-enabled} (default false):
 * whether {@link MlopsEndpoint}'s write operations (move an alias, start or abort a rollout) run.
 * The endpoint itself is {@code endpoints.mlops.*} like any Micronaut endpoint. Not thread-safe:
 * Micronaut fills it once at startup.
 */
@ConfigurationProperties("mlops.endpoint")
public class EndpointProperties {

  private boolean writesEnabled;

  /** Whether write operations run. */
  public void setWritesEnabled(boolean enabled) {
    this.writesEnabled = enabled;
  }

  boolean writesEnabled() {
    return writesEnabled;
  }
}
