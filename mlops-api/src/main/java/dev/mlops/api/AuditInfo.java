package dev.mlops.api;

import java.util.Objects;

/**
 * Who makes a registry change and why; written to the audit log with the change.
 *
 * @param actor a user, service account or pipeline name
 * @param reason free text, may be empty
 */
public record AuditInfo(String actor, String reason) {

  /** Validates the fields. */
  public AuditInfo {
    Objects.requireNonNull(actor, "actor");
    Objects.requireNonNull(reason, "reason");
    if (actor.isBlank()) {
      throw new IllegalArgumentException("actor must not be blank");
    }
  }

  /** Shorthand for {@code new AuditInfo(actor, reason)}. */
  public static AuditInfo by(String actor, String reason) {
    return new AuditInfo(actor, reason);
  }
}
