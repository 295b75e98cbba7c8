package dev.mlops.runtime;

import dev.mlops.api.Codec;
import dev.mlops.api.ModelRef;
import dev.mlops.api.Predictor;
import java.time.Duration;
import java.util.Objects;

/**
 * Options of one predictor; start with {@link Mlops#newPredictor(ModelRef, Codec)}. Each option
 * may be set once. Not thread-safe.
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
  long maxInputElements = 1L << 24;
  long maxRows = Long.MAX_VALUE;
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
   * In {@link SwapMode#RESOURCE_PRESERVING} mode, how long a call waits for the new version
   * before it fails (default 30 s).
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
   * Merges concurrent calls into batched engine runs. Needs a model whose inputs and outputs
   * all have a dynamic first dimension.
   */
  public PredictorBuilder<I, O> batching(BatchingOptions options) {
    once("batching");
    this.batching = Objects.requireNonNull(options, "options");
    return this;
  }

  /**
   * Most input elements (summed over all inputs) one call may pass (default 16,777,216); a
   * larger call fails with {@link dev.mlops.api.InvalidInputException} before any native memory
   * is allocated.
   */
  public PredictorBuilder<I, O> maxInputElements(long elements) {
    once("maxInputElements");
    if (elements < 1) {
      throw new IllegalArgumentException("maxInputElements must be >= 1 but was " + elements);
    }
    this.maxInputElements = elements;
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
   * Resolves the target, loads the version and returns the predictor.
   *
   * @throws dev.mlops.api.ModelNotFoundException if the target resolves to nothing
   * @throws dev.mlops.api.ModelLoadException if the version cannot be loaded
   */
  public Predictor<I, O> build() {
    if (swapMode == SwapMode.AVAILABILITY_PRESERVING && gapSet) {
      throw new IllegalStateException("swapGapTimeout applies only to swapMode(RESOURCE_PRESERVING)");
    }
    return runtime.track(new DefaultPredictor<>(runtime, target, codec, this));
  }

  Codec<I, O> codec() {
    return codec;
  }
}
