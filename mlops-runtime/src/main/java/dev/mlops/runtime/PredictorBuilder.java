package dev.mlops.runtime;

import dev.mlops.api.Codec;
import dev.mlops.api.ModelRef;
import dev.mlops.api.Predictor;
import dev.mlops.api.WarmUpPolicy;
import dev.mlops.api.spi.ModelSession;
import java.time.Duration;
import java.util.Objects;

/**
 * Options of one predictor; start with {@link Mlops#newPredictor(ModelRef, Codec)}. Each option may
 * be set once. Not thread-safe.
 *
 * @param <I> input type
 * @param <O> output type
 */
public final class PredictorBuilder<I, O> {

  private final Mlops runtime;
  private final ModelRef target;
  private final Codec<I, O> codec;
  SwapMode swapMode = SwapMode.AVAILABILITY_PRESERVING;
  Duration swapGapTimeout = Duration.ofSeconds(30);
  int keepWarm;
  BatchingOptions batching;
  Duration defaultDeadline;
  long maxInputElements = 1L << 24;
  long maxRows = Long.MAX_VALUE;
  long maxOutputBytes = ModelSession.DEFAULT_MAX_OUTPUT_BYTES;
  WarmUpPolicy warmUp;
  Duration warmUpDeadline;
  dev.mlops.api.SessionOptions sessionOptions;
  boolean allowEmptyTensors;
  boolean acceptIncompatibleVersions;
  private final java.util.Set<String> set = new java.util.HashSet<>();
  private boolean swapModeSet;
  private boolean gapSet;
  private boolean keepWarmSet;

  PredictorBuilder(Mlops runtime, ModelRef target, Codec<I, O> codec) {
    this.runtime = runtime;
    this.target = Objects.requireNonNull(target, "target");
    this.codec = Objects.requireNonNull(codec, "codec");
  }

  /** How to move to a new version (default {@link SwapMode#AVAILABILITY_PRESERVING}). */
  public PredictorBuilder<I, O> swapMode(SwapMode mode) {
    if (swapModeSet) {
      throw new IllegalStateException("swapMode: already set");
    }
    this.swapMode = Objects.requireNonNull(mode, "mode");
    swapModeSet = true;
    return this;
  }

  /**
   * In {@link SwapMode#RESOURCE_PRESERVING} mode, how long a call waits for the new version before
   * it fails (default 30 s).
   */
  public PredictorBuilder<I, O> swapGapTimeout(Duration timeout) {
    if (gapSet) {
      throw new IllegalStateException("swapGapTimeout: already set");
    }
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("swapGapTimeout must not be negative: " + timeout);
    }
    this.swapGapTimeout = timeout;
    gapSet = true;
    return this;
  }

  /**
   * Keeps the last {@code versions} versions this predictor served loaded, beyond the shared
   * cache's budget, so that rolling back to them needs no load (default 0: the shared cache
   * decides).
   */
  public PredictorBuilder<I, O> keepWarm(int versions) {
    if (keepWarmSet) {
      throw new IllegalStateException("keepWarm: already set");
    }
    if (versions < 0) {
      throw new IllegalArgumentException("keepWarm must be >= 0 but was " + versions);
    }
    this.keepWarm = versions;
    keepWarmSet = true;
    return this;
  }

  private void once(String option) {
    if (!set.add(option)) {
      throw new IllegalStateException(option + ": already set");
    }
  }

  /**
   * Merges concurrent calls into batched engine runs. Needs a model whose inputs and outputs all
   * have a dynamic first dimension.
   */
  public PredictorBuilder<I, O> batching(BatchingOptions options) {
    once("batching");
    this.batching = Objects.requireNonNull(options, "options");
    return this;
  }

  /**
   * The deadline of a {@code predict}, {@code predict(input, options)} or {@code predictAsync} call
   * made without one (none by default): such a call fails with {@link
   * dev.mlops.api.PredictionTimeoutException} once it has taken this long. A call's own deadline
   * wins; {@code predict(input, null)} and {@code predictAll} keep none. With batching, requests
   * made without a deadline get this one, as {@link BatchingOptions} {@code defaultTimeout} would.
   */
  public PredictorBuilder<I, O> defaultDeadline(Duration deadline) {
    once("defaultDeadline");
    Objects.requireNonNull(deadline, "deadline");
    if (deadline.isZero() || deadline.isNegative()) {
      throw new IllegalArgumentException("defaultDeadline must be positive, was " + deadline);
    }
    this.defaultDeadline = deadline;
    return this;
  }

  /**
   * Most input elements (summed over all inputs) one call may pass (default 16,777,216), and the
   * largest any one dimension of an input may be, so that an empty tensor cannot carry a huge
   * dimension (such as {@code [0, 2^28]}) that an operator would size its output by. A larger call
   * fails with {@link dev.mlops.api.InvalidInputException} before any native memory is allocated.
   */
  public PredictorBuilder<I, O> maxInputElements(long elements) {
    once("maxInputElements");
    if (elements < 1) {
      throw new IllegalArgumentException("maxInputElements must be >= 1 but was " + elements);
    }
    this.maxInputElements = elements;
    return this;
  }

  /**
   * Most bytes the outputs of one engine run may hold together, counted on the engine's native
   * tensors before any of them is copied into the Java heap (default {@value
   * ModelSession#DEFAULT_MAX_OUTPUT_BYTES}, 256 MiB): element count times element size, 4 bytes for
   * a float32, 1 for a bool, 8 for a string (whose characters are not counted). A run past it fails
   * with a {@link dev.mlops.api.PredictionException} naming the output, its type and shape and the
   * cap, and allocates no Java heap for its outputs: the output of a model is not bounded by its
   * input (a {@code ConstantOfShape} makes a gigabyte from two numbers), and copying it could throw
   * {@link OutOfMemoryError} in the caller's JVM. With {@link #batching}, the cap applies to each
   * merged run.
   *
   * <p>Warm-up runs, which the session cache makes before any predictor serves a version, are
   * capped at the default whatever this option says: a version whose input example makes larger
   * outputs fails to load, and a synthetic warm-up that does is only reported.
   *
   * @throws IllegalArgumentException if {@code bytes} is below 1
   * @throws IllegalStateException if already set
   */
  public PredictorBuilder<I, O> maxOutputBytes(long bytes) {
    if (bytes < 1) {
      throw new IllegalArgumentException("maxOutputBytes must be >= 1 but was " + bytes);
    }
    once("maxOutputBytes");
    this.maxOutputBytes = bytes;
    return this;
  }

  /** Most rows (first dimension) one call may pass (default unlimited). */
  public PredictorBuilder<I, O> maxBatchRows(long rows) {
    once("maxBatchRows");
    if (rows < 1) {
      throw new IllegalArgumentException("maxBatchRows must be >= 1 but was " + rows);
    }
    this.maxRows = rows;
    return this;
  }

  /**
   * How this predictor warms a version up before serving it (default: the runtime's, {@link
   * Mlops#warmUpPolicy()}). A version already loaded under a laxer policy is warmed up as this one
   * asks before this predictor serves it.
   */
  public PredictorBuilder<I, O> warmUp(WarmUpPolicy policy) {
    once("warmUp");
    this.warmUp = Objects.requireNonNull(policy, "policy");
    return this;
  }

  /**
   * How long each warm-up run of a version this predictor loads may take (default: the runtime's,
   * {@link Mlops#warmUpDeadline()}, itself {@link WarmUpPolicy#DEFAULT_DEADLINE} unless set). A run
   * past it is terminated and the load fails with {@link dev.mlops.api.WarmUpTimeoutException}: the
   * build fails, or a swap keeps the version served before. A version already warmed up is not run
   * again.
   *
   * @throws IllegalArgumentException if {@code deadline} is zero or negative
   */
  public PredictorBuilder<I, O> warmUpDeadline(Duration deadline) {
    once("warmUpDeadline");
    this.warmUpDeadline = WarmUpPolicy.checkDeadline("warmUpDeadline", deadline);
    return this;
  }

  /**
   * How the engine runs this predictor's model (default: the runtime's, {@link
   * Mlops#sessionOptions()}). Predictors with other options load sessions of their own.
   */
  public PredictorBuilder<I, O> sessionOptions(dev.mlops.api.SessionOptions options) {
    once("sessionOptions");
    this.sessionOptions = Objects.requireNonNull(options, "options");
    return this;
  }

  /**
   * Lets inputs with a dimension of size zero through to the engine. By default they are refused
   * with {@link dev.mlops.api.InvalidInputException} before native code sees them, because ONNX
   * Runtime does not handle them in every operator: in 1.29.0 an LSTM given an empty batch aborts
   * the whole JVM. Allow them only for a model known to handle them.
   */
  public PredictorBuilder<I, O> allowEmptyTensors() {
    once("allowEmptyTensors");
    this.allowEmptyTensors = true;
    return this;
  }

  /**
   * Lets a predictor that follows an alias or {@code latest} switch to a version whose signature is
   * incompatible with the one it serves. By default it keeps serving its version, reports a {@link
   * dev.mlops.api.event.LifecycleEvent.SwapRefused} event, one WARN line and a {@link
   * dev.mlops.api.AuditAction#SWAP_REFUSED} audit entry, and switches once the reference resolves
   * to a compatible version again. Compatible means: the same input names, each with the same
   * element type and rank, every fixed dimension the same or now dynamic, and every output the
   * codec reads still there with the same element type ({@link
   * dev.mlops.api.ModelSignature#incompatibilities(dev.mlops.api.ModelSignature,
   * java.util.Collection)}).
   */
  public PredictorBuilder<I, O> acceptIncompatibleVersions() {
    once("acceptIncompatibleVersions");
    this.acceptIncompatibleVersions = true;
    return this;
  }

  /**
   * Resolves the target, loads the version and returns the predictor.
   *
   * @throws dev.mlops.api.ModelNotFoundException if the target resolves to nothing
   * @throws dev.mlops.api.ModelLoadException if the version cannot be loaded
   */
  public Predictor<I, O> build() {
    if (swapMode == SwapMode.AVAILABILITY_PRESERVING && gapSet) {
      throw new IllegalStateException(
          "swapGapTimeout applies only to swapMode(RESOURCE_PRESERVING)");
    }
    if (warmUp == null) {
      warmUp = runtime.warmUpPolicy();
    }
    if (warmUpDeadline == null) {
      warmUpDeadline = runtime.warmUpDeadline();
    }
    if (sessionOptions == null) {
      sessionOptions = runtime.sessionOptions();
    }
    CallPipeline<I, O> pipeline =
        new CallPipeline<>(
            target.name(),
            codec,
            runtime.telemetry(),
            runtime.ticker(),
            maxInputElements,
            maxRows,
            maxOutputBytes,
            allowEmptyTensors);
    return runtime.track(new DefaultPredictor<>(runtime, target, pipeline, this));
  }

  Codec<I, O> codec() {
    return codec;
  }
}
