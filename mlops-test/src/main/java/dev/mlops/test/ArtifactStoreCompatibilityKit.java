package dev.mlops.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.spi.ArtifactStore;
import dev.mlops.runtime.registry.GovernedRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compatibility suite that every {@link ArtifactStore} implementation extends and must pass:
 * the guarantees of the {@link ArtifactStore} contract, each checked with exact file sets and
 * bytes.
 *
 * <pre>{@code
 * class MyArtifactStoreCompatibilityTest extends ArtifactStoreCompatibilityKit<MyArtifactStore> {
 *   @Override
 *   protected MyArtifactStore createStore() {
 *     return MyArtifactStore.open(newBucket());        // a fresh, empty backing
 *   }
 *
 *   @Override
 *   protected MyArtifactStore openAnother(MyArtifactStore store) {
 *     return MyArtifactStore.open(store.bucket());     // the same backing; store may be closed
 *   }
 * }
 * }</pre>
 *
 * <p>What it checks, each in its own test on a fresh backing:
 *
 * <ul>
 *   <li>after a put, {@code contains} is true and {@code materialize} gives a directory holding
 *       exactly the listed files (nested paths and an empty file too), byte for byte; artifacts of
 *       other digests are independent;
 *   <li>a put of a stored digest changes nothing, even from a directory whose bytes differ, but the
 *       time {@code stored()} lists for it, which moves forward (unless the store cannot list);
 *   <li>{@value #THREADS} threads putting one digest at once all return normally and leave one
 *       intact artifact;
 *   <li>an artifact is never visible half-written: a reader polling {@code contains} and {@code
 *       materialize} while a put of {@value #LARGE_FILES} files of {@value #LARGE_FILE_MIB} MiB
 *       runs sees either nothing or every file at its full size;
 *   <li>materializing an unknown digest throws {@link IntegrityException};
 *   <li>a delete removes the artifact, and deleting it again or deleting an unknown digest does
 *       nothing; the digest can be put again;
 *   <li>another instance on the same backing sees puts and deletes;
 *   <li>a put whose directory lacks a listed file fails and stores nothing, and a later complete
 *       put of that digest succeeds;
 *   <li>a put from a directory that holds more than the listed files stores only the listed ones (a
 *       materialized directory may hold nothing else);
 *   <li>artifacts are there after closing and reopening.
 * </ul>
 *
 * <p>The kit does not rely on the put's source directory after the put: a store may consume it
 * (move it into place). Every test method is public, so an implementation that cannot meet one
 * check can override it (without {@code @Test}, which disables it) and say why. Stores the kit
 * opens are closed after each test.
 *
 * @param <S> the store type under test
 */
public abstract class ArtifactStoreCompatibilityKit<S extends ArtifactStore> {

  /** How many threads put one digest at once. */
  public static final int THREADS = 16;

  /** How many large files the half-written check puts. */
  public static final int LARGE_FILES = 4;

  /** How large each of them is, in MiB. */
  public static final int LARGE_FILE_MIB = 16;

  private static final Duration TIMEOUT = Duration.ofSeconds(120);

  @TempDir private Path kitDirectory;

  private final List<S> opened = new ArrayList<>();
  private final AtomicInteger dirCount = new AtomicInteger();

  /** For subclasses. */
  protected ArtifactStoreCompatibilityKit() {}

  /**
   * Opens a store on a new, empty backing. Called at least once per test; the kit closes what it
   * returns after the test.
   *
   * @return a new store, never null
   */
  protected abstract S createStore();

  /**
   * Opens another instance on the same backing as {@code store}, which may have been closed. The
   * kit closes what it returns after the test.
   *
   * @param store a store made by {@link #createStore()} or by this method
   * @return a new instance, never null and never {@code store} itself
   */
  protected abstract S openAnother(S store);

  /**
   * A new, empty directory for this test, deleted after it: for stores that keep their backing in
   * files. The kit's source directories are made the same way, so they share a file system with
   * these. Each call returns another directory.
   *
   * @return an existing, empty directory
   */
  protected final Path scratchDirectory() {
    return newDirectory("scratch");
  }

  /**
   * Closes every store the kit opened for this test.
   *
   * @throws Exception if a store's {@code close()} does
   */
  @AfterEach
  public final void closeOpenedStores() throws Exception {
    Exception first = null;
    for (S store : opened) {
      try {
        store.close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        }
      }
    }
    opened.clear();
    if (first != null) {
      throw first;
    }
  }

  /**
   * After a put, contains is true and materialize holds exactly the files (nested, empty) byte for
   * byte.
   */
  @Test
  public void putThenMaterializeGivesExactlyTheFilesWithTheirBytes() {
    S store = newStore();
    Artifact a =
        Artifact.of(
            Map.of(
                "model.onnx", StoreSamples.noise(1, 1, 100_000),
                "data/weights.bin", StoreSamples.noise(1, 2, 300_000),
                "data/nested/deep/tokens.txt",
                    "a\nb\n".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                "empty.bin", new byte[0]));
    Artifact b = Artifact.of(Map.of("model.onnx", StoreSamples.noise(2, 1, 5_000)));
    assertThat(store.contains(a.digest)).as("contains before the put").isFalse();

    store.put(a.digest, source(a), a.files);
    assertThat(store.contains(a.digest)).as("contains after the put").isTrue();
    assertThat(store.contains(b.digest)).as("contains of another digest").isFalse();
    assertMaterialized(store, a);

    store.put(b.digest, source(b), b.files);
    assertMaterialized(store, a);
    assertMaterialized(store, b);
  }

  /** A put of a stored digest changes nothing, even from a directory holding other bytes. */
  @Test
  public void putOfAStoredDigestChangesNothing() {
    S store = newStore();
    Artifact a =
        Artifact.of(
            Map.of(
                "model.onnx",
                StoreSamples.noise(1, 1, 50_000),
                "data/weights.bin",
                StoreSamples.noise(1, 2, 50_000)));
    store.put(a.digest, source(a), a.files);

    store.put(a.digest, source(a), a.files);
    assertMaterialized(store, a);
    Path impostor = newDirectory("impostor");
    write(impostor.resolve("model.onnx"), StoreSamples.noise(9, 1, 50_000));
    write(impostor.resolve("data/weights.bin"), StoreSamples.noise(9, 2, 50_000));
    store.put(a.digest, impostor, a.files);
    assertMaterialized(store, a);
  }

  /**
   * {@code stored()} lists each stored artifact with the time of its last put, which a put of the
   * stored digest moves forward, and a deleted one no more. Skipped for a store that cannot list
   * ({@code stored()} empty after a put). The one check that waits for real time: store clocks (a
   * database's {@code now()}, an object's last-modified) count in seconds at worst.
   */
  @Test
  public void storedListsEachArtifactWithTheTimeOfItsLastPut() {
    S store = newStore();
    Artifact a = Artifact.of(Map.of("model.onnx", StoreSamples.noise(1, 1, 10_000)));
    Artifact b = Artifact.of(Map.of("model.onnx", StoreSamples.noise(2, 1, 10_000)));
    java.time.Instant before = java.time.Instant.now().minusSeconds(2);
    store.put(a.digest, source(a), a.files);
    store.put(b.digest, source(b), b.files);
    Map<String, java.time.Instant> first = store.stored();
    org.junit.jupiter.api.Assumptions.assumeFalse(
        first.isEmpty(), "the store cannot list its artifacts (stored() is empty)");
    assertThat(first).containsOnlyKeys(a.digest, b.digest);
    java.time.Instant after = java.time.Instant.now().plusSeconds(2);
    assertThat(first.values()).allSatisfy(t -> assertThat(t).isBetween(before, after));

    java.util.concurrent.locks.LockSupport.parkNanos(
        java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(2_100));
    store.put(a.digest, source(a), a.files);
    Map<String, java.time.Instant> second = store.stored();
    assertThat(second.get(a.digest))
        .as("time of a stored digest put again")
        .isAfter(first.get(a.digest));
    assertThat(second.get(b.digest)).as("time of the other").isEqualTo(first.get(b.digest));
    assertMaterialized(store, a);

    store.delete(a.digest);
    assertThat(store.stored()).containsOnlyKeys(b.digest);
    assertThat(newAnother(store).stored()).containsOnlyKeys(b.digest);
  }

  /**
   * {@value #THREADS} threads putting one digest at once, each from its own directory: all return
   * normally and one intact artifact remains.
   *
   * @throws Exception if interrupted
   */
  @Test
  public void concurrentPutsOfOneDigestEndWithOneIntactArtifact() throws Exception {
    S store = newStore();
    Artifact a =
        Artifact.of(
            Map.of(
                "model.onnx",
                StoreSamples.noise(1, 1, 1 << 20),
                "data/weights.bin",
                StoreSamples.noise(1, 2, 1 << 20),
                "data/vocab.txt",
                StoreSamples.noise(1, 3, 1000)));
    List<Path> sources = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      sources.add(source(a));
    }
    CountDownLatch start = new CountDownLatch(1);
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    AtomicInteger returned = new AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      Path source = sources.get(t);
      Thread th =
          new Thread(
              () -> {
                try {
                  start.await();
                  store.put(a.digest, source, a.files);
                  returned.incrementAndGet();
                } catch (Throwable e) {
                  failures.add(e);
                }
              },
              "kit-put-" + t);
      th.setDaemon(true);
      th.start();
      threads.add(th);
    }
    start.countDown();
    for (Thread th : threads) {
      th.join(TIMEOUT.toMillis());
      assertThat(th.isAlive()).as("%s still running after %s", th.getName(), TIMEOUT).isFalse();
    }
    assertThat(failures).as("exceptions thrown by concurrent puts").isEmpty();
    assertThat(returned).as("puts that returned normally").hasValue(THREADS);
    assertThat(store.contains(a.digest)).isTrue();
    assertMaterialized(store, a);
  }

  /**
   * A reader polling contains and materialize during a large put sees nothing or all of it, never a
   * partial file set or a short file.
   *
   * @throws Exception if interrupted
   */
  @Test
  public void anArtifactIsNeverVisibleHalfWritten() throws Exception {
    S store = newStore();
    Map<String, byte[]> content = new TreeMap<>();
    for (int i = 0; i < LARGE_FILES; i++) {
      content.put("data/shard-" + i + ".bin", StoreSamples.noise(i, 7, LARGE_FILE_MIB << 20));
    }
    content.put("model.onnx", StoreSamples.noise(0, 8, 4096));
    Artifact a = Artifact.of(content);
    Path source = source(a);
    Map<String, Long> complete = new TreeMap<>();
    a.files.forEach(f -> complete.put(f.path(), f.size()));

    AtomicBoolean putDone = new AtomicBoolean();
    AtomicInteger polls = new AtomicInteger();
    AtomicInteger visiblePolls = new AtomicInteger();
    List<String> violations = new CopyOnWriteArrayList<>();
    CountDownLatch polling = new CountDownLatch(1);
    Thread reader =
        new Thread(
            () -> {
              while (true) {
                boolean last = putDone.get();
                try {
                  if (store.contains(a.digest)) {
                    visiblePolls.incrementAndGet();
                    Map<String, Long> seen = sizes(store.materialize(a.digest, a.files));
                    if (!seen.equals(complete)) {
                      violations.add("visible with files " + seen);
                    }
                  }
                } catch (RuntimeException e) {
                  violations.add("contains or materialize failed during the put: " + e);
                }
                polls.incrementAndGet();
                polling.countDown();
                if (last) {
                  return;
                }
              }
            },
            "kit-poller");
    reader.setDaemon(true);
    reader.start();
    assertThat(polling.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS))
        .as("the poller started")
        .isTrue();

    AtomicReference<Throwable> failure = new AtomicReference<>();
    try {
      store.put(a.digest, source, a.files);
    } catch (Throwable e) {
      failure.set(e);
    } finally {
      putDone.set(true);
    }
    reader.join(TIMEOUT.toMillis());
    assertThat(reader.isAlive()).as("poller still running after %s", TIMEOUT).isFalse();
    assertThat(failure.get()).as("exception from the put").isNull();
    assertThat(violations).as("what a reader saw during the put (%d polls)", polls.get()).isEmpty();
    assertThat(visiblePolls.get())
        .as("polls that saw the artifact (the last one runs after the put)")
        .isGreaterThanOrEqualTo(1);
    assertMaterialized(store, a);
  }

  /** Materializing a digest never stored throws IntegrityException. */
  @Test
  public void materializingAnUnknownDigestThrowsIntegrityException() {
    S store = newStore();
    Artifact a = Artifact.of(Map.of("model.onnx", StoreSamples.noise(1, 1, 1000)));
    assertThat(store.contains(a.digest)).isFalse();
    assertThatThrownBy(() -> store.materialize(a.digest, a.files))
        .isInstanceOf(IntegrityException.class);
  }

  /**
   * Delete removes an artifact and no other; deleting twice or deleting an unknown digest does
   * nothing.
   */
  @Test
  public void deleteRemovesTheArtifactAndRepeatsAsANoOp() {
    S store = newStore();
    Artifact a = withExternalData(1);
    Artifact b = Artifact.of(Map.of("model.onnx", StoreSamples.noise(2, 1, 10_000)));
    Artifact never = Artifact.of(Map.of("model.onnx", StoreSamples.noise(3, 1, 10)));
    store.put(a.digest, source(a), a.files);
    store.put(b.digest, source(b), b.files);

    store.delete(a.digest);
    assertThat(store.contains(a.digest)).as("contains after the delete").isFalse();
    assertThatThrownBy(() -> store.materialize(a.digest, a.files))
        .isInstanceOf(IntegrityException.class);
    store.delete(a.digest);
    store.delete(never.digest);
    assertThat(store.contains(a.digest)).isFalse();
    assertThat(store.contains(never.digest)).isFalse();
    assertMaterialized(store, b);

    store.put(a.digest, source(a), a.files);
    assertMaterialized(store, a);
  }

  /** Another instance on the same backing sees puts and deletes of the first. */
  @Test
  public void anotherInstanceOnTheSameBackingSeesPutsAndDeletes() {
    S first = newStore();
    S second = newAnother(first);
    Artifact a = withExternalData(1);
    Artifact b = Artifact.of(Map.of("model.onnx", StoreSamples.noise(2, 1, 10_000)));

    first.put(a.digest, source(a), a.files);
    assertThat(second.contains(a.digest)).isTrue();
    assertMaterialized(second, a);
    second.put(b.digest, source(b), b.files);
    assertMaterialized(first, b);
    second.delete(a.digest);
    assertThat(first.contains(a.digest)).isFalse();
    assertThatThrownBy(() -> first.materialize(a.digest, a.files))
        .isInstanceOf(IntegrityException.class);
  }

  /**
   * A put from a directory that lacks a listed file fails and stores nothing; a complete put then
   * works.
   */
  @Test
  public void aPutWhoseSourceLacksAListedFileFailsAndStoresNothing() {
    S store = newStore();
    Artifact a = withExternalData(1);
    Path incomplete = source(a);
    try {
      Files.delete(incomplete.resolve("data/w.bin"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }

    assertThatThrownBy(() -> store.put(a.digest, incomplete, a.files))
        .as("put without data/w.bin")
        .isInstanceOf(RuntimeException.class);
    assertThat(store.contains(a.digest)).as("contains after the failed put").isFalse();
    assertThatThrownBy(() -> store.materialize(a.digest, a.files))
        .isInstanceOf(IntegrityException.class);

    store.put(a.digest, source(a), a.files);
    assertMaterialized(store, a);
  }

  /** A put from a directory holding unlisted files stores only the listed ones. */
  @Test
  public void aPutStoresOnlyTheListedFiles() {
    S store = newStore();
    Artifact a = withExternalData(1);
    Path source = source(a);
    write(source.resolve("stray.txt"), new byte[] {1, 2, 3});
    write(source.resolve("data/stray/more.bin"), new byte[] {4});

    store.put(a.digest, source, a.files);
    assertMaterialized(store, a);
  }

  /** Artifacts are there after closing the store and opening another on its backing. */
  @Test
  public void artifactsSurviveClosingAndReopening() {
    S store = newStore();
    Artifact a =
        Artifact.of(
            Map.of(
                "model.onnx",
                StoreSamples.noise(1, 1, 10_000),
                "data/nested/w.bin",
                StoreSamples.noise(1, 2, 10_000)));
    Artifact b = Artifact.of(Map.of("model.onnx", StoreSamples.noise(2, 1, 10_000)));
    store.put(a.digest, source(a), a.files);
    store.put(b.digest, source(b), b.files);
    store.delete(b.digest);
    store.close();
    store.close();

    S reopened = newAnother(store);
    assertThat(reopened.contains(a.digest)).isTrue();
    assertThat(reopened.contains(b.digest)).isFalse();
    assertMaterialized(reopened, a);
  }

  // ---------------------------------------------------------------- helpers

  /** An artifact's files with their content, listed as a registry lists them (sorted by path). */
  private static final class Artifact {
    final Map<String, byte[]> content;
    final List<ArtifactFile> files;
    final String digest;

    private Artifact(Map<String, byte[]> content) {
      this.content = new TreeMap<>(content);
      List<ArtifactFile> list = new ArrayList<>();
      this.content.forEach(
          (path, bytes) ->
              list.add(new ArtifactFile(path, bytes.length, StoreSamples.sha256(bytes))));
      this.files = List.copyOf(list);
      this.digest = GovernedRegistry.manifestDigest(files);
    }

    static Artifact of(Map<String, byte[]> content) {
      return new Artifact(Objects.requireNonNull(content, "content"));
    }
  }

  private S newStore() {
    S store = Objects.requireNonNull(createStore(), "createStore() returned null");
    opened.add(store);
    return store;
  }

  private S newAnother(S store) {
    S another = Objects.requireNonNull(openAnother(store), "openAnother() returned null");
    if (another == store) {
      throw new IllegalStateException(
          "openAnother(store) returned store itself; it must open another instance");
    }
    opened.add(another);
    return another;
  }

  private Path newDirectory(String kind) {
    try {
      return Files.createDirectories(kitDirectory.resolve(kind + "-" + dirCount.incrementAndGet()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A new directory holding the artifact's files. */
  private Path source(Artifact a) {
    Path dir = newDirectory("source");
    a.content.forEach((path, bytes) -> write(dir.resolve(path), bytes));
    return dir;
  }

  private static void write(Path file, byte[] bytes) {
    try {
      Files.createDirectories(file.getParent());
      Files.write(file, bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Every regular file under {@code dir} by its relative path with '/' separators, with its size.
   */
  private static Map<String, Long> sizes(Path dir) {
    Map<String, Long> out = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          out.put(
              dir.relativize(p).toString().replace(java.io.File.separatorChar, '/'), Files.size(p));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
    return out;
  }

  private static void assertMaterialized(ArtifactStore store, Artifact a) {
    Path dir = store.materialize(a.digest, a.files);
    assertThat(dir).as("materialize(%s)", a.digest).isNotNull();
    Map<String, Long> expected = new TreeMap<>();
    a.files.forEach(f -> expected.put(f.path(), f.size()));
    assertThat(sizes(dir))
        .as("files and sizes in the materialized directory %s", dir)
        .isEqualTo(expected);
    for (Map.Entry<String, byte[]> f : a.content.entrySet()) {
      try {
        assertThat(
                StoreSamples.difference(Files.readAllBytes(dir.resolve(f.getKey())), f.getValue()))
            .as("how the bytes of %s differ from those put", f.getKey())
            .isNull();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /**
   * An artifact of a model file and a nested data file, 10 kB each, its bytes drawn from {@code
   * seed}.
   */
  private static Artifact withExternalData(int seed) {
    return Artifact.of(
        Map.of(
            "model.onnx",
            StoreSamples.noise(seed, 1, 10_000),
            "data/w.bin",
            StoreSamples.noise(seed, 2, 10_000)));
  }
}
