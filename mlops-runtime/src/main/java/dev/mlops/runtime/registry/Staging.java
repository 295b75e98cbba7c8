package dev.mlops.runtime.registry;

import dev.mlops.api.RegistryException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The directory where new versions are copied and checked before they are stored. Entries are named
 * {@code <pid>-<uuid>}; opening removes the entries of processes that died. Several registries and
 * processes may share one staging directory. Thread-safe.
 */
final class Staging {

  private static final Logger LOG = LoggerFactory.getLogger(Staging.class);

  /**
   * Entries that registrations in this process are writing, across all registries: their pid is
   * ours, so only this set tells them from entries left by an earlier process that had the same
   * pid.
   */
  private static final Set<Path> IN_USE = ConcurrentHashMap.newKeySet();

  private final Path dir;

  Staging(Path dir) {
    try {
      this.dir = Files.createDirectories(dir).toRealPath();
    } catch (IOException e) {
      throw new RegistryException(
          "cannot create the staging directory " + dir + ": " + e.getMessage(), e);
    }
    removeAbandoned();
  }

  /** A new, empty entry for one registration. */
  Path create() {
    Path stage = dir.resolve(ProcessHandle.current().pid() + "-" + UUID.randomUUID());
    IN_USE.add(stage);
    try {
      Files.createDirectories(stage);
    } catch (IOException e) {
      IN_USE.remove(stage);
      throw new RegistryException(
          "cannot create a staging entry in " + dir + ": " + e.getMessage(), e);
    }
    return stage;
  }

  /** Removes an entry; a failure is logged, never thrown. */
  void remove(Path stage) {
    try {
      Storage.deleteRecursively(stage);
    } catch (IOException e) {
      LOG.warn("cannot remove staging directory {}: {}", stage, e.toString());
    } finally {
      IN_USE.remove(stage);
    }
  }

  private void removeAbandoned() {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        String name = p.getFileName().toString();
        int dash = name.indexOf('-');
        long pid =
            dash > 0 && name.substring(0, dash).matches("[0-9]+")
                ? Long.parseLong(name.substring(0, dash))
                : -1;
        boolean alive =
            pid > 0 && pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).isPresent();
        // Entries of the stores that share this directory (<pid>-meta-..., <pid>-artifact-...) are
        // theirs to clean; only a registration's own <pid>-<uuid> entries are removed here.
        boolean registration = dash > 0 && name.length() - dash - 1 == 36;
        if (registration && !alive && !IN_USE.contains(p)) {
          LOG.info("removing abandoned staging entry {}", p);
          Storage.deleteRecursively(p);
        }
      }
    } catch (IOException e) {
      LOG.warn("cannot clean the staging directory {}: {}", dir, e.toString());
    }
  }
}
