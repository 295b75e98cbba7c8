package dev.mlops.registry.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.RegistryException;
import dev.mlops.api.spi.TransferStatus;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache on its own, fed by a fetcher that reads the files of a source directory (as a store
 * reads its backing) and counts what it is asked for.
 */
class ArtifactCacheTest {

  private static final long WAIT_SECONDS = 60;

  @TempDir Path tmp;

  private final TestArtifact artifact =
      TestArtifact.of(
          Map.of(
              "model.onnx", TestArtifact.noise(1, 200_000),
              "data/weights.bin", TestArtifact.noise(2, 300_000),
              "data/nested/vocab.txt", TestArtifact.noise(3, 1_000),
              "empty.bin", new byte[0]));

  /** Reads files from a directory and counts the calls per path. */
  private static final class DirectoryFetcher implements ArtifactCache.Fetcher {
    final Path source;
    final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

    DirectoryFetcher(Path source) {
      this.source = source;
    }

    @Override
    public void fetch(String digest, ArtifactFile file, OutputStream out) throws IOException {
      calls.computeIfAbsent(file.path(), p -> new AtomicInteger()).incrementAndGet();
      Files.copy(source.resolve(file.path()), out);
    }

    int total() {
      return calls.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    int of(String path) {
      AtomicInteger n = calls.get(path);
      return n == null ? 0 : n.get();
    }
  }

  private ArtifactCache newCache() {
    try {
      return ArtifactCache.open(Files.createTempDirectory(tmp, "cache-"));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void materializeFetchesEachFileOnceAndASecondCallFetchesNothing() {
    ArtifactCache cache = newCache();
    DirectoryFetcher fetcher = new DirectoryFetcher(artifact.writeTo(tmp));

    Path dir = cache.materialize(artifact.digest, artifact.files, fetcher);
    assertThat(dir).isEqualTo(cache.directory().resolve(artifact.digest));
    assertThat(artifact.isExactlyIn(dir)).as("the files and bytes in %s", dir).isTrue();
    assertThat(fetcher.total()).isEqualTo(4);

    assertThat(cache.materialize(artifact.digest, artifact.files, fetcher)).isEqualTo(dir);
    assertThat(fetcher.total()).as("fetches after the second materialize").isEqualTo(4);
    assertThat(cache.status())
        .isEqualTo(new TransferStatus(4, artifact.totalBytes(), 0, List.of()));
  }

  @Test
  void aCachedFileFlippedTruncatedOrDeletedIsFetchedAgainAndCountedAsARefetch() throws Exception {
    ArtifactCache cache = newCache();
    DirectoryFetcher fetcher = new DirectoryFetcher(artifact.writeTo(tmp));
    Path dir = cache.materialize(artifact.digest, artifact.files, fetcher);

    Path flipped = dir.resolve("model.onnx");
    byte[] bytes = Files.readAllBytes(flipped);
    bytes[bytes.length / 2] ^= 0x01;
    Files.write(flipped, bytes);
    try (FileChannel ch =
        FileChannel.open(dir.resolve("data/weights.bin"), StandardOpenOption.WRITE)) {
      ch.truncate(1000);
    }
    Files.delete(dir.resolve("data/nested/vocab.txt"));

    assertThat(cache.materialize(artifact.digest, artifact.files, fetcher)).isEqualTo(dir);
    assertThat(artifact.isExactlyIn(dir)).as("the files and bytes after the refetch").isTrue();
    assertThat(fetcher.of("model.onnx")).isEqualTo(2);
    assertThat(fetcher.of("data/weights.bin")).isEqualTo(2);
    assertThat(fetcher.of("data/nested/vocab.txt")).isEqualTo(2);
    assertThat(fetcher.of("empty.bin")).as("the intact file").isEqualTo(1);
    long refetchedBytes = 200_000 + 300_000 + 1_000;
    assertThat(cache.status())
        .isEqualTo(new TransferStatus(7, artifact.totalBytes() + refetchedBytes, 3, List.of()));
  }

  @Test
  void aFileOfTheRightSizeButAnotherDigestIsFetchedAgain() throws Exception {
    ArtifactCache cache = newCache();
    DirectoryFetcher fetcher = new DirectoryFetcher(artifact.writeTo(tmp));
    Path dir = cache.materialize(artifact.digest, artifact.files, fetcher);
    Files.write(dir.resolve("data/nested/vocab.txt"), TestArtifact.noise(99, 1_000));

    cache.materialize(artifact.digest, artifact.files, fetcher);
    assertThat(artifact.isExactlyIn(dir)).isTrue();
    assertThat(fetcher.of("data/nested/vocab.txt")).isEqualTo(2);
    assertThat(cache.status().refetches()).isEqualTo(1);
  }

  @Test
  void unlistedFilesAndDirectoriesInACachedArtifactAreRemoved() throws Exception {
    ArtifactCache cache = newCache();
    DirectoryFetcher fetcher = new DirectoryFetcher(artifact.writeTo(tmp));
    Path dir = cache.materialize(artifact.digest, artifact.files, fetcher);
    Files.write(dir.resolve("stray.txt"), new byte[] {1});
    Files.createDirectories(dir.resolve("data/other/deeper"));
    Files.write(dir.resolve("data/other/deeper/more.bin"), new byte[] {2});
    Files.delete(dir.resolve("empty.bin"));
    Files.createDirectory(dir.resolve("empty.bin"));

    cache.materialize(artifact.digest, artifact.files, fetcher);
    assertThat(artifact.isExactlyIn(dir)).as("the files in %s", dir).isTrue();
    assertThat(dir.resolve("data/other")).doesNotExist();
    assertThat(fetcher.of("empty.bin")).as("a directory where a file belongs").isEqualTo(2);
  }

  @Test
  void aFetchedFileThatDoesNotMatchThrowsIntegrityExceptionAndLeavesNothingCached() {
    ArtifactCache cache = newCache();
    Path source = artifact.writeTo(tmp);
    byte[] impostor = TestArtifact.noise(7, 300_000);
    ArtifactCache.Fetcher lying =
        (digest, file, out) -> {
          if (file.path().equals("data/weights.bin")) {
            out.write(impostor);
          } else {
            Files.copy(source.resolve(file.path()), out);
          }
        };

    ArtifactFile weights = artifact.file("data/weights.bin");
    assertThatThrownBy(() -> cache.materialize(artifact.digest, artifact.files, lying))
        .isInstanceOf(IntegrityException.class)
        .hasMessageContaining(artifact.digest)
        .hasMessageContaining("data/weights.bin")
        .hasMessageContaining("expected sha256 " + weights.sha256())
        .hasMessageContaining(
            "sha256 " + dev.mlops.runtime.registry.Storage.sha256Hex(impostor) + " (300000 bytes)");
    Path dir = cache.directory().resolve(artifact.digest);
    assertThat(dir.resolve("data/weights.bin")).doesNotExist();
    assertThat(TestArtifact.read(cache.directory().resolve(".partial"))).isEmpty();

    DirectoryFetcher honest = new DirectoryFetcher(source);
    assertThat(cache.materialize(artifact.digest, artifact.files, honest)).isEqualTo(dir);
    assertThat(artifact.isExactlyIn(dir)).isTrue();
    assertThat(cache.status().refetches())
        .as("the artifact was never complete in the cache")
        .isZero();
  }

  @Test
  void aDownloadThatFailsHalfWayLeavesNoPartialFile() {
    ArtifactCache cache = newCache();
    ArtifactCache.Fetcher failing =
        (digest, file, out) -> {
          out.write(new byte[1000]);
          throw new IOException("connection reset");
        };

    assertThatThrownBy(() -> cache.materialize(artifact.digest, artifact.files, failing))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("connection reset");
    assertThat(TestArtifact.read(cache.directory().resolve(artifact.digest))).isEmpty();
    assertThat(TestArtifact.read(cache.directory().resolve(".partial"))).isEmpty();
    assertThat(cache.status().downloads()).isZero();
  }

  @Test
  void twoThreadsMaterializingOneDigestFetchEachFileOnce() throws Exception {
    ArtifactCache cache = newCache();
    DirectoryFetcher files = new DirectoryFetcher(artifact.writeTo(tmp));
    CountDownLatch firstFetching = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ArtifactCache.Fetcher held =
        (digest, file, out) -> {
          firstFetching.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            throw new IOException(e);
          }
          files.fetch(digest, file, out);
        };
    List<Path> results = new CopyOnWriteArrayList<>();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    Runnable materialize =
        () -> {
          try {
            results.add(cache.materialize(artifact.digest, artifact.files, held));
          } catch (Throwable e) {
            failures.add(e);
          }
        };

    Thread first = new Thread(materialize, "first");
    first.start();
    assertThat(firstFetching.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
    Thread second = new Thread(materialize, "second");
    second.start();
    // The second waits on the digest's lock while the first is held inside its first fetch.
    while (second.getState() != Thread.State.WAITING && second.isAlive()) {
      Thread.onSpinWait();
    }
    release.countDown();
    first.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
    second.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));

    assertThat(failures).isEmpty();
    assertThat(results).hasSize(2).containsOnly(cache.directory().resolve(artifact.digest));
    assertThat(files.total()).as("fetches by both threads").isEqualTo(4);
    artifact.files.forEach(f -> assertThat(files.of(f.path())).as(f.path()).isEqualTo(1));
    assertThat(cache.status())
        .isEqualTo(new TransferStatus(4, artifact.totalBytes(), 0, List.of()));
  }

  @Test
  void differentDigestsMaterializeInParallel() throws Exception {
    ArtifactCache cache = newCache();
    TestArtifact a = TestArtifact.of(Map.of("model.onnx", TestArtifact.noise(10, 1000)));
    TestArtifact b = TestArtifact.of(Map.of("model.onnx", TestArtifact.noise(11, 1000)));
    Path sourceA = a.writeTo(tmp);
    Path sourceB = b.writeTo(tmp);
    // Each fetch waits until the other has begun: materializations run one at a time would never
    // both begin.
    CountDownLatch bothFetching = new CountDownLatch(2);
    AtomicReference<String> timedOut = new AtomicReference<>();
    ArtifactCache.Fetcher meeting =
        (digest, file, out) -> {
          bothFetching.countDown();
          try {
            if (!bothFetching.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
              timedOut.set(digest);
            }
          } catch (InterruptedException e) {
            throw new IOException(e);
          }
          Files.copy((digest.equals(a.digest) ? sourceA : sourceB).resolve(file.path()), out);
        };
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (TestArtifact t : List.of(a, b)) {
      Thread th =
          new Thread(
              () -> {
                try {
                  cache.materialize(t.digest, t.files, meeting);
                } catch (Throwable e) {
                  failures.add(e);
                }
              });
      th.start();
      threads.add(th);
    }
    for (Thread th : threads) {
      th.join(TimeUnit.SECONDS.toMillis(2 * WAIT_SECONDS));
    }
    assertThat(failures).isEmpty();
    assertThat(timedOut.get()).as("a fetch that waited in vain for the other").isNull();
    assertThat(a.isExactlyIn(cache.directory().resolve(a.digest))).isTrue();
    assertThat(b.isExactlyIn(cache.directory().resolve(b.digest))).isTrue();
  }

  @Test
  void statusShowsARunningDownloadWithItsBytesDone() throws Exception {
    ArtifactCache cache = newCache();
    TestArtifact one = TestArtifact.of(Map.of("model.onnx", TestArtifact.noise(5, 10_000)));
    byte[] content = one.content.get("model.onnx");
    CountDownLatch halfWritten = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ArtifactCache.Fetcher slow =
        (digest, file, out) -> {
          out.write(content, 0, 4_000);
          halfWritten.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            throw new IOException(e);
          }
          out.write(content, 4_000, 6_000);
        };
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread t =
        new Thread(
            () -> {
              try {
                cache.materialize(one.digest, one.files, slow);
              } catch (Throwable e) {
                failure.set(e);
              }
            });
    t.start();
    assertThat(halfWritten.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();

    TransferStatus during = cache.status();
    assertThat(during.downloads()).isZero();
    assertThat(during.downloadedBytes()).isEqualTo(4_000);
    assertThat(during.inFlight()).hasSize(1);
    TransferStatus.Transfer running = during.inFlight().get(0);
    assertThat(
            Arrays.asList(
                running.digest(), running.file(), running.doneBytes(), running.totalBytes()))
        .containsExactly(one.digest, "model.onnx", 4_000L, 10_000L);

    release.countDown();
    t.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
    assertThat(failure.get()).isNull();
    assertThat(cache.status()).isEqualTo(new TransferStatus(1, 10_000, 0, List.of()));
  }

  @Test
  void dropRemovesTheArtifactsDirectoryAndAMaterializeFetchesItAgainAsANewDownload() {
    ArtifactCache cache = newCache();
    DirectoryFetcher fetcher = new DirectoryFetcher(artifact.writeTo(tmp));
    Path dir = cache.materialize(artifact.digest, artifact.files, fetcher);

    cache.drop(artifact.digest);
    cache.drop(artifact.digest);
    assertThat(dir).doesNotExist();
    cache.materialize(artifact.digest, artifact.files, fetcher);
    assertThat(artifact.isExactlyIn(dir)).isTrue();
    assertThat(cache.status())
        .as("a dropped artifact fetched again is not a refetch")
        .isEqualTo(new TransferStatus(8, 2 * artifact.totalBytes(), 0, List.of()));
  }

  @Test
  void aCacheReopenedOnItsDirectoryKeepsTheFilesAndDeletesPartialDownloads() throws Exception {
    Path directory = Files.createTempDirectory(tmp, "cache-");
    ArtifactCache cache = ArtifactCache.open(directory);
    DirectoryFetcher fetcher = new DirectoryFetcher(artifact.writeTo(tmp));
    cache.materialize(artifact.digest, artifact.files, fetcher);
    Files.write(cache.directory().resolve(".partial/left-by-a-crash.part"), new byte[10]);

    ArtifactCache reopened = ArtifactCache.open(directory);
    assertThat(TestArtifact.read(reopened.directory().resolve(".partial"))).isEmpty();
    reopened.materialize(artifact.digest, artifact.files, fetcher);
    assertThat(fetcher.total()).as("fetches of both caches").isEqualTo(4);
    Files.delete(reopened.directory().resolve(artifact.digest).resolve("model.onnx"));
    reopened.materialize(artifact.digest, artifact.files, fetcher);
    assertThat(reopened.status().refetches())
        .as("a file missing from an artifact cached before the reopening")
        .isEqualTo(1);
  }

  @Test
  void aLongDownloadLogsItsProgressAtMostOncePerIntervalAndWhenItEnds() throws Exception {
    // Every reading of the clock moves it 3 s on, so with a 5 s interval every second write of
    // the download is due a line.
    Instant[] now = {Instant.parse("2026-03-01T12:00:00Z")};
    Clock ticking =
        new Clock() {
          @Override
          public ZoneId getZone() {
            return ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(ZoneId zone) {
            return this;
          }

          @Override
          public synchronized Instant instant() {
            now[0] = now[0].plusSeconds(3);
            return now[0];
          }
        };
    ArtifactCache cache =
        ArtifactCache.open(
            Files.createTempDirectory(tmp, "cache-"), ticking, Duration.ofSeconds(5));
    TestArtifact one = TestArtifact.of(Map.of("model.onnx", TestArtifact.noise(6, 10_240)));
    byte[] content = one.content.get("model.onnx");
    ArtifactCache.Fetcher inQuarters =
        (digest, file, out) -> {
          for (int i = 0; i < 4; i++) {
            out.write(content, i * 2_560, 2_560);
          }
        };

    List<String> lines = new ArrayList<>();
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      cache.materialize(one.digest, one.files, inQuarters);
    } finally {
      System.setErr(err);
    }
    for (String line : captured.toString(StandardCharsets.UTF_8).split("\n")) {
      int at = line.indexOf(" INFO " + ArtifactCache.class.getName() + " - ");
      if (at >= 0 && line.contains(" model.onnx of artifact ")) {
        lines.add(line.substring(line.indexOf(" - ", at) + 3));
      }
    }
    String of = " model.onnx of artifact " + one.digest + ": ";
    assertThat(lines)
        .containsExactly(
            "fetching" + of + "5120 of 10240 bytes, 0.8 KiB/s",
            "fetching" + of + "10240 of 10240 bytes, 0.8 KiB/s",
            "fetched" + of + "10240 of 10240 bytes, 0.7 KiB/s");
  }
}
