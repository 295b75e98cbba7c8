package dev.mlops.runtime.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.PredictionException;
import dev.mlops.api.PredictionTimeoutException;
import dev.mlops.api.Tensor;
import dev.mlops.api.TensorSpec;
import dev.mlops.api.spi.ModelSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One ONNX Runtime session. {@code run} is thread-safe; every native tensor it makes is closed.
 *
 * <p>Numeric inputs are staged in direct buffers that each thread reuses (one per input), so a call
 * allocates no native buffer of its own; ONNX Runtime reads them in place.
 *
 * <p>Runs without a deadline share one {@link OrtSession.RunOptions}, made with the session and
 * closed with it, that carries the run log level; a run with a deadline makes its own, since
 * terminating it must not terminate the others.
 */
final class OnnxSession implements ModelSession {

  private final OnnxRuntimeEngine engine;
  private final OrtEnvironment env;
  private final OrtSession session;
  // Never changed after construction. ONNX Runtime takes run options as a const reference
  // (OrtApi::Run's `const OrtRunOptions*`), so concurrent runs may share one.
  private final OrtSession.RunOptions runOptions;
  private final OrtLoggingLevel runLogLevel;
  private final ModelSignature signature;
  private final Set<String> allOutputs;
  private final List<String> inputNames;
  private final ThreadLocal<ByteBuffer[]> scratch;
  private final AtomicBoolean closed = new AtomicBoolean();

  OnnxSession(
      OnnxRuntimeEngine engine,
      OrtEnvironment env,
      OrtSession session,
      OrtSession.RunOptions runOptions,
      OrtLoggingLevel runLogLevel,
      ModelSignature signature) {
    this.engine = engine;
    this.env = env;
    this.session = session;
    this.runOptions = runOptions;
    this.runLogLevel = runLogLevel;
    this.signature = signature;
    Set<String> outs = new java.util.LinkedHashSet<>();
    signature.outputs().forEach(o -> outs.add(o.name()));
    this.allOutputs = java.util.Collections.unmodifiableSet(outs);
    this.inputNames = signature.inputs().stream().map(TensorSpec::name).toList();
    int n = inputNames.size();
    this.scratch = ThreadLocal.withInitial(() -> new ByteBuffer[n]);
  }

  @Override
  public ModelSignature signature() {
    return signature;
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> inputs) {
    return run(inputs, allOutputs, null);
  }

  @Override
  public Map<String, Tensor> run(
      Map<String, Tensor> inputs, Set<String> outputs, Duration timeout) {
    // The native tensors, by the signature's input order, so that the finally block closes exactly
    // those made; a model with one input (the common case) passes ONNX Runtime a singleton map.
    OnnxTensor[] natives = new OnnxTensor[inputNames.size()];
    OrtSession.RunOptions deadlineOptions = null;
    ScheduledFuture<?> terminator = null;
    AtomicBoolean terminated = null;
    try {
      ByteBuffer[] buffers = scratch.get();
      for (int i = 0; i < natives.length; i++) {
        Tensor t = inputs.get(inputNames.get(i));
        if (t != null) {
          natives[i] = toNative(t, buffers, i);
        }
      }
      Map<String, OnnxTensor> onnxInputs;
      if (natives.length == 1 && natives[0] != null) {
        onnxInputs = Collections.singletonMap(inputNames.get(0), natives[0]);
      } else {
        onnxInputs = new HashMap<>(natives.length * 2);
        for (int i = 0; i < natives.length; i++) {
          if (natives[i] != null) {
            onnxInputs.put(inputNames.get(i), natives[i]);
          }
        }
      }
      OrtSession.RunOptions options = runOptions;
      if (timeout != null) {
        deadlineOptions = new OrtSession.RunOptions();
        deadlineOptions.setLogLevel(runLogLevel);
        options = deadlineOptions;
        OrtSession.RunOptions opts = deadlineOptions;
        AtomicBoolean fired = new AtomicBoolean();
        terminated = fired;
        terminator =
            engine
                .deadlines()
                .schedule(
                    () -> {
                      try {
                        fired.set(true);
                        opts.setTerminate(true);
                      } catch (OrtException e) {
                        // The run is ending anyway.
                      }
                    },
                    Math.max(0, timeout.toNanos()),
                    TimeUnit.NANOSECONDS);
      }
      try (OrtSession.Result result = session.run(onnxInputs, outputs, options)) {
        if (outputs.size() == 1) {
          String name = outputs.iterator().next();
          return Collections.singletonMap(name, output(result, name));
        }
        Map<String, Tensor> out = new LinkedHashMap<>(outputs.size() * 2);
        for (TensorSpec spec : signature.outputs()) {
          if (outputs.contains(spec.name())) {
            out.put(spec.name(), output(result, spec.name()));
          }
        }
        return out;
      }
    } catch (OrtException e) {
      if (terminated != null && terminated.get()) {
        throw new PredictionTimeoutException(
            "the ONNX Runtime run was terminated at its deadline of " + timeout, e);
      }
      throw new PredictionException(
          "ONNX Runtime failed to run the model: " + NativeErrors.run(e.getMessage()), e);
    } finally {
      if (terminator != null) {
        terminator.cancel(false);
      }
      if (deadlineOptions != null) {
        deadlineOptions.close();
      }
      for (OnnxTensor t : natives) {
        if (t != null) {
          t.close();
        }
      }
    }
  }

  private static Tensor output(OrtSession.Result result, String name) throws OrtException {
    OnnxValue v =
        result
            .get(name)
            .orElseThrow(
                () ->
                    new PredictionException(
                        "ONNX Runtime returned no value for output '" + name + "'"));
    return TensorConversions.fromOnnx(name, v);
  }

  private OnnxTensor toNative(Tensor t, ByteBuffer[] buffers, int i) throws OrtException {
    int bytes = TensorConversions.nativeBytes(t);
    if (bytes < 0 || bytes > TensorConversions.SCRATCH_LIMIT) {
      return TensorConversions.toOnnx(env, t);
    }
    ByteBuffer b = buffers[i];
    if (b == null || b.capacity() < bytes) {
      b = ByteBuffer.allocateDirect(Math.max(bytes, 64)).order(ByteOrder.nativeOrder());
      buffers[i] = b;
    }
    return TensorConversions.toOnnxDirect(env, t, b);
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      OnnxRuntimeEngine.closeQuietly(session);
      runOptions.close();
    }
  }
}
