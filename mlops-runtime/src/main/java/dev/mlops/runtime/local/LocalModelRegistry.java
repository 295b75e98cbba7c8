package dev.mlops.runtime.local;

import dev.mlops.runtime.registry.GovernedRegistry;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The embedded registry: a {@link GovernedRegistry} over a {@link DirectoryModelStore} and a {@link
 * DirectoryArtifactStore} that share one local directory.
 *
 * <pre>
 * root/
 *   .lock                      exclusive lock for writers (threads and processes)
 *   audit.log                  append-only, one JSON object per line
 *   staging/                   versions and artifacts being written; never read
 *   artifacts/SHA256/...       the files of each artifact, by manifest digest
 *   models/NAME/state.json     aliases, archived and deleted versions (replaced atomically)
 *   models/NAME/N/version.json immutable metadata of version N, beside its side files
 * </pre>
 *
 * <p>Crash-safe: every file is written under {@code staging/}, fsynced and renamed into place in
 * one atomic step, so a crash leaves the old state or the new one, never a half version. Safe for
 * many threads and, with a file lock, several processes; numbers are gap-free. See {@link
 * GovernedRegistry} for what the registry checks and guarantees whatever its stores.
 */
public final class LocalModelRegistry {

  private LocalModelRegistry() {}

  /** Starts a registry in {@code root} (created if missing when the registry is built). */
  public static GovernedRegistry.Builder builder(Path root) {
    Objects.requireNonNull(root, "root");
    return GovernedRegistry.builder(
            () -> new DirectoryModelStore(root),
            store ->
                new DirectoryArtifactStore(
                    ((DirectoryModelStore) store).root(),
                    ((DirectoryModelStore) store).stagingDirectory()),
            root.toAbsolutePath().normalize().toString())
        // Beside the stores, so that a new version's files are renamed into place, not copied.
        .staging(root.resolve("staging"));
  }

  /** Opens a registry in {@code root} with the engine found by {@link java.util.ServiceLoader}. */
  public static GovernedRegistry open(Path root) {
    return builder(root).build();
  }

  /** The directory of a registry that this class built; empty for any other. */
  public static java.util.Optional<Path> root(GovernedRegistry registry) {
    return registry.store() instanceof DirectoryModelStore
        ? java.util.Optional.of(((DirectoryModelStore) registry.store()).root())
        : java.util.Optional.empty();
  }
}
