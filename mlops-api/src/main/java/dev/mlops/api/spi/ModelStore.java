package dev.mlops.api.spi;

import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.ConflictException;
import dev.mlops.api.ModelVersion;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongFunction;

/**
 * Where a registry keeps its metadata: models, immutable versions, aliases, the audit log,
 * attachments and the version's side files (input example, manifest signature), and a feed of
 * committed changes. A store only stores: the registry above it checks arguments, signatures,
 * compatibility and loadability, writes the audit entries and raises the events, so every store
 * behaves the same to users. What a store guarantees:
 *
 * <ul>
 *   <li><b>Atomicity.</b> A reader never sees half a change, and a crash at any point leaves the
 *       old state or the new one. A store with transactions commits each change and its audit entry
 *       together; a store without them writes the entry right after the change, under the same
 *       lock, and documents what a crash in between leaves (the directory store: the change without
 *       its entry).
 *   <li><b>Numbering.</b> {@link #insertVersion} gives each model's versions unique, gap-free,
 *       increasing numbers (1, 2, 3 ...) across every thread and process that shares the store; a
 *       deleted number is never reused.
 *   <li><b>Compare-and-set.</b> {@link #compareAndSetAlias} moves an alias only from the version
 *       the caller read, and bumps the alias's revision.
 *   <li><b>References.</b> An alias points only at a ready version: the store refuses an alias move
 *       to a missing or archived version, and the archiving or deletion of a version an alias
 *       points at, with {@link ConflictException}.
 *   <li><b>Order.</b> {@link #audit} returns entries in commit order; {@link #subscribe} delivers
 *       each committed change once, in commit order, and never a change that did not commit.
 * </ul>
 *
 * <p>Implementations are thread-safe. Every SPI of mlops has a compatibility kit in {@code
 * mlops-test} that implementations extend ({@code ModelStoreCompatibilityKit}).
 */
public interface ModelStore extends AutoCloseable {

  /** Names of all models that have (or had) a version, sorted. */
  List<String> models();

  /** Every version of a model that is not deleted, oldest first, archived ones with that status. */
  List<ModelVersion> versions(String model);

  /** One version, unless it does not exist or was deleted. */
  Optional<ModelVersion> version(String model, long number);

  /**
   * Inserts a new version with the model's next number, atomically with its audit entry. The store
   * picks the number, then calls {@code make} with it (under whatever lock or transaction orders
   * insertions) and stores what it returns; the version becomes visible to readers only when all of
   * it is stored.
   *
   * @param model the model, created on its first version
   * @param make the version to store for a number: its record, side files and audit entry; the
   *     record's name and number must be {@code model} and that number
   * @return the stored version
   * @throws IllegalArgumentException if {@code make} returns a record for another name or number
   */
  ModelVersion insertVersion(String model, LongFunction<NewVersion> make);

  /** The aliases of a model and what each points at, sorted by alias. */
  Map<String, AliasTarget> aliases(String model);

  /**
   * Points an alias at {@code target} if it points at {@code expected} now ({@code 0}: only if it
   * does not exist), or deletes it when {@code target} is 0, atomically with {@code entry}.
   *
   * @return the alias's new state (for a deletion: version 0 and the revision it reached), or empty
   *     if the alias did not point at {@code expected}: nothing changed
   * @throws ConflictException if {@code target} is not a ready version of the model
   */
  Optional<AliasTarget> compareAndSetAlias(
      String model, String alias, long expected, long target, AuditEntry entry);

  /**
   * The rollouts of a model, by alias: the last one written for each alias, ended ones included.
   * Default: none, for a store that keeps no rollouts.
   */
  default Map<String, StoredRollout> rollouts(String model) {
    return Map.of();
  }

  /**
   * Writes the rollout record of an alias if the alias's rollout is at revision {@code expected}
   * now ({@code 0}: only if the alias never had one), atomically with {@code entry}, which the feed
   * then delivers like any change.
   *
   * @return the record's new revision ({@code expected + 1}), or empty if the alias's rollout was
   *     not at {@code expected}: nothing changed
   * @throws ConflictException if the model has no version
   * @throws UnsupportedOperationException if the store keeps no rollouts (the default)
   */
  default java.util.OptionalLong compareAndSetRollout(
      String model, String alias, long expected, String record, AuditEntry entry) {
    throw new UnsupportedOperationException(
        getClass().getName() + " keeps no rollouts; use a store that does (directory, PostgreSQL)");
  }

  /**
   * Marks a version archived, atomically with {@code entry}; archiving an archived version changes
   * nothing and records nothing.
   *
   * @return whether the version was ready before
   * @throws ConflictException if an alias points at it
   * @throws dev.mlops.api.ModelNotFoundException if it does not exist
   */
  boolean archive(String model, long version, AuditEntry entry);

  /**
   * Deletes a version's record (and its side files), atomically with {@code entry}. Its number is
   * never reused. The artifact is the caller's to delete from its {@link ArtifactStore}.
   *
   * @throws ConflictException if an alias points at it
   * @throws dev.mlops.api.ModelNotFoundException if it does not exist
   */
  void delete(String model, long version, AuditEntry entry);

  /** Appends an entry that records no change of state (a load or verification failure). */
  void appendAudit(AuditEntry entry);

  /** The audit entries that match {@code query}, in commit order. */
  List<AuditEntry> audit(AuditQuery query);

  /**
   * A side file stored with a version ({@link NewVersion#files()}: attachments under {@code
   * attachments/<name>}, {@link NewVersion#INPUT_EXAMPLE}, {@link NewVersion#MANIFEST_SIGNATURE}).
   * The registry checks attachments against their recorded digests.
   */
  Optional<byte[]> file(String model, long version, String name);

  /**
   * Delivers every committed change from now on, each as the audit entry it committed with, and
   * asks for a resync when changes may have been missed (after the store's connection to shared
   * state was lost and re-established). A store shared by several processes delivers their changes
   * too, if it can see them; a store that cannot says so in its documentation.
   *
   * @return a handle whose {@code close()} stops the delivery
   */
  AutoCloseable subscribe(StoreListener listener);

  /**
   * The state of the feed's connection to shared state, for a store that watches one (a database
   * notification channel). Default: empty, for a store whose feed needs no connection.
   */
  default Optional<FeedStatus> feedStatus() {
    return Optional.empty();
  }

  /** Releases the store's resources. Idempotent. */
  @Override
  void close();
}
