package dev.mlops.api;

import java.time.Instant;
import java.util.Objects;

/**
 * One move of an alias, read from the audit log: who moved it from which version to which, when and
 * why.
 *
 * @param time when
 * @param actor who
 * @param model the model
 * @param alias the alias
 * @param fromVersion the version it pointed at before, 0 if it was new
 * @param toVersion the version it points at after, 0 if it was deleted
 * @param reason why, as the actor gave it
 * @param forced whether the move skipped the load check ({@link ModelRegistry#forceAlias})
 */
public record AliasChange(
    Instant time,
    String actor,
    String model,
    String alias,
    long fromVersion,
    long toVersion,
    String reason,
    boolean forced) {

  /** Validates. */
  public AliasChange {
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(actor, "actor");
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(alias, "alias");
    Objects.requireNonNull(reason, "reason");
    if (fromVersion < 0 || toVersion < 0) {
      throw new IllegalArgumentException(
          "versions must be >= 0 (0: none): " + fromVersion + " -> " + toVersion);
    }
  }

  /**
   * The change an audit entry records, for {@link AuditAction#SET_ALIAS} and {@link
   * AuditAction#DELETE_ALIAS} entries.
   *
   * @throws IllegalArgumentException for any other entry
   */
  public static AliasChange of(AuditEntry e) {
    if (e.action() != AuditAction.SET_ALIAS && e.action() != AuditAction.DELETE_ALIAS) {
      throw new IllegalArgumentException("not an alias change: " + e);
    }
    String from = e.details().getOrDefault(AuditDetails.FROM, "");
    long to =
        e.action() == AuditAction.DELETE_ALIAS
            ? 0
            : Long.parseLong(e.details().get(AuditDetails.TO));
    return new AliasChange(
        e.time(),
        e.actor(),
        e.model(),
        e.details().get(AuditDetails.ALIAS),
        from.isEmpty() ? 0 : Long.parseLong(from),
        to,
        e.reason(),
        "true".equals(e.details().get(AuditDetails.FORCED)));
  }
}
