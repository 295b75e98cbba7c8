package dev.mlops.api;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One line of the append-only audit log.
 *
 * @param time when the change was made
 * @param actor who made it
 * @param action what kind of change
 * @param model the model it touched
 * @param details what changed, e.g. {@code version=3}, or {@code alias=production, from=1, to=2}
 * @param reason why, as given by the actor
 */
public record AuditEntry(
    Instant time,
    String actor,
    AuditAction action,
    String model,
    Map<String, String> details,
    String reason) {

  /** Validates and copies. */
  public AuditEntry {
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(actor, "actor");
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(model, "model");
    details = java.util.Collections.unmodifiableMap(new TreeMap<>(details));
    Objects.requireNonNull(reason, "reason");
  }
}
