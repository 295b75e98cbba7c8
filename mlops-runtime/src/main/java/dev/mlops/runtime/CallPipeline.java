package dev.mlops.runtime;

import dev.mlops.api.ClosedException;
import dev.mlops.api.Codec;
import dev.mlops.api.InvalidInputException;
import dev.mlops.api.MlopsException;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.OverloadedException;
import dev.mlops.api.Prediction;
import dev.mlops.api.PredictionException;
import dev.mlops.api.PredictionTimeoutException;
import dev.mlops.api.Tensor;
import dev.mlops.api.TensorSpec;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.api.spi.Outcome;
import dev.mlops.runtime.loading.InputValidator;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * One predictor's call pipeline: encode, validate, engine run, observers, decode, telemetry; the
 * mapping of failures to typed exceptions and outcomes. It holds no session: every step runs on a
 * {@link SessionHandle} its caller leased, so the direct path, the batched path and a shadow path
 * (a second arm of traffic routing) all run the same code on whichever version they leased.
 *
 * <p>Deadlines are absolute readings of the runtime's ticker, {@link #NO_DEADLINE} for none.
 * Thread-safe.
 */
final class CallPipeline<I, O> {

  /** The deadline of a call that has none. */
  static final long NO_DEADLINE = Long.MAX_VALUE;

  private final String model;
  private final Codec<I, O> codec;
  private final Telemetry telemetry;
  private final LongSupplier ticker;
  private final long maxInputElements;
  private final long maxRows;
  private final long maxOutputBytes;
  private final boolean allowEmpty;

  /** The outputs the codec reads, for the signature they were computed for. */
  private volatile OutputSelection selection;

  private static final class OutputSelection {
    final ModelSignature signature;
    final Set<String> names;

    /**
     * The input whose first dimension is the batch dimension (the first with a dynamic one), -1 if
     * none.
     */
    final int batchInput;

    OutputSelection(ModelSignature signature, Set<String> names) {
      this.signature = signature;
      this.names = names;
      int b = -1;
      for (int i = 0; i < signature.inputs().size(); i++) {
        TensorSpec in = signature.inputs().get(i);
        if (in.rank() > 0 && in.dim(0) == TensorSpec.DYNAMIC) {
          b = i;
          break;
        }
      }
      this.batchInput = b;
    }
  }

  /**
   * Sees a call the stable arm answered, on the thread that ran it: its version, the encoded inputs
   * and the outputs the codec read (immutable tensors). A rollout's shadow hands them over to the
   * candidate; it must not block or throw.
   */
  interface Tap {
    void answered(ModelVersion version, Map<String, Tensor> inputs, Map<String, Tensor> outputs);
  }

  CallPipeline(
      String model,
      Codec<I, O> codec,
      Telemetry telemetry,
      LongSupplier ticker,
      long maxInputElements,
      long maxRows,
      long maxOutputBytes,
      boolean allowEmpty) {
    this.model = model;
    this.codec = codec;
    this.telemetry = telemetry;
    this.ticker = ticker;
    this.maxInputElements = maxInputElements;
    this.maxRows = maxRows;
    this.maxOutputBytes = maxOutputBytes;
    this.allowEmpty = allowEmpty;
  }

  /** The ticker's reading now, in nanoseconds. */
  long now() {
    return ticker.getAsLong();
  }

  /**
   * Longest timeout honoured (about 73 years): longer ones are cut to it, so that a deadline and
   * the differences taken from it cannot overflow whatever the ticker's origin (nanoTime may be
   * negative).
   */
  private static final Duration LONGEST = Duration.ofNanos(Long.MAX_VALUE / 4);

  /** The deadline {@code timeout} after {@code start}; {@link #NO_DEADLINE} for a null timeout. */
  static long deadline(long start, Duration timeout) {
    if (timeout == null) {
      return NO_DEADLINE;
    }
    return start + (timeout.compareTo(LONGEST) > 0 ? LONGEST : timeout).toNanos();
  }

  Codec<I, O> codec() {
    return codec;
  }

  String model() {
    return model;
  }

  /**
   * Leases the binding's version and runs one call on it, on the caller's thread; a success is
   * shown to {@code tap} unless it is null. A lease that fails for want of a version (not for a
   * closed predictor) is reported as the call's outcome.
   */
  Prediction<O> direct(Binding binding, I input, long start, long deadline, String key, Tap tap) {
    SessionHandle h;
    try {
      h = binding.lease(start, deadline);
    } catch (ClosedException e) {
      throw e;
    } catch (MlopsException e) {
      record(0, now() - start, 0, 1, outcome(e), key);
      throw e;
    }
    try {
      return call(h, input, start, deadline, key, Prediction.Arm.STABLE, tap);
    } finally {
      h.releaseAfterCall();
    }
  }

  /** Runs one call on a version the caller has leased, and reports it. */
  Prediction<O> call(SessionHandle h, I input, long start, long deadline, String key) {
    return call(h, input, start, deadline, key, Prediction.Arm.STABLE);
  }

  /** Runs one call on a version the caller has leased for {@code arm}, and reports it. */
  Prediction<O> call(
      SessionHandle h, I input, long start, long deadline, String key, Prediction.Arm arm) {
    return call(h, input, start, deadline, key, arm, null);
  }

  /** Runs one call for {@code arm} on a leased version; a success is shown to {@code tap}. */
  Prediction<O> call(
      SessionHandle h,
      I input,
      long start,
      long deadline,
      String key,
      Prediction.Arm arm,
      Tap tap) {
    ModelVersion version = h.version;
    Outcome outcome = Outcome.ERROR;
    int rows = 0;
    try {
      ModelSignature signature = version.signature();
      Map<String, Tensor> inputs = encode(version, input);
      rows = rows(signature, inputs);
      Map<String, Tensor> outputs = run(h, signature, inputs, deadline, "prediction");
      O value = decode(version, outputs);
      outcome = Outcome.SUCCESS;
      if (tap != null) {
        tap.answered(version, inputs, outputs);
      }
      return new Prediction<>(value, model, version.version(), now() - start, arm);
    } catch (MlopsException e) {
      outcome = outcome(e);
      throw e;
    } finally {
      record(version.version(), now() - start, 0, rows, outcome, key, arm);
    }
  }

  /**
   * Encodes and validates one input for {@code version}'s signature, before any native memory is
   * touched. A codec's own failure becomes a {@link PredictionException}.
   */
  Map<String, Tensor> encode(ModelVersion version, I input) {
    ModelSignature signature = version.signature();
    Map<String, Tensor> inputs;
    try {
      inputs = codec.encode(input, signature);
    } catch (MlopsException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new PredictionException("encoding an input for " + version.ref() + " failed: " + e, e);
    }
    // No dimension above the element cap: without it an empty tensor's dimensions are unbounded.
    InputValidator.check(signature, inputs, allowEmpty, maxInputElements);
    checkLimits(inputs);
    return inputs;
  }

  /** Input-size limits, checked before any native memory is allocated. */
  private void checkLimits(Map<String, Tensor> inputs) {
    long elements = 0;
    for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
      Tensor t = e.getValue();
      elements += t.elementCount();
      if (t.rank() > 0 && t.dim(0) > maxRows) {
        throw new InvalidInputException(
            e.getKey(), "at most " + maxRows + " rows per call (maxBatchRows)", t.dim(0) + " rows");
      }
    }
    if (elements > maxInputElements) {
      throw new InvalidInputException(
          inputs.keySet().iterator().next(),
          "at most " + maxInputElements + " input elements per call (maxInputElements)",
          elements + " elements");
    }
  }

  /**
   * Runs the engine on validated inputs within the deadline and the output cap (both checked before
   * the outputs are copied into the Java heap), then shows the run to the observers. {@code what}
   * names the run in a failure's message ("prediction", "batched prediction").
   */
  Map<String, Tensor> run(
      SessionHandle h,
      ModelSignature signature,
      Map<String, Tensor> inputs,
      long deadline,
      String what) {
    Duration timeout = null;
    if (deadline != NO_DEADLINE) {
      long left = deadline - now();
      if (left <= 0) {
        throw new PredictionTimeoutException(
            "the deadline of a call to "
                + h.version.ref()
                + " passed before the engine run started");
      }
      timeout = Duration.ofNanos(left);
    }
    Map<String, Tensor> outputs;
    try {
      outputs = h.session.run(inputs, outputsFor(signature), timeout, maxOutputBytes);
    } catch (MlopsException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new PredictionException(what + " on " + h.version.ref() + " failed: " + e, e);
    }
    if (telemetry.hasObservers()) {
      telemetry.observe(h.version, inputs, outputs);
    }
    return outputs;
  }

  /**
   * Runs a batch of validated calls' inputs as one engine run, without a deadline: the engine
   * stages the parts straight into its own buffers ({@link ModelSession#runStacked}), or, when
   * observers must see the batch's inputs, they are stacked on the heap first and shown with the
   * outputs.
   */
  Map<String, Tensor> runBatch(
      SessionHandle h, ModelSignature signature, List<Map<String, Tensor>> parts, String what) {
    if (telemetry.hasObservers()) {
      return run(h, signature, ModelSession.stack(parts), NO_DEADLINE, what);
    }
    try {
      return h.session.runStacked(parts, outputsFor(signature), null, maxOutputBytes);
    } catch (MlopsException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new PredictionException(what + " on " + h.version.ref() + " failed: " + e, e);
    }
  }

  /**
   * A shadow copy of a call on a rollout's candidate, off the caller's thread: the stable call's
   * encoded inputs validated for the candidate, its engine run (observers included) and decoding,
   * which is where a codec that fails on some of the candidate's outputs shows. Not reported as a
   * prediction.
   *
   * @param deadline when the copy's engine run is terminated ({@link PredictionTimeoutException})
   * @return the candidate's outputs, to compare with the stable ones
   */
  Map<String, Tensor> shadowRun(SessionHandle h, Map<String, Tensor> inputs, long deadline) {
    ModelSignature signature = h.version.signature();
    InputValidator.check(signature, inputs, allowEmpty, maxInputElements);
    Map<String, Tensor> outputs = run(h, signature, inputs, deadline, "shadow prediction");
    decode(h.version, outputs);
    return outputs;
  }

  /** Decodes one call's outputs; a codec's own failure becomes a {@link PredictionException}. */
  O decode(ModelVersion version, Map<String, Tensor> outputs) {
    try {
      return codec.decode(outputs, version.signature());
    } catch (MlopsException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new PredictionException("decoding a result of " + version.ref() + " failed: " + e, e);
    }
  }

  /** The outputs the codec reads from a version with this signature. */
  Set<String> outputsFor(ModelSignature signature) {
    return selection(signature).names;
  }

  private OutputSelection selection(ModelSignature signature) {
    OutputSelection o = selection;
    if (o == null || o.signature != signature) {
      o = new OutputSelection(signature, Set.copyOf(codec.outputs(signature)));
      selection = o;
    }
    return o;
  }

  /**
   * Rows of one call: the batch dimension of the signature's batch input, 1 for a model without
   * one.
   */
  int rows(ModelSignature signature, Map<String, Tensor> inputs) {
    int b = selection(signature).batchInput;
    return b < 0 ? 1 : (int) inputs.get(signature.inputs().get(b).name()).dim(0);
  }

  /** Reports one call to the telemetry bus. */
  void record(
      long version,
      long latencyNanos,
      long queueNanos,
      int batchSize,
      Outcome outcome,
      String key) {
    record(version, latencyNanos, queueNanos, batchSize, outcome, key, Prediction.Arm.STABLE);
  }

  /** Reports one call of a rollout arm to the telemetry bus. */
  void record(
      long version,
      long latencyNanos,
      long queueNanos,
      int batchSize,
      Outcome outcome,
      String key,
      Prediction.Arm arm) {
    telemetry.prediction(model, version, latencyNanos, queueNanos, batchSize, outcome, key, arm);
  }

  /** The outcome a typed failure is reported as. */
  static Outcome outcome(Throwable e) {
    if (e instanceof InvalidInputException) {
      return Outcome.INVALID_INPUT;
    }
    if (e instanceof PredictionTimeoutException) {
      return Outcome.TIMEOUT;
    }
    if (e instanceof OverloadedException) {
      return Outcome.OVERLOADED;
    }
    return Outcome.ERROR;
  }

  /**
   * A failure as the typed exception callers get: itself if typed, else a {@link
   * PredictionException}.
   */
  static MlopsException typed(Throwable e, String what) {
    return e instanceof MlopsException m ? m : new PredictionException(what + " failed: " + e, e);
  }
}
