package dev.mlops.api;

import dev.mlops.api.event.LifecycleListener;
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
  default ModelVersion get(ModelRef ref) {
    return find(ref).orElseThrow(() -> new ModelNotFoundException(describeMissing(ref)));
  }

  /** Explains why {@code ref} resolves to nothing; used in {@link ModelNotFoundException}. */
  String describeMissing(ModelRef ref);

  /** The aliases of a model and their versions, sorted by alias. */
  Map<String, Long> aliases(String model);

  /**
   * Points an alias at a version, creating or moving it. The version is first verified and
   * loaded once (digests, engine, warm-up run), so an alias never moves to a version that cannot
   * serve; use {@link #forceAlias} to skip that check.
   *
   * @return the version the alias pointed at before, empty if it is new
   * @throws ModelNotFoundException if the version does not exist
   * @throws ModelLoadException if the version cannot be loaded; the alias does not move
   */
  OptionalLong setAlias(String model, String alias, long version, AuditInfo audit);

  /**
   * Points an alias at a version without checking that it loads. The audit entry records that
   * the move was forced. Predictors that follow the alias keep serving their current version if
   * the new one fails to load.
   *
   * @return the version the alias pointed at before, empty if it is new
   */
  OptionalLong forceAlias(String model, String alias, long version, AuditInfo audit);

  /**
   * Moves an alias only if it still points at {@code expectedVersion} ({@code 0}: only if the
   * alias does not exist yet). Checks that the new version loads, as {@link #setAlias} does.
   *
   * @throws ConflictException naming the expected and the actual version if it moved
   */
  void compareAndSetAlias(String model, String alias, long expectedVersion, long newVersion, AuditInfo audit);

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
   * @throws ConflictException if an alias points at it
   */
  void delete(String model, long version, AuditInfo audit);

  /**
   * The local files of a version, after checking every file against its recorded digest.
   *
   * @throws IntegrityException naming the file, the expected and the actual digest
   */
  ArtifactLocation verifiedArtifact(ModelVersion version);

  /** The input example stored with a version, if any. */
  Optional<Map<String, Tensor>> inputExample(ModelVersion version);

  /**
   * An attachment stored with a version, after checking it against its recorded digest.
   *
   * @throws IntegrityException if the stored bytes no longer match
   */
  Optional<byte[]> attachment(ModelVersion version, String name);

  /** Every audit-log entry, oldest first. */
  List<AuditEntry> auditLog();

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
