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
import dev.mlops.api.ManifestSignature;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.ModelNotFoundException;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelRegistry;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Registration;
import dev.mlops.api.RegistryException;
import dev.mlops.api.SignatureException;
import dev.mlops.api.Tensor;
import dev.mlops.api.VersionStatus;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.event.LifecycleListener;
import dev.mlops.api.spi.InferenceEngine;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.runtime.loading.InputValidator;
import dev.mlops.runtime.loading.TensorIo;
import dev.mlops.runtime.loading.WarmUp;
import dev.mlops.runtime.validation.ChildJvmValidator;
import dev.mlops.runtime.security.ExternalDataGuard;
import dev.mlops.runtime.security.Manifest;
import dev.mlops.runtime.security.SignaturePolicy;
import dev.mlops.runtime.security.TrustedKeys;
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
import java.time.Duration;
import java.time.Instant;
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
 *   models/NAME/N/signature.json  the manifest signature, if the version was registered with one
 * </pre>
 *
 * <p>A version is written in full under {@code staging/}, fsynced, and renamed into place in one
 * atomic step, so a crash at any point leaves either no version or a complete one. Mutable state
 * is replaced with write-fsync-rename. Writers take a JVM lock and a file lock, so threads and
 * processes sharing one directory serialise their changes; version numbers are assigned under
 * that lock and are gap-free. Reads take no lock.
 *
 * <p>Loading is guarded (see {@link #verifiedArtifact}): the file list must match its digest,
 * the signature must verify under the {@linkplain Builder#signaturePolicy signature policy}, the
 * directory must hold exactly the recorded files (no extra file, no link), every digest must
 * match, and the model's external data must stay among those files ({@link ExternalDataGuard}).
 * Registration applies the same checks before the engine parses a byte, plus the {@linkplain
 * Builder#maxArtifactBytes size limit} and, optionally, {@linkplain Builder#validateInChildJvm a
 * trial load in a child JVM}. A refused registration changes nothing. Failures of registered
 * versions are recorded in the audit log as {@code VERIFICATION_FAILED}, {@code
 * SIGNATURE_FAILED} or {@code LOAD_FAILED} by the actor {@code mlops}.
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

  /** The manifest signature stored beside {@code version.json}, when a version has one. */
  static final String SIGNATURE_FILE = "signature.json";

  /** Who the registry names in audit entries it writes itself (load and verification failures). */
  static final AuditInfo SYSTEM = AuditInfo.by("mlops", "");

  /** A failure identical to one recorded less than this long ago is not recorded again. */
  private static final Duration FAILURE_REPEAT_WINDOW = Duration.ofMinutes(1);

  private final Path root;
  private final Path modelsDir;
  private final Path stagingDir;
  private final Path auditLog;
  private final InferenceEngine engine;
  private final Clock clock;
  private final SignaturePolicy signaturePolicy;
  private final TrustedKeys trustedKeys;
  private final long maxArtifactBytes;
  private final ChildJvmValidator validator;
  /** Failures already in the audit log, so that a caller's report of the same one is not added twice. */
  private final java.util.Set<Throwable> recordedFailures =
      Collections.synchronizedSet(Collections.newSetFromMap(new java.util.WeakHashMap<>()));
  /** When each distinct failure was last recorded, to keep a load retried in a loop from flooding the log. */
  private final ConcurrentHashMap<String, Instant> recentFailures = new ConcurrentHashMap<>();
  private final DirectoryLock lock;
  private final List<LifecycleListener> listeners = new CopyOnWriteArrayList<>();
  private final ConcurrentHashMap<String, ModelVersion> versionCache = new ConcurrentHashMap<>();
  /** Runtimes serving from this registry; the first one's session cache proves alias targets load. */
  private final List<Serving> serving = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  /**
   * What a runtime that serves from this registry contributes to its checks. {@code Mlops}
   * attaches itself when it is built on this registry; applications need not implement it.
   */
  public interface Serving {
    /**
     * Loads the version as the runtime's predictors would (verified, opened with the runtime's
     * session options and warmed up under its policy), into its session cache.
     *
     * @throws ModelLoadException if it cannot load
     */
    void checkLoads(ModelVersion version);

    /** Descriptions of the open predictors pinned to this version (a {@code models:/<name>/<version>} reference). */
    List<String> pinnedPredictors(ModelVersion version);
  }

  /**
   * Lets a runtime take part in this registry's checks: an alias check loads the version into the
   * runtime's session cache (so the session is loaded once, and a version already loaded costs no
   * load), and a deletion is refused while one of its predictors is pinned to the version.
   *
   * @return a handle whose {@code close()} detaches the runtime
   */
  public AutoCloseable attach(Serving runtime) {
    Objects.requireNonNull(runtime, "runtime");
    serving.add(runtime);
    return () -> serving.remove(runtime);
  }

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
    this.signaturePolicy = b.signaturePolicy;
    this.trustedKeys = b.trustedKeys;
    this.maxArtifactBytes = b.maxArtifactBytes;
    this.validator = b.validator;
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
    Objects.requireNonNull(registration, "registration");
    Objects.requireNonNull(audit, "audit");
    checkOpen();
    refuseCaseCollision(registration.model());
    Path stage = stagingDir.resolve(ProcessHandle.current().pid() + "-" + UUID.randomUUID());
    STAGING_IN_USE.add(stage);
    try {
      Files.createDirectories(stage.resolve("files"));
      Staged staged = stage(registration.source(), stage.resolve("files"),
          new ArtifactChecks.SizeLimit(maxArtifactBytes, registration.model()));
      // Signature, then external data, then a child JVM: all before this process parses the model.
      Map<String, String> registerDetails = checkSignature(registration, staged.files);
      ArtifactLocation stagedLocation =
          new ArtifactLocation(stage.resolve("files"), stage.resolve("files").resolve(staged.modelFile));
      Optional<Map<String, Tensor>> example = registration.inputExample();
      Path exampleFile = stage.resolve("input-example.bin");
      if (example.isPresent()) {
        try (DataOutputStream out = new DataOutputStream(
            new BufferedOutputStream(Files.newOutputStream(exampleFile, StandardOpenOption.CREATE_NEW)))) {
          TensorIo.write(out, example.get());
        }
        Storage.fsync(exampleFile);
      }
      ModelSignature signature;
      try {
        ExternalDataGuard.check(stagedLocation, paths(staged.files));
        if (validator != null) {
          validator.validate(stagedLocation, example.isPresent() ? Optional.of(exampleFile) : Optional.empty());
        }
        signature = readSignature(stagedLocation, example);
      } catch (ModelLoadException e) {
        throw e.getClass() == ModelLoadException.class
            ? new ModelLoadException("cannot register " + describe(registration.source()) + " as a new version of"
                + " models:/" + registration.model() + ": " + e.getMessage(), e)
            : e;
      }
      if (registration.manifestSignature().isPresent()) {
        Storage.writeAtomically(
            stage.resolve(SIGNATURE_FILE), Metadata.signatureToJson(registration.manifestSignature().get()));
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
                refuseCaseCollision(model);
                Path modelDir = modelsDir.resolve(model);
                io(() -> Files.createDirectories(modelDir));
                long number = nextVersion(model);
                ModelVersion v = ModelVersion.builder(model, number)
                    .createdAt(clock.instant())
                    .createdBy(audit.actor())
                    .description(registration.description())
                    .modelFile(staged.modelFile)
                    .files(staged.files)
                    .digest(manifestDigest(staged.files))
                    .signature(signature)
                    .tags(registration.tags())
                    .lineage(registration.lineage())
                    .hasInputExample(example.isPresent())
                    .attachments(attachments)
                    .build();
                io(
                    () -> {
                      Storage.writeAtomically(stage.resolve("version.json"), Metadata.versionToJson(v));
                      Files.move(stage, modelDir.resolve(Long.toString(number)), StandardCopyOption.ATOMIC_MOVE);
                      Storage.fsyncDirectory(modelDir);
                      return null;
                    });
                registerDetails.put("version", Long.toString(number));
                registerDetails.put("digest", v.digest());
                audit(AuditAction.REGISTER, model, registerDetails, audit);
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

  private Staged stage(ArtifactSource source, Path filesDir, ArtifactChecks.SizeLimit limit) throws IOException {
    if (source instanceof ArtifactSource.FileSource) {
      Path file = ((ArtifactSource.FileSource) source).file();
      requireRegularFile(file);
      limit.checkKnown(Files.size(file));
      String name = file.getFileName().toString();
      try (InputStream in = Files.newInputStream(file)) {
        return single(limit.wrap(in), name, filesDir);
      }
    }
    if (source instanceof ArtifactSource.StreamSource) {
      ArtifactSource.StreamSource s = (ArtifactSource.StreamSource) source;
      return single(limit.wrap(s.in()), s.fileName(), filesDir);
    }
    ArtifactSource.DirectorySource d = (ArtifactSource.DirectorySource) source;
    Path dir = d.directory();
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new ModelLoadException("artifact directory " + dir + " does not exist or is not a plain directory");
    }
    limit.checkKnown(ArtifactChecks.regularFilesSize(dir));
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
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          throw new ModelLoadException(
              "artifact directory " + dir + " contains " + dir.relativize(p) + ", which is not a regular file");
        }
        String rel = dir.relativize(p).toString().replace(java.io.File.separatorChar, '/');
        Path target = filesDir.resolve(rel);
        String sha;
        try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
          sha = Storage.copyAndDigest(limit.wrap(in), target);
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

  /**
   * Opens a new artifact to read its signature and, when the registration has an input example,
   * runs it: a version whose own example fails would never load, so it is refused here.
   */
  private ModelSignature readSignature(ArtifactLocation location, Optional<Map<String, Tensor>> example) {
    try (ModelSession session = engine.open(location)) {
      if (example.isPresent()) {
        InputValidator.check(session.signature(), example.get());
        WarmUp.runExample(session, example.get(), "the new version");
      }
      return session.signature();
    }
  }

  private static String describe(ArtifactSource source) {
    if (source instanceof ArtifactSource.FileSource) {
      return ((ArtifactSource.FileSource) source).file().toString();
    }
    if (source instanceof ArtifactSource.DirectorySource) {
      ArtifactSource.DirectorySource d = (ArtifactSource.DirectorySource) source;
      return d.directory().resolve(d.modelFile()).toString();
    }
    return "the stream " + ((ArtifactSource.StreamSource) source).fileName();
  }

  /**
   * Refuses a model name that differs from an existing one only in case: on a case-insensitive
   * file system the two would share one directory.
   */
  private void refuseCaseCollision(String model) {
    ModelRef.checkName(model);
    for (String existing : models()) {
      if (!existing.equals(model) && existing.equalsIgnoreCase(model)) {
        throw new ConflictException("model name '" + model + "' differs from the existing model '" + existing
            + "' only in case; such names collide on case-insensitive file systems; register it as '" + existing
            + "' or choose another name");
      }
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
    try {
      return verify(version);
    } catch (SignatureException e) {
      recordFailure(version, AuditAction.SIGNATURE_FAILED, e);
      throw e;
    } catch (ModelLoadException e) {
      recordFailure(version, AuditAction.VERIFICATION_FAILED, e);
      throw e;
    }
  }

  /**
   * The checks before a version is loaded, cheapest first: the manifest against its digest, the
   * signature (per policy), exactly the recorded files and nothing else, every digest, and the
   * model's external data.
   */
  private ArtifactLocation verify(ModelVersion version) {
    Path versionDir = modelsDir.resolve(version.name()).resolve(Long.toString(version.version()));
    Path dir = versionDir.resolve("files");
    String manifestSha = manifestDigest(version.files());
    if (!manifestSha.equals(version.digest())) {
      throw new IntegrityException("the file list of " + version.ref() + " no longer matches its recorded digest: "
          + "expected sha256 " + version.digest() + " but found " + manifestSha + "; its metadata was changed");
    }
    checkSignature(version, versionDir);
    ArtifactChecks.checkExactFiles(dir, version);
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
    ArtifactLocation location = new ArtifactLocation(dir, dir.resolve(version.modelFile()));
    ExternalDataGuard.check(location, paths(version.files()));
    return location;
  }

  private static List<String> paths(List<ArtifactFile> files) {
    return files.stream().map(ArtifactFile::path).toList();
  }

  /**
   * Checks a new version's signature per policy before anything parses the model; returns the
   * details its REGISTER audit entry records about it.
   */
  private Map<String, String> checkSignature(Registration registration, List<ArtifactFile> files) {
    Map<String, String> details = new TreeMap<>();
    Optional<ManifestSignature> sig = registration.manifestSignature();
    sig.ifPresent(x -> details.put("signatureKeyId", x.keyId()));
    if (signaturePolicy == SignaturePolicy.OFF) {
      sig.ifPresent(x -> details.put("signature", "unchecked"));
      return details;
    }
    String what = "the new version of '" + registration.model() + "'";
    try {
      if (sig.isEmpty()) {
        throw new SignatureException(what + " has no manifest signature but the registry's signature policy is "
            + signaturePolicy + "; sign it with ManifestSigner (or openssl, see SECURITY.md) and pass "
            + "Registration.Builder.manifestSignature(...)");
      }
      trustedKeys.verify(Manifest.of(files), sig.get(), what);
      details.put("signature", "verified");
    } catch (SignatureException e) {
      if (signaturePolicy == SignaturePolicy.ENFORCE) {
        throw e;
      }
      LOG.warn("{} (signature policy WARN: registering it anyway)", e.getMessage());
      details.put("signature", sig.isPresent() ? "invalid" : "missing");
      details.put("signatureError", abbreviate(e.getMessage()));
    }
    return details;
  }

  /** Checks a stored version's signature per policy. */
  private void checkSignature(ModelVersion v, Path versionDir) {
    if (signaturePolicy == SignaturePolicy.OFF) {
      return;
    }
    try {
      Optional<ManifestSignature> sig = readManifestSignature(v, versionDir);
      if (sig.isEmpty()) {
        throw new SignatureException(v.ref() + " has no manifest signature but the registry's signature policy is "
            + signaturePolicy);
      }
      trustedKeys.verify(Manifest.of(v), sig.get(), v.ref().toString());
    } catch (SignatureException e) {
      if (signaturePolicy == SignaturePolicy.ENFORCE) {
        throw e;
      }
      LOG.warn("{} (signature policy WARN: loading it anyway)", e.getMessage());
    }
  }

  private Optional<ManifestSignature> readManifestSignature(ModelVersion v, Path versionDir) {
    Path file = versionDir.resolve(SIGNATURE_FILE);
    String json;
    try {
      json = Files.readString(file);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new SignatureException("cannot read the manifest signature of " + v.ref() + " from " + file + ": " + e, e);
    }
    try {
      return Optional.of(Metadata.signatureFromJson(json));
    } catch (RuntimeException e) {
      throw new SignatureException("the manifest signature file of " + v.ref() + " (" + file + ") is damaged: "
          + e.getMessage(), e);
    }
  }

  @Override
  public Optional<ManifestSignature> manifestSignature(ModelVersion version) {
    checkOpen();
    return readManifestSignature(
        version, modelsDir.resolve(version.name()).resolve(Long.toString(version.version())));
  }

  /**
   * Records a load failure reported by a runtime (LOAD_FAILED). A failure that {@link
   * #verifiedArtifact} already recorded (the same exception, or one caused by it) is not recorded
   * again, nor is a failure identical to one recorded less than a minute before.
   */
  @Override
  public void recordLoadFailure(ModelVersion version, Throwable cause) {
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(cause, "cause");
    for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (recordedFailures.contains(t)) {
        return;
      }
    }
    recordFailure(version, AuditAction.LOAD_FAILED, cause);
  }

  @Override
  public void recordSwapRefused(ModelVersion refused, long servingVersion, ModelRef target, List<String> differences) {
    Objects.requireNonNull(refused, "refused");
    Objects.requireNonNull(target, "target");
    Map<String, String> details = new TreeMap<>();
    details.put("serving", Long.toString(servingVersion));
    details.put("target", target.toString());
    recordFailure(refused, AuditAction.SWAP_REFUSED, abbreviate(String.join("; ", differences)), details);
  }

  private void recordFailure(ModelVersion v, AuditAction action, Throwable e) {
    recordedFailures.add(e);
    recordFailure(v, action, abbreviate(e.getClass().getSimpleName() + ": " + e.getMessage()), new TreeMap<>());
  }

  private void recordFailure(ModelVersion v, AuditAction action, String error, Map<String, String> details) {
    String key = v.name() + "/" + v.version() + "/" + action + "/" + details + "/" + error;
    Instant now = clock.instant();
    Instant last = recentFailures.get(key);
    if (last != null && !now.isBefore(last) && Duration.between(last, now).compareTo(FAILURE_REPEAT_WINDOW) < 0) {
      return;
    }
    if (recentFailures.size() > 10_000) {
      recentFailures.clear();
    }
    recentFailures.put(key, now);
    details.put("version", Long.toString(v.version()));
    details.put("error", error);
    if (action == AuditAction.SIGNATURE_FAILED) {
      try {
        readManifestSignature(v, modelsDir.resolve(v.name()).resolve(Long.toString(v.version())))
            .ifPresent(sig -> details.put("keyId", sig.keyId()));
      } catch (RuntimeException ignored) {
        // the error already says the signature file is unreadable
      }
    }
    try {
      withLock(() -> {
        audit(action, v.name(), details, SYSTEM);
        return null;
      });
    } catch (RuntimeException ex) {
      // Bookkeeping must not hide the failure the caller is about to see.
      LOG.warn("cannot record {} of {} in the audit log: {}", action, v.ref(), ex.toString());
    }
  }

  private static String abbreviate(String s) {
    String one = String.valueOf(s).replace('\n', ' ');
    return one.length() <= 1000 ? one : one.substring(0, 997) + "...";
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
    checkAliasArguments(model, alias, audit);
    ModelVersion v = requireExisting(model, version);
    // Compatibility first: it reads metadata only, so an incompatible move costs no load.
    Long current = readState(model).aliases.get(alias);
    refuseIfIncompatible(model, alias, current, v);
    checkLoads(v);
    return moveAlias(model, alias, version, audit, false);
  }

  @Override
  public OptionalLong forceAlias(String model, String alias, long version, AuditInfo audit) {
    checkAliasArguments(model, alias, audit);
    return moveAlias(model, alias, version, audit, true);
  }

  private void checkAliasArguments(String model, String alias, AuditInfo audit) {
    Objects.requireNonNull(audit, "audit");
    checkOpen();
    ModelRef.checkName(model);
    ModelRef.checkAlias(alias);
  }

  /**
   * Proves that a version loads before an alias points at it: through the session cache of a
   * runtime serving from this registry when there is one (the session it loads is the one its
   * predictors serve, and a loaded version costs nothing), else by opening it here and running its
   * input example if it has one. A synthetic warm-up is not required to pass.
   */
  private void checkLoads(ModelVersion v) {
    try {
      java.util.Iterator<Serving> runtimes = serving.iterator();
      if (runtimes.hasNext()) {
        runtimes.next().checkLoads(v);
        return;
      }
      try (ModelSession session = engine.open(verifiedArtifact(v))) {
        Optional<Map<String, Tensor>> example = inputExample(v);
        if (example.isPresent()) {
          WarmUp.runExample(session, example.get(), v.ref().toString());
        }
      }
    } catch (ModelLoadException e) {
      recordLoadFailure(v, e);
      throw new ModelLoadException("refusing to point an alias at " + v.ref() + ", which cannot be loaded: "
          + e.getMessage() + " (use forceAlias to move it anyway)", e);
    }
  }

  /** The differences between the alias's current target and {@code to}; empty when compatible or the alias is new. */
  private List<String> incompatibilities(String model, Long current, ModelVersion to) {
    if (current == null || current == to.version()) {
      return List.of();
    }
    // An alias's target cannot be deleted, so its metadata is there (and cached: versions are immutable).
    return readVersion(model, current).signature().incompatibilities(to.signature());
  }

  private void refuseIfIncompatible(String model, String alias, Long current, ModelVersion to) {
    List<String> differences = incompatibilities(model, current, to);
    if (!differences.isEmpty()) {
      throw new dev.mlops.api.IncompatibleSignatureException("refusing to point models:/" + model + "@" + alias
          + " at version " + to.version() + ": its signature is incompatible with version " + current
          + ", which the alias points at now: " + String.join("; ", differences) + ". Predictors following the alias"
          + " would fail every call; use forceAlias to move it anyway (they keep serving version " + current
          + " until the alias points at a compatible version)", differences);
    }
  }

  private OptionalLong moveAlias(String model, String alias, long version, AuditInfo audit, boolean forced) {
    Long before =
        withLock(
            () -> {
              ModelVersion v = requireReady(model, version);
              State s = readState(model);
              Long prev = s.aliases.get(alias);
              List<String> differences = incompatibilities(model, prev, v);
              if (!forced) {
                refuseIfIncompatible(model, alias, prev, v);
              }
              s.aliases.put(alias, version);
              writeState(model, s);
              Map<String, String> details = aliasDetails(alias, prev, version);
              if (forced) {
                details.put("forced", "true");
              }
              if (!differences.isEmpty()) {
                details.put("incompatible", abbreviate(String.join("; ", differences)));
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
    checkAliasArguments(model, alias, audit);
    ModelVersion v = requireExisting(model, newVersion);
    refuseIfIncompatible(model, alias, expectedVersion == 0 ? null : expectedVersion, v);
    checkLoads(v);
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
    checkAliasArguments(model, alias, audit);
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
    Objects.requireNonNull(audit, "audit");
    checkOpen();
    ModelRef.checkName(model);
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
    Objects.requireNonNull(audit, "audit");
    checkOpen();
    ModelVersion v = requireExisting(model, version);
    List<String> pinned = new ArrayList<>();
    for (Serving runtime : serving) {
      pinned.addAll(runtime.pinnedPredictors(v));
    }
    if (!pinned.isEmpty()) {
      throw new ConflictException("cannot delete " + v.ref() + ": " + pinned.size() + " open predictor(s) pinned to it"
          + " serve it " + pinned + "; close them first, or use forceDelete (they keep serving the copy they loaded)");
    }
    deleteVersion(model, version, audit, false);
  }

  @Override
  public void forceDelete(String model, long version, AuditInfo audit) {
    Objects.requireNonNull(audit, "audit");
    checkOpen();
    requireExisting(model, version);
    deleteVersion(model, version, audit, true);
  }

  private void deleteVersion(String model, long version, AuditInfo audit, boolean forced) {
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
          Map<String, String> details = new TreeMap<>();
          details.put("version", Long.toString(version));
          if (forced) {
            details.put("forced", "true");
          }
          audit(AuditAction.DELETE_VERSION, model, details, audit);
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

  private ModelVersion requireReady(String model, long version) {
    ModelVersion v = requireExisting(model, version);
    if (v.status() != VersionStatus.READY) {
      throw new ConflictException(v.ref() + " is " + v.status() + "; only a READY version can take an alias");
    }
    return v;
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
      if (closed) {
        throw new ClosedException("the registry at " + root + " was closed during the change; nothing was changed");
      }
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
    private SignaturePolicy signaturePolicy = SignaturePolicy.OFF;
    private boolean signaturePolicySet;
    private TrustedKeys trustedKeys;
    private long maxArtifactBytes = Long.MAX_VALUE;
    private boolean maxArtifactBytesSet;
    private ChildJvmValidator validator;

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
     * What to do with manifest signatures (default {@link SignaturePolicy#OFF}). {@link
     * SignaturePolicy#WARN} and {@link SignaturePolicy#ENFORCE} need {@link #trustedKeys}.
     */
    public Builder signaturePolicy(SignaturePolicy policy) {
      Objects.requireNonNull(policy, "policy");
      if (signaturePolicySet) {
        throw new IllegalStateException("signaturePolicy was already set to " + signaturePolicy);
      }
      this.signaturePolicy = policy;
      signaturePolicySet = true;
      return this;
    }

    /** The keys that may sign manifests; required by a {@code WARN} or {@code ENFORCE} signature policy. */
    public Builder trustedKeys(TrustedKeys keys) {
      Objects.requireNonNull(keys, "keys");
      if (trustedKeys != null) {
        throw new IllegalStateException("trustedKeys were already set to " + trustedKeys);
      }
      this.trustedKeys = keys;
      return this;
    }

    /**
     * The most bytes the files of one version (model and external data; attachments not counted)
     * may take (default: no limit). A larger artifact is refused with {@link
     * dev.mlops.api.ArtifactTooLargeException}; a stream is cut off as soon as it passes the limit.
     */
    public Builder maxArtifactBytes(long bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("maxArtifactBytes must be >= 1 but was " + bytes);
      }
      if (maxArtifactBytesSet) {
        throw new IllegalStateException("maxArtifactBytes was already set to " + maxArtifactBytes);
      }
      this.maxArtifactBytes = bytes;
      maxArtifactBytesSet = true;
      return this;
    }

    /**
     * Opens and runs every new artifact in a child JVM before this process parses it, so that a
     * model that crashes the native runtime is refused instead of crashing the service (default:
     * off). See {@link ChildJvmValidator} for the cost and the limits.
     */
    public Builder validateInChildJvm(ChildJvmValidator validator) {
      Objects.requireNonNull(validator, "validator");
      if (this.validator != null) {
        throw new IllegalStateException("validateInChildJvm was already set to " + this.validator);
      }
      this.validator = validator;
      return this;
    }

    /**
     * Opens the registry.
     *
     * @throws IllegalStateException if a signature policy other than {@code OFF} has no trusted
     *     keys, or trusted keys were given with the policy {@code OFF}
     * @throws RegistryException if the directory cannot be created or locked
     */
    public LocalModelRegistry build() {
      if (signaturePolicy != SignaturePolicy.OFF && trustedKeys == null) {
        throw new IllegalStateException(
            "signaturePolicy " + signaturePolicy + " needs trustedKeys(...): the keys whose signatures it accepts");
      }
      if (signaturePolicy == SignaturePolicy.OFF && trustedKeys != null) {
        throw new IllegalStateException(
            "trustedKeys were set but signaturePolicy is OFF, so they would never be used; set signaturePolicy(WARN or ENFORCE)");
      }
      return new LocalModelRegistry(this);
    }
  }
}
