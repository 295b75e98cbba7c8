package dev.mlops.api;

import java.time.Instant;
import java.util.Objects;

/**
 * A span of time during which an alias pointed at one version, as {@link
 * ModelRegistry#servingHistory} derives it from the audit log.
 *
 * @param model the model
 * @param alias the alias
 * @param version the version the alias pointed at
 * @param from start of the span (inclusive)
 * @param to end of the span (exclusive)
 */
public record ServingPeriod(String model, String alias, long version, Instant from, Instant to) {

  /** Validates. */
  public ServingPeriod {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(alias, "alias");
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(to, "to");
    if (version < 1) {
      throw new IllegalArgumentException("version must be >= 1: " + version);
    }
    if (to.isBefore(from)) {
      throw new IllegalArgumentException(
          "period ends (" + to + ") before it starts (" + from + ")");
    }
  }
}
