package dev.mlops.runtime.registry;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditDetails;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.ClosedException;
import dev.mlops.api.ConflictException;
import dev.mlops.api.IncompatibleSignatureException;
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
import dev.mlops.api.Rollout;
import dev.mlops.api.RolloutSpec;
import dev.mlops.api.SessionOptions;
import dev.mlops.api.SignatureException;
import dev.mlops.api.Tensor;
import dev.mlops.api.VersionStatus;
import dev.mlops.api.WarmUpTimeoutException;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.event.LifecycleListener;
import dev.mlops.api.spi.AliasTarget;
import dev.mlops.api.spi.ArtifactStore;
import dev.mlops.api.spi.InferenceEngine;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.api.spi.ModelStore;
import dev.mlops.api.spi.NewVersion;
import dev.mlops.api.spi.StoreListener;
import dev.mlops.api.spi.StoredRollout;
import dev.mlops.runtime.loading.InputValidator;
import dev.mlops.runtime.loading.TensorIo;
import dev.mlops.runtime.loading.WarmUp;
import dev.mlops.runtime.security.ExternalDataGuard;
import dev.mlops.runtime.security.Manifest;
import dev.mlops.runtime.security.SignaturePolicy;
import dev.mlops.runtime.security.TrustedKeys;
import dev.mlops.runtime.validation.ChildJvmValidator;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model registry: everything that must behave the same whatever the storage, over a {@link
 * ModelStore} (metadata, aliases, audit) and an {@link ArtifactStore} (files by digest).
 *
 * <ul>
 *   <li><b>Checks.</b> Arguments first, with messages; model names that differ only in case are
 *       refused; an alias moves only to a version whose signature is compatible with its current
 *       target and that loads ({@link #setAlias}); a version a pinned predictor serves is not
 *       deleted unless forced.
 *   <li><b>Registration.</b> File names must be portable ({@link ArtifactFile#unportableReason}),
 *       and the count and declared sizes of the files within {@linkplain Builder#maxArtifactFiles
 *       the file-count} and {@linkplain Builder#maxArtifactBytes size limits}, before a byte is
 *       copied. Files are copied into a private staging directory and digested, counted again;
 *       then, before this process parses the model: the signature (per {@linkplain
 *       Builder#signaturePolicy policy}), the external-data scan and, optionally, {@linkplain
 *       Builder#validateInChildJvm a trial load in a child JVM}; then the engine reads the
 *       signature and runs the input example, if there is one. Only then are the files put in the
 *       artifact store and the version inserted. A refused registration changes nothing.
 *   <li><b>Verification.</b> {@link #verifiedArtifact} checks that the file names are portable (a
 *       version stored before that rule is refused), the file list against its digest, the
 *       signature, that the directory holds exactly the recorded files, every digest and the
 *       external data, before an engine reads a byte.
 *   <li><b>Audit and events.</b> Every change is written with its audit entry in one step by the
 *       store, with typed details ({@link AuditDetails}); the listeners get a {@link
 *       LifecycleEvent} for each change the store's feed delivers, including changes made by other
 *       processes when the store can see them. Load and verification failures are recorded (a
 *       failure identical to one recorded less than a minute before is not recorded again) under
 *       the actor {@value AuditInfo#REGISTRY_ACTOR}, which no caller's {@link AuditInfo} may name.
 * </ul>
 *
 * <p>Thread-safe. Built only with {@link #builder(ModelStore, ArtifactStore)} (or, for the embedded
 * directory registry, {@code LocalModelRegistry.builder(Path)}). The registry owns its stores and
 * closes them.
 */
public final class GovernedRegistry implements ModelRegistry {

  private static final Logger LOG = LoggerFactory.getLogger(GovernedRegistry.class);

  /**
   * The default of {@link Builder#maxArtifactBytes}: 8 GiB over all the files of one version. Four
   * times the 2 GiB that one ONNX protobuf file can hold, so a model with its weights as external
   * data fits up to about four billion 16-bit parameters, while a source that declares more (a
   * sparse file reads as its full length) is refused before it fills the disk, twice over: in
   * staging and in the artifact store.
   */
  public static final long DEFAULT_MAX_ARTIFACT_BYTES = 8L << 30;

  /**
   * The default of {@link Builder#maxArtifactFiles}: 10,000 files in one version. An exported model
   * has one file, or one file per tensor at most when its external data is not gathered into one
   * file; the largest graphs have a few thousand tensors. A directory of more files is refused
   * before one is copied, and its walk stops there.
   */
  public static final int DEFAULT_MAX_ARTIFACT_FILES = 10_000;

  /** A failure identical to one recorded less than this long ago is not recorded again. */
  private static final Duration FAILURE_REPEAT_WINDOW = Duration.ofMinutes(1);

  private final ModelStore store;
  private final ArtifactStore artifacts;
  private final String description;
  private final Staging staging;

  /** REGISTER entries already read, by version reference ({@link #registerEntry}). */
  private final Map<String, AuditEntry> registerEntries = new ConcurrentHashMap<>();

  /**
   * Versions whose stored input example was ignored for want of a recorded digest (logged once).
   */
  private final Set<String> unvouchedExamples = ConcurrentHashMap.newKeySet();

  /** Where loads copy a version's files to verify and serve exactly those bytes. */
  private final Staging loads;

  private final InferenceEngine engine;
  private final Clock clock;
  private final SignaturePolicy signaturePolicy;
  private final TrustedKeys trustedKeys;
  private final long maxArtifactBytes;
  private final int maxArtifactFiles;
  private final ChildJvmValidator validator;
  private final java.time.Duration warmUpDeadline;
  private final List<LifecycleListener> listeners = new CopyOnWriteArrayList<>();
  private final List<Runnable> resyncListeners = new CopyOnWriteArrayList<>();
  private final List<Serving> serving = new CopyOnWriteArrayList<>();

  /**
   * Failures already in the audit log, so that a caller's report of the same one is not added
   * twice.
   */
  private final java.util.Set<Throwable> recordedFailures =
      Collections.synchronizedSet(Collections.newSetFromMap(new java.util.WeakHashMap<>()));

  /**
   * When each distinct failure was last recorded, to keep a load retried in a loop from flooding
   * the log.
   */
  private final ConcurrentHashMap<String, Instant> recentFailures = new ConcurrentHashMap<>();

  private final AutoCloseable feed;
  private volatile boolean closed;

  /**
   * What a runtime that serves from this registry contributes to its checks. {@code Mlops} attaches
   * itself when it is built on this registry; applications need not implement it.
   */
  public interface Serving {
    /**
     * Loads the version as the runtime's predictors would (verified, opened with the runtime's
     * session options and warmed up under its policy), into its session cache.
     *
     * @throws ModelLoadException if it cannot load
     */
    void checkLoads(ModelVersion version);

    /**
     * Descriptions of the open predictors pinned to this version (a {@code
     * models:/<name>/<version>} reference).
     */
    List<String> pinnedPredictors(ModelVersion version);
  }

  private GovernedRegistry(Builder b, ModelStore store, ArtifactStore artifacts) {
    this.store = store;
    this.artifacts = artifacts;
    this.description = b.description;
    this.staging = new Staging(b.staging);
    this.loads = new Staging(b.loads);
    this.engine = b.engine != null ? b.engine : loadEngine();
    this.clock = b.clock;
    this.signaturePolicy = b.signaturePolicy;
    this.trustedKeys = b.trustedKeys;
    this.maxArtifactBytes = b.maxArtifactBytes;
    this.maxArtifactFiles = b.maxArtifactFiles;
    this.validator = b.validator;
    this.warmUpDeadline = b.warmUpDeadline;
    this.feed =
        store.subscribe(
            new StoreListener() {
              @Override
              public void changed(AuditEntry change) {
                onChange(change);
              }

              @Override
              public void resync() {
                onResync();
              }
            });
  }

  /**
   * Starts a registry over these stores, which it then owns.
   *
   * @param store metadata, aliases and audit
   * @param artifacts the artifacts' files
   */
  public static Builder builder(ModelStore store, ArtifactStore artifacts) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(artifacts, "artifacts");
    return new Builder(() -> store, s -> artifacts, store.toString());
  }

  /**
   * Starts a registry over stores that {@link Builder#build()} opens, after it has checked the
   * options, so that a refused configuration touches no storage. The registry owns the stores.
   *
   * @param store opens the metadata store
   * @param artifacts opens the artifact store, given the metadata store
   * @param description how messages name the registry, e.g. its directory
   */
  public static Builder builder(
      java.util.function.Supplier<ModelStore> store,
      java.util.function.Function<ModelStore, ArtifactStore> artifacts,
      String description) {
    return new Builder(
        Objects.requireNonNull(store, "store"),
        Objects.requireNonNull(artifacts, "artifacts"),
        Objects.requireNonNull(description, "description"));
  }

  private static InferenceEngine loadEngine() {
    return ServiceLoader.load(InferenceEngine.class)
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "no InferenceEngine on the class path; add mlops-runtime or set one"));
  }

  /** The artifact store, where the files of every version are kept by digest. */
  public ArtifactStore artifacts() {
    return artifacts;
  }

  /** The metadata store, for the runtime and for tests of a store. */
  public ModelStore store() {
    return store;
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

  // ---------------------------------------------------------------- registration

  @Override
  public ModelVersion register(Registration registration, AuditInfo audit) {
    Objects.requireNonNull(registration, "registration");
    Objects.requireNonNull(audit, "audit");
    checkOpen();
    String model = registration.model();
    refuseCaseCollision(model);
    Staging.Entry entry = staging.create();
    Path stage = entry.path;
    try {
      Path filesDir = stage.resolve("files");
      Files.createDirectories(filesDir);
      Staged staged =
          stage(
              registration.source(),
              filesDir,
              new ArtifactChecks.Limits(maxArtifactBytes, maxArtifactFiles, model));
      // Signature, then external data, then a child JVM: all before this process parses the model.
      Map<String, String> registerDetails =
          new TreeMap<>(checkSignature(registration, staged.files));
      ArtifactLocation location =
          new ArtifactLocation(filesDir, filesDir.resolve(staged.modelFile));
      Optional<Map<String, Tensor>> example = registration.inputExample();
      Map<String, byte[]> sideFiles = new TreeMap<>();
      if (example.isPresent()) {
        byte[] bytes = tensorBytes(example.get());
        sideFiles.put(NewVersion.INPUT_EXAMPLE, bytes);
        registerDetails.put(AuditDetails.INPUT_EXAMPLE, Storage.sha256Hex(bytes));
        Storage.writeNew(stage.resolve(NewVersion.INPUT_EXAMPLE), bytes);
      }
      ModelSignature signature;
      try {
        ExternalDataGuard.check(location, paths(staged.files));
        if (validator != null) {
          validator.validate(
              location,
              example.isPresent()
                  ? Optional.of(stage.resolve(NewVersion.INPUT_EXAMPLE))
                  : Optional.empty());
        }
        signature = readSignature(location, example);
      } catch (WarmUpTimeoutException e) {
        throw new WarmUpTimeoutException(
            "cannot register "
                + describe(registration.source())
                + " as a new version of models:/"
                + model
                + ": "
                + e.getMessage(),
            e.deadline(),
            e.getCause());
      } catch (ModelLoadException e) {
        throw e.getClass() == ModelLoadException.class
            ? new ModelLoadException(
                "cannot register "
                    + describe(registration.source())
                    + " as a new version of"
                    + " models:/"
                    + model
                    + ": "
                    + e.getMessage(),
                e)
            : e;
      }
      registration
          .manifestSignature()
          .ifPresent(
              s ->
                  sideFiles.put(
                      NewVersion.MANIFEST_SIGNATURE,
                      signatureToJson(s).getBytes(StandardCharsets.UTF_8)));
      List<ArtifactFile> attachments = new ArrayList<>();
      for (Map.Entry<String, byte[]> a : registration.attachments().entrySet()) {
        sideFiles.put(NewVersion.ATTACHMENTS + a.getKey(), a.getValue());
        attachments.add(
            new ArtifactFile(a.getKey(), a.getValue().length, Storage.sha256Hex(a.getValue())));
      }
      String digest = manifestDigest(staged.files);
      artifacts.put(digest, filesDir, staged.files);
      checkStored(model, digest, staged.files);
      refuseCaseCollision(model);
      ModelVersion version =
          store.insertVersion(
              model,
              number -> {
                ModelVersion v =
                    ModelVersion.builder(model, number)
                        .createdAt(clock.instant())
                        .createdBy(audit.actor())
                        .description(registration.description())
                        .modelFile(staged.modelFile)
                        .files(staged.files)
                        .digest(digest)
                        .signature(signature)
                        .tags(registration.tags())
                        .lineage(registration.lineage())
                        .hasInputExample(example.isPresent())
                        .attachments(attachments)
                        .build();
                return new NewVersion(
                    v,
                    sideFiles,
                    entry(
                        AuditAction.REGISTER,
                        model,
                        AuditDetails.registered(number, digest, registerDetails),
                        audit));
              });
      LOG.info(
          "registered {} ({} bytes, sha256 {})",
          version.ref(),
          version.sizeBytes(),
          version.digest());
      return version;
    } catch (IOException e) {
      throw new RegistryException("cannot register a version of '" + model + "': " + e, e);
    } catch (UncheckedIOException e) {
      throw new RegistryException(
          "cannot register a version of '" + model + "': " + e.getCause(), e.getCause());
    } finally {
      entry.close();
    }
  }

  /**
   * Before the commit: every file of the new version is in the artifact store, a regular file with
   * the digest it was registered with, so no version is committed with a file missing.
   */
  private void checkStored(String model, String digest, List<ArtifactFile> files) {
    Path dir = artifacts.materialize(digest, files);
    for (ArtifactFile f : files) {
      String actual;
      try {
        actual = Storage.sha256(dir.resolve(f.path()));
      } catch (IOException e) {
        throw new IntegrityException(
            "file "
                + f.path()
                + " of the new version of '"
                + model
                + "' is not in the artifact store after it was stored ("
                + e.getMessage()
                + "); nothing was registered",
            e);
      }
      if (!actual.equals(f.sha256())) {
        throw new IntegrityException(
            "file "
                + f.path()
                + " of the new version of '"
                + model
                + "' changed in the artifact store before its commit: expected sha256 "
                + f.sha256()
                + " but found "
                + actual
                + "; nothing was registered");
      }
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

  private Staged stage(ArtifactSource source, Path filesDir, ArtifactChecks.Limits limit)
      throws IOException {
    if (source instanceof ArtifactSource.FileSource) {
      Path file = ((ArtifactSource.FileSource) source).file();
      if (!Files.isRegularFile(file)) {
        throw new ModelLoadException(
            "model file " + file + " does not exist or is not a regular file");
      }
      String name = file.getFileName().toString();
      refuseUnportable(name, file.toString());
      ArtifactChecks.requireOneLink(file, name, "");
      limit.checkKnown(Files.size(file));
      limit.countFile();
      try (InputStream in = Files.newInputStream(file)) {
        return single(limit.wrap(in), name, filesDir);
      }
    }
    if (source instanceof ArtifactSource.StreamSource) {
      ArtifactSource.StreamSource s = (ArtifactSource.StreamSource) source;
      refuseUnportable(s.fileName(), "the stream " + s.fileName());
      limit.countFile();
      return single(limit.wrap(s.in()), s.fileName(), filesDir);
    }
    ArtifactSource.DirectorySource d = (ArtifactSource.DirectorySource) source;
    Path dir = d.directory();
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new ModelLoadException(
          "artifact directory " + dir + " does not exist or is not a plain directory");
    }
    // Names, file count and declared sizes first: nothing is copied from a source they refuse.
    ArtifactChecks.checkSource(dir, limit);
    List<ArtifactFile> files = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk.sorted()::iterator) {
        if (Files.isSymbolicLink(p)) {
          throw new ModelLoadException(
              "artifact directory "
                  + dir
                  + " contains the symbolic link "
                  + dir.relativize(p)
                  + "; expected plain files only");
        }
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          throw new ModelLoadException(
              "artifact directory "
                  + dir
                  + " contains "
                  + dir.relativize(p)
                  + ", which is not a regular file");
        }
        String rel = dir.relativize(p).toString().replace(java.io.File.separatorChar, '/');
        // Again while copying: the directory may have changed since it was walked.
        refuseUnportable(rel, dir.toString());
        limit.countFile();
        ArtifactChecks.requireOneLink(p, rel, "");
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
                () ->
                    new ModelLoadException(
                        "artifact directory " + dir + " has no model file '" + modelFile + "'"));
    if (main.size() == 0) {
      throw new ModelLoadException("model file " + dir.resolve(modelFile) + " is empty");
    }
    return new Staged(modelFile, List.copyOf(files));
  }

  private static void refuseUnportable(String path, String source) {
    ArtifactFile.unportableReason(path)
        .ifPresent(
            why -> {
              throw new dev.mlops.api.UnsafeModelException(
                  "cannot register "
                      + source
                      + ": "
                      + why
                      + ": rename the file; nothing was registered");
            });
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

  /**
   * Opens a new artifact to read its signature and, when the registration has an input example,
   * runs it within the warm-up deadline: a version whose own example fails would never load, so it
   * is refused here. The session is opened without graph optimisation ({@link #SIGNATURE_OPTIONS}):
   * the signature is the graph's declared inputs and outputs, which optimisation never changes, and
   * optimising (constant folding above all) is where a tiny model can make ONNX Runtime build
   * gigabytes. The session that serves the version is optimised as its runtime says when it loads.
   */
  private ModelSignature readSignature(
      ArtifactLocation location, Optional<Map<String, Tensor>> example) {
    try (ModelSession session = engine.open(location, SIGNATURE_OPTIONS)) {
      if (example.isPresent()) {
        InputValidator.check(session.signature(), example.get());
        WarmUp.runExample(
            session, example.get(), warmUpDeadline, "the new version", DEADLINE_SETTING);
      }
      return session.signature();
    }
  }

  /** The session options of registration's own session: one thread each, no graph optimisation. */
  private static final SessionOptions SIGNATURE_OPTIONS =
      SessionOptions.builder()
          .intraOpThreads(1)
          .interOpThreads(1)
          .optimizationLevel(SessionOptions.OptimizationLevel.NONE)
          .build();

  /** The option that sets this registry's warm-up deadline, named when a run passes it. */
  static final String DEADLINE_SETTING =
      "GovernedRegistry.builder(...).warmUpDeadline(...) (or LocalModelRegistry.builder(...)"
          + ".warmUpDeadline(...))";

  /**
   * How long the registry's own runs may take: a registration's input example, and the run before
   * an alias moves when no runtime serves from this registry.
   */
  public java.time.Duration warmUpDeadline() {
    return warmUpDeadline;
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
   * Refuses a model name that differs from an existing one only in case: on a case-insensitive file
   * system, or in a store that compares names so, the two would collide.
   */
  private void refuseCaseCollision(String model) {
    ModelRef.checkName(model);
    for (String existing : store.models()) {
      if (!existing.equals(model) && existing.equalsIgnoreCase(model)) {
        throw new ConflictException(
            "model name '"
                + model
                + "' differs from the existing model '"
                + existing
                + "' only in case; such names collide on case-insensitive file systems; register it as '"
                + existing
                + "' or choose another name");
      }
    }
  }

  /** SHA-256 over the sorted manifest lines {@code path<TAB>sha256}. */
  public static String manifestDigest(List<ArtifactFile> files) {
    var md = Storage.sha256();
    files.stream()
        .sorted(java.util.Comparator.comparing(ArtifactFile::path))
        .forEach(
            f -> md.update((f.path() + "\t" + f.sha256() + "\n").getBytes(StandardCharsets.UTF_8)));
    return Storage.hex(md.digest());
  }

  private static byte[] tensorBytes(Map<String, Tensor> tensors) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      TensorIo.write(out, tensors);
    }
    return bytes.toByteArray();
  }

  // ---------------------------------------------------------------- reads

  @Override
  public List<String> models() {
    checkOpen();
    return store.models();
  }

  @Override
  public List<ModelVersion> versions(String model) {
    checkOpen();
    ModelRef.checkName(model);
    return store.versions(model);
  }

  @Override
  public Optional<ModelVersion> find(ModelRef ref) {
    checkOpen();
    Objects.requireNonNull(ref, "ref");
    if (ref.version().isPresent()) {
      return store.version(ref.name(), ref.version().getAsLong());
    }
    if (ref.alias().isPresent()) {
      AliasTarget t = store.aliases(ref.name()).get(ref.alias().get());
      return t == null ? Optional.empty() : store.version(ref.name(), t.version());
    }
    ModelVersion latest = null;
    for (ModelVersion v : store.versions(ref.name())) {
      if (v.status() == VersionStatus.READY) {
        latest = v;
      }
    }
    return Optional.ofNullable(latest);
  }

  @Override
  public ModelVersion get(ModelRef ref) {
    return find(ref).orElseThrow(() -> new ModelNotFoundException(describeMissing(ref)));
  }

  /** Explains why {@code ref} resolves to nothing, naming what exists. */
  private String describeMissing(ModelRef ref) {
    List<ModelVersion> versions = versions(ref.name());
    if (versions.isEmpty()) {
      return "no model '"
          + ref.name()
          + "' in the registry at "
          + description
          + "; models: "
          + models();
    }
    List<Long> numbers = versions.stream().map(ModelVersion::version).toList();
    if (ref.version().isPresent()) {
      return "model '"
          + ref.name()
          + "' has no version "
          + ref.version().getAsLong()
          + "; versions: "
          + numbers;
    }
    if (ref.alias().isPresent()) {
      return "model '"
          + ref.name()
          + "' has no alias '"
          + ref.alias().get()
          + "'; aliases: "
          + aliases(ref.name());
    }
    return "model '" + ref.name() + "' has no ready version (all of " + numbers + " are archived)";
  }

  @Override
  public Map<String, Long> aliases(String model) {
    checkOpen();
    ModelRef.checkName(model);
    Map<String, Long> out = new TreeMap<>();
    store.aliases(model).forEach((a, t) -> out.put(a, t.version()));
    return Collections.unmodifiableMap(out);
  }

  @Override
  public List<AuditEntry> auditLog() {
    checkOpen();
    return store.audit(AuditQuery.all());
  }

  @Override
  public List<AuditEntry> audit(AuditQuery query) {
    checkOpen();
    return store.audit(Objects.requireNonNull(query, "query"));
  }

  // ---------------------------------------------------------------- verification

  /**
   * A version's files for an engine to load, after the checks of the class comment, as a private
   * copy whose bytes are the bytes that were hashed (see {@link VerifiedArtifact}); close it once
   * the session is open. For the runtime; a failure is recorded in the audit log.
   *
   * @throws IntegrityException naming the file, the expected and the actual digest
   * @throws SignatureException if the signature policy refuses the version
   */
  public VerifiedArtifact verifiedArtifact(ModelVersion version) {
    checkOpen();
    Objects.requireNonNull(version, "version");
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
   * signature (per policy), exactly the recorded files and nothing else; then each file, which must
   * be a regular file with one link, is copied into a private directory while its bytes are hashed,
   * and the digest of the bytes copied must be the recorded one; last, the model's external data
   * must stay among the copied files. The engine then loads the copy, so the bytes it reads are the
   * bytes hashed here, whatever happens to the stored files meanwhile.
   */
  private VerifiedArtifact verify(ModelVersion version) {
    for (ArtifactFile f : version.files()) {
      ArtifactFile.unportableReason(f.path())
          .ifPresent(
              why -> {
                throw new dev.mlops.api.UnsafeModelException(
                    version.ref()
                        + " is refused: "
                        + why
                        + "; it was stored before the registry refused such names, and it is not"
                        + " loaded: register the artifact again with the file renamed");
              });
    }
    String manifestSha = manifestDigest(version.files());
    if (!manifestSha.equals(version.digest())) {
      throw new IntegrityException(
          "the file list of "
              + version.ref()
              + " no longer matches its recorded digest: expected sha256 "
              + version.digest()
              + " but found "
              + manifestSha
              + "; its metadata was changed");
    }
    checkSignature(version);
    checkRegistered(version);
    Path dir = artifacts.materialize(version.digest(), version.files());
    ArtifactChecks.checkExactFiles(dir, version);
    Staging.Entry copy = loads.create();
    try {
      Path files = copy.path.resolve("files");
      for (ArtifactFile f : version.files()) {
        Path p = dir.resolve(f.path()).normalize();
        if (!p.startsWith(dir) || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          throw new IntegrityException(
              "file "
                  + f.path()
                  + " of "
                  + version.ref()
                  + " is missing or not a regular file at "
                  + p);
        }
        ArtifactChecks.requireOneLink(p, f.path(), version.ref().toString());
        String actual;
        try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
          actual = Storage.copyAndDigest(in, files.resolve(f.path()));
        } catch (IOException e) {
          throw new IntegrityException(
              "cannot read file " + f.path() + " of " + version.ref() + ": " + e, e);
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
      ArtifactLocation location = new ArtifactLocation(files, files.resolve(version.modelFile()));
      ExternalDataGuard.check(location, paths(version.files()));
      return new VerifiedArtifact(version, location, copy);
    } catch (RuntimeException e) {
      copy.close();
      throw e;
    }
  }

  /**
   * The version's digest must be the one its REGISTER audit entry recorded: metadata and files
   * copied from another version, or from another model, carry another digest (or no entry at all),
   * whatever their signature says.
   */
  private void checkRegistered(ModelVersion version) {
    String recorded = registerEntry(version).details().get(AuditDetails.DIGEST);
    if (!version.digest().equals(recorded)) {
      throw new IntegrityException(
          "the files of "
              + version.ref()
              + " are not the ones registered as that version: its REGISTER entry records sha256 "
              + recorded
              + " but its metadata says "
              + version.digest()
              + "; its metadata and files were replaced");
    }
  }

  /**
   * The REGISTER audit entry of a version.
   *
   * @throws IntegrityException if there is none
   */
  private AuditEntry registerEntry(ModelVersion version) {
    // A version's REGISTER entry is written once and its number never reused, so the entry read
    // from a checked log holds for the life of the registry: a load reads the log once, not once
    // for the files and again for the input example.
    String key = version.ref().toString();
    AuditEntry known = registerEntries.get(key);
    if (known != null) {
      return known;
    }
    List<AuditEntry> registered =
        store.audit(
            AuditQuery.builder()
                .model(version.name())
                .actions(AuditAction.REGISTER)
                .version(version.version())
                .build());
    if (registered.isEmpty()) {
      throw new IntegrityException(
          version.ref()
              + " has no REGISTER entry in the audit log; the registry serves only versions it"
              + " registered itself");
    }
    AuditEntry entry = registered.get(registered.size() - 1);
    registerEntries.put(key, entry);
    return entry;
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
    sig.ifPresent(x -> details.put(AuditDetails.SIGNATURE_KEY_ID, x.keyId()));
    if (signaturePolicy == SignaturePolicy.OFF) {
      sig.ifPresent(x -> details.put(AuditDetails.SIGNATURE, "unchecked"));
      return details;
    }
    String what = "the new version of '" + registration.model() + "'";
    try {
      if (sig.isEmpty()) {
        throw new SignatureException(
            what
                + " has no manifest signature but the registry's signature policy is "
                + signaturePolicy
                + "; sign it with ManifestSigner (or openssl, see SECURITY.md) and pass "
                + "Registration.Builder.manifestSignature(...)");
      }
      trustedKeys.verify(
          Manifest.of(registration.model(), Manifest.entryPoint(registration.source()), files),
          sig.get(),
          what);
      details.put(AuditDetails.SIGNATURE, "verified");
    } catch (SignatureException e) {
      if (signaturePolicy == SignaturePolicy.ENFORCE) {
        throw e;
      }
      LOG.warn("{} (signature policy WARN: registering it anyway)", e.getMessage());
      details.put(AuditDetails.SIGNATURE, sig.isPresent() ? "invalid" : "missing");
      details.put(AuditDetails.SIGNATURE_ERROR, AuditDetails.abbreviate(e.getMessage()));
    }
    return details;
  }

  /** Checks a stored version's signature per policy. */
  private void checkSignature(ModelVersion v) {
    if (signaturePolicy == SignaturePolicy.OFF) {
      return;
    }
    try {
      Optional<ManifestSignature> sig = readManifestSignature(v);
      if (sig.isEmpty()) {
        throw new SignatureException(
            v.ref()
                + " has no manifest signature but the registry's signature policy is "
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

  private Optional<ManifestSignature> readManifestSignature(ModelVersion v) {
    Optional<byte[]> bytes;
    try {
      bytes = store.file(v.name(), v.version(), NewVersion.MANIFEST_SIGNATURE);
    } catch (RegistryException e) {
      throw new SignatureException(
          "cannot read the manifest signature of " + v.ref() + ": " + e.getMessage(), e);
    }
    if (bytes.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(signatureFromJson(new String(bytes.get(), StandardCharsets.UTF_8)));
    } catch (RuntimeException e) {
      throw new SignatureException(
          "the manifest signature of " + v.ref() + " is damaged: " + e.getMessage(), e);
    }
  }

  @Override
  public Optional<ManifestSignature> manifestSignature(ModelVersion version) {
    checkOpen();
    return readManifestSignature(Objects.requireNonNull(version, "version"));
  }

  /** The stored form of a manifest signature ({@link NewVersion#MANIFEST_SIGNATURE}). */
  public static String signatureToJson(ManifestSignature s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("keyId", s.keyId());
    m.put("algorithm", s.algorithm());
    m.put("value", s.valueBase64());
    return Json.write(m);
  }

  /** Reads what {@link #signatureToJson} wrote. */
  public static ManifestSignature signatureFromJson(String json) {
    Map<String, Object> m = Json.parseObject(json);
    return ManifestSignature.ofBase64(
        (String) m.get("keyId"), (String) m.get("algorithm"), (String) m.get("value"));
  }

  /**
   * The input example stored with a version, if it has one; the runtime warms up with it. Its bytes
   * must have the digest the version's REGISTER audit entry recorded, so an example replaced in the
   * store is refused before it is parsed. An example whose REGISTER entry records no digest (a
   * version registered before examples were digested, or one registered without an example) is
   * ignored, with one WARN line, as if there were none.
   *
   * @throws IntegrityException if the stored example is not the one registered
   */
  public Optional<Map<String, Tensor>> inputExample(ModelVersion version) {
    checkOpen();
    if (!version.hasInputExample()) {
      return Optional.empty();
    }
    byte[] bytes =
        store
            .file(version.name(), version.version(), NewVersion.INPUT_EXAMPLE)
            .orElseThrow(
                () ->
                    new RegistryException("the input example of " + version.ref() + " is missing"));
    String recorded = registerEntry(version).details().get(AuditDetails.INPUT_EXAMPLE);
    if (recorded == null) {
      // Registered before examples were digested, or an example added to a version registered
      // without one: either way nothing vouches for these bytes, so they are not run.
      if (unvouchedExamples.add(version.ref().toString())) {
        LOG.warn(
            "the input example of {} is ignored: its REGISTER entry records no digest of it (it"
                + " was registered before input examples were digested, or the example was added"
                + " to the store later); register the version again to warm up with it",
            version.ref());
      }
      return Optional.empty();
    }
    String found = Storage.sha256Hex(bytes);
    if (!found.equals(recorded)) {
      throw new IntegrityException(
          "the input example of "
              + version.ref()
              + " is not the one registered: its REGISTER entry records "
              + (recorded == null ? "no input example digest" : "sha256 " + recorded)
              + " but the stored example ("
              + bytes.length
              + " bytes) has sha256 "
              + found);
    }
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      return Optional.of(TensorIo.read(in));
    } catch (IOException e) {
      throw new RegistryException(
          "cannot read the input example of " + version.ref() + ": " + e, e);
    }
  }

  @Override
  public Optional<byte[]> attachment(ModelVersion version, String name) {
    checkOpen();
    Optional<ArtifactFile> entry =
        version.attachments().stream().filter(a -> a.path().equals(name)).findFirst();
    if (entry.isEmpty()) {
      return Optional.empty();
    }
    byte[] bytes;
    try {
      bytes =
          store
              .file(version.name(), version.version(), NewVersion.ATTACHMENTS + name)
              .orElseThrow(
                  () ->
                      new IntegrityException(
                          "attachment " + name + " of " + version.ref() + " is missing"));
    } catch (RegistryException e) {
      throw new IntegrityException(
          "cannot read attachment " + name + " of " + version.ref() + ": " + e.getMessage(), e);
    }
    String actual = Storage.sha256Hex(bytes);
    if (!actual.equals(entry.get().sha256())) {
      throw new IntegrityException(
          "attachment "
              + name
              + " of "
              + version.ref()
              + " has changed since registration: expected sha256 "
              + entry.get().sha256()
              + " but found "
              + actual);
    }
    return Optional.of(bytes);
  }

  // ---------------------------------------------------------------- failures

  /**
   * Records a load failure reported by a runtime (LOAD_FAILED). A failure that {@link
   * #verifiedArtifact} already recorded (the same exception, or one caused by it) is not recorded
   * again, nor is a failure identical to one recorded less than a minute before. Never throws for
   * bookkeeping reasons: a failure to write the entry is logged.
   */
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

  /**
   * Records ({@link AuditAction#SWAP_REFUSED}) that a predictor following {@code target} kept
   * serving {@code servingVersion} instead of switching to {@code refused}, whose signature is
   * incompatible. Repeats within a minute are dropped; never throws for bookkeeping reasons.
   */
  public void recordSwapRefused(
      ModelVersion refused, long servingVersion, ModelRef target, List<String> differences) {
    Objects.requireNonNull(refused, "refused");
    Objects.requireNonNull(target, "target");
    record(
        refused,
        AuditAction.SWAP_REFUSED,
        AuditDetails.swapRefused(refused.version(), servingVersion, target, differences));
  }

  private void recordFailure(ModelVersion v, AuditAction action, Throwable e) {
    recordedFailures.add(e);
    String keyId = null;
    if (action == AuditAction.SIGNATURE_FAILED) {
      try {
        keyId = readManifestSignature(v).map(ManifestSignature::keyId).orElse(null);
      } catch (RuntimeException ignored) {
        // the error already says the signature file is unreadable
      }
    }
    record(
        v,
        action,
        AuditDetails.failure(
            v.version(), e.getClass().getSimpleName() + ": " + e.getMessage(), keyId));
  }

  private void record(ModelVersion v, AuditAction action, Map<String, String> details) {
    String key = v.name() + "/" + action + "/" + details;
    Instant now = clock.instant();
    Instant last = recentFailures.get(key);
    if (last != null
        && !now.isBefore(last)
        && Duration.between(last, now).compareTo(FAILURE_REPEAT_WINDOW) < 0) {
      return;
    }
    if (recentFailures.size() > 10_000) {
      recentFailures.clear();
    }
    recentFailures.put(key, now);
    try {
      // Built here, not from an AuditInfo: no caller may write as the registry's own actor.
      store.appendAudit(
          new AuditEntry(clock.instant(), AuditInfo.REGISTRY_ACTOR, action, v.name(), details, ""));
    } catch (RuntimeException ex) {
      // Bookkeeping must not hide the failure the caller is about to see.
      LOG.warn("cannot record {} of {} in the audit log: {}", action, v.ref(), ex.toString());
    }
  }

  // ---------------------------------------------------------------- alias and version changes

  @Override
  public OptionalLong setAlias(String model, String alias, long version, AuditInfo audit) {
    checkAliasArguments(model, alias, audit);
    refuseDuringRollout(model, alias, "move");
    ModelVersion v = requireExisting(model, version);
    // Compatibility first: it reads metadata only, so an incompatible move costs no load.
    AliasTarget current = store.aliases(model).get(alias);
    refuseIfIncompatible(model, alias, current == null ? 0 : current.version(), v);
    checkLoads(v);
    return moveAlias(model, alias, v, audit, false);
  }

  @Override
  public OptionalLong forceAlias(String model, String alias, long version, AuditInfo audit) {
    checkAliasArguments(model, alias, audit);
    return moveAlias(model, alias, requireExisting(model, version), audit, true);
  }

  /**
   * Moves the alias from wherever it points now, checking compatibility against that target unless
   * forced.
   */
  private OptionalLong moveAlias(
      String model, String alias, ModelVersion to, AuditInfo audit, boolean forced) {
    for (; ; ) {
      AliasTarget current = store.aliases(model).get(alias);
      long from = current == null ? 0 : current.version();
      List<String> differences = incompatibilities(model, from, to);
      if (!forced) {
        refuseIfIncompatible(model, alias, from, to);
      }
      AuditEntry e =
          entry(
              AuditAction.SET_ALIAS,
              model,
              AuditDetails.aliasMoved(alias, from, to.version(), forced, differences),
              audit);
      if (store.compareAndSetAlias(model, alias, from, to.version(), e).isPresent()) {
        return from == 0 ? OptionalLong.empty() : OptionalLong.of(from);
      }
      // Moved by someone else since it was read: check against its new target and try again.
    }
  }

  @Override
  public void compareAndSetAlias(
      String model, String alias, long expectedVersion, long newVersion, AuditInfo audit) {
    checkAliasArguments(model, alias, audit);
    refuseDuringRollout(model, alias, "move");
    ModelVersion v = requireExisting(model, newVersion);
    refuseIfIncompatible(model, alias, expectedVersion, v);
    checkLoads(v);
    AuditEntry e =
        entry(
            AuditAction.SET_ALIAS,
            model,
            AuditDetails.aliasMoved(alias, expectedVersion, newVersion, false, List.of()),
            audit);
    if (store.compareAndSetAlias(model, alias, expectedVersion, newVersion, e).isEmpty()) {
      AliasTarget actual = store.aliases(model).get(alias);
      throw new ConflictException(
          "alias '"
              + alias
              + "' of model '"
              + model
              + "' points at "
              + (actual == null ? "nothing" : "version " + actual.version())
              + " but the change expected "
              + (expectedVersion == 0 ? "no alias" : "version " + expectedVersion)
              + "; re-read the alias and retry");
    }
  }

  @Override
  public OptionalLong deleteAlias(String model, String alias, AuditInfo audit) {
    checkAliasArguments(model, alias, audit);
    refuseDuringRollout(model, alias, "delete");
    for (; ; ) {
      AliasTarget current = store.aliases(model).get(alias);
      if (current == null) {
        return OptionalLong.empty();
      }
      AuditEntry e =
          entry(
              AuditAction.DELETE_ALIAS,
              model,
              AuditDetails.aliasDeleted(alias, current.version()),
              audit);
      if (store.compareAndSetAlias(model, alias, current.version(), 0, e).isPresent()) {
        return OptionalLong.of(current.version());
      }
    }
  }

  // ---------------------------------------------------------------- rollouts

  /**
   * The rollout in force behind an alias: the last one written, if it is active and its stable
   * version is still the alias's target (a forced alias move leaves an active rollout inert).
   */
  public Optional<Rollout> activeRollout(String model, String alias) {
    StoredRollout stored = store.rollouts(model).get(alias);
    if (stored == null) {
      return Optional.empty();
    }
    Rollout r = Records.rolloutFromJson(stored.record(), stored.revision());
    if (!r.active()) {
      return Optional.empty();
    }
    AliasTarget target = store.aliases(model).get(alias);
    return target != null && target.version() == r.stable() ? Optional.of(r) : Optional.empty();
  }

  private void refuseDuringRollout(String model, String alias, String what) {
    Optional<Rollout> r = activeRollout(model, alias);
    if (r.isPresent()) {
      throw new ConflictException(
          "cannot "
              + what
              + " alias '"
              + alias
              + "' of model '"
              + model
              + "': rollout "
              + r.get().id()
              + " of version "
              + r.get().candidate()
              + " is "
              + r.get().state().name().toLowerCase(java.util.Locale.ROOT)
              + " behind it; promote or abort the rollout first (forceAlias moves it anyway and"
              + " leaves the rollout without effect)");
    }
  }

  @Override
  public Optional<Rollout> rolloutStatus(String model, String alias) {
    checkOpen();
    ModelRef.checkName(model);
    ModelRef.checkAlias(alias);
    StoredRollout stored = store.rollouts(model).get(alias);
    return stored == null
        ? Optional.empty()
        : Optional.of(Records.rolloutFromJson(stored.record(), stored.revision()));
  }

  @Override
  public Rollout startRollout(String model, String alias, RolloutSpec spec, AuditInfo audit) {
    checkAliasArguments(model, alias, audit);
    Objects.requireNonNull(spec, "spec");
    for (; ; ) {
      AliasTarget target = store.aliases(model).get(alias);
      if (target == null) {
        throw new ModelNotFoundException(
            "model '"
                + model
                + "' has no alias '"
                + alias
                + "'; point it at the stable version before rolling out a candidate behind it");
      }
      ModelVersion candidate = requireExisting(model, spec.candidate());
      if (candidate.version() == target.version()) {
        throw new ConflictException(
            "alias '"
                + alias
                + "' of model '"
                + model
                + "' points at version "
                + target.version()
                + " already; a rollout needs another version as its candidate");
      }
      if (candidate.status() != VersionStatus.READY) {
        throw new ConflictException(
            candidate.ref()
                + " is "
                + candidate.status()
                + "; only a READY version can be rolled out");
      }
      refuseIfIncompatible(model, alias, target.version(), candidate);
      Optional<Rollout> active = activeRollout(model, alias);
      if (active.isPresent()) {
        throw new ConflictException(
            "rollout "
                + active.get().id()
                + " of version "
                + active.get().candidate()
                + " is already "
                + active.get().state().name().toLowerCase(java.util.Locale.ROOT)
                + " behind models:/"
                + model
                + "@"
                + alias
                + "; promote or abort it first");
      }
      checkLoads(candidate);
      StoredRollout current = store.rollouts(model).get(alias);
      long expected = current == null ? 0 : current.revision();
      Instant now = clock.instant();
      Rollout r =
          new Rollout(
              model,
              alias,
              java.util.UUID.randomUUID().toString().substring(0, 8),
              target.version(),
              candidate.version(),
              spec.weight(),
              spec.shadow(),
              spec.plan(),
              Rollout.State.RUNNING,
              audit.reason(),
              now,
              now,
              expected + 1);
      if (writeRollout(r, expected, AuditAction.START_ROLLOUT, "start", audit)) {
        LOG.info(
            "started rollout {} of {} behind models:/{}@{} (stable: version {}) at {} %, shadow {} %",
            r.id(),
            candidate.ref(),
            model,
            alias,
            r.stable(),
            r.weightPercent(),
            r.shadowPercent());
        return r;
      }
      // Another rollout change committed meanwhile: check again against it.
    }
  }

  @Override
  public Rollout setRolloutWeight(String model, String alias, int weight, AuditInfo audit) {
    checkAliasArguments(model, alias, audit);
    if (weight < 0 || weight > Rollout.FULL) {
      throw new IllegalArgumentException(
          "weight must be 0 to 10000 basis points (0 to 100 %), was " + weight);
    }
    return changeRollout(
        model,
        alias,
        audit,
        "weight",
        r -> {
          if (r.state() == Rollout.State.PAUSED) {
            throw new ConflictException(
                "rollout "
                    + r.id()
                    + " behind models:/"
                    + model
                    + "@"
                    + alias
                    + " is paused; resume it before changing its weight");
          }
          return r.with(weight, r.state(), audit.reason(), clock.instant());
        });
  }

  @Override
  public Rollout pauseRollout(String model, String alias, AuditInfo audit) {
    return switchState(model, alias, audit, "pause", Rollout.State.RUNNING, Rollout.State.PAUSED);
  }

  @Override
  public Rollout resumeRollout(String model, String alias, AuditInfo audit) {
    return switchState(model, alias, audit, "resume", Rollout.State.PAUSED, Rollout.State.RUNNING);
  }

  /** Moves an active rollout from state {@code from} to {@code to}, keeping its weight. */
  private Rollout switchState(
      String model,
      String alias,
      AuditInfo audit,
      String change,
      Rollout.State from,
      Rollout.State to) {
    checkAliasArguments(model, alias, audit);
    return changeRollout(
        model,
        alias,
        audit,
        change,
        r -> {
          if (r.state() != from) {
            throw new ConflictException(
                "rollout "
                    + r.id()
                    + " behind models:/"
                    + model
                    + "@"
                    + alias
                    + " is "
                    + r.state().name().toLowerCase(java.util.Locale.ROOT)
                    + ", not "
                    + from.name().toLowerCase(java.util.Locale.ROOT));
          }
          return r.with(r.weight(), to, audit.reason(), clock.instant());
        });
  }

  @Override
  public Rollout abortRollout(String model, String alias, AuditInfo audit) {
    checkAliasArguments(model, alias, audit);
    return changeRollout(
        model,
        alias,
        audit,
        "abort",
        r -> r.with(0, Rollout.State.ABORTED, audit.reason(), clock.instant()));
  }

  /**
   * Ends an active rollout as failed checks do: weight 0, marked rolled back, audited with the
   * reason (for example "auto-rollback: p99 612 ms &gt; 500 ms in 3 of 3 checks").
   *
   * @throws ConflictException if no rollout is active on the alias
   */
  public Rollout rollBackRollout(String model, String alias, AuditInfo audit) {
    checkAliasArguments(model, alias, audit);
    return changeRollout(
        model,
        alias,
        audit,
        "rollback",
        r -> r.with(0, Rollout.State.ROLLED_BACK, audit.reason(), clock.instant()));
  }

  @Override
  public Rollout promoteRollout(String model, String alias, AuditInfo audit) {
    checkAliasArguments(model, alias, audit);
    Rollout r = activeRollout(model, alias).orElseThrow(() -> noActiveRollout(model, alias));
    ModelVersion candidate = requireExisting(model, r.candidate());
    checkLoads(candidate);
    AuditEntry move =
        entry(
            AuditAction.SET_ALIAS,
            model,
            AuditDetails.aliasMoved(alias, r.stable(), r.candidate(), false, List.of()),
            audit);
    if (store.compareAndSetAlias(model, alias, r.stable(), r.candidate(), move).isEmpty()) {
      throw new ConflictException(
          "cannot promote rollout "
              + r.id()
              + ": alias '"
              + alias
              + "' of model '"
              + model
              + "' no longer points at its stable version "
              + r.stable());
    }
    // The alias points at the candidate now, so the rollout is no longer in force; record its end.
    for (; ; ) {
      StoredRollout stored = store.rollouts(model).get(alias);
      Rollout now = Records.rolloutFromJson(stored.record(), stored.revision());
      if (!now.id().equals(r.id()) || !now.active()) {
        return now;
      }
      Rollout promoted =
          now.with(Rollout.FULL, Rollout.State.PROMOTED, audit.reason(), clock.instant())
              .atRevision(stored.revision() + 1);
      if (writeRollout(promoted, stored.revision(), AuditAction.END_ROLLOUT, "promote", audit)) {
        LOG.info(
            "promoted rollout {}: models:/{}@{} moved from version {} to {}",
            r.id(),
            model,
            alias,
            r.stable(),
            r.candidate());
        return promoted;
      }
    }
  }

  private ConflictException noActiveRollout(String model, String alias) {
    return new ConflictException(
        "no rollout is active behind models:/" + model + "@" + alias + "; start one first");
  }

  /** Applies {@code change} to the active rollout by compare-and-set, retrying on a race. */
  private Rollout changeRollout(
      String model,
      String alias,
      AuditInfo audit,
      String change,
      java.util.function.UnaryOperator<Rollout> next) {
    for (; ; ) {
      Rollout r = activeRollout(model, alias).orElseThrow(() -> noActiveRollout(model, alias));
      Rollout changed = next.apply(r).atRevision(r.revision() + 1);
      AuditAction action = changed.active() ? AuditAction.UPDATE_ROLLOUT : AuditAction.END_ROLLOUT;
      if (writeRollout(changed, r.revision(), action, change, audit)) {
        LOG.info(
            "rollout {} behind models:/{}@{}: {} (weight {} %, {})",
            r.id(), model, alias, change, changed.weightPercent(), changed.state());
        return changed;
      }
    }
  }

  private boolean writeRollout(
      Rollout r, long expected, AuditAction action, String change, AuditInfo audit) {
    AuditEntry e = entry(action, r.model(), AuditDetails.rollout(r, change), audit);
    return store
        .compareAndSetRollout(r.model(), r.alias(), expected, Records.rolloutToJson(r), e)
        .isPresent();
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
      Iterator<Serving> runtimes = serving.iterator();
      if (runtimes.hasNext()) {
        runtimes.next().checkLoads(v);
        return;
      }
      try (VerifiedArtifact artifact = verifiedArtifact(v);
          ModelSession session = engine.open(artifact.location())) {
        Optional<Map<String, Tensor>> example = inputExample(v);
        if (example.isPresent()) {
          WarmUp.runExample(
              session, example.get(), warmUpDeadline, v.ref().toString(), DEADLINE_SETTING);
        }
      }
    } catch (ModelLoadException e) {
      recordLoadFailure(v, e);
      String message =
          "refusing to point an alias at "
              + v.ref()
              + ", which cannot be loaded: "
              + e.getMessage()
              + " (use forceAlias to move it anyway)";
      if (e instanceof WarmUpTimeoutException t) {
        throw new WarmUpTimeoutException(message, t.deadline(), e);
      }
      throw new ModelLoadException(message, e);
    }
  }

  /** The differences between the version {@code current} (0: none) and {@code to}. */
  private List<String> incompatibilities(String model, long current, ModelVersion to) {
    if (current == 0 || current == to.version()) {
      return List.of();
    }
    Optional<ModelVersion> from = store.version(model, current);
    return from.isEmpty() ? List.of() : from.get().signature().incompatibilities(to.signature());
  }

  private void refuseIfIncompatible(String model, String alias, long current, ModelVersion to) {
    List<String> differences = incompatibilities(model, current, to);
    if (!differences.isEmpty()) {
      throw new IncompatibleSignatureException(
          "refusing to point models:/"
              + model
              + "@"
              + alias
              + " at version "
              + to.version()
              + ": its signature is incompatible with version "
              + current
              + ", which the alias points at now: "
              + String.join("; ", differences)
              + ". Predictors following the alias"
              + " would fail every call; use forceAlias to move it anyway (they keep serving version "
              + current
              + " until the alias points at a compatible version)",
          differences);
    }
  }

  @Override
  public ModelVersion archive(String model, long version, AuditInfo audit) {
    Objects.requireNonNull(audit, "audit");
    checkOpen();
    ModelVersion v = requireExisting(model, version);
    store.archive(
        model,
        version,
        entry(AuditAction.ARCHIVE, model, AuditDetails.version(version, false), audit));
    return v.withStatus(VersionStatus.ARCHIVED);
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
      throw new ConflictException(
          "cannot delete "
              + v.ref()
              + ": "
              + pinned.size()
              + " open predictor(s) pinned to it"
              + " serve it "
              + pinned
              + "; close them first, or use forceDelete (they keep serving the copy they loaded)");
    }
    deleteVersion(v, audit, false);
  }

  @Override
  public void forceDelete(String model, long version, AuditInfo audit) {
    Objects.requireNonNull(audit, "audit");
    checkOpen();
    deleteVersion(requireExisting(model, version), audit, true);
  }

  private void deleteVersion(ModelVersion v, AuditInfo audit, boolean forced) {
    store.delete(
        v.name(),
        v.version(),
        entry(
            AuditAction.DELETE_VERSION,
            v.name(),
            AuditDetails.version(v.version(), forced),
            audit));
    if (!artifactInUse(v.digest())) {
      artifacts.delete(v.digest());
    }
  }

  /** Whether any version of any model still has the files of this digest. */
  private boolean artifactInUse(String digest) {
    for (String m : store.models()) {
      for (ModelVersion other : store.versions(m)) {
        if (other.digest().equals(digest)) {
          return true;
        }
      }
    }
    return false;
  }

  private ModelVersion requireExisting(String model, long version) {
    ModelRef.checkName(model);
    return store
        .version(model, version)
        .orElseThrow(
            () -> new ModelNotFoundException(describeMissing(ModelRef.version(model, version))));
  }

  private AuditEntry entry(
      AuditAction action, String model, Map<String, String> details, AuditInfo audit) {
    return new AuditEntry(clock.instant(), audit.actor(), action, model, details, audit.reason());
  }

  // ---------------------------------------------------------------- events

  /** Turns a committed change into the event listeners get; failure entries raise none. */
  private void onChange(AuditEntry e) {
    LifecycleEvent event = toEvent(e);
    if (event == null) {
      return;
    }
    for (LifecycleListener l : listeners) {
      try {
        l.onEvent(event);
      } catch (RuntimeException ex) {
        LOG.warn("lifecycle listener {} failed on {}: {}", l, event, ex.toString(), ex);
      }
    }
  }

  private LifecycleEvent toEvent(AuditEntry e) {
    Map<String, String> d = e.details();
    switch (e.action()) {
      case REGISTER:
        {
          long n = Long.parseLong(d.get(AuditDetails.VERSION));
          return store
              .version(e.model(), n)
              .map(v -> (LifecycleEvent) new LifecycleEvent.VersionRegistered(e.time(), v))
              .orElse(null);
        }
      case SET_ALIAS:
        {
          String from = d.getOrDefault(AuditDetails.FROM, "");
          return new LifecycleEvent.AliasMoved(
              e.time(),
              e.model(),
              d.get(AuditDetails.ALIAS),
              from.isEmpty() ? 0 : Long.parseLong(from),
              Long.parseLong(d.get(AuditDetails.TO)),
              e.actor(),
              e.reason());
        }
      case START_ROLLOUT:
      case UPDATE_ROLLOUT:
      case END_ROLLOUT:
        return rolloutEvent(e);
      case DELETE_ALIAS:
        return new LifecycleEvent.AliasDeleted(
            e.time(),
            e.model(),
            d.get(AuditDetails.ALIAS),
            Long.parseLong(d.get(AuditDetails.FROM)),
            e.actor());
      case ARCHIVE:
        return new LifecycleEvent.VersionArchived(
            e.time(), e.model(), Long.parseLong(d.get(AuditDetails.VERSION)), e.actor());
      case DELETE_VERSION:
        return new LifecycleEvent.VersionDeleted(
            e.time(), e.model(), Long.parseLong(d.get(AuditDetails.VERSION)), e.actor());
      default:
        return null;
    }
  }

  /**
   * Deletes the artifacts no version references that were last put more than {@code minimumAge}
   * ago: what a process killed mid-registration leaves (its files stored, its version never
   * recorded), and the files of deleted versions. Versions are read after the artifacts are listed,
   * and a registration puts its files again (which moves their time) before it records its version,
   * so an artifact a registration in flight is about to reference is spared as long as {@code
   * minimumAge} is longer than a registration takes. Run it from one process at a time, e.g. a
   * scheduled job; a store that cannot list its artifacts collects nothing.
   *
   * @param minimumAge how long an unreferenced artifact is kept; at least zero
   * @return the digests deleted, sorted
   * @throws RegistryException if a store fails (what was deleted before stays deleted)
   */
  public List<String> collectGarbage(java.time.Duration minimumAge) {
    Objects.requireNonNull(minimumAge, "minimumAge");
    if (minimumAge.isNegative()) {
      throw new IllegalArgumentException("minimumAge must not be negative: " + minimumAge);
    }
    checkOpen();
    Instant cutoff = clock.instant().minus(minimumAge);
    Map<String, Instant> stored = artifacts.stored();
    java.util.Set<String> referenced = new java.util.HashSet<>();
    for (String model : store.models()) {
      for (ModelVersion v : store.versions(model)) {
        referenced.add(v.digest());
      }
    }
    List<String> deleted = new ArrayList<>();
    for (Map.Entry<String, Instant> e : new TreeMap<>(stored).entrySet()) {
      if (!referenced.contains(e.getKey()) && e.getValue().isBefore(cutoff)) {
        artifacts.delete(e.getKey());
        deleted.add(e.getKey());
      }
    }
    if (!deleted.isEmpty()) {
      LOG.info(
          "collected {} artifacts that no version references, last put before {}: {}",
          deleted.size(),
          cutoff,
          deleted);
    }
    return Collections.unmodifiableList(deleted);
  }

  private void onResync() {
    for (Runnable r : resyncListeners) {
      try {
        r.run();
      } catch (RuntimeException ex) {
        LOG.warn("resync listener {} failed: {}", r, ex.toString(), ex);
      }
    }
  }

  /**
   * Calls {@code listener} whenever the store says changes may have been missed (its connection to
   * shared state was lost and is back, or a periodic resync is due), so that whoever follows an
   * alias re-reads it. A runtime's predictors register here; applications rarely need to.
   *
   * @return a handle whose {@code close()} removes the listener
   */
  public AutoCloseable addResyncListener(Runnable listener) {
    Objects.requireNonNull(listener, "listener");
    resyncListeners.add(listener);
    return () -> resyncListeners.remove(listener);
  }

  /** The event of a rollout change, rebuilt from its audit entry (and the stored start time). */
  private LifecycleEvent rolloutEvent(AuditEntry e) {
    Map<String, String> d = e.details();
    String change = d.getOrDefault(AuditDetails.CHANGE, "");
    Rollout.State state =
        switch (change) {
          case "pause" -> Rollout.State.PAUSED;
          case "promote" -> Rollout.State.PROMOTED;
          case "abort" -> Rollout.State.ABORTED;
          case "rollback" -> Rollout.State.ROLLED_BACK;
          default -> Rollout.State.RUNNING;
        };
    String alias = d.get(AuditDetails.ALIAS);
    String id = d.get(AuditDetails.ROLLOUT);
    Instant started = e.time();
    dev.mlops.api.RolloutPlan plan = dev.mlops.api.RolloutPlan.MANUAL;
    StoredRollout stored = store.rollouts(e.model()).get(alias);
    long revision = 0;
    if (stored != null) {
      Rollout now = Records.rolloutFromJson(stored.record(), stored.revision());
      if (now.id().equals(id)) {
        started = now.started();
        plan = now.plan();
      }
    }
    Rollout r =
        new Rollout(
            e.model(),
            alias,
            id,
            Long.parseLong(d.get(AuditDetails.FROM)),
            Long.parseLong(d.get(AuditDetails.TO)),
            Integer.parseInt(d.get(AuditDetails.WEIGHT)),
            Integer.parseInt(d.getOrDefault(AuditDetails.SHADOW, "0")),
            plan,
            state,
            e.reason(),
            started.isAfter(e.time()) ? e.time() : started,
            e.time(),
            revision);
    return new LifecycleEvent.RolloutChanged(e.time(), e.model(), r, change, e.actor(), e.reason());
  }

  @Override
  public AutoCloseable addListener(LifecycleListener listener) {
    Objects.requireNonNull(listener, "listener");
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  private void checkOpen() {
    if (closed) {
      throw new ClosedException("the registry at " + description + " is closed");
    }
  }

  /** Stops the change feed and closes the stores. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      feed.close();
    } catch (Exception e) {
      LOG.debug("closing the change feed failed", e);
    }
    store.close();
    artifacts.close();
  }

  @Override
  public String toString() {
    return "GovernedRegistry[" + description + "]";
  }

  /** Builder for {@link GovernedRegistry}. Each option may be set once. Not thread-safe. */
  public static final class Builder {
    private final java.util.function.Supplier<ModelStore> store;
    private final java.util.function.Function<ModelStore, ArtifactStore> artifacts;
    private String description;
    private Path staging;
    private Path loads;
    private InferenceEngine engine;
    private Clock clock = Clock.systemUTC();
    private SignaturePolicy signaturePolicy = SignaturePolicy.OFF;
    private boolean signaturePolicySet;
    private TrustedKeys trustedKeys;
    private long maxArtifactBytes = DEFAULT_MAX_ARTIFACT_BYTES;
    private boolean maxArtifactBytesSet;
    private int maxArtifactFiles = DEFAULT_MAX_ARTIFACT_FILES;
    private boolean maxArtifactFilesSet;
    private ChildJvmValidator validator;
    private java.time.Duration warmUpDeadline = dev.mlops.api.WarmUpPolicy.DEFAULT_DEADLINE;
    private boolean warmUpDeadlineSet;

    private Builder(
        java.util.function.Supplier<ModelStore> store,
        java.util.function.Function<ModelStore, ArtifactStore> artifacts,
        String description) {
      this.store = store;
      this.artifacts = artifacts;
      this.description = description;
    }

    /** How messages name the registry (default: the store's {@code toString()}). */
    public Builder description(String description) {
      this.description = Objects.requireNonNull(description, "description");
      return this;
    }

    /**
     * The local directory where new versions are copied and checked before they are stored (in its
     * {@code registrations/}). Only this process's user should be able to write it. Default: {@code
     * mlops-<user>} in the system's temporary directory, created readable by that user only (and
     * refused if anyone else could write it). Entries left by a process that is gone are removed
     * when the registry opens. Loads copy a version's files elsewhere: see {@link #loadCopies}.
     */
    public Builder staging(Path directory) {
      Objects.requireNonNull(directory, "directory");
      this.staging = directory.resolve("registrations");
      return this;
    }

    /**
     * The local directory where each load copies a version's files, hashing them as it copies, so
     * that the engine reads exactly the bytes that were verified (in its {@code loads/}). Only this
     * process's user may be able to write it: a writer there could change a copy between its check
     * and the engine's read. Default: {@code mlops-<user>} in the system's temporary directory,
     * created readable by that user only (and refused if anyone else could write it), never the
     * registry's own directory, which other tenants may share.
     */
    public Builder loadCopies(Path directory) {
      Objects.requireNonNull(directory, "directory");
      this.loads = directory.resolve("loads");
      return this;
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

    /**
     * The keys that may sign manifests; required by a {@code WARN} or {@code ENFORCE} signature
     * policy.
     */
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
     * may take (default {@link GovernedRegistry#DEFAULT_MAX_ARTIFACT_BYTES}, 8 GiB). A larger
     * artifact is refused with {@link dev.mlops.api.ArtifactTooLargeException} before a byte is
     * copied when its files declare their sizes (a sparse file declares its full length), and a
     * stream, or a file that grows while it is copied, is cut off as soon as it passes the limit.
     * {@code Long.MAX_VALUE} lifts the limit.
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
     * The most files one version (model and external data; attachments not counted) may hold
     * (default {@link GovernedRegistry#DEFAULT_MAX_ARTIFACT_FILES}, 10,000). A directory of more
     * files is refused with {@link dev.mlops.api.ArtifactTooLargeException} before a file is
     * copied, and counted again while copying, in case files are added meanwhile. {@code
     * Integer.MAX_VALUE} lifts the limit.
     */
    public Builder maxArtifactFiles(int files) {
      if (files < 1) {
        throw new IllegalArgumentException("maxArtifactFiles must be >= 1 but was " + files);
      }
      if (maxArtifactFilesSet) {
        throw new IllegalStateException("maxArtifactFiles was already set to " + maxArtifactFiles);
      }
      this.maxArtifactFiles = files;
      maxArtifactFilesSet = true;
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
     * How long each run the registry starts itself may take (default {@link
     * dev.mlops.api.WarmUpPolicy#DEFAULT_DEADLINE}, 30 s): a registration's input example, and the
     * run of a version's input example before an alias moves to it when no runtime serves from this
     * registry (a runtime's own deadline applies when one does). A run past it is terminated inside
     * ONNX Runtime: the registration is refused with {@link dev.mlops.api.WarmUpTimeoutException}
     * and stores nothing, the alias does not move. A child JVM's runs have the deadline of its
     * {@link ChildJvmValidator}.
     *
     * @throws IllegalArgumentException if {@code deadline} is zero or negative
     */
    public Builder warmUpDeadline(java.time.Duration deadline) {
      dev.mlops.api.WarmUpPolicy.checkDeadline("warmUpDeadline", deadline);
      if (warmUpDeadlineSet) {
        throw new IllegalStateException("warmUpDeadline was already set to " + warmUpDeadline);
      }
      this.warmUpDeadline = deadline;
      warmUpDeadlineSet = true;
      return this;
    }

    /**
     * Opens the registry.
     *
     * @throws IllegalStateException if a signature policy other than {@code OFF} has no trusted
     *     keys, or trusted keys were given with the policy {@code OFF}
     * @throws RegistryException if a store cannot be opened
     */
    public GovernedRegistry build() {
      if (signaturePolicy != SignaturePolicy.OFF && trustedKeys == null) {
        throw new IllegalStateException(
            "signaturePolicy "
                + signaturePolicy
                + " needs trustedKeys(...): the keys whose signatures it accepts");
      }
      if (signaturePolicy == SignaturePolicy.OFF && trustedKeys != null) {
        throw new IllegalStateException(
            "trustedKeys were set but signaturePolicy is OFF, so they would never be used; set signaturePolicy(WARN or ENFORCE)");
      }
      if (staging == null) {
        staging = Staging.privateRoot().resolve("registrations");
      }
      if (loads == null) {
        loads = Staging.privateRoot().resolve("loads");
      }
      ModelStore s = store.get();
      ArtifactStore a = null;
      try {
        a = artifacts.apply(s);
        return new GovernedRegistry(this, s, a);
      } catch (RuntimeException e) {
        if (a != null) {
          a.close();
        }
        s.close();
        throw e;
      }
    }
  }
}
