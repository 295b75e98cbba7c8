package dev.mlops.runtime.local;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.MlopsException;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelRegistry;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Registration;
import dev.mlops.runtime.registry.Storage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches a TF-Serving/Triton-style model repository, {@code <base>/<model>/<n>/model.onnx} (with
 * any external-data files beside it), and registers each new version directory.
 *
 * <p>A version directory is taken only when it is complete: it has the model file, holds no file
 * that looks temporary (a name starting with {@code .} or ending in {@code .tmp}, {@code .part},
 * {@code .partial} or {@code .crdownload}), and its listing (paths, sizes, modification times) has
 * not changed for the settle time. The files are then copied aside and the listing is checked once
 * more, so a file still being written is never registered. A directory whose model cannot be loaded
 * is logged once and skipped until its files change.
 *
 * <p>Registered versions carry the tags {@code repository.path} and {@code repository.version}; a
 * directory already imported (found by those tags, also after a restart) is not imported again.
 * Registry numbers are the registry's own: repository version 7 may become registry version 3.
 *
 * <p>Thread-safe: scans are serialised. Call {@link #scanOnce()} directly, or {@link #start()} to
 * scan on the given scheduler.
 */
public final class ModelRepositoryWatcher implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ModelRepositoryWatcher.class);

  /** Tag naming the repository directory a version was imported from, e.g. {@code fraud/7}. */
  public static final String TAG_PATH = "repository.path";

  /** Tag holding the repository's version number. */
  public static final String TAG_VERSION = "repository.version";

  private final Path base;
  private final ModelRegistry registry;
  private final String modelFile;
  private final Duration settle;
  private final Duration pollInterval;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final AuditInfo audit;
  private final Map<String, Candidate> candidates = new HashMap<>();
  private final Map<String, String> failed = new HashMap<>();
  private ScheduledFuture<?> task;
  private volatile boolean closed;

  private ModelRepositoryWatcher(Builder b) {
    this.base = b.base;
    this.registry = b.registry;
    this.modelFile = b.modelFile;
    this.settle = b.settle;
    this.pollInterval = b.pollInterval;
    this.clock = b.clock;
    this.scheduler = b.scheduler;
    this.audit = AuditInfo.by(b.actor, "imported from model repository " + b.base);
  }

  /** Starts a builder for a repository at {@code base} feeding {@code registry}. */
  public static Builder builder(Path base, ModelRegistry registry) {
    return new Builder(base, registry);
  }

  private static final class Candidate {
    final String fingerprint;
    final Instant firstSeen;

    Candidate(String fingerprint, Instant firstSeen) {
      this.fingerprint = fingerprint;
      this.firstSeen = firstSeen;
    }
  }

  /**
   * Scans the repository once and registers every complete version directory not imported yet, in
   * ascending version order per model.
   *
   * @return the versions registered by this scan
   */
  public synchronized List<ModelVersion> scanOnce() {
    List<ModelVersion> registered = new ArrayList<>();
    if (closed || !Files.isDirectory(base)) {
      return registered;
    }
    for (Path modelDir : list(base)) {
      String model = modelDir.getFileName().toString();
      if (!Files.isDirectory(modelDir, LinkOption.NOFOLLOW_LINKS) || !validName(model)) {
        continue;
      }
      Map<Long, Path> versions = new TreeMap<>();
      for (Path v : list(modelDir)) {
        String n = v.getFileName().toString();
        if (n.matches("[1-9][0-9]{0,17}") && Files.isDirectory(v, LinkOption.NOFOLLOW_LINKS)) {
          versions.put(Long.parseLong(n), v);
        }
      }
      if (versions.isEmpty()) {
        continue;
      }
      Map<String, Boolean> imported = new HashMap<>();
      for (ModelVersion mv : registry.versions(model)) {
        String path = mv.tags().get(TAG_PATH);
        if (path != null) {
          imported.put(path, true);
        }
      }
      for (Map.Entry<Long, Path> e : versions.entrySet()) {
        String key = model + "/" + e.getKey();
        if (imported.containsKey(key)) {
          candidates.remove(key);
          continue;
        }
        try {
          importIfSettled(model, e.getKey(), e.getValue(), key).ifPresent(registered::add);
        } catch (RuntimeException ex) {
          LOG.warn("cannot import {} from the model repository: {}", key, ex.toString(), ex);
        }
      }
    }
    return registered;
  }

  private java.util.Optional<ModelVersion> importIfSettled(
      String model, long number, Path dir, String key) {
    String fingerprint = fingerprint(dir);
    if (fingerprint == null) {
      candidates.remove(key);
      return java.util.Optional.empty();
    }
    if (fingerprint.equals(failed.get(key))) {
      return java.util.Optional.empty();
    }
    Instant now = clock.instant();
    Candidate c = candidates.get(key);
    if (c == null || !c.fingerprint.equals(fingerprint)) {
      candidates.put(key, new Candidate(fingerprint, now));
      return java.util.Optional.empty();
    }
    if (Duration.between(c.firstSeen, now).compareTo(settle) < 0) {
      return java.util.Optional.empty();
    }
    Path snapshot = null;
    try {
      snapshot = Files.createTempDirectory("mlops-repository-import");
      copyTree(dir, snapshot);
      if (!fingerprint.equals(fingerprint(dir))) {
        // Changed while we copied: start settling again.
        candidates.put(key, new Candidate(fingerprint(dir), now));
        return java.util.Optional.empty();
      }
      ModelVersion v =
          registry.register(
              Registration.builder(model, ArtifactSource.directory(snapshot, modelFile))
                  .description("imported from " + dir)
                  .tag(TAG_PATH, key)
                  .tag(TAG_VERSION, Long.toString(number))
                  .build(),
              audit);
      candidates.remove(key);
      failed.remove(key);
      LOG.info("imported {} from the model repository as {}", key, v.ref());
      return java.util.Optional.of(v);
    } catch (ModelLoadException e) {
      failed.put(key, fingerprint);
      LOG.warn(
          "model repository version {} cannot be loaded and is skipped until its files change: {}",
          key,
          e.getMessage());
      return java.util.Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (snapshot != null) {
        try {
          Storage.deleteRecursively(snapshot);
        } catch (IOException e) {
          LOG.debug("cannot remove {}", snapshot, e);
        }
      }
    }
  }

  /** Paths, sizes and modification times of a complete-looking version directory, or null. */
  private String fingerprint(Path dir) {
    if (!Files.isRegularFile(dir.resolve(modelFile), LinkOption.NOFOLLOW_LINKS)) {
      return null;
    }
    StringBuilder sb = new StringBuilder();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk.sorted()::iterator) {
        if (p.equals(dir)) {
          continue;
        }
        String name = p.getFileName().toString();
        if (looksTemporary(name)) {
          return null;
        }
        BasicFileAttributes a =
            Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        sb.append(dir.relativize(p))
            .append('|')
            .append(a.size())
            .append('|')
            .append(a.lastModifiedTime().toMillis())
            .append('\n');
      }
    } catch (IOException e) {
      return null;
    }
    return sb.toString();
  }

  private static boolean looksTemporary(String name) {
    return name.startsWith(".")
        || name.endsWith(".tmp")
        || name.endsWith(".part")
        || name.endsWith(".partial")
        || name.endsWith(".crdownload");
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING, LinkOption.NOFOLLOW_LINKS);
        }
      }
    }
  }

  private static boolean validName(String name) {
    try {
      ModelRef.checkName(name);
      return true;
    } catch (MlopsException e) {
      return false;
    }
  }

  private static List<Path> list(Path dir) {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      ds.forEach(out::add);
    } catch (IOException e) {
      LOG.debug("cannot list {}", dir, e);
    }
    out.sort(null);
    return out;
  }

  /**
   * Scans every poll interval on the builder's scheduler.
   *
   * @throws IllegalStateException if no scheduler was given or it is already started
   */
  public synchronized ModelRepositoryWatcher start() {
    if (scheduler == null) {
      throw new IllegalStateException(
          "start() needs a scheduler: set one with Builder.scheduler(...)");
    }
    if (task != null) {
      throw new IllegalStateException("already started");
    }
    long ms = pollInterval.toMillis();
    task = scheduler.scheduleWithFixedDelay(this::scanQuietly, 0, ms, TimeUnit.MILLISECONDS);
    return this;
  }

  private void scanQuietly() {
    try {
      scanOnce();
    } catch (RuntimeException e) {
      LOG.warn("model repository scan of {} failed: {}", base, e.toString(), e);
    }
  }

  /** Stops scanning. Does not shut the scheduler down (the caller owns it). Idempotent. */
  @Override
  public synchronized void close() {
    closed = true;
    if (task != null) {
      task.cancel(false);
    }
  }

  /** Builder for {@link ModelRepositoryWatcher}. Not thread-safe. */
  public static final class Builder {
    private final Path base;
    private final ModelRegistry registry;
    private String modelFile = "model.onnx";
    private Duration settle = Duration.ofSeconds(2);
    private Duration pollInterval = Duration.ofSeconds(5);
    private Clock clock = Clock.systemUTC();
    private ScheduledExecutorService scheduler;
    private String actor = "model-repository";

    private Builder(Path base, ModelRegistry registry) {
      this.base = Objects.requireNonNull(base, "base");
      this.registry = Objects.requireNonNull(registry, "registry");
    }

    /** Name of the model file in each version directory (default {@code model.onnx}). */
    public Builder modelFile(String name) {
      this.modelFile = Objects.requireNonNull(name, "name");
      return this;
    }

    /** How long a version directory must stay unchanged before it is imported (default 2 s). */
    public Builder settleTime(Duration settle) {
      if (settle.isNegative()) {
        throw new IllegalArgumentException("settleTime must not be negative: " + settle);
      }
      this.settle = settle;
      return this;
    }

    /** Time between scans after {@link #start()} (default 5 s). */
    public Builder pollInterval(Duration interval) {
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("pollInterval must be positive: " + interval);
      }
      this.pollInterval = interval;
      return this;
    }

    /** Clock that measures the settle time (default system UTC). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Scheduler that runs scans after {@link #start()}; the caller owns it. */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /** Actor written to the audit log for imports (default {@code model-repository}). */
    public Builder actor(String actor) {
      this.actor = Objects.requireNonNull(actor, "actor");
      return this;
    }

    /** Builds the watcher (not started). */
    public ModelRepositoryWatcher build() {
      return new ModelRepositoryWatcher(this);
    }
  }
}
