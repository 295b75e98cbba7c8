package dev.mlops.api;

import java.text.Normalizer;
import java.util.Objects;

/**
 * Who makes a registry change and why; written to the audit log with the change.
 *
 * <p>The actor {@value #REGISTRY_ACTOR} is the registry's own: it signs the entries the registry
 * writes itself (load, verification and signature failures, refused swaps), so that a reader of the
 * log can tell them from a caller's. No caller may use it, in any case or with surrounding
 * whitespace; the registry writes those entries without an {@code AuditInfo}.
 *
 * @param actor a user, service account or pipeline name; not blank and not {@value #REGISTRY_ACTOR}
 * @param reason free text, may be empty
 */
public record AuditInfo(String actor, String reason) {

  /** The actor name of the entries the registry writes itself; reserved. */
  public static final String REGISTRY_ACTOR = "mlops";

  /**
   * Validates the fields.
   *
   * @throws IllegalArgumentException if the actor is blank or is {@value #REGISTRY_ACTOR}
   */
  public AuditInfo {
    Objects.requireNonNull(actor, "actor");
    Objects.requireNonNull(reason, "reason");
    if (actor.isBlank()) {
      throw new IllegalArgumentException("actor must not be blank");
    }
    // NFKC too, so that full-width or other compatibility forms of the name are the name.
    if (Normalizer.normalize(actor, Normalizer.Form.NFKC)
        .strip()
        .equalsIgnoreCase(REGISTRY_ACTOR)) {
      throw new IllegalArgumentException(
          "actor '"
              + actor
              + "' is reserved: the registry writes its own audit entries (load, verification and"
              + " signature failures) as '"
              + REGISTRY_ACTOR
              + "', so a caller may not; expected the name of a user, service account or"
              + " pipeline");
    }
  }

  /**
   * Shorthand for {@code new AuditInfo(actor, reason)}.
   *
   * @throws IllegalArgumentException if the actor is blank or is {@value #REGISTRY_ACTOR}
   */
  public static AuditInfo by(String actor, String reason) {
    return new AuditInfo(actor, reason);
  }
}
