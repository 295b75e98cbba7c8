package dev.mlops.runtime.local;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.ClosedException;
import dev.mlops.api.ConflictException;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.ModelNotFoundException;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelRegistry;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Registration;
import dev.mlops.api.RegistryException;
import dev.mlops.api.Tensor;
import dev.mlops.api.VersionStatus;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.event.LifecycleListener;
import dev.mlops.api.spi.InferenceEngine;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.runtime.InputValidator;
import dev.mlops.runtime.WarmUp;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded registry: models, versions, aliases and the audit log in a local directory.
 *
 * <pre>
 * root/
 *   .lock                      exclusive lock for writers (threads and processes)
 *   audit.log                  append-only, one JSON object per line
 *   staging/                   versions being written; never read
 *   models/NAME/state.json     aliases, archived and deleted versions (replaced atomically)
 *   models/NAME/N/version.json immutable metadata of version N
 *   models/NAME/N/files/...    the artifact files
 *   models/NAME/N/input-example.bin
 * </pre>
 *
 * <p>A version is written in full under {@code staging/}, fsynced, and renamed into place in one
 * atomic step, so a crash at any point leaves either no version or a complete one. Mutable state
 * is replaced with write-fsync-rename. Writers take a JVM lock and a file lock, so threads and
 * processes sharing one directory serialise their changes; version numbers are assigned under
 * that lock and are gap-free. Reads take no lock.
 *
 * <p>Thread-safe. Events are delivered to listeners of this instance after the change is
 * durable; changes made by another process are seen on the next read but raise no event here.
 */
public final class LocalModelRegistry implements ModelRegistry {

  private static final Logger LOG = LoggerFactory.getLogger(LocalModelRegistry.class);

  /**
   * Staging entries that registrations in this process are writing, across all instances: their
   * pid is ours, so only this set tells them from entries left by an earlier process that had
   * the same pid.
   */
  private static final java.util.Set<Path> STAGING_IN_USE = ConcurrentHashMap.newKeySet();

  private final Path root;
  private final Path modelsDir;
  private final Path stagingDir;
  private final Path auditLog;
  private final InferenceEngine engine;
  private final Clock clock;
  private final DirectoryLock lock;
  private final List<LifecycleListener> listeners = new CopyOnWriteArrayList<>();
  private final ConcurrentHashMap<String, ModelVersion> versionCache = new ConcurrentHashMap<>();
  private volatile boolean closed;

  private LocalModelRegistry(Builder b) {
    try {
      Files.createDirectories(b.root);
      this.root = b.root.toRealPath();
      this.modelsDir = Files.createDirectories(root.resolve("models"));
      this.stagingDir = Files.createDirectories(root.resolve("staging"));
      this.auditLog = root.resolve("audit.log");
      this.lock = DirectoryLock.acquire(root);
    } catch (IOException e) {
      throw new RegistryException("cannot open registry directory " + b.root + ": " + e.getMessage(), e);
    }
    this.engine = b.engine != null ? b.engine : loadEngine();
    this.clock = b.clock;
    withLock(
        () -> {
          removeAbandonedStaging();
          return null;
        });
  }

  /** Starts a builder for a registry in {@code root} (created if missing). */
  public static Builder builder(Path root) {
    return new Builder(root);
  }

  /** Opens a registry in {@code root} with the engine found by {@link ServiceLoader}. */
  public static LocalModelRegistry open(Path root) {
    return builder(root).build();
  }

  private static InferenceEngine loadEngine() {
    return ServiceLoader.load(InferenceEngine.class)
        .findFirst()
        .orElseThrow(
            () -> new IllegalStateException("no InferenceEngine on the class path; add mlops-runtime or set one"));
  }

  /** The registry's root directory. */
  public Path root() {
    return root;
  }

  // ---------------------------------------------------------------- registration

  @Override
  public ModelVersion register(Registration registration, AuditInfo audit) {
    checkOpen();
    Objects.requireNonNull(audit, "audit");
    Path stage = stagingDir.resolve(ProcessHandle.current().pid() + "-" + UUID.randomUUID());
    STAGING_IN_USE.add(stage);
    try {
      Files.createDirectories(stage.resolve("files"));
      Staged staged = stage(registration.source(), stage.resolve("files"));
      ModelSignature signature = readSignature(stage.resolve("files"), staged.modelFile);
      Optional<Map<String, Tensor>> example = registration.inputExample();
      if (example.isPresent()) {
        InputValidator.check(signature, example.get());
        Path file = stage.resolve("input-example.bin");
        try (DataOutputStream out =
            new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE_NEW)))) {
          TensorIo.write(out, example.get());
        }
        Storage.fsync(file);
      }
      List<ArtifactFile> attachments = new ArrayList<>();
      for (Map.Entry<String, byte[]> a : registration.attachments().entrySet()) {
        Path file = stage.resolve("attachments").resolve(a.getKey());
        String sha = Storage.copyAndDigest(new java.io.ByteArrayInputStream(a.getValue()), file);
        attachments.add(new ArtifactFile(a.getKey(), a.getValue().length, sha));
      }
      ModelVersion version =
          withLock(
              () -> {
                String model = registration.model();
                Path modelDir = modelsDir.resolve(model);
                io(() -> Files.createDirectories(modelDir));
                long number = nextVersion(model);
                ModelVersion v =
                    new ModelVersion(
                        model,
                        number,
                        VersionStatus.READY,
                        clock.instant(),
                        audit.actor(),
                        registration.description(),
                        staged.modelFile,
                        staged.files,
                        manifestDigest(staged.files),
                        signature,
                        registration.tags(),
                        registration.lineage(),
                        example.isPresent(),
                        attachments);
                io(
                    () -> {
                      Storage.writeAtomically(stage.resolve("version.json"), Metadata.versionToJson(v));
                      Files.move(stage, modelDir.resolve(Long.toString(number)), StandardCopyOption.ATOMIC_MOVE);
                      Storage.fsyncDirectory(modelDir);
                      return null;
                    });
                audit(AuditAction.REGISTER, model, Map.of("version", Long.toString(number), "digest", v.digest()), audit);
                return v;
              });
      LOG.info("registered {} ({} bytes, sha256 {})", version.ref(), version.sizeBytes(), version.digest());
      fire(new LifecycleEvent.VersionRegistered(version.createdAt(), version));
      return version;
    } catch (IOException e) {
      throw new RegistryException("cannot register a version of '" + registration.model() + "': " + e, e);
    } finally {
      try {
        Storage.deleteRecursively(stage);
      } catch (IOException e) {
        LOG.warn("cannot remove staging directory {}: {}", stage, e.toString());
      }
      STAGING_IN_USE.remove(stage);
    }
  }

  private static final class Staged {
    final String modelFile;
    final List<ArtifactFile> files;

    Staged(String modelFile, List<ArtifactFile> files) {
      this.modelFile = modelFile;
      this.files = files;
    }
  }

  private Staged stage(ArtifactSource source, Path filesDir) throws IOException {
    if (source instanceof ArtifactSource.FileSource) {
      Path file = ((ArtifactSource.FileSource) source).file();
      requireRegularFile(file);
      String name = file.getFileName().toString();
      try (InputStream in = Files.newInputStream(file)) {
        return single(in, name, filesDir);
      }
    }
    if (source instanceof ArtifactSource.StreamSource) {
      ArtifactSource.StreamSource s = (ArtifactSource.StreamSource) source;
      return single(s.in(), s.fileName(), filesDir);
    }
    ArtifactSource.DirectorySource d = (ArtifactSource.DirectorySource) source;
    Path dir = d.directory();
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new ModelLoadException("artifact directory " + dir + " does not exist or is not a plain directory");
    }
    List<ArtifactFile> files = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk.sorted()::iterator) {
        if (Files.isSymbolicLink(p)) {
          throw new ModelLoadException(
              "artifact directory " + dir + " contains the symbolic link " + dir.relativize(p) + "; expected plain files only");
        }
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        String rel = dir.relativize(p).toString().replace(java.io.File.separatorChar, '/');
        Path target = filesDir.resolve(rel);
        String sha;
        try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
          sha = Storage.copyAndDigest(in, target);
        }
        files.add(new ArtifactFile(rel, Files.size(target), sha));
      }
    }
    String modelFile = d.modelFile().replace(java.io.File.separatorChar, '/');
    ArtifactFile main =
        files.stream()
            .filter(f -> f.path().equals(modelFile))
            .findFirst()
            .orElseThrow(
                () -> new ModelLoadException("artifact directory " + dir + " has no model file '" + modelFile + "'"));
    if (main.size() == 0) {
      throw new ModelLoadException("model file " + dir.resolve(modelFile) + " is empty");
    }
    return new Staged(modelFile, List.copyOf(files));
  }

  private static Staged single(InputStream in, String name, Path filesDir) throws IOException {
    Path target = filesDir.resolve(name);
    String sha = Storage.copyAndDigest(in, target);
    long size = Files.size(target);
    if (size == 0) {
      throw new ModelLoadException("model file " + name + " is empty; expected an ONNX model");
    }
    return new Staged(name, List.of(new ArtifactFile(name, size, sha)));
  }

  private static void requireRegularFile(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new ModelLoadException("model file " + file + " does not exist or is not a regular file");
    }
  }

  private ModelSignature readSignature(Path filesDir, String modelFile) {
    try (ModelSession session = engine.open(new ArtifactLocation(filesDir, filesDir.resolve(modelFile)))) {
      return session.signature();
    }
  }

  private long nextVersion(String model) {
    long max = 0;
    for (long n : versionNumbers(model)) {
      max = Math.max(max, n);
    }
    for (long n : readState(model).deleted) {
      max = Math.max(max, n);
    }
    return max + 1;
  }

  static String manifestDigest(List<ArtifactFile> files) {
    var md = Storage.sha256();
    files.stream()
        .sorted(java.util.Comparator.comparing(ArtifactFile::path))
        .forEach(f -> md.update((f.path() + "\t" + f.sha256() + "\n").getBytes(StandardCharsets.UTF_8)));
    return Storage.hex(md.digest());
  }

  // ---------------------------------------------------------------- reads

  @Override
  public List<String> models() {
    checkOpen();
    List<String> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(modelsDir)) {
      for (Path p : ds) {
        if (Files.isDirectory(p)) {
          out.add(p.getFileName().toString());
        }
      }
    } catch (IOException e) {
      throw new RegistryException("cannot list models in " + modelsDir + ": " + e, e);
    }
    Collections.sort(out);
    return out;
  }

  @Override
  public List<ModelVersion> versions(String model) {
    checkOpen();
    ModelRef.checkName(model);
    State state = readState(model);
    List<ModelVersion> out = new ArrayList<>();
    for (long n : versionNumbers(model)) {
      if (state.deleted.contains(n)) {
        continue;
      }
      ModelVersion v = readVersion(model, n);
      out.add(state.archived.contains(n) ? v.withStatus(VersionStatus.ARCHIVED) : v);
    }
    return out;
  }

  private TreeSet<Long> versionNumbers(String model) {
    TreeSet<Long> out = new TreeSet<>();
    Path dir = modelsDir.resolve(model);
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        String name = p.getFileName().toString();
        if (name.matches("[1-9][0-9]{0,17}") && Files.isDirectory(p)) {
          out.add(Long.parseLong(name));
        }
      }
    } catch (IOException e) {
      throw new RegistryException("cannot list versions of '" + model + "': " + e, e);
    }
    return out;
  }

  private ModelVersion readVersion(String model, long n) {
    // Versions are immutable and numbers never reused, so the parsed metadata can be cached.
    return versionCache.computeIfAbsent(
        model + "/" + n,
        k -> {
          Path file = modelsDir.resolve(model).resolve(Long.toString(n)).resolve("version.json");
          try {
            return Metadata.versionFromJson(Files.readString(file));
          } catch (IOException | RuntimeException e) {
            throw new RegistryException("cannot read metadata of models:/" + model + "/" + n + " from " + file + ": " + e, e);
          }
        });
  }

  @Override
  public Optional<ModelVersion> find(ModelRef ref) {
    List<ModelVersion> versions = versions(ref.name());
    if (ref.version().isPresent()) {
      long n = ref.version().getAsLong();
      return versions.stream().filter(v -> v.version() == n).findFirst();
    }
    if (ref.alias().isPresent()) {
      Long n = readState(ref.name()).aliases.get(ref.alias().get());
      return n == null ? Optional.empty() : versions.stream().filter(v -> v.version() == n).findFirst();
    }
    ModelVersion latest = null;
    for (ModelVersion v : versions) {
      if (v.status() == VersionStatus.READY) {
        latest = v;
      }
    }
    return Optional.ofNullable(latest);
  }

  @Override
  public String describeMissing(ModelRef ref) {
    List<ModelVersion> versions = versions(ref.name());
    if (versions.isEmpty()) {
      return "no model '" + ref.name() + "' in the registry at " + root + "; models: " + models();
    }
    List<Long> numbers = versions.stream().map(ModelVersion::version).toList();
    if (ref.version().isPresent()) {
      return "model '" + ref.name() + "' has no version " + ref.version().getAsLong() + "; versions: " + numbers;
    }
    if (ref.alias().isPresent()) {
      return "model '" + ref.name() + "' has no alias '" + ref.alias().get() + "'; aliases: " + aliases(ref.name());
    }
    return "model '" + ref.name() + "' has no ready version (all of " + numbers + " are archived)";
  }

  @Override
  public Map<String, Long> aliases(String model) {
    checkOpen();
    ModelRef.checkName(model);
    return Collections.unmodifiableMap(new TreeMap<>(readState(model).aliases));
  }

  @Override
  public ArtifactLocation verifiedArtifact(ModelVersion version) {
    checkOpen();
    Path dir = modelsDir.resolve(version.name()).resolve(Long.toString(version.version())).resolve("files");
    for (ArtifactFile f : version.files()) {
      Path p = dir.resolve(f.path()).normalize();
      if (!p.startsWith(dir) || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
        throw new IntegrityException(
            "file " + f.path() + " of " + version.ref() + " is missing or not a regular file at " + p);
      }
      String actual;
      try {
        actual = Storage.sha256(p);
      } catch (IOException e) {
        throw new IntegrityException("cannot read file " + f.path() + " of " + version.ref() + ": " + e, e);
      }
      if (!actual.equals(f.sha256())) {
        throw new IntegrityException(
            "file "
                + f.path()
                + " of "
                + version.ref()
                + " has changed since registration: expected sha256 "
                + f.sha256()
                + " but found "
                + actual);
      }
    }
    return new ArtifactLocation(dir, dir.resolve(version.modelFile()));
  }

  @Override
  public Optional<Map<String, Tensor>> inputExample(ModelVersion version) {
    checkOpen();
    if (!version.hasInputExample()) {
      return Optional.empty();
    }
    Path file =
        modelsDir.resolve(version.name()).resolve(Long.toString(version.version())).resolve("input-example.bin");
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
      return Optional.of(TensorIo.read(in));
    } catch (IOException e) {
      throw new RegistryException("cannot read the input example of " + version.ref() + ": " + e, e);
    }
  }

  @Override
  public Optional<byte[]> attachment(ModelVersion version, String name) {
    checkOpen();
    Optional<ArtifactFile> entry = version.attachments().stream().filter(a -> a.path().equals(name)).findFirst();
    if (entry.isEmpty()) {
      return Optional.empty();
    }
    Path file = modelsDir.resolve(version.name()).resolve(Long.toString(version.version()))
        .resolve("attachments").resolve(name);
    try {
      byte[] bytes = Files.readAllBytes(file);
      String actual = Storage.hex(Storage.sha256().digest(bytes));
      if (!actual.equals(entry.get().sha256())) {
        throw new IntegrityException("attachment " + name + " of " + version.ref()
            + " has changed since registration: expected sha256 " + entry.get().sha256() + " but found " + actual);
      }
      return Optional.of(bytes);
    } catch (IOException e) {
      throw new IntegrityException("cannot read attachment " + name + " of " + version.ref() + ": " + e, e);
    }
  }

  @Override
  public List<AuditEntry> auditLog() {
    checkOpen();
    List<String> lines;
    try {
      lines = Files.readAllLines(auditLog, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new RegistryException("cannot read the audit log " + auditLog + ": " + e, e);
    }
    List<AuditEntry> out = new ArrayList<>(lines.size());
    for (int i = 0; i < lines.size(); i++) {
      try {
        out.add(Metadata.auditFromJson(lines.get(i)));
      } catch (RuntimeException e) {
        // Only the last line can be torn (a crash during an append); anything else is damage.
        if (i != lines.size() - 1) {
          throw new RegistryException("audit log " + auditLog + " line " + (i + 1) + " is damaged: " + e.getMessage(), e);
        }
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- alias and version changes

  @Override
  public OptionalLong setAlias(String model, String alias, long version, AuditInfo audit) {
    checkOpen();
    ModelRef.checkAlias(alias);
    checkLoads(requireExisting(model, version));
    return moveAlias(model, alias, version, audit, false);
  }

  @Override
  public OptionalLong forceAlias(String model, String alias, long version, AuditInfo audit) {
    checkOpen();
    ModelRef.checkAlias(alias);
    return moveAlias(model, alias, version, audit, true);
  }

  /** Opens the version once, as a predictor would, so that an alias never points at a dud. */
  private void checkLoads(ModelVersion v) {
    try (ModelSession session = engine.open(verifiedArtifact(v))) {
      WarmUp.run(session, inputExample(v), v.ref().toString());
    } catch (ModelLoadException e) {
      throw new ModelLoadException("refusing to point an alias at " + v.ref() + ", which cannot be loaded: "
          + e.getMessage() + " (use forceAlias to move it anyway)", e);
    }
  }

  private OptionalLong moveAlias(String model, String alias, long version, AuditInfo audit, boolean forced) {
    Long before =
        withLock(
            () -> {
              requireReady(model, version);
              State s = readState(model);
              Long prev = s.aliases.put(alias, version);
              writeState(model, s);
              Map<String, String> details = aliasDetails(alias, prev, version);
              if (forced) {
                details.put("forced", "true");
              }
              audit(AuditAction.SET_ALIAS, model, details, audit);
              return prev;
            });
    fire(new LifecycleEvent.AliasMoved(
        clock.instant(), model, alias, before == null ? 0 : before, version, audit.actor(), audit.reason()));
    return before == null ? OptionalLong.empty() : OptionalLong.of(before);
  }

  @Override
  public void compareAndSetAlias(String model, String alias, long expectedVersion, long newVersion, AuditInfo audit) {
    checkOpen();
    ModelRef.checkAlias(alias);
    checkLoads(requireExisting(model, newVersion));
    withLock(
        () -> {
          State s = readState(model);
          long actual = s.aliases.getOrDefault(alias, 0L);
          if (actual != expectedVersion) {
            throw new ConflictException(
                "alias '"
                    + alias
                    + "' of model '"
                    + model
                    + "' points at "
                    + (actual == 0 ? "nothing" : "version " + actual)
                    + " but the change expected "
                    + (expectedVersion == 0 ? "no alias" : "version " + expectedVersion)
                    + "; re-read the alias and retry");
          }
          requireReady(model, newVersion);
          s.aliases.put(alias, newVersion);
          writeState(model, s);
          audit(AuditAction.SET_ALIAS, model, aliasDetails(alias, actual == 0 ? null : actual, newVersion), audit);
          return null;
        });
    fire(new LifecycleEvent.AliasMoved(
        clock.instant(), model, alias, expectedVersion, newVersion, audit.actor(), audit.reason()));
  }

  @Override
  public OptionalLong deleteAlias(String model, String alias, AuditInfo audit) {
    checkOpen();
    ModelRef.checkAlias(alias);
    Long before =
        withLock(
            () -> {
              State s = readState(model);
              Long prev = s.aliases.remove(alias);
              if (prev != null) {
                writeState(model, s);
                audit(AuditAction.DELETE_ALIAS, model, Map.of("alias", alias, "from", prev.toString()), audit);
              }
              return prev;
            });
    if (before == null) {
      return OptionalLong.empty();
    }
    fire(new LifecycleEvent.AliasDeleted(clock.instant(), model, alias, before, audit.actor()));
    return OptionalLong.of(before);
  }

  @Override
  public ModelVersion archive(String model, long version, AuditInfo audit) {
    checkOpen();
    ModelVersion archived =
        withLock(
            () -> {
              ModelVersion v = requireExisting(model, version);
              State s = readState(model);
              refuseIfAliased(s, model, version, "archive");
              if (s.archived.add(version)) {
                writeState(model, s);
                audit(AuditAction.ARCHIVE, model, Map.of("version", Long.toString(version)), audit);
              }
              return v.withStatus(VersionStatus.ARCHIVED);
            });
    fire(new LifecycleEvent.VersionArchived(clock.instant(), model, version, audit.actor()));
    return archived;
  }

  @Override
  public void delete(String model, long version, AuditInfo audit) {
    checkOpen();
    withLock(
        () -> {
          requireExisting(model, version);
          State s = readState(model);
          refuseIfAliased(s, model, version, "delete");
          // Record the deletion first: a crash before the files are gone leaves an invisible
          // directory that is removed at the next open, never a half-deleted visible version.
          s.deleted.add(version);
          s.archived.remove(version);
          writeState(model, s);
          io(() -> {
            Path dir = modelsDir.resolve(model).resolve(Long.toString(version));
            Path trash = stagingDir.resolve(ProcessHandle.current().pid() + "-deleted-" + UUID.randomUUID());
            Files.move(dir, trash, StandardCopyOption.ATOMIC_MOVE);
            Storage.deleteRecursively(trash);
            return null;
          });
          audit(AuditAction.DELETE_VERSION, model, Map.of("version", Long.toString(version)), audit);
          return null;
        });
    fire(new LifecycleEvent.VersionDeleted(clock.instant(), model, version, audit.actor()));
  }

  private static Map<String, String> aliasDetails(String alias, Long from, long to) {
    Map<String, String> d = new TreeMap<>();
    d.put("alias", alias);
    d.put("from", from == null ? "" : from.toString());
    d.put("to", Long.toString(to));
    return d;
  }

  private ModelVersion requireExisting(String model, long version) {
    return versions(model).stream()
        .filter(v -> v.version() == version)
        .findFirst()
        .orElseThrow(() -> new ModelNotFoundException(describeMissing(ModelRef.version(model, version))));
  }

  private void requireReady(String model, long version) {
    ModelVersion v = requireExisting(model, version);
    if (v.status() != VersionStatus.READY) {
      throw new ConflictException(v.ref() + " is " + v.status() + "; only a READY version can take an alias");
    }
  }

  private static void refuseIfAliased(State s, String model, long version, String what) {
    List<String> pointing = new ArrayList<>();
    s.aliases.forEach((a, v) -> {
      if (v == version) {
        pointing.add(a);
      }
    });
    if (!pointing.isEmpty()) {
      throw new ConflictException(
          "cannot " + what + " models:/" + model + "/" + version + ": aliases " + pointing
              + " point at it; move or delete them first");
    }
  }

  // ---------------------------------------------------------------- state, audit, locking

  /** Mutable per-model state, stored in {@code state.json}. */
  private static final class State {
    final TreeMap<String, Long> aliases = new TreeMap<>();
    final TreeSet<Long> archived = new TreeSet<>();
    final TreeSet<Long> deleted = new TreeSet<>();
  }

  @SuppressWarnings("unchecked")
  private State readState(String model) {
    Path file = modelsDir.resolve(model).resolve("state.json");
    State s = new State();
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      return s;
    } catch (IOException e) {
      throw new RegistryException("cannot read " + file + ": " + e, e);
    }
    try {
      Map<String, Object> m = Json.parseObject(text);
      ((Map<String, Object>) m.get("aliases")).forEach((k, v) -> s.aliases.put(k, (Long) v));
      for (Object o : (List<Object>) m.get("archived")) {
        s.archived.add((Long) o);
      }
      for (Object o : (List<Object>) m.get("deleted")) {
        s.deleted.add((Long) o);
      }
    } catch (RuntimeException e) {
      throw new RegistryException("registry state file " + file + " is damaged: " + e.getMessage(), e);
    }
    return s;
  }

  private void writeState(String model, State s) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("aliases", new TreeMap<String, Object>(s.aliases));
    m.put("archived", new ArrayList<Object>(s.archived));
    m.put("deleted", new ArrayList<Object>(s.deleted));
    io(() -> {
      Storage.writeAtomically(modelsDir.resolve(model).resolve("state.json"), Json.write(m));
      return null;
    });
  }

  private void audit(AuditAction action, String model, Map<String, String> details, AuditInfo audit) {
    AuditEntry e = new AuditEntry(clock.instant(), audit.actor(), action, model, details, audit.reason());
    io(() -> {
      Storage.appendLine(auditLog, Metadata.auditToJson(e));
      return null;
    });
  }

  private <T> T withLock(Supplier<T> action) {
    try {
      return lock.call(action::get);
    } catch (IOException e) {
      throw new RegistryException("cannot lock the registry at " + root + ": " + e, e);
    }
  }

  /** Removes staging entries left by processes that died; entries are named {@code <pid>-...}. */
  private void removeAbandonedStaging() {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(stagingDir)) {
      for (Path p : ds) {
        String name = p.getFileName().toString();
        int dash = name.indexOf('-');
        long pid = dash > 0 && name.substring(0, dash).matches("[0-9]+") ? Long.parseLong(name.substring(0, dash)) : -1;
        boolean alive = pid > 0 && pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).isPresent();
        if (!alive && !STAGING_IN_USE.contains(p)) {
          LOG.info("removing abandoned staging entry {}", p);
          Storage.deleteRecursively(p);
        }
      }
    } catch (IOException e) {
      LOG.warn("cannot clean the staging directory {}: {}", stagingDir, e.toString());
    }
  }

  private interface IoAction<T> {
    T run() throws IOException;
  }

  private static <T> T io(IoAction<T> action) {
    try {
      return action.run();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void fire(LifecycleEvent event) {
    for (LifecycleListener l : listeners) {
      try {
        l.onEvent(event);
      } catch (RuntimeException e) {
        LOG.warn("lifecycle listener {} failed on {}: {}", l, event, e.toString(), e);
      }
    }
  }

  @Override
  public AutoCloseable addListener(LifecycleListener listener) {
    Objects.requireNonNull(listener, "listener");
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  private void checkOpen() {
    if (closed) {
      throw new ClosedException("the registry at " + root + " is closed");
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      lock.release();
    } catch (IOException e) {
      LOG.debug("closing the lock file failed", e);
    }
  }

  @Override
  public String toString() {
    return "LocalModelRegistry[" + root + "]";
  }

  /** Builder for {@link LocalModelRegistry}. Not thread-safe. */
  public static final class Builder {
    private final Path root;
    private InferenceEngine engine;
    private Clock clock = Clock.systemUTC();

    private Builder(Path root) {
      this.root = Objects.requireNonNull(root, "root");
    }

    /** The engine that reads model signatures at registration (default: found by ServiceLoader). */
    public Builder engine(InferenceEngine engine) {
      this.engine = Objects.requireNonNull(engine, "engine");
      return this;
    }

    /** The clock for timestamps (default: system UTC). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Opens the registry.
     *
     * @throws RegistryException if the directory cannot be created or locked
     */
    public LocalModelRegistry build() {
      return new LocalModelRegistry(this);
    }
  }
}
