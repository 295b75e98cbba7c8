package dev.mlops.test;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ClosedException;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.RegistryException;
import dev.mlops.api.spi.ArtifactStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * An {@link ArtifactStore} that keeps every artifact's bytes in memory: the reference
 * implementation of the artifact contract, which passes {@link ArtifactStoreCompatibilityKit}, and
 * a test double for applications.
 *
 * <p>What it guarantees: a put reads every listed file (and only those) into memory before the
 * artifact becomes visible in one step, so a reader sees an artifact entirely or not at all, and a
 * put that cannot read a listed file stores nothing; a put of a stored digest changes nothing; the
 * caller's directory is left as it was. {@link #materialize} writes a private copy under the work
 * directory, staged and renamed into place, so the returned directory holds exactly the artifact's
 * files. Instances made with {@link #openAnother()} share the artifacts and the work directory.
 * Nothing survives the last reference to the backing.
 *
 * <p>Thread-safe. Closing an instance makes its methods throw {@link ClosedException}; the backing,
 * its other instances and the work directory are unaffected. {@code close()} is idempotent.
 */
public final class InMemoryArtifactStore implements ArtifactStore {

  private static final Pattern DIGEST = Pattern.compile("[0-9a-f]{64}");

  private final Backing backing;
  private volatile boolean closed;

  private InMemoryArtifactStore(Backing backing) {
    this.backing = backing;
  }

  /**
   * A store on a new, empty backing.
   *
   * @param workDirectory where {@link #materialize} writes its copies; created if missing
   * @throws RegistryException if the directory cannot be created
   */
  public static InMemoryArtifactStore create(Path workDirectory) {
    Objects.requireNonNull(workDirectory, "workDirectory");
    try {
      return new InMemoryArtifactStore(
          new Backing(Files.createDirectories(workDirectory).toRealPath()));
    } catch (IOException e) {
      throw new RegistryException(
          "cannot create the work directory " + workDirectory + ": " + e, e);
    }
  }

  /**
   * Another instance on this store's backing (its artifacts and work directory); works after this
   * one was closed.
   */
  public InMemoryArtifactStore openAnother() {
    return new InMemoryArtifactStore(backing);
  }

  private static final class Backing {
    final Path work;
    final ConcurrentHashMap<String, Map<String, byte[]>> artifacts = new ConcurrentHashMap<>();
    final ConcurrentHashMap<String, java.time.Instant> putAt = new ConcurrentHashMap<>();

    Backing(Path work) {
      this.work = work;
    }
  }

  private static String check(String digest) {
    Objects.requireNonNull(digest, "digest");
    if (!DIGEST.matcher(digest).matches()) {
      throw new IllegalArgumentException(
          "not a SHA-256 digest (64 lower-case hex digits): " + digest);
    }
    return digest;
  }

  @Override
  public void put(String digest, Path directory, List<ArtifactFile> files) {
    checkOpen();
    check(digest);
    Objects.requireNonNull(directory, "directory");
    Objects.requireNonNull(files, "files");
    if (backing.artifacts.containsKey(digest)) {
      backing.putAt.put(digest, java.time.Instant.now());
      return;
    }
    Map<String, byte[]> content = new TreeMap<>();
    for (ArtifactFile f : files) {
      Path source = directory.resolve(f.path());
      try {
        if (!Files.isRegularFile(source, LinkOption.NOFOLLOW_LINKS)) {
          throw new RegistryException(
              "cannot store the artifact "
                  + digest
                  + ": "
                  + source
                  + " is missing or not a regular file");
        }
        content.put(f.path(), Files.readAllBytes(source));
      } catch (IOException e) {
        throw new RegistryException(
            "cannot store the artifact " + digest + ": cannot read " + source + ": " + e, e);
      }
    }
    backing.artifacts.putIfAbsent(digest, Collections.unmodifiableMap(content));
    backing.putAt.put(digest, java.time.Instant.now());
  }

  @Override
  public Map<String, java.time.Instant> stored() {
    checkOpen();
    Map<String, java.time.Instant> out = new TreeMap<>();
    for (String d : backing.artifacts.keySet()) {
      out.put(d, backing.putAt.getOrDefault(d, java.time.Instant.EPOCH));
    }
    return out;
  }

  @Override
  public boolean contains(String digest) {
    checkOpen();
    return backing.artifacts.containsKey(check(digest));
  }

  @Override
  public Path materialize(String digest, List<ArtifactFile> files) {
    checkOpen();
    Map<String, byte[]> content = backing.artifacts.get(check(digest));
    if (content == null) {
      throw new IntegrityException("the artifact " + digest + " is not stored in " + this);
    }
    Path target = backing.work.resolve(digest);
    if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
      return target;
    }
    Path stage = backing.work.resolve(".stage-" + UUID.randomUUID());
    try {
      for (Map.Entry<String, byte[]> f : content.entrySet()) {
        Path p = stage.resolve(f.getKey());
        Files.createDirectories(p.getParent());
        Files.write(p, f.getValue());
      }
      Files.createDirectories(stage);
      try {
        Files.move(stage, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
        // another thread materialized it first: its copy is the same
      } catch (AtomicMoveNotSupportedException e) {
        throw new RegistryException(
            "the work directory " + backing.work + " cannot rename atomically: " + e, e);
      } catch (IOException e) {
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
          throw e;
        }
      }
      return target;
    } catch (IOException e) {
      throw new RegistryException(
          "cannot materialize the artifact " + digest + " under " + backing.work + ": " + e, e);
    } finally {
      deleteRecursively(stage);
    }
  }

  @Override
  public void delete(String digest) {
    checkOpen();
    if (backing.artifacts.remove(check(digest)) == null) {
      return;
    }
    Path target = backing.work.resolve(digest);
    Path trash = backing.work.resolve(".trash-" + UUID.randomUUID());
    try {
      Files.move(target, trash, StandardCopyOption.ATOMIC_MOVE);
    } catch (NoSuchFileException e) {
      return;
    } catch (IOException e) {
      throw new RegistryException(
          "cannot delete the copy of artifact " + digest + " in " + backing.work + ": " + e, e);
    }
    deleteRecursively(trash);
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk.sorted(Collections.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new ClosedException(
          "this InMemoryArtifactStore is closed; open another on its backing with openAnother()");
    }
  }

  @Override
  public void close() {
    closed = true;
  }

  @Override
  public String toString() {
    return "InMemoryArtifactStore[" + backing.work + "]";
  }
}
