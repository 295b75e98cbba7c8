package dev.mlops.api;

import java.time.Instant;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * A filter over the audit log: every criterion that is set must match, an unset one matches
 * everything. Build with {@link #builder()}; immutable and thread-safe once built.
 *
 * <pre>{@code
 * List<AuditEntry> moves = registry.audit(AuditQuery.builder()
 *     .model("fraud").alias("production").actions(AuditAction.SET_ALIAS, AuditAction.DELETE_ALIAS)
 *     .from(Instant.parse("2026-01-01T00:00:00Z")).build());
 * }</pre>
 */
public final class AuditQuery {

  private static final AuditQuery ALL = new Builder().build();

  private final String model;
  private final String alias;
  private final Set<AuditAction> actions;
  private final String actor;
  private final Long version;
  private final Instant from;
  private final Instant to;

  private AuditQuery(Builder b) {
    this.model = b.model;
    this.alias = b.alias;
    this.actions =
        Collections.unmodifiableSet(
            b.actions.isEmpty() ? EnumSet.allOf(AuditAction.class) : EnumSet.copyOf(b.actions));
    this.actor = b.actor;
    this.version = b.version;
    this.from = b.from;
    this.to = b.to;
  }

  /** A query that matches every entry. */
  public static AuditQuery all() {
    return ALL;
  }

  /** Starts a query that matches every entry until criteria are added. */
  public static Builder builder() {
    return new Builder();
  }

  /** The model entries must concern, if set. */
  public Optional<String> model() {
    return Optional.ofNullable(model);
  }

  /** The alias entries must name (detail {@code alias}), if set. */
  public Optional<String> alias() {
    return Optional.ofNullable(alias);
  }

  /** The actions that match; every action when none was given. */
  public Set<AuditAction> actions() {
    return actions;
  }

  /** The actor entries must name, if set. */
  public Optional<String> actor() {
    return Optional.ofNullable(actor);
  }

  /**
   * The version entries must name in a {@code version}, {@code from} or {@code to} detail, if set.
   */
  public OptionalLong version() {
    return version == null ? OptionalLong.empty() : OptionalLong.of(version);
  }

  /** The earliest time that matches (inclusive), if set. */
  public Optional<Instant> from() {
    return Optional.ofNullable(from);
  }

  /** The time before which entries must lie (exclusive), if set. */
  public Optional<Instant> to() {
    return Optional.ofNullable(to);
  }

  /** Whether {@code entry} meets every criterion of this query. */
  public boolean matches(AuditEntry entry) {
    Objects.requireNonNull(entry, "entry");
    if (model != null && !model.equals(entry.model())) {
      return false;
    }
    if (alias != null && !alias.equals(entry.details().get(AuditDetails.ALIAS))) {
      return false;
    }
    if (!actions.contains(entry.action())) {
      return false;
    }
    if (actor != null && !actor.equals(entry.actor())) {
      return false;
    }
    if (version != null) {
      String v = version.toString();
      if (!v.equals(entry.details().get(AuditDetails.VERSION))
          && !v.equals(entry.details().get(AuditDetails.FROM))
          && !v.equals(entry.details().get(AuditDetails.TO))) {
        return false;
      }
    }
    if (from != null && entry.time().isBefore(from)) {
      return false;
    }
    return to == null || entry.time().isBefore(to);
  }

  @Override
  public String toString() {
    return "AuditQuery[model="
        + model
        + ", alias="
        + alias
        + ", actions="
        + actions
        + ", actor="
        + actor
        + ", version="
        + version
        + ", from="
        + from
        + ", to="
        + to
        + "]";
  }

  /** Builder for {@link AuditQuery}; each criterion can be set once. Not thread-safe. */
  public static final class Builder {
    private String model;
    private String alias;
    private final EnumSet<AuditAction> actions = EnumSet.noneOf(AuditAction.class);
    private boolean actionsSet;
    private String actor;
    private Long version;
    private Instant from;
    private Instant to;

    private Builder() {}

    /** Only entries about this model. */
    public Builder model(String model) {
      ModelRef.checkName(model);
      this.model = once(this.model, model, "model");
      return this;
    }

    /** Only entries that name this alias (alias moves and deletions). */
    public Builder alias(String alias) {
      ModelRef.checkAlias(alias);
      this.alias = once(this.alias, alias, "alias");
      return this;
    }

    /** Only entries of these actions. */
    public Builder actions(AuditAction... actions) {
      if (actionsSet) {
        throw new IllegalStateException("actions were already set to " + this.actions);
      }
      if (actions.length == 0) {
        throw new IllegalArgumentException("actions must name at least one action");
      }
      for (AuditAction a : actions) {
        this.actions.add(Objects.requireNonNull(a, "action"));
      }
      actionsSet = true;
      return this;
    }

    /** Only entries made by this actor. */
    public Builder actor(String actor) {
      Objects.requireNonNull(actor, "actor");
      this.actor = once(this.actor, actor, "actor");
      return this;
    }

    /**
     * Only entries that name this version (as {@code version}, or as an alias move's {@code from}
     * or {@code to}).
     */
    public Builder version(long version) {
      if (version < 1) {
        throw new IllegalArgumentException("version must be >= 1: " + version);
      }
      this.version = once(this.version, version, "version");
      return this;
    }

    /** Only entries at or after {@code from}. */
    public Builder from(Instant from) {
      Objects.requireNonNull(from, "from");
      this.from = once(this.from, from, "from");
      checkRange();
      return this;
    }

    /** Only entries before {@code to}. */
    public Builder to(Instant to) {
      Objects.requireNonNull(to, "to");
      this.to = once(this.to, to, "to");
      checkRange();
      return this;
    }

    private void checkRange() {
      if (from != null && to != null && to.isBefore(from)) {
        throw new IllegalArgumentException(
            "to (" + to + ") must not be before from (" + from + ")");
      }
    }

    private static <T> T once(T current, T value, String option) {
      if (current != null) {
        throw new IllegalStateException(option + " was already set to " + current);
      }
      return value;
    }

    /** Builds the query. */
    public AuditQuery build() {
      return new AuditQuery(this);
    }
  }
}
