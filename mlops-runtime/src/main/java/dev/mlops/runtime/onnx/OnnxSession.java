package dev.mlops.runtime.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.mlops.api.ClosedException;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.PredictionException;
import dev.mlops.api.PredictionTimeoutException;
import dev.mlops.api.Tensor;
import dev.mlops.api.TensorSpec;
import dev.mlops.api.spi.ModelSession;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * One ONNX Runtime session. {@code run} is thread-safe; every native tensor it makes is closed.
 *
 * <p>Numeric inputs run on pinned tensors ({@link PinnedInputs}): native tensors over direct
 * buffers, pooled per input and shape and refilled per call, so a call allocates neither a native
 * tensor nor a direct buffer, on any kind of thread; ONNX Runtime reads them in place. The pool is
 * bounded and closes its tensors with the session.
 *
 * <p>Runs without a deadline share one {@link OrtSession.RunOptions}, made with the session and
 * closed with it, that carries the run log level; a run with a deadline makes its own, since
 * terminating it must not terminate the others.
 *
 * <p>Outputs are measured on ONNX Runtime's tensors before any is copied into the Java heap: a run
 * whose outputs pass the caller's cap ({@link ModelSession#DEFAULT_MAX_OUTPUT_BYTES} for {@link
 * #run(Map)}) or whose deadline has passed fails without copying them.
 *
 * <p>The session counts its runs in progress and knows the run options of each run with a deadline,
 * so that the engine, when it closes or the JVM exits, can terminate every run and wait until none
 * is inside ONNX Runtime ({@link #stopRuns}).
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
  private final PinnedInputs[] pinned;
  private final AtomicBoolean closed = new AtomicBoolean();

  /** Runs in progress, with or without a deadline; an adder, since every call touches it. */
  private final LongAdder active = new LongAdder();

  /** The deadlines of the runs in progress that have one, so that {@link #stopRuns} finds them. */
  private final Set<Deadline> deadlines = ConcurrentHashMap.newKeySet();

  /** Why every run is being terminated ({@link #stopRuns}); null until then. */
  private volatile String stopped;

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
    this.pinned = new PinnedInputs[inputNames.size()];
    int slots = PinnedInputs.slots();
    for (int i = 0; i < pinned.length; i++) {
      pinned[i] = new PinnedInputs(env, slots, engine.pinnedMade(), engine.pinnedClosed());
    }
  }

  @Override
  public ModelSignature signature() {
    return signature;
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> inputs) {
    return run(inputs, allOutputs, null, DEFAULT_MAX_OUTPUT_BYTES);
  }

  @Override
  public Map<String, Tensor> run(
      Map<String, Tensor> inputs, Set<String> outputs, Duration timeout) {
    return run(inputs, outputs, timeout, DEFAULT_MAX_OUTPUT_BYTES);
  }

  /**
   * {@inheritDoc}
   *
   * <p>The outputs are measured on ONNX Runtime's own tensors ({@link OnnxTensor#getInfo()}),
   * before any of them is copied into the Java heap, and the deadline is checked before the copy
   * and after it, so neither a too-large output nor a run that used up its time costs heap.
   */
  @Override
  public Map<String, Tensor> run(
      Map<String, Tensor> inputs, Set<String> outputs, Duration timeout, long maxOutputBytes) {
    if (maxOutputBytes < 0) {
      throw new IllegalArgumentException("maxOutputBytes must be >= 0 but was " + maxOutputBytes);
    }
    // The native tensors, by the signature's input order, so that the finally block closes exactly
    // those made; a model with one input (the common case) passes ONNX Runtime a singleton map.
    OnnxTensor[] natives = new OnnxTensor[inputNames.size()];
    PinnedInputs.Pinned[] taken = new PinnedInputs.Pinned[natives.length];
    Deadline deadline = null;
    ScheduledFuture<?> terminator = null;
    active.increment();
    try {
      refuseIfStopped();
      for (int i = 0; i < natives.length; i++) {
        Tensor t = inputs.get(inputNames.get(i));
        if (t == null) {
          continue;
        }
        if (PinnedInputs.pinnable(t)) {
          taken[i] = pinned[i].take(t);
          natives[i] = taken[i].tensor;
        } else {
          natives[i] = TensorConversions.toOnnx(env, t);
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
        deadline = new Deadline(timeout, runLogLevel);
        options = deadline.options;
        deadlines.add(deadline);
        // stopRuns sets `stopped` before it walks the deadlines: a run it missed sees it here.
        String why = stopped;
        if (why != null) {
          deadline.stop(why);
        }
        terminator =
            engine.deadlines().schedule(deadline, deadline.limitNanos, TimeUnit.NANOSECONDS);
      }
      try (OrtSession.Result result = session.run(onnxInputs, outputs, options)) {
        if (outputs.size() == 1) {
          String name = outputs.iterator().next();
          OnnxValue v = value(result, name);
          // Nothing of the outputs is in the Java heap yet: refuse here what must not get there.
          if (deadline != null) {
            deadline.check("before its outputs were copied");
          }
          checkBytes(name, v, 0, maxOutputBytes);
          Map<String, Tensor> out = Collections.singletonMap(name, convert(name, v));
          if (deadline != null) {
            deadline.check("while its outputs were copied");
          }
          return out;
        }
        if (deadline != null) {
          deadline.check("before its outputs were copied");
        }
        long total = 0;
        for (TensorSpec spec : signature.outputs()) {
          if (outputs.contains(spec.name())) {
            total = checkBytes(spec.name(), value(result, spec.name()), total, maxOutputBytes);
          }
        }
        Map<String, Tensor> out = new LinkedHashMap<>(outputs.size() * 2);
        for (TensorSpec spec : signature.outputs()) {
          if (outputs.contains(spec.name())) {
            out.put(spec.name(), convert(spec.name(), value(result, spec.name())));
          }
        }
        if (deadline != null) {
          deadline.check("while its outputs were copied");
        }
        return out;
      }
    } catch (OrtException e) {
      String why = deadline != null && deadline.stoppedBy != null ? deadline.stoppedBy : stopped;
      if (why != null) {
        throw new ClosedException("the ONNX Runtime run was terminated: " + why);
      }
      if (deadline != null && deadline.fired) {
        throw new PredictionTimeoutException(
            "the ONNX Runtime run was terminated at its deadline of " + timeout, e);
      }
      throw new PredictionException(
          "ONNX Runtime failed to run the model: " + NativeErrors.run(e.getMessage()), e);
    } finally {
      if (terminator != null) {
        terminator.cancel(false);
      }
      if (deadline != null) {
        deadlines.remove(deadline);
        deadline.close();
      }
      for (int i = 0; i < natives.length; i++) {
        if (taken[i] != null) {
          pinned[i].release(taken[i]);
        } else if (natives[i] != null) {
          natives[i].close();
        }
      }
      active.decrement();
    }
  }

  private void refuseIfStopped() {
    String why = stopped;
    if (why != null) {
      throw new ClosedException("the ONNX Runtime session refuses new runs: " + why);
    }
  }

  /**
   * Terminates every run in progress and refuses new ones: those with a deadline through their own
   * run options, the others through the shared ones (which ONNX Runtime then refuses at every later
   * run, so this session serves no more). Runs end with a {@link ClosedException} naming {@code
   * why}. Does not wait; see {@link #runsInProgress()}.
   */
  void stopRuns(String why) {
    stopped = why;
    synchronized (closed) {
      if (!closed.get()) {
        try {
          runOptions.setTerminate(true);
        } catch (OrtException e) {
          // The session is closing anyway.
        }
      }
    }
    for (Deadline d : deadlines) {
      d.stop(why);
    }
  }

  /** Runs in progress now (some may be inside ONNX Runtime). */
  int runsInProgress() {
    return active.intValue();
  }

  /**
   * One run's deadline: the run options it terminates, and the task that terminates them when the
   * time is up. The task and {@link #close()} hold the lock, so the task never touches options that
   * the run has closed.
   */
  private static final class Deadline implements Runnable {
    final Duration timeout;
    final long limitNanos;
    final long start = System.nanoTime();
    final OrtSession.RunOptions options;
    volatile boolean fired;
    volatile String stoppedBy;
    private boolean closed;

    Deadline(Duration timeout, OrtLoggingLevel logLevel) throws OrtException {
      this.timeout = timeout;
      this.limitNanos = nanos(timeout);
      this.options = new OrtSession.RunOptions();
      try {
        options.setLogLevel(logLevel);
      } catch (OrtException | RuntimeException e) {
        options.close();
        throw e;
      }
    }

    private static long nanos(Duration d) {
      if (d.isNegative()) {
        return 0;
      }
      try {
        return d.toNanos();
      } catch (ArithmeticException e) {
        return Long.MAX_VALUE;
      }
    }

    @Override
    public synchronized void run() {
      if (!closed) {
        fired = true;
        try {
          options.setTerminate(true);
        } catch (OrtException e) {
          // The run is ending anyway.
        }
      }
    }

    /** Terminates the run before its deadline, because the engine stops. */
    synchronized void stop(String why) {
      if (stoppedBy == null) {
        stoppedBy = why;
      }
      run();
    }

    /** Fails the call as a timeout if the deadline has passed, whether or not the task ran yet. */
    void check(String when) {
      if (fired || System.nanoTime() - start >= limitNanos) {
        throw new PredictionTimeoutException(
            "the ONNX Runtime run passed its deadline of " + timeout + " " + when);
      }
    }

    synchronized void close() {
      closed = true;
      options.close();
    }
  }

  private static OnnxValue value(OrtSession.Result result, String name) {
    return result
        .get(name)
        .orElseThrow(
            () ->
                new PredictionException(
                    "ONNX Runtime returned no value for output '" + name + "'"));
  }

  /**
   * Adds a native output's bytes to {@code total}, refusing it if that passes {@code max}.
   *
   * @return the new total
   */
  private static long checkBytes(String name, OnnxValue v, long total, long max) {
    if (!(v instanceof OnnxTensor)) {
      return total; // refused by the conversion, which names what it is
    }
    TensorInfo info = ((OnnxTensor) v).getInfo();
    long bytes = TensorConversions.outputBytes(info);
    long sum = total > Long.MAX_VALUE - bytes ? Long.MAX_VALUE : total + bytes;
    if (sum > max) {
      throw new PredictionException(
          "output '"
              + name
              + "' is "
              + TensorConversions.describe(info)
              + " ("
              + bytes
              + " bytes"
              + (total != 0 ? "; " + sum + " with the outputs before it" : "")
              + "), but the outputs of one run may hold at most "
              + max
              + " bytes (maxOutputBytes); nothing was copied into the Java heap. Raise the"
              + " predictor's maxOutputBytes if the model's outputs are meant to be this large");
    }
    return sum;
  }

  private static Tensor convert(String name, OnnxValue v) throws OrtException {
    return TensorConversions.fromOnnx(name, v);
  }

  @Override
  public void close() {
    synchronized (closed) {
      if (!closed.compareAndSet(false, true)) {
        return;
      }
    }
    engine.forget(this);
    OnnxRuntimeEngine.closeQuietly(session);
    runOptions.close();
    for (PinnedInputs p : pinned) {
      p.close();
    }
  }
}
