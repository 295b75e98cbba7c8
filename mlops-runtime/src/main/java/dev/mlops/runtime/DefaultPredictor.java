package dev.mlops.runtime;

import dev.mlops.api.CallOptions;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.OverloadedException;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;

/**
 * A predictor over the runtime's {@link SessionCache}: a {@link Binding} that follows the target
 * and hands out leases, a {@link CallPipeline} that runs each call on one, and, with dynamic
 * batching, a {@link Batcher} that runs queued calls through the same pipeline.
 */
final class DefaultPredictor<I, O> implements Predictor<I, O> {

  private final Mlops runtime;

  /**
   * Read by the benchmarks' {@code SharedSession} (by reflection), with {@code Binding.current}.
   */
  private final Binding binding;

  private final CallPipeline<I, O> pipeline;
  private final Batcher<I, O> batcher;

  /** The deadline of calls made without one, null for none. */
  private final Duration defaultDeadline;

  DefaultPredictor(
      Mlops runtime, ModelRef target, CallPipeline<I, O> pipeline, PredictorBuilder<I, O> options) {
    this.runtime = runtime;
    this.pipeline = pipeline;
    this.defaultDeadline = options.defaultDeadline;
    this.binding = new Binding(runtime, target, options, pipeline::outputsFor);
    try {
      this.batcher =
          options.batching == null
              ? null
              : new Batcher<>(
                  pipeline, binding, options.batching, binding.servingOrLast().signature());
    } catch (RuntimeException e) {
      binding.close();
      throw e;
    }
    binding.follow();
  }

  Binding binding() {
    return binding;
  }

  /** Refuses a deadline that has passed before the call starts. */
  static void checkTimeout(Duration timeout) {
    if (timeout != null && (timeout.isZero() || timeout.isNegative())) {
      throw new IllegalArgumentException(
          "timeout must be positive but was "
              + timeout
              + "; pass null (or call predict(input)) for no deadline");
    }
  }

  static <T> T checkInput(T input) {
    if (input == null) {
      throw new NullPointerException("input must not be null; pass the value to predict");
    }
    return input;
  }

  @Override
  public ModelRef target() {
    return binding.target();
  }

  @Override
  public Optional<ModelVersion> servingVersion() {
    return binding.servingVersion();
  }

  @Override
  public Prediction<O> predict(I input) {
    checkInput(input);
    long start = pipeline.now();
    return run(input, start, byDefault(start), "");
  }

  /** The deadline of a call started at {@code start} without one of its own. */
  private long byDefault(long start) {
    return defaultDeadline == null
        ? CallPipeline.NO_DEADLINE
        : CallPipeline.deadline(start, defaultDeadline);
  }

  @Override
  public Prediction<O> predict(I input, Duration timeout) {
    checkInput(input);
    checkTimeout(timeout);
    long start = pipeline.now();
    return run(input, start, CallPipeline.deadline(start, timeout), "");
  }

  @Override
  public Prediction<O> predict(I input, CallOptions options) {
    checkInput(input);
    Objects.requireNonNull(options, "options must not be null; pass CallOptions.NONE for none");
    long start = pipeline.now();
    long deadline =
        options.deadline().isPresent()
            ? CallPipeline.deadline(start, options.deadline().get())
            : byDefault(start);
    return run(input, start, deadline, options.requestKey());
  }

  /**
   * One call on the caller's thread: on the rollout's candidate when the route takes it (never
   * batched: a canary's share is small), else on the stable version, batched if configured. Under
   * an analysed rollout each call is counted for its arm.
   */
  private Prediction<O> run(I input, long start, long deadline, String key) {
    Binding.Route r = binding.route();
    if (r == null) {
      return stable(input, start, deadline, key);
    }
    return r.takes(key)
        ? onCandidate(r, input, start, deadline, key)
        : onStable(r, input, start, deadline, key);
  }

  /**
   * A call the route gave the stable arm: counted for the analysis if the rollout has one, and
   * mirrored to the candidate if the rollout's shadow takes it.
   */
  private Prediction<O> onStable(Binding.Route r, I input, long start, long deadline, String key) {
    CallPipeline.Tap tap = r.mirrors(key) ? shadowTap(r) : null;
    if (!r.analysed()) {
      return stable(input, start, deadline, key, tap);
    }
    try {
      Prediction<O> p = stable(input, start, deadline, key, tap);
      r.record(false, dev.mlops.api.spi.Outcome.SUCCESS, p.latencyNanos());
      return p;
    } catch (dev.mlops.api.MlopsException e) {
      r.record(false, CallPipeline.outcome(e), pipeline.now() - start);
      throw e;
    }
  }

  /**
   * Hands a stable call's inputs and outputs to the runtime's shadow, for {@code r}'s candidate.
   */
  private CallPipeline.Tap shadowTap(Binding.Route r) {
    return (version, inputs, outputs) ->
        runtime.shadow().offer(pipeline, r, version, inputs, outputs);
  }

  private Prediction<O> stable(I input, long start, long deadline, String key) {
    return stable(input, start, deadline, key, null);
  }

  private Prediction<O> stable(
      I input, long start, long deadline, String key, CallPipeline.Tap tap) {
    if (batcher != null) {
      return batcher.call(input, start, deadline, key, tap);
    }
    return pipeline.direct(binding, input, start, deadline, key, tap);
  }

  /**
   * A call the route gave the candidate: leased, counted and released; on the stable arm if the
   * route was replaced meanwhile.
   */
  private Prediction<O> onCandidate(
      Binding.Route r, I input, long start, long deadline, String key) {
    SessionHandle h = binding.leaseCandidate(r);
    if (h == null) {
      return stable(input, start, deadline, key);
    }
    try {
      Prediction<O> p = pipeline.call(h, input, start, deadline, key, Prediction.Arm.CANDIDATE);
      if (r.analysed()) {
        r.record(true, dev.mlops.api.spi.Outcome.SUCCESS, p.latencyNanos());
      }
      return p;
    } catch (dev.mlops.api.MlopsException e) {
      if (r.analysed()) {
        r.record(true, CallPipeline.outcome(e), pipeline.now() - start);
      }
      throw e;
    } finally {
      h.releaseAfterCall();
    }
  }

  @Override
  public List<Prediction<O>> predictAll(List<? extends I> inputs) {
    Objects.requireNonNull(inputs, "inputs");
    for (int i = 0; i < inputs.size(); i++) {
      if (inputs.get(i) == null) {
        throw new NullPointerException("inputs[" + i + "] must not be null");
      }
    }
    if (binding.route() != null) {
      // Each input is routed on its own while a rollout is in force.
      List<Prediction<O>> out = new ArrayList<>(inputs.size());
      for (I input : inputs) {
        out.add(run(input, pipeline.now(), CallPipeline.NO_DEADLINE, ""));
      }
      return out;
    }
    if (batcher != null) {
      return batcher.callAll(inputs, "");
    }
    long start = pipeline.now();
    SessionHandle h;
    try {
      h = binding.lease(start, CallPipeline.NO_DEADLINE);
    } catch (dev.mlops.api.ClosedException e) {
      throw e;
    } catch (dev.mlops.api.MlopsException e) {
      pipeline.record(0, pipeline.now() - start, 0, 1, CallPipeline.outcome(e), "");
      throw e;
    }
    try {
      List<Prediction<O>> out = new ArrayList<>(inputs.size());
      for (I input : inputs) {
        out.add(pipeline.call(h, input, pipeline.now(), CallPipeline.NO_DEADLINE, ""));
      }
      return out;
    } finally {
      h.releaseAfterCall();
    }
  }

  @Override
  public CompletableFuture<Prediction<O>> predictAsync(I input) {
    return predictAsync(input, CallOptions.NONE);
  }

  @Override
  public CompletableFuture<Prediction<O>> predictAsync(I input, CallOptions options) {
    checkInput(input);
    Objects.requireNonNull(options, "options must not be null; pass CallOptions.NONE for none");
    if (binding.isClosed()) {
      return CompletableFuture.failedFuture(binding.closedException());
    }
    long submitted = pipeline.now();
    long deadline =
        options.deadline().isPresent()
            ? CallPipeline.deadline(submitted, options.deadline().get())
            : byDefault(submitted);
    String key = options.requestKey();
    Binding.Route r = binding.route();
    boolean candidate = r != null && r.takes(key);
    if (batcher != null && !candidate) {
      return r == null
          ? batcher.submit(input, submitted, deadline, key, null)
          : stableAsync(r, input, submitted, deadline, key);
    }
    try {
      return CompletableFuture.supplyAsync(
          () -> {
            // The arm was picked above, once: picking again here would skew the weight.
            long start = pipeline.now();
            if (r == null) {
              return stable(input, start, deadline, key);
            }
            return candidate
                ? onCandidate(r, input, start, deadline, key)
                : onStable(r, input, start, deadline, key);
          },
          runtime.executor());
    } catch (RejectedExecutionException e) {
      // Close may shut the executor down after the check above; a caller's executor may be full.
      // Either way the contract is a failed future, not an exception thrown here.
      return CompletableFuture.failedFuture(
          binding.isClosed()
              ? binding.closedException()
              : new OverloadedException(
                  "the executor rejected an async call on "
                      + binding.target()
                      + ": "
                      + e.getMessage()
                      + "; give the runtime an executor with room, or call predict",
                  e));
    }
  }

  /**
   * A batched async call the route gave the stable arm: mirrored if the shadow takes it, and
   * counted for the analysis when it completes.
   */
  private CompletableFuture<Prediction<O>> stableAsync(
      Binding.Route r, I input, long submitted, long deadline, String key) {
    CallPipeline.Tap tap = r.mirrors(key) ? shadowTap(r) : null;
    CompletableFuture<Prediction<O>> f = batcher.submitTapped(input, submitted, deadline, key, tap);
    if (r.analysed()) {
      f.whenComplete(
          (p, e) -> {
            if (p != null) {
              r.record(false, dev.mlops.api.spi.Outcome.SUCCESS, p.latencyNanos());
            } else {
              Throwable cause =
                  e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                      ? e.getCause()
                      : e;
              r.record(false, CallPipeline.outcome(cause), pipeline.now() - submitted);
            }
          });
    }
    return f;
  }

  /** What {@link Mlops#state()} reports of this predictor. */
  RuntimeState.PredictorState state() {
    return new RuntimeState.PredictorState(
        binding.target(),
        binding.servingNumber(),
        binding.swapMode(),
        batcher != null,
        binding.warmVersions());
  }

  @Override
  public void close() {
    if (batcher != null) {
      batcher.close();
    }
    if (binding.close()) {
      runtime.forget(this);
    }
  }

  @Override
  public String toString() {
    return "Predictor["
        + binding.target()
        + " -> "
        + servingVersion().map(v -> "v" + v.version()).orElse("none")
        + ", "
        + pipeline.codec()
        + (defaultDeadline != null ? ", deadline " + defaultDeadline : "")
        + "]";
  }
}
