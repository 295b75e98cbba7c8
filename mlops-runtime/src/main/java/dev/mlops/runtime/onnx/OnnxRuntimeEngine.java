package dev.mlops.runtime.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ElementType;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.SessionOptions;
import dev.mlops.api.TensorSpec;
import dev.mlops.api.UnsafeModelException;
import dev.mlops.api.spi.InferenceEngine;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.runtime.security.ExternalDataGuard;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The ONNX Runtime engine. Uses the process-wide {@link OrtEnvironment} (ONNX Runtime allows one
 * per process) and creates every session from a verified file path, after {@link ExternalDataGuard}
 * has checked that the model's external data stays among the artifact's files (an {@link
 * dev.mlops.api.UnsafeModelException} otherwise).
 *
 * <p>Each session takes its settings from the {@link SessionOptions} given to {@link
 * #open(ArtifactLocation, SessionOptions)}; {@link #open(ArtifactLocation)} uses {@link
 * SessionOptions#DEFAULTS}: one intra-op and one inter-op thread, so that many concurrent callers
 * do not oversubscribe the cores, every graph optimisation, sequential execution. Give a large
 * model served to few callers more intra-op threads.
 *
 * <p>Native log lines go to stderr, where ONNX Runtime writes them. While a session loads, it
 * writes lines of {@link SessionOptions#nativeLogLevel()} and above. While it runs, it writes only
 * fatal lines unless that level is {@link SessionOptions.LogLevel#VERBOSE} or {@link
 * SessionOptions.LogLevel#INFO}: a failed run already reaches the caller as a {@link
 * dev.mlops.api.PredictionException}, so ONNX Runtime's own error line for it would only repeat it
 * on every failed call.
 *
 * <p>Load and run failures are reported in words: the message names the model file relative to its
 * artifact directory, the operator, domain and opset at fault and what to do; ONNX Runtime's own
 * text, with its source locations, stays in the cause.
 *
 * <p>ONNX Runtime's telemetry is turned off when an engine is built, unless {@link
 * Builder#telemetry(boolean) telemetry(true)} asks for it: where ONNX Runtime collects it (its
 * Windows builds), it records events about the sessions it creates, model file names among them.
 * The environment is one per process, so the setting is too: the engine built last decides it.
 *
 * <p>Runs never outlive the engine or the JVM inside ONNX Runtime: {@link #close()} terminates the
 * runs still in progress on its sessions and waits for them to return, and at JVM exit the runs of
 * every engine get {@link NativeRuns#EXIT_GRACE} to finish before they are terminated and awaited
 * the same way. ONNX Runtime's Java binding frees its process-wide environment from a JVM shutdown
 * hook of its own, which runs concurrently with every other hook; a run still inside ONNX Runtime
 * then reads freed memory and the JVM dies with SIGSEGV. The engine therefore holds a reference of
 * its own on that environment ({@link NativeRuns}), so that the binding's hook never frees it and
 * the memory goes back to the system with the process.
 *
 * <p>Thread-safe.
 */
public final class OnnxRuntimeEngine implements InferenceEngine {

  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(OnnxRuntimeEngine.class);

  /** How long {@link #close()} waits for terminated runs to return from ONNX Runtime. */
  static final long STOP_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final OrtEnvironment env;

  /** "ONNX Runtime 1.29.0", or "this ONNX Runtime" if the native library does not say. */
  private final String runtime;

  private final AtomicBoolean closed = new AtomicBoolean();

  /** Pinned tensors (inputs and outputs) made and closed by this engine's sessions. */
  private final java.util.concurrent.atomic.AtomicLong pinnedMade =
      new java.util.concurrent.atomic.AtomicLong();

  private final java.util.concurrent.atomic.AtomicLong pinnedClosed =
      new java.util.concurrent.atomic.AtomicLong();

  /** Open sessions, whose runs close() and the JVM's exit terminate. */
  private final Set<OnnxSession> sessions = ConcurrentHashMap.newKeySet();

  private final ScheduledExecutorService givenDeadlines;
  private volatile ScheduledExecutorService ownDeadlines;

  private OnnxRuntimeEngine(Builder b) {
    CommandLineCheck.once();
    this.env = OrtEnvironment.getEnvironment();
    try {
      b.telemetrySwitch.set(env, b.telemetry);
    } catch (OrtException e) {
      throw new IllegalStateException(
          "cannot turn ONNX Runtime's telemetry "
              + (b.telemetry ? "on" : "off")
              + " as OnnxRuntimeEngine.Builder.telemetry("
              + b.telemetry
              + ") asks: "
              + e.getMessage(),
          e);
    }
    this.runtime = runtimeName(env);
    this.givenDeadlines = b.deadlines;
    NativeRuns.register(this);
  }

  /** Turns telemetry on or off; a seam so that tests can see the call the engine makes. */
  @FunctionalInterface
  interface TelemetrySwitch {
    void set(OrtEnvironment env, boolean on) throws OrtException;
  }

  private static String runtimeName(OrtEnvironment env) {
    try {
      String version = env.getVersion();
      if (version != null && !version.isBlank()) {
        return "ONNX Runtime " + version.strip();
      }
    } catch (RuntimeException | LinkageError e) {
      // An older native library without the call: messages leave the version out.
    }
    return "this ONNX Runtime";
  }

  /**
   * Terminates runs at their deadline: the builder's scheduler, or one daemon thread made on first
   * use.
   */
  ScheduledExecutorService deadlines() {
    if (givenDeadlines != null) {
      return givenDeadlines;
    }
    ScheduledExecutorService s = ownDeadlines;
    if (s == null) {
      synchronized (this) {
        s = ownDeadlines;
        if (s == null) {
          ScheduledThreadPoolExecutor pool =
              new ScheduledThreadPoolExecutor(
                  1,
                  r -> {
                    Thread t = new Thread(r, "mlops-onnx-deadlines");
                    t.setDaemon(true);
                    return t;
                  });
          pool.setRemoveOnCancelPolicy(true);
          ownDeadlines = s = pool;
        }
      }
    }
    return s;
  }

  /** An engine with default settings; also what {@link java.util.ServiceLoader} creates. */
  public OnnxRuntimeEngine() {
    this(new Builder());
  }

  /** Starts a builder. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String name() {
    return "onnxruntime";
  }

  /** Opens a session with {@link SessionOptions#DEFAULTS}. */
  @Override
  public ModelSession open(ArtifactLocation artifact) {
    return open(artifact, SessionOptions.DEFAULTS);
  }

  /**
   * Opens a session with these options, each mapped onto ONNX Runtime's session options.
   *
   * @throws ModelLoadException if ONNX Runtime cannot load the model; the message names the model
   *     file relative to the artifact directory and says why, the cause is ONNX Runtime's error
   * @throws UnsafeModelException if the model's external data points outside the artifact
   * @throws dev.mlops.api.ClosedException if the engine is closed
   */
  @Override
  public ModelSession open(ArtifactLocation artifact, SessionOptions options) {
    Objects.requireNonNull(artifact, "artifact");
    Objects.requireNonNull(options, "options");
    if (closed.get()) {
      throw new dev.mlops.api.ClosedException("the ONNX Runtime engine is closed");
    }
    // Callers add the model reference and the user's source file; the staging directory this
    // file lies in is gone by the time anyone reads the message, so only the relative name is
    // given.
    String name = relativeName(artifact);
    String file = artifact.modelFile().toString();
    // ONNX Runtime follows links and opens devices: only a regular file of the artifact is read.
    if (java.nio.file.Files.isSymbolicLink(artifact.modelFile())) {
      throw new UnsafeModelException(
          "model file " + name + " is a symbolic link; expected a regular file of the artifact");
    }
    if (!java.nio.file.Files.isRegularFile(
        artifact.modelFile(), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw new ModelLoadException(
          "ONNX Runtime cannot load "
              + name
              + (java.nio.file.Files.exists(
                      artifact.modelFile(), java.nio.file.LinkOption.NOFOLLOW_LINKS)
                  ? ": it is not a regular file"
                  : ": the file does not exist in the artifact directory"));
    }
    // Before ONNX Runtime reads a byte: refuse external data outside the artifact's own files.
    // A file the check cannot parse is left to ONNX Runtime's parser, whose error says more;
    // should that parser accept it anyway, the unchecked model is refused below.
    ModelLoadException unchecked = null;
    try {
      ExternalDataGuard.check(artifact);
    } catch (UnsafeModelException e) {
      throw e;
    } catch (ModelLoadException e) {
      unchecked = e;
    }
    OnnxSession opened = openSession(artifact, options, name, file, unchecked);
    sessions.add(opened);
    if (closed.get()) {
      // Closed while this session opened: close() may not have seen it.
      opened.close();
      throw new dev.mlops.api.ClosedException("the ONNX Runtime engine is closed");
    }
    return opened;
  }

  /** Creates the native session; on failure nothing native is left open. */
  private OnnxSession openSession(
      ArtifactLocation artifact,
      SessionOptions options,
      String name,
      String file,
      ModelLoadException unchecked) {
    OrtSession session = null;
    OrtSession.RunOptions runOptions = null;
    try (OrtSession.SessionOptions ortOptions = sessionOptions(options)) {
      session = env.createSession(file, ortOptions);
      if (unchecked != null) {
        throw unchecked;
      }
      ModelSignature signature =
          new ModelSignature(
              specs("input", session.getInputInfo()), specs("output", session.getOutputInfo()));
      OrtLoggingLevel runLevel = runLogLevel(options.nativeLogLevel());
      runOptions = new OrtSession.RunOptions();
      runOptions.setLogLevel(runLevel);
      return new OnnxSession(this, env, session, runOptions, runLevel, signature);
    } catch (OrtException | RuntimeException e) {
      if (runOptions != null) {
        runOptions.close();
      }
      if (session != null) {
        closeQuietly(session);
      }
      if (e instanceof ModelLoadException m) {
        // Refused here, not by ONNX Runtime: an unchecked file or a tensor type Java cannot hold.
        throw new ModelLoadException(
            "cannot load " + name + ": " + m.getMessage().replace(file, name), m);
      }
      if (e instanceof OrtException o) {
        String why =
            NativeErrors.load(
                o.getMessage(),
                file,
                name,
                runtime,
                domain -> OpsetImports.version(artifact.modelFile(), domain));
        throw new ModelLoadException("ONNX Runtime cannot load " + name + ": " + why, e);
      }
      throw new ModelLoadException("ONNX Runtime cannot load " + name + ": " + e, e);
    }
  }

  /** The model file's path relative to the artifact directory, e.g. {@code model.onnx}. */
  static String relativeName(ArtifactLocation artifact) {
    Path dir = artifact.directory().toAbsolutePath().normalize();
    Path model = artifact.modelFile().toAbsolutePath().normalize();
    String rel = dir.relativize(model).toString();
    return rel.isEmpty() ? String.valueOf(model.getFileName()) : rel;
  }

  private static OrtSession.SessionOptions sessionOptions(SessionOptions o) throws OrtException {
    OrtSession.SessionOptions s = new OrtSession.SessionOptions();
    try {
      s.setIntraOpNumThreads(o.intraOpThreads());
      s.setInterOpNumThreads(o.interOpThreads());
      s.setOptimizationLevel(
          switch (o.optimizationLevel()) {
            case NONE -> OrtSession.SessionOptions.OptLevel.NO_OPT;
            case BASIC -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
            case EXTENDED -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
            case ALL -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
          });
      s.setExecutionMode(
          switch (o.executionMode()) {
            case SEQUENTIAL -> OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL;
            case PARALLEL -> OrtSession.SessionOptions.ExecutionMode.PARALLEL;
          });
      s.setSessionLogLevel(ortLevel(o.nativeLogLevel()));
      return s;
    } catch (OrtException | RuntimeException e) {
      s.close();
      throw e;
    }
  }

  static OrtLoggingLevel ortLevel(SessionOptions.LogLevel level) {
    return switch (level) {
      case VERBOSE -> OrtLoggingLevel.ORT_LOGGING_LEVEL_VERBOSE;
      case INFO -> OrtLoggingLevel.ORT_LOGGING_LEVEL_INFO;
      case WARNING -> OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING;
      case ERROR -> OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR;
      case FATAL -> OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
    };
  }

  /**
   * The level runs log at: a failed run's error line would repeat the PredictionException the
   * caller gets, so only someone debugging the engine (VERBOSE, INFO) sees run lines below FATAL.
   */
  static OrtLoggingLevel runLogLevel(SessionOptions.LogLevel level) {
    return switch (level) {
      case VERBOSE, INFO -> ortLevel(level);
      case WARNING, ERROR, FATAL -> OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
    };
  }

  private static List<TensorSpec> specs(String kind, Map<String, NodeInfo> infos) {
    List<TensorSpec> out = new ArrayList<>(infos.size());
    for (NodeInfo node : infos.values()) {
      if (!(node.getInfo() instanceof TensorInfo)) {
        throw new ModelLoadException(
            "it has "
                + kind
                + " '"
                + node.getName()
                + "' of kind "
                + node.getInfo()
                + "; only tensor inputs and outputs are supported (export scikit-learn classifiers with zipmap=False)");
      }
      TensorInfo info = (TensorInfo) node.getInfo();
      ElementType type = TensorConversions.elementType(info, node.getName());
      out.add(TensorSpec.of(node.getName(), type, dims(info.getShape())));
    }
    return out;
  }

  private static long[] dims(long[] shape) {
    long[] d = shape.clone();
    for (int i = 0; i < d.length; i++) {
      if (d[i] < 0) {
        d[i] = TensorSpec.DYNAMIC;
      }
    }
    return d;
  }

  static void closeQuietly(OrtSession session) {
    try {
      session.close();
    } catch (OrtException | RuntimeException ignored) {
      // Closing a half-built session can fail again; the load failure is what the caller needs.
    }
  }

  /** A session closed: it no longer needs stopping. */
  void forget(OnnxSession session) {
    sessions.remove(session);
  }

  /**
   * Terminates the runs in progress on this engine's sessions (each ends with a {@link
   * dev.mlops.api.ClosedException} naming {@code why}; the sessions refuse further runs) and waits
   * up to {@code waitNanos} for every one to return from ONNX Runtime.
   *
   * @return whether none is in progress any more
   */
  boolean stopRuns(String why, long waitNanos) {
    for (OnnxSession s : sessions) {
      s.stopRuns(why);
    }
    return awaitRuns(waitNanos);
  }

  /** Waits up to {@code waitNanos} until no session of this engine has a run in progress. */
  boolean awaitRuns(long waitNanos) {
    long deadline = System.nanoTime() + waitNanos;
    for (; ; ) {
      if (runsInProgress() == 0) {
        return true;
      }
      if (System.nanoTime() - deadline >= 0) {
        return false;
      }
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return runsInProgress() == 0;
      }
    }
  }

  java.util.concurrent.atomic.AtomicLong pinnedMade() {
    return pinnedMade;
  }

  java.util.concurrent.atomic.AtomicLong pinnedClosed() {
    return pinnedClosed;
  }

  /**
   * The pinned tensors of this engine's sessions so far: native tensors over direct buffers, for
   * inputs and outputs, pooled per session and shape. Each is closed exactly once, at the latest
   * when its session closes, so once every session is closed the two counts are equal.
   *
   * @param made tensors made
   * @param closed tensors closed
   */
  public record PinnedTensors(long made, long closed) {}

  /** How many pinned tensors this engine's sessions have made and closed. */
  public PinnedTensors pinnedTensors() {
    return new PinnedTensors(pinnedMade.get(), pinnedClosed.get());
  }

  /** Runs in progress on this engine's sessions. */
  int runsInProgress() {
    int n = 0;
    for (OnnxSession s : sessions) {
      n += s.runsInProgress();
    }
    return n;
  }

  /**
   * Marks the engine closed so it opens no new sessions, terminates the runs still in progress on
   * its sessions and waits (up to 10 s) until each has returned from ONNX Runtime, then stops its
   * own deadline scheduler. Does not close the process-wide ONNX Runtime environment (other engines
   * in the same process share it). Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (!stopRuns("the ONNX Runtime engine is closing", STOP_WAIT_NANOS)) {
      LOG.warn(
          "{} run(s) were still inside ONNX Runtime 10 s after the engine told them to terminate",
          runsInProgress());
    }
    NativeRuns.forget(this);
    ScheduledExecutorService s = ownDeadlines;
    if (s != null) {
      s.shutdownNow();
    }
  }

  @Override
  public String toString() {
    return "OnnxRuntimeEngine[" + runtime + "]";
  }

  /** Element types this engine can exchange with Java, for documentation and tests. */
  public static List<ElementType> supportedElementTypes() {
    return List.of(ElementType.values());
  }

  /**
   * Builder for {@link OnnxRuntimeEngine}. Session settings (threads, optimisation, logging) are
   * not here but in the {@link SessionOptions} given to each {@link
   * OnnxRuntimeEngine#open(ArtifactLocation, SessionOptions) open}. Not thread-safe.
   */
  public static final class Builder {
    private ScheduledExecutorService deadlines;
    private boolean telemetry;
    private boolean telemetrySet;
    private TelemetrySwitch telemetrySwitch = OrtEnvironment::setTelemetry;

    private Builder() {}

    /**
     * Whether ONNX Runtime may collect its telemetry (default {@code false}: the engine turns it
     * off). Where ONNX Runtime collects it (its Windows builds), telemetry records events about the
     * sessions it creates, model file names among them; other builds collect none, and the call
     * changes nothing there. The setting is process-wide, like ONNX Runtime's environment: the
     * engine built last decides it.
     *
     * @throws IllegalStateException if it was already set
     */
    public Builder telemetry(boolean enabled) {
      if (telemetrySet) {
        throw new IllegalStateException("telemetry was already set to " + telemetry);
      }
      this.telemetry = enabled;
      telemetrySet = true;
      return this;
    }

    /** For tests: what turns telemetry on or off. */
    Builder telemetrySwitch(TelemetrySwitch s) {
      this.telemetrySwitch = Objects.requireNonNull(s, "s");
      return this;
    }

    /**
     * Scheduler that terminates runs at their deadline (default: one daemon thread, made on the
     * first call with a deadline and stopped by {@link OnnxRuntimeEngine#close()}). The caller owns
     * a scheduler given here.
     */
    public Builder deadlineScheduler(ScheduledExecutorService scheduler) {
      this.deadlines = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /** Builds the engine. */
    public OnnxRuntimeEngine build() {
      return new OnnxRuntimeEngine(this);
    }
  }
}
