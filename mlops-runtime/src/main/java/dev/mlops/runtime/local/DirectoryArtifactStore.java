package dev.mlops.runtime.local;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.RegistryException;
import dev.mlops.api.spi.ArtifactStore;
import dev.mlops.runtime.registry.Staging;
import dev.mlops.runtime.registry.Storage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The embedded {@link ArtifactStore}: each artifact's files in {@code root/artifacts/<digest>/},
 * written under {@code staging/artifacts/} and renamed into place in one atomic step, so an
 * artifact is either absent or complete. {@link #materialize} returns that directory itself: the
 * registry verifies the files in place. Thread-safe; processes may share the directory.
 */
public final class DirectoryArtifactStore implements ArtifactStore {

  private static final Pattern DIGEST = Pattern.compile("[0-9a-f]{64}");

  private final Path artifactsDir;
  private final Staging staging;

  /**
   * Opens (creating if missing) the store under {@code root}, staging in {@code staging}, which
   * must be on the same file system.
   *
   * @throws RegistryException if the directories cannot be created
   */
  public DirectoryArtifactStore(Path root, Path staging) {
    try {
      this.artifactsDir = Files.createDirectories(root.resolve("artifacts")).toRealPath();
      Storage.requirePlainDirectory(artifactsDir);
    } catch (IOException e) {
      throw new RegistryException(
          "cannot open the artifact directory under " + root + ": " + e.getMessage(), e);
    }
    // Entries held by a lock, so another process (in any container) never removes one in use.
    this.staging = new Staging(staging.resolve("artifacts"));
  }

  private Path dir(String digest) {
    if (!DIGEST.matcher(digest).matches()) {
      throw new IllegalArgumentException("not a SHA-256 digest: " + digest);
    }
    return artifactsDir.resolve(digest);
  }

  /**
   * Stores the files under the digest. When {@code directory} lies on the store's file system and
   * holds exactly these files (no other, each of its recorded size), it is moved into place instead
   * of copied, so the caller's staging copy is consumed; otherwise the listed files are copied and
   * each digest checked. A listed file that is missing fails the put and stores nothing.
   */
  @Override
  public void put(String digest, Path directory, List<ArtifactFile> files) {
    Path target = dir(digest);
    if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
      touch(target);
      return;
    }
    try (Staging.Entry entry = staging.create()) {
      Path stage = entry.path().resolve("files");
      if (!holdsExactly(directory, files) || !moved(directory, stage)) {
        copy(directory, stage, files);
      }
      try {
        Files.move(stage, target, StandardCopyOption.ATOMIC_MOVE);
        Storage.fsyncDirectory(artifactsDir);
      } catch (IOException e) {
        // Renaming onto a directory fails when another registration of the same files stored it
        // meanwhile (as "exists", "not empty" or a plain file-system error, by platform).
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
          throw e;
        }
      }
    } catch (IOException e) {
      throw new RegistryException("cannot store the artifact " + digest + ": " + e, e);
    }
  }

  private static boolean moved(Path from, Path to) {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
      return true;
    } catch (IOException e) {
      return false; // another file system, or a rename the platform refuses: copy instead
    }
  }

  /**
   * Whether the directory holds the listed files, each a regular file of its recorded size, and
   * nothing else.
   */
  private static boolean holdsExactly(Path dir, List<ArtifactFile> files) throws IOException {
    java.util.Map<String, Long> sizes = new java.util.HashMap<>();
    for (ArtifactFile f : files) {
      sizes.put(f.path(), f.size());
    }
    int[] seen = {0};
    boolean[] exact = {true};
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    Files.walkFileTree(
        dir,
        new java.nio.file.SimpleFileVisitor<>() {
          @Override
          public java.nio.file.FileVisitResult visitFile(
              Path file, java.nio.file.attribute.BasicFileAttributes attrs) {
            String rel = dir.relativize(file).toString().replace(java.io.File.separatorChar, '/');
            Long size = sizes.get(rel);
            if (size == null || !attrs.isRegularFile() || attrs.size() != size) {
              exact[0] = false;
              return java.nio.file.FileVisitResult.TERMINATE;
            }
            seen[0]++;
            return java.nio.file.FileVisitResult.CONTINUE;
          }
        });
    return exact[0] && seen[0] == files.size();
  }

  private static void copy(Path from, Path to, List<ArtifactFile> files) throws IOException {
    for (ArtifactFile f : files) {
      Path target = to.resolve(f.path());
      String sha;
      try (InputStream in =
          Files.newInputStream(from.resolve(f.path()), LinkOption.NOFOLLOW_LINKS)) {
        sha = Storage.copyAndDigest(in, target);
      }
      if (!sha.equals(f.sha256())) {
        throw new IntegrityException(
            "file "
                + f.path()
                + " changed while it was stored: expected sha256 "
                + f.sha256()
                + " but found "
                + sha);
      }
    }
  }

  private static void touch(Path dir) {
    try {
      Files.setLastModifiedTime(
          dir, java.nio.file.attribute.FileTime.from(java.time.Instant.now()));
    } catch (IOException e) {
      throw new RegistryException("cannot mark the artifact " + dir + " as stored again: " + e, e);
    }
  }

  /** Each artifact directory, with its modification time (set again by each put). */
  @Override
  public java.util.Map<String, java.time.Instant> stored() {
    java.util.Map<String, java.time.Instant> out = new java.util.TreeMap<>();
    try (java.util.stream.Stream<Path> dirs = Files.list(artifactsDir)) {
      for (Path d : (Iterable<Path>) dirs::iterator) {
        String name = d.getFileName().toString();
        if (DIGEST.matcher(name).matches() && Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
          out.put(name, Files.getLastModifiedTime(d, LinkOption.NOFOLLOW_LINKS).toInstant());
        }
      }
    } catch (IOException e) {
      throw new RegistryException("cannot list the artifacts in " + artifactsDir + ": " + e, e);
    }
    return out;
  }

  @Override
  public boolean contains(String digest) {
    return Files.isDirectory(dir(digest), LinkOption.NOFOLLOW_LINKS);
  }

  @Override
  public Path materialize(String digest, List<ArtifactFile> files) {
    Path d = dir(digest);
    if (!Files.exists(d, LinkOption.NOFOLLOW_LINKS)) {
      throw new IntegrityException(
          "the files of artifact " + digest + " are missing from " + artifactsDir);
    }
    return d;
  }

  @Override
  public void delete(String digest) {
    Path d = dir(digest);
    if (!Files.exists(d, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Staging.Entry trash = staging.create()) {
      Files.move(d, trash.path().resolve("files"), StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new RegistryException("cannot delete the artifact " + digest + ": " + e, e);
    }
  }

  @Override
  public void close() {}

  @Override
  public String toString() {
    return artifactsDir.toString();
  }
}
