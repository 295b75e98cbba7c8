package dev.mlops.api;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Runs a model in-process: encodes an input with a {@link Codec}, checks it against the serving
 * version's signature, runs the engine and decodes the output.
 *
 * <p>A predictor either pins one version or follows an alias or {@code latest}; when the alias
 * moves, the predictor switches to the new version after it has loaded, and calls already running
 * finish on the old one. Thread-safe: one predictor serves any number of threads.
 *
 * @param <I> input type
 * @param <O> output type
 */
public interface Predictor<I, O> extends AutoCloseable {

  /** The reference this predictor serves. */
  ModelRef target();

  /** The version serving now, if one is loaded. */
  Optional<ModelVersion> servingVersion();

  /**
   * Runs one prediction.
   *
   * @throws InvalidInputException if the input does not fit the signature
   * @throws PredictionException if the engine fails
   * @throws ClosedException if the predictor is closed
   */
  Prediction<O> predict(I input);

  /**
   * Runs one prediction that must finish within {@code timeout}: the engine run is terminated when
   * the deadline passes (the session stays usable) and, with dynamic batching, a request still
   * queued at its deadline is dropped without running. The same as {@code predict(input,
   * CallOptions.NONE.deadline(timeout))}; a {@code null} timeout means no deadline.
   *
   * @throws PredictionTimeoutException if the deadline passes
   * @throws IllegalArgumentException if {@code timeout} is zero or negative
   */
  Prediction<O> predict(I input, java.time.Duration timeout);

  /**
   * Runs one prediction with per-call options: a deadline (as {@link #predict(Object,
   * java.time.Duration)}) and a request key, which every metric event of the call carries.
   *
   * @throws PredictionTimeoutException if the deadline passes
   * @throws InvalidInputException if the input does not fit the signature
   * @throws PredictionException if the engine fails
   * @throws ClosedException if the predictor is closed
   */
  Prediction<O> predict(I input, CallOptions options);

  /**
   * Runs one prediction per input, all on the same version (the one serving when the call starts,
   * even if the predictor switches meanwhile), results in input order.
   */
  List<Prediction<O>> predictAll(List<? extends I> inputs);

  /**
   * Runs one prediction off the caller's thread: on the predictor's executor, or with dynamic
   * batching in its batching queue. Never throws for a failed prediction: every failure (invalid
   * input, engine or codec failure, a full queue, a closed predictor) completes the future
   * exceptionally.
   */
  CompletableFuture<Prediction<O>> predictAsync(I input);

  /**
   * {@link #predictAsync(Object)} with per-call options. The deadline runs from this call, so time
   * spent waiting for an executor thread or in the batching queue counts against it.
   */
  CompletableFuture<Prediction<O>> predictAsync(I input, CallOptions options);

  /**
   * Stops serving and releases the predictor's sessions once calls in flight finish. Idempotent.
   */
  @Override
  void close();
}
