package dev.mlops.api.spi;

import dev.mlops.api.ArtifactFile;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a registry keeps the files of model artifacts, by the SHA-256 digest of their manifest
 * (each file's path and digest, sorted by path): a local directory, a database, an object store.
 * Content addressing makes a put idempotent and lets identical artifacts share their bytes. A store
 * only stores: the registry verifies every file against its recorded digest after {@link
 * #materialize} and before an engine reads a byte.
 *
 * <p>Implementations are thread-safe; several processes may share one. A compatibility kit in
 * {@code mlops-test} ({@code ArtifactStoreCompatibilityKit}) checks these guarantees.
 */
public interface ArtifactStore extends AutoCloseable {

  /**
   * Stores the files of an artifact under its manifest digest. Storing a digest already stored
   * changes nothing but its {@linkplain #stored() stored time}, which it sets to now, so that a
   * registration reusing stored files is not collected as garbage before its version is recorded.
   * The artifact is readable only once all of it is stored.
   *
   * @param digest the manifest digest
   * @param directory a local directory holding the files at their relative paths
   * @param files the files to store, with their sizes and digests
   */
  void put(String digest, Path directory, List<ArtifactFile> files);

  /** Whether an artifact is stored under this digest. */
  boolean contains(String digest);

  /**
   * A local directory holding the artifact's files at their relative paths, for an engine to load
   * after the registry has verified them: the store's own directory for a local store, a local copy
   * for a remote one. The directory may hold nothing else.
   *
   * @throws dev.mlops.api.IntegrityException if the artifact is not stored
   */
  Path materialize(String digest, List<ArtifactFile> files);

  /**
   * Every artifact stored, and every one a put left incomplete (a process killed mid-put), by
   * digest, with the last time it was put: what a garbage collection of artifacts that no version
   * references looks at ({@code GovernedRegistry.collectGarbage}). Default: empty, for a store that
   * cannot list its artifacts, where nothing is collected.
   */
  default java.util.Map<String, java.time.Instant> stored() {
    return java.util.Map.of();
  }

  /**
   * Deletes an artifact, and whatever an incomplete put of it left; deleting one that is not stored
   * does nothing.
   */
  void delete(String digest);

  /**
   * What a remote store has fetched into its local cache, and what it is fetching now. Default:
   * empty, for a store that fetches nothing (its files are local).
   */
  default java.util.Optional<TransferStatus> transferStatus() {
    return java.util.Optional.empty();
  }

  /** Releases the store's resources. Idempotent. */
  @Override
  void close();
}
