package dev.mlops.registry.postgres;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.RegistryException;
import dev.mlops.api.spi.TransferStatus;
import dev.mlops.runtime.registry.Storage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A local copy of the artifacts of a remote {@link dev.mlops.api.spi.ArtifactStore}, one directory
 * per artifact: {@code <directory>/<digest>/<relative path>}. {@link #materialize} returns that
 * directory only after checking that it holds exactly the listed files and that each file's size
 * and SHA-256 match the {@link ArtifactFile} (the size first, as it is cheap), so an engine never
 * reads a byte that does not match the registry's record:
 *
 * <ul>
 *   <li>a cached file that is missing, of the wrong size or of the wrong digest is deleted and
 *       fetched again, and counted as a {@linkplain TransferStatus#refetches() refetch}; anything
 *       unlisted in the directory is deleted;
 *   <li>a download goes to a temporary file in {@code <directory>/.partial/}, hashed while it is
 *       written, fsynced, and only then renamed into place, so a crash never leaves a partial file
 *       under a cached name;
 *   <li>a fetched file that does not match either throws {@link IntegrityException} naming the
 *       artifact, the file, and the expected and found digests, and nothing of it stays in the
 *       cache.
 * </ul>
 *
 * <p>Long downloads are logged at INFO at most once per progress interval (5 s by default) with the
 * file, the bytes done and total, and the rate, and once more when they end; {@link #status()}
 * counts downloads, bytes, refetches and the downloads running now.
 *
 * <p>Thread-safe: materializations of one digest run one at a time (a second one finds the files
 * the first fetched, and fetches nothing), those of different digests in parallel. A cache
 * directory belongs to one cache at a time: two processes must not share one.
 */
public final class ArtifactCache {

  private static final Logger LOG = LoggerFactory.getLogger(ArtifactCache.class);
  private static final Pattern DIGEST = Pattern.compile("[0-9a-f]{64}");
  private static final Duration DEFAULT_PROGRESS_INTERVAL = Duration.ofSeconds(5);

  /**
   * Fetches one file of a stored artifact: what a remote store gives its cache. Called with no lock
   * of the store held, possibly from several threads at once for different artifacts.
   */
  @FunctionalInterface
  public interface Fetcher {
    /**
     * Writes the stored bytes of one file of an artifact into {@code out}, and nothing else. The
     * cache checks them afterwards; the fetcher need not, and need not close {@code out}.
     *
     * @param digest the artifact's manifest digest
     * @param file the file, as the caller of {@link ArtifactCache#materialize} listed it
     * @param out where the bytes go
     * @throws IntegrityException if the store holds no such file
     * @throws IOException if the transfer fails
     */
    void fetch(String digest, ArtifactFile file, OutputStream out) throws IOException;
  }

  private final Path root;
  private final Path partial;
  private final Path verified;
  private final Clock clock;
  private final Duration progressInterval;

  private final Map<String, DigestLock> locks = new HashMap<>();
  private final Set<Download> running = ConcurrentHashMap.newKeySet();
  private final AtomicLong downloads = new AtomicLong();
  private final AtomicLong downloadedBytes = new AtomicLong();
  private final AtomicLong refetches = new AtomicLong();

  private ArtifactCache(Path root, Clock clock, Duration progressInterval) throws IOException {
    Files.createDirectories(root);
    Storage.requirePlainDirectory(root);
    this.root = root.toRealPath();
    this.partial = Storage.plainDirectory(this.root.resolve(".partial"));
    this.verified = Storage.plainDirectory(this.root.resolve(".verified"));
    this.clock = clock;
    this.progressInterval = progressInterval;
    // Downloads a crash interrupted: nothing refers to them.
    Storage.deleteRecursively(partial);
    Storage.plainDirectory(partial);
  }

  /**
   * Opens (creating if missing) a cache in {@code directory}, on the system clock.
   *
   * @throws RegistryException if the directory cannot be created or is not a plain directory
   */
  public static ArtifactCache open(Path directory) {
    return open(directory, Clock.systemUTC(), DEFAULT_PROGRESS_INTERVAL);
  }

  /**
   * Opens (creating if missing) a cache in {@code directory}.
   *
   * @param clock for the start times of downloads and the spacing of their progress lines
   * @param progressInterval the least time between two progress lines of one download
   * @throws RegistryException if the directory cannot be created or is not a plain directory
   */
  public static ArtifactCache open(Path directory, Clock clock, Duration progressInterval) {
    Objects.requireNonNull(directory, "directory");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(progressInterval, "progressInterval");
    if (progressInterval.isNegative() || progressInterval.isZero()) {
      throw new IllegalArgumentException("progressInterval must be > 0: " + progressInterval);
    }
    try {
      return new ArtifactCache(directory, clock, progressInterval);
    } catch (IOException e) {
      throw new RegistryException(
          "cannot open the artifact cache in " + directory + ": " + e.getMessage(), e);
    }
  }

  /** The cache's directory (its real path). */
  public Path directory() {
    return root;
  }

  /**
   * The local directory of an artifact, holding exactly {@code files}, each checked against its
   * size and digest; what is missing or does not match is fetched through {@code fetcher}.
   *
   * @param digest the artifact's manifest digest
   * @param files the artifact's files, as recorded at registration
   * @param fetcher fetches one file from the store
   * @return {@code <directory>/<digest>}
   * @throws IntegrityException if a fetched file does not match its record, or the fetcher says the
   *     store does not hold it
   * @throws RegistryException if a transfer or the local file system fails
   */
  public Path materialize(String digest, List<ArtifactFile> files, Fetcher fetcher) {
    Path dir = dir(digest);
    List<ArtifactFile> listed = List.copyOf(files);
    Objects.requireNonNull(fetcher, "fetcher");
    DigestLock lock = lock(digest);
    try {
      Path marker = verified.resolve(digest);
      boolean wasComplete = Files.exists(marker, LinkOption.NOFOLLOW_LINKS);
      Files.createDirectories(dir);
      Storage.requirePlainDirectory(dir);
      removeUnlisted(dir, listed);
      long fetched = 0;
      long fetchedBytes = 0;
      for (ArtifactFile f : listed) {
        Path target = dir.resolve(f.path());
        Cached state = check(target, f);
        if (state == Cached.GOOD) {
          continue;
        }
        if (state == Cached.BAD || wasComplete) {
          refetches.incrementAndGet();
          LOG.warn(
              "the cached file {} of artifact {} is {}: fetching it again",
              f.path(),
              digest,
              state == Cached.BAD ? "corrupt" : "missing");
        }
        Files.deleteIfExists(target);
        download(digest, f, target, fetcher);
        fetched++;
        fetchedBytes += f.size();
      }
      if (!wasComplete) {
        Files.createFile(marker);
      }
      if (fetched > 0) {
        LOG.info(
            "fetched {} file(s), {} bytes, of artifact {} into {}",
            fetched,
            fetchedBytes,
            digest,
            dir);
      }
      return dir;
    } catch (IOException e) {
      throw new RegistryException(
          "cannot materialize artifact " + digest + " in the cache " + root + ": " + e, e);
    } finally {
      unlock(digest, lock);
    }
  }

  /**
   * Drops an artifact's directory from the cache; dropping one that is not cached does nothing.
   * Waits for a materialization of the digest that is running.
   *
   * @throws RegistryException if the files cannot be deleted
   */
  public void drop(String digest) {
    Path dir = dir(digest);
    DigestLock lock = lock(digest);
    try {
      Files.deleteIfExists(verified.resolve(digest));
      Storage.deleteRecursively(dir);
    } catch (IOException e) {
      throw new RegistryException(
          "cannot drop artifact " + digest + " from the cache " + root + ": " + e, e);
    } finally {
      unlock(digest, lock);
    }
  }

  /** What the cache has fetched so far and what it is fetching now, oldest download first. */
  public TransferStatus status() {
    List<TransferStatus.Transfer> now = new ArrayList<>();
    for (Download d : running) {
      now.add(
          new TransferStatus.Transfer(
              d.digest, d.file.path(), d.done.get(), d.file.size(), d.started));
    }
    now.sort(Comparator.comparing(TransferStatus.Transfer::started));
    return new TransferStatus(downloads.get(), downloadedBytes.get(), refetches.get(), now);
  }

  @Override
  public String toString() {
    return "ArtifactCache[" + root + "]";
  }

  // ---------------------------------------------------------------- internals

  private Path dir(String digest) {
    Objects.requireNonNull(digest, "digest");
    if (!DIGEST.matcher(digest).matches()) {
      throw new IllegalArgumentException("not a SHA-256 digest: " + digest);
    }
    return root.resolve(digest);
  }

  private enum Cached {
    GOOD,
    BAD,
    MISSING
  }

  private static Cached check(Path target, ArtifactFile f) throws IOException {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return Cached.MISSING;
    }
    if (!a.isRegularFile() || a.size() != f.size()) {
      return Cached.BAD;
    }
    return Storage.sha256(target).equals(f.sha256()) ? Cached.GOOD : Cached.BAD;
  }

  /**
   * Deletes what the directory holds besides the listed files and the directories above them: stray
   * files, links, a directory where a file belongs.
   */
  private static void removeUnlisted(Path dir, List<ArtifactFile> files) throws IOException {
    Set<String> listed = new HashSet<>();
    Set<String> parents = new HashSet<>();
    for (ArtifactFile f : files) {
      listed.add(f.path());
      for (int i = f.path().indexOf('/'); i > 0; i = f.path().indexOf('/', i + 1)) {
        parents.add(f.path().substring(0, i));
      }
    }
    List<Path> stray = new ArrayList<>();
    Files.walkFileTree(
        dir,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
            if (d.equals(dir) || parents.contains(relative(dir, d))) {
              return FileVisitResult.CONTINUE;
            }
            stray.add(d);
            return FileVisitResult.SKIP_SUBTREE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            if (!attrs.isRegularFile() || !listed.contains(relative(dir, file))) {
              stray.add(file);
            }
            return FileVisitResult.CONTINUE;
          }
        });
    for (Path p : stray) {
      LOG.debug("deleting {}, which the cached artifact does not list", p);
      Storage.deleteRecursively(p);
    }
  }

  private static String relative(Path dir, Path p) {
    return dir.relativize(p).toString().replace(java.io.File.separatorChar, '/');
  }

  private void download(String digest, ArtifactFile f, Path target, Fetcher fetcher)
      throws IOException {
    Path tmp = partial.resolve(UUID.randomUUID() + ".part");
    Download d = new Download(digest, f, clock.instant());
    running.add(d);
    try {
      String found;
      long size;
      try (FileChannel ch =
              FileChannel.open(
                  tmp,
                  StandardOpenOption.CREATE_NEW,
                  StandardOpenOption.WRITE,
                  LinkOption.NOFOLLOW_LINKS);
          HashingOutput out = new HashingOutput(ch, d)) {
        fetcher.fetch(digest, f, out);
        ch.force(true);
        found = Storage.hex(out.md.digest());
        size = ch.size();
      }
      d.logEnd();
      if (size != f.size() || !found.equals(f.sha256())) {
        throw new IntegrityException(
            "file "
                + f.path()
                + " of artifact "
                + digest
                + " does not match its record: expected sha256 "
                + f.sha256()
                + " ("
                + f.size()
                + " bytes) but the store sent sha256 "
                + found
                + " ("
                + size
                + " bytes); nothing of it was cached");
      }
      Files.createDirectories(target.getParent());
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      Storage.fsyncDirectory(target.getParent());
      downloads.incrementAndGet();
    } finally {
      running.remove(d);
      Files.deleteIfExists(tmp);
    }
  }

  /** One download running: its progress, for {@link #status()} and the progress lines. */
  private final class Download {
    final String digest;
    final ArtifactFile file;
    final Instant started;
    final AtomicLong done = new AtomicLong();
    Instant lastLine;

    Download(String digest, ArtifactFile file, Instant started) {
      this.digest = digest;
      this.file = file;
      this.started = started;
      this.lastLine = started;
    }

    void add(int n) {
      done.addAndGet(n);
      downloadedBytes.addAndGet(n);
      Instant now = clock.instant();
      if (Duration.between(lastLine, now).compareTo(progressInterval) >= 0) {
        lastLine = now;
        LOG.info(
            "fetching {} of artifact {}: {} of {} bytes, {}",
            file.path(),
            digest,
            done.get(),
            file.size(),
            rate(now));
      }
    }

    /** The last line, for a download long enough to have had progress lines. */
    void logEnd() {
      Instant now = clock.instant();
      if (lastLine.equals(started)) {
        LOG.debug("fetched {} of artifact {}: {} bytes", file.path(), digest, done.get());
      } else {
        LOG.info(
            "fetched {} of artifact {}: {} of {} bytes, {}",
            file.path(),
            digest,
            done.get(),
            file.size(),
            rate(now));
      }
    }

    private String rate(Instant now) {
      double seconds = Math.max(1, Duration.between(started, now).toMillis()) / 1000.0;
      double kib = done.get() / seconds / 1024;
      return kib < 1024
          ? String.format(java.util.Locale.ROOT, "%.1f KiB/s", kib)
          : String.format(java.util.Locale.ROOT, "%.1f MiB/s", kib / 1024);
    }
  }

  /** Writes to the temporary file, hashing and counting what passes. */
  private static final class HashingOutput extends OutputStream {
    final MessageDigest md = Storage.sha256();
    private final FileChannel ch;
    private final Download download;

    HashingOutput(FileChannel ch, Download download) {
      this.ch = ch;
      this.download = download;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      Objects.checkFromIndexSize(off, len, b.length);
      md.update(b, off, len);
      ByteBuffer buf = ByteBuffer.wrap(b, off, len);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      download.add(len);
    }

    @Override
    public void close() {
      // the channel is closed by its owner
    }
  }

  private static final class DigestLock {
    final ReentrantLock lock = new ReentrantLock();
    int users;
  }

  private DigestLock lock(String digest) {
    DigestLock l;
    synchronized (locks) {
      l = locks.computeIfAbsent(digest, k -> new DigestLock());
      l.users++;
    }
    l.lock.lock();
    return l;
  }

  private void unlock(String digest, DigestLock l) {
    l.lock.unlock();
    synchronized (locks) {
      if (--l.users == 0) {
        locks.remove(digest);
      }
    }
  }
}
