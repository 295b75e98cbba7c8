package dev.mlops.api;

import dev.mlops.api.event.LifecycleListener;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Named models, each with immutable, auto-numbered versions and movable aliases.
 *
 * <p>Every change is durable when the method returns, is delivered to listeners as a {@link
 * dev.mlops.api.event.LifecycleEvent} and is written to the audit log. Implementations are
 * thread-safe. A failed change leaves the registry as it was.
 */
public interface ModelRegistry extends AutoCloseable {

  /**
   * Registers a new version: copies the artifact files, records their SHA-256 digests, reads the
   * signature from the model graph and checks the input example against it. The version becomes
   * visible only when complete. Concurrent registrations of one model get unique, gap-free,
   * increasing numbers.
   *
   * @throws ModelLoadException if the artifact is not a model the engine can read
   * @throws InvalidInputException if the input example does not match the signature
   * @throws RegistryException if storage fails
   */
  ModelVersion register(Registration registration, AuditInfo audit);

  /** Names of all models, sorted. */
  List<String> models();

  /** All versions of a model (archived ones included), oldest first; empty if it is unknown. */
  List<ModelVersion> versions(String model);

  /** The version a reference points at, if it exists. */
  Optional<ModelVersion> find(ModelRef ref);

  /**
   * The version a reference points at.
   *
   * @throws ModelNotFoundException naming what is missing and what exists
   */
  ModelVersion get(ModelRef ref);

  /** The aliases of a model and their versions, sorted by alias. */
  Map<String, Long> aliases(String model);

  /**
   * Points an alias at a version, creating or moving it, after two checks, so that an alias never
   * moves to a version that cannot serve its callers:
   *
   * <ul>
   *   <li><b>compatibility</b>: when the alias exists, the new version's signature must be
   *       compatible with its current target's ({@link
   *       ModelSignature#incompatibilities(ModelSignature)}: same input names, element types and
   *       ranks, each fixed dimension equal or now dynamic, every output still there with the same
   *       element type);
   *   <li><b>loadability</b>: the version is verified (digests, signature policy) and opened by the
   *       engine; its input example, when it has one, must run. A synthetic warm-up run is not
   *       required to succeed. When the registry serves an {@code Mlops} runtime, the check loads
   *       the version into that runtime's session cache, so the session it loads is the one its
   *       predictors then serve, and a version already loaded costs no load at all.
   * </ul>
   *
   * Use {@link #forceAlias} to skip both.
   *
   * @return the version the alias pointed at before, empty if it is new
   * @throws ModelNotFoundException if the version does not exist
   * @throws IncompatibleSignatureException naming each difference; the alias does not move
   * @throws ModelLoadException if the version cannot be loaded; the alias does not move
   */
  OptionalLong setAlias(String model, String alias, long version, AuditInfo audit);

  /**
   * Points an alias at a version without the compatibility and loadability checks. The audit entry
   * records that the move was forced (and, for an incompatible version, the differences).
   * Predictors that follow the alias keep serving their current version if the new one fails to
   * load or is incompatible with it (unless they accept incompatible versions).
   *
   * @return the version the alias pointed at before, empty if it is new
   */
  OptionalLong forceAlias(String model, String alias, long version, AuditInfo audit);

  /**
   * Moves an alias only if it still points at {@code expectedVersion} ({@code 0}: only if the alias
   * does not exist yet). Checks compatibility and loadability as {@link #setAlias} does.
   *
   * @throws ConflictException naming the expected and the actual version if it moved
   * @throws IncompatibleSignatureException naming each difference; the alias does not move
   * @throws ModelLoadException if the version cannot be loaded; the alias does not move
   */
  void compareAndSetAlias(
      String model, String alias, long expectedVersion, long newVersion, AuditInfo audit);

  /**
   * Deletes an alias.
   *
   * @return the version it pointed at, empty if there was no such alias
   */
  OptionalLong deleteAlias(String model, String alias, AuditInfo audit);

  /**
   * Archives a version: it stays loadable by number but {@code latest} skips it.
   *
   * @throws ConflictException if an alias points at it
   */
  ModelVersion archive(String model, long version, AuditInfo audit);

  /**
   * Deletes a version's files. Its number is never reused.
   *
   * @throws ConflictException if an alias points at it, or if a predictor pinned to it (a {@code
   *     models:/<name>/<version>} reference) serves it in a runtime on this registry; use {@link
   *     #forceDelete} for the latter
   */
  void delete(String model, long version, AuditInfo audit);

  /**
   * Deletes a version's files even while a predictor pinned to it serves it (that predictor keeps
   * serving the copy it has loaded until it is closed). An alias that points at the version still
   * refuses the deletion. The audit entry records that the deletion was forced.
   *
   * @throws ConflictException if an alias points at it
   */
  void forceDelete(String model, long version, AuditInfo audit);

  /**
   * An attachment stored with a version, after checking it against its recorded digest.
   *
   * @throws IntegrityException if the stored bytes no longer match
   */
  Optional<byte[]> attachment(ModelVersion version, String name);

  /** Every audit-log entry, oldest first. */
  List<AuditEntry> auditLog();

  /**
   * The audit-log entries that match {@code query}, in log order (oldest first).
   *
   * <pre>{@code
   * // Which loads or verifications failed last week?
   * registry.audit(AuditQuery.builder()
   *     .actions(AuditAction.LOAD_FAILED, AuditAction.VERIFICATION_FAILED, AuditAction.SIGNATURE_FAILED)
   *     .from(weekAgo).build());
   * }</pre>
   */
  default List<AuditEntry> audit(AuditQuery query) {
    java.util.Objects.requireNonNull(query, "query");
    return auditLog().stream().filter(query::matches).toList();
  }

  /**
   * Every move of one alias, oldest first: who moved it from which version to which, when and why.
   * A deletion appears with {@code toVersion} 0.
   */
  default List<AliasChange> aliasHistory(String model, String alias) {
    return audit(
            AuditQuery.builder()
                .model(model)
                .alias(alias)
                .actions(AuditAction.SET_ALIAS, AuditAction.DELETE_ALIAS)
                .build())
        .stream()
        .map(AliasChange::of)
        .toList();
  }

  /**
   * Which versions an alias pointed at during {@code [from, to)}, as consecutive spans clipped to
   * that window, oldest first; spans when the alias did not exist are left out. Derived from the
   * audit log's alias moves, so it says what the alias named: a predictor that follows the alias
   * serves that version once it has loaded it (a {@link AuditAction#LOAD_FAILED} entry in the same
   * span tells when it could not, and the previous version kept serving).
   *
   * @throws IllegalArgumentException if {@code to} is before {@code from}
   */
  default List<ServingPeriod> servingHistory(String model, String alias, Instant from, Instant to) {
    java.util.Objects.requireNonNull(from, "from");
    java.util.Objects.requireNonNull(to, "to");
    if (to.isBefore(from)) {
      throw new IllegalArgumentException("to (" + to + ") must not be before from (" + from + ")");
    }
    List<ServingPeriod> out = new ArrayList<>();
    long current = 0;
    Instant since = null;
    for (AliasChange c : aliasHistory(model, alias)) {
      if (c.toVersion() == current) {
        continue;
      }
      if (current != 0) {
        addClipped(out, model, alias, current, since, c.time(), from, to);
      }
      current = c.toVersion();
      since = c.time();
    }
    if (current != 0) {
      addClipped(out, model, alias, current, since, to, from, to);
    }
    return out;
  }

  private static void addClipped(
      List<ServingPeriod> out,
      String model,
      String alias,
      long version,
      Instant start,
      Instant end,
      Instant from,
      Instant to) {
    Instant s = start.isBefore(from) ? from : start;
    Instant e = end.isAfter(to) ? to : end;
    if (s.isBefore(e)) {
      out.add(new ServingPeriod(model, alias, version, s, e));
    }
  }

  /**
   * Load, verification and swap failures in {@code [from, to)}, oldest first: {@link
   * AuditAction#LOAD_FAILED}, {@link AuditAction#VERIFICATION_FAILED}, {@link
   * AuditAction#SIGNATURE_FAILED} and {@link AuditAction#SWAP_REFUSED} entries of every model.
   */
  default List<AuditEntry> failures(Instant from, Instant to) {
    return audit(
        AuditQuery.builder()
            .from(from)
            .to(to)
            .actions(
                AuditAction.LOAD_FAILED,
                AuditAction.VERIFICATION_FAILED,
                AuditAction.SIGNATURE_FAILED,
                AuditAction.SWAP_REFUSED)
            .build());
  }

  /** The manifest signature stored with a version, if it was registered with one. */
  default Optional<ManifestSignature> manifestSignature(ModelVersion version) {
    return Optional.empty();
  }

  // ---------------------------------------------------------------- rollouts

  /**
   * Starts a rollout of {@code spec.candidate()} behind {@code alias}: every predictor that follows
   * the alias sends the spec's weight of its calls to the candidate, and the rest to the alias's
   * target, the stable version. The candidate must be a ready version whose signature is compatible
   * with the stable one, and must load (as {@link #setAlias} checks). Audited as {@link
   * AuditAction#START_ROLLOUT}.
   *
   * @return the rollout started
   * @throws ModelNotFoundException if the model, the alias or the candidate does not exist
   * @throws ConflictException if a rollout is active on the alias, or the candidate is the stable
   *     version or not ready
   * @throws IncompatibleSignatureException if the candidate's signature is incompatible
   * @throws ModelLoadException if the candidate does not load
   * @throws UnsupportedOperationException if the registry's store keeps no rollouts
   */
  default Rollout startRollout(String model, String alias, RolloutSpec spec, AuditInfo audit) {
    throw new UnsupportedOperationException(getClass().getName() + " has no rollouts");
  }

  /**
   * Sets the candidate's share of the calls of an active rollout, in basis points (0 to 10,000).
   * Audited as {@link AuditAction#UPDATE_ROLLOUT}.
   *
   * @throws ConflictException if no rollout is active on the alias, or it is paused
   */
  default Rollout setRolloutWeight(String model, String alias, int weight, AuditInfo audit) {
    throw new UnsupportedOperationException(getClass().getName() + " has no rollouts");
  }

  /**
   * Pauses a running rollout: calls keep being routed by its weight, and the weight stays until
   * {@link #resumeRollout}.
   *
   * @throws ConflictException if no rollout is running on the alias
   */
  default Rollout pauseRollout(String model, String alias, AuditInfo audit) {
    throw new UnsupportedOperationException(getClass().getName() + " has no rollouts");
  }

  /**
   * Resumes a paused rollout.
   *
   * @throws ConflictException if no rollout is paused on the alias
   */
  default Rollout resumeRollout(String model, String alias, AuditInfo audit) {
    throw new UnsupportedOperationException(getClass().getName() + " has no rollouts");
  }

  /**
   * Ends an active rollout without promoting it: every call goes to the stable version again.
   * Audited as {@link AuditAction#END_ROLLOUT} with the reason of {@code audit}.
   *
   * @throws ConflictException if no rollout is active on the alias
   */
  default Rollout abortRollout(String model, String alias, AuditInfo audit) {
    throw new UnsupportedOperationException(getClass().getName() + " has no rollouts");
  }

  /**
   * Ends an active rollout by moving the alias to the candidate (a compare-and-set from the stable
   * version), then marking the rollout promoted. Both are audited.
   *
   * @throws ConflictException if no rollout is active on the alias, or the alias no longer points
   *     at the rollout's stable version
   */
  default Rollout promoteRollout(String model, String alias, AuditInfo audit) {
    throw new UnsupportedOperationException(getClass().getName() + " has no rollouts");
  }

  /** The last rollout behind an alias, active or ended, if the alias ever had one. */
  default Optional<Rollout> rolloutStatus(String model, String alias) {
    return Optional.empty();
  }

  /**
   * Adds a listener for this registry's events.
   *
   * @return a handle whose {@code close()} removes the listener
   */
  AutoCloseable addListener(LifecycleListener listener);

  /** Releases the registry's resources. Idempotent. */
  @Override
  void close();
}
