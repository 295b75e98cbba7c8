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
import java.util.Arrays;
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
 * <p>Calls run on pinned runs ({@link PinnedRuns}): native tensors over direct buffers, pooled per
 * session and shape and refilled per call, for the numeric inputs and, once a run's second call has
 * shown them, for the outputs, which ONNX Runtime then writes in place and the call copies straight
 * into its result. So a call allocates neither a native tensor nor a direct buffer, on any kind of
 * thread. Runs go through ONNX Runtime's own entry point with the arrays the pinned run keeps
 * ({@link DirectRun}), or the public {@code OrtSession.run} where that is not there. The pool is
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
  private final PinnedRuns runs;

  /** Whether runs go through {@link DirectRun}, with the native handles below. */
  private final boolean direct;

  private final long sessionHandle;
  private final long allocatorHandle;
  private final long runOptionsHandle;

  /** The outputs last asked for, with their names in the signature's order. */
  private volatile OutputOrder order;

  private record OutputOrder(Set<String> outputs, String[] names) {}

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
    this.direct = DirectRun.enabled();
    this.sessionHandle = direct ? DirectRun.session(session) : 0;
    this.allocatorHandle = direct ? DirectRun.allocator(session) : 0;
    this.runOptionsHandle = direct ? DirectRun.options(runOptions) : 0;
    this.runs =
        new PinnedRuns(
            env,
            inputNames.toArray(new String[0]),
            direct,
            PinnedRuns.slots(),
            engine.pinnedMade(),
            engine.pinnedClosed());
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
    if (runs.takes(inputs)) {
      return runPinned(inputs, null, null, outputs, timeout, maxOutputBytes);
    }
    return runConverted(inputs, outputs, timeout, maxOutputBytes);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Each part's rows are copied straight into a pinned run's tensors of the stacked shapes, so a
   * batch allocates no stacked copy of its inputs on the heap and no native tensor; parts a pinned
   * run cannot take are stacked on the heap and run as one call's inputs.
   */
  @Override
  public Map<String, Tensor> runStacked(
      List<Map<String, Tensor>> parts, Set<String> outputs, Duration timeout, long maxOutputBytes) {
    if (maxOutputBytes < 0) {
      throw new IllegalArgumentException("maxOutputBytes must be >= 0 but was " + maxOutputBytes);
    }
    long[][] shapes = parts.size() > 1 ? runs.stackedShapes(parts) : null;
    if (shapes == null) {
      return run(ModelSession.stack(parts), outputs, timeout, maxOutputBytes);
    }
    return runPinned(parts.get(0), parts, shapes, outputs, timeout, maxOutputBytes);
  }

  /**
   * A run on a pinned run of the inputs' shapes (or of {@code parts}' stacked {@code shapes}):
   * through {@link #invoke}, into the pinned outputs if the run has learned them, else into outputs
   * ONNX Runtime allocates, whose shapes the run then learns. Should a run with pinned outputs
   * fail, it runs once more with ONNX Runtime's own outputs; if that succeeds, the model's output
   * shapes depend on more than the inputs' shapes, and the session stops pinning outputs.
   */
  private Map<String, Tensor> runPinned(
      Map<String, Tensor> inputs,
      List<Map<String, Tensor>> parts,
      long[][] shapes,
      Set<String> outputs,
      Duration timeout,
      long maxOutputBytes) {
    PinnedRuns.Run r = null;
    boolean[] owned = null;
    Deadline deadline = null;
    active.increment();
    try {
      refuseIfStopped();
      r =
          parts == null
              ? runs.take(inputs, outputs, outputOrder(outputs))
              : runs.take(parts, shapes, outputs, outputOrder(outputs));
      OrtSession.RunOptions options = runOptions;
      long optionsHandle = runOptionsHandle;
      if (timeout != null) {
        deadline = startDeadline(timeout);
        options = deadline.options;
        optionsHandle = direct ? DirectRun.options(options) : 0;
      }
      if (r.outputsPinned()) {
        try {
          owned = invoke(r, options, optionsHandle);
        } catch (OrtException e) {
          if (terminated(deadline)) {
            throw e;
          }
          r.allocateOutputs();
          owned = invoke(r, options, optionsHandle);
          // It ran with outputs of its own shapes: the pinned ones were wrong for these inputs.
          runs.outputsVary();
          r.unpinOutputs();
          return copy(r.outputNames, r.outputValues, deadline, maxOutputBytes);
        }
        // The run succeeded, so its outputs have the pinned shapes: refuse what must not get into
        // the heap before copying it.
        if (deadline != null) {
          deadline.check("before its outputs were copied");
        }
        if (r.outputBytes() > maxOutputBytes) {
          throw tooLarge(r, maxOutputBytes);
        }
        Map<String, Tensor> out = pinnedOutputs(r);
        if (deadline != null) {
          deadline.check("while its outputs were copied");
        }
        return out;
      }
      owned = invoke(r, options, optionsHandle);
      Map<String, Tensor> out = copy(r.outputNames, r.outputValues, deadline, maxOutputBytes);
      r.learnOutputs();
      return out;
    } catch (OrtException e) {
      throw failure(e, deadline, timeout);
    } finally {
      endDeadline(deadline);
      if (r != null) {
        if (owned != null) {
          for (int i = 0; i < owned.length; i++) {
            if (owned[i]) {
              r.outputValues[i].close();
            }
          }
        }
        runs.release(r);
      }
      active.decrement();
    }
  }

  /** Whether a failed run was terminated, at its deadline or because the engine stops. */
  private boolean terminated(Deadline deadline) {
    return stopped != null || (deadline != null && (deadline.fired || deadline.stoppedBy != null));
  }

  /**
   * Runs {@code r}: through ONNX Runtime's entry point, or the public method with the same tensors.
   *
   * @return per output, whether ONNX Runtime allocated it into {@code r.outputValues}
   */
  private boolean[] invoke(PinnedRuns.Run r, OrtSession.RunOptions options, long optionsHandle)
      throws OrtException {
    if (direct) {
      return DirectRun.run(
          session,
          sessionHandle,
          allocatorHandle,
          r.inputNames,
          r.inputHandles,
          r.outputNames,
          r.outputValues,
          r.outputHandles,
          optionsHandle);
    }
    Map<String, OnnxTensor> in = new HashMap<>(r.inputNames.length * 2);
    for (int i = 0; i < r.inputNames.length; i++) {
      in.put(r.inputNames[i], r.input(i));
    }
    Map<String, OnnxValue> pinnedOut = new HashMap<>();
    if (r.outputsPinned()) {
      for (int i = 0; i < r.outputNames.length; i++) {
        pinnedOut.put(r.outputNames[i], r.outputValues[i]);
      }
    }
    // Not closed: it would close the values it owns, which the caller closes once it has read them.
    OrtSession.Result result =
        session.run(in, r.outputsPinned() ? Set.of() : r.outputs, pinnedOut, options);
    boolean[] owned = new boolean[r.outputNames.length];
    int j = 0;
    for (Map.Entry<String, OnnxValue> e : result) {
      if (result.isResultOwner(j++)) {
        int i = Arrays.asList(r.outputNames).indexOf(e.getKey());
        r.outputValues[i] = e.getValue();
        owned[i] = true;
      }
    }
    return owned;
  }

  /** The pinned outputs of a run, copied into tensors on the heap. */
  private static Map<String, Tensor> pinnedOutputs(PinnedRuns.Run r) {
    if (r.outputNames.length == 1) {
      return Collections.singletonMap(r.outputNames[0], r.output(0));
    }
    Map<String, Tensor> out = new LinkedHashMap<>(r.outputNames.length * 2);
    for (int i = 0; i < r.outputNames.length; i++) {
      out.put(r.outputNames[i], r.output(i));
    }
    return out;
  }

  private static PredictionException tooLarge(PinnedRuns.Run r, long max) {
    long total = 0;
    for (int i = 0; i < r.outputNames.length; i++) {
      long bytes = r.outputBytes(i);
      long sum = total + bytes;
      if (sum > max) {
        return tooLarge(r.outputNames[i], r.describe(i), bytes, total, sum, max);
      }
      total = sum;
    }
    throw new IllegalStateException("outputs of " + total + " bytes are within " + max);
  }

  /** The requested outputs' names in the signature's order, remembered for the last set asked. */
  private String[] outputOrder(Set<String> outputs) {
    OutputOrder o = order;
    if (o == null || (o.outputs != outputs && !o.outputs.equals(outputs))) {
      List<String> names = new java.util.ArrayList<>(outputs.size());
      for (TensorSpec spec : signature.outputs()) {
        if (outputs.contains(spec.name())) {
          names.add(spec.name());
        }
      }
      if (names.size() != outputs.size()) {
        for (String name : outputs) {
          if (!names.contains(name)) {
            names.add(name); // unknown: ONNX Runtime names it in its failure
          }
        }
      }
      o = new OutputOrder(outputs, names.toArray(new String[0]));
      order = o;
    }
    return o.names;
  }

  /**
   * A run of inputs that are not exactly the signature's (one missing, one it does not have), each
   * converted to a native tensor of its own, through the public method: ONNX Runtime names what is
   * wrong.
   */
  private Map<String, Tensor> runConverted(
      Map<String, Tensor> inputs, Set<String> outputs, Duration timeout, long maxOutputBytes) {
    Map<String, OnnxTensor> natives = new LinkedHashMap<>();
    Deadline deadline = null;
    active.increment();
    try {
      refuseIfStopped();
      for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
        natives.put(e.getKey(), TensorConversions.toOnnx(env, e.getValue()));
      }
      OrtSession.RunOptions options = runOptions;
      if (timeout != null) {
        deadline = startDeadline(timeout);
        options = deadline.options;
      }
      try (OrtSession.Result result = session.run(natives, outputs, options)) {
        String[] names = outputOrder(outputs);
        OnnxValue[] values = new OnnxValue[names.length];
        for (int i = 0; i < names.length; i++) {
          values[i] = value(result, names[i]);
        }
        return copy(names, values, deadline, maxOutputBytes);
      }
    } catch (OrtException e) {
      throw failure(e, deadline, timeout);
    } finally {
      endDeadline(deadline);
      for (OnnxTensor t : natives.values()) {
        t.close();
      }
      active.decrement();
    }
  }

  /**
   * A run's deadline, registered so that {@link #stopRuns} finds it, terminated at once if the
   * engine is stopping, and scheduled to terminate the run when its time is up.
   */
  private Deadline startDeadline(Duration timeout) throws OrtException {
    Deadline deadline = new Deadline(timeout, runLogLevel);
    deadlines.add(deadline);
    // stopRuns sets `stopped` before it walks the deadlines: a run it missed sees it here.
    String why = stopped;
    if (why != null) {
      deadline.stop(why);
    }
    try {
      deadline.terminator =
          engine.deadlines().schedule(deadline, deadline.limitNanos, TimeUnit.NANOSECONDS);
    } catch (RuntimeException e) {
      deadlines.remove(deadline);
      deadline.close();
      throw e;
    }
    return deadline;
  }

  /** Ends a run's deadline, if it has one: no longer scheduled, registered or open. */
  private void endDeadline(Deadline deadline) {
    if (deadline != null) {
      deadline.terminator.cancel(false);
      deadlines.remove(deadline);
      deadline.close();
    }
  }

  /** A failed run as the typed exception callers get. */
  private RuntimeException failure(OrtException e, Deadline deadline, Duration timeout) {
    String why = deadline != null && deadline.stoppedBy != null ? deadline.stoppedBy : stopped;
    if (why != null) {
      return new ClosedException("the ONNX Runtime run was terminated: " + why);
    }
    if (deadline != null && deadline.fired) {
      return new PredictionTimeoutException(
          "the ONNX Runtime run was terminated at its deadline of " + timeout, e);
    }
    return new PredictionException(
        "ONNX Runtime failed to run the model: " + NativeErrors.run(e.getMessage()), e);
  }

  /**
   * Copies outputs ONNX Runtime allocated into tensors on the heap, in {@code names}' order, after
   * measuring them on its own tensors ({@link OnnxTensor#getInfo()}) and checking the deadline, so
   * that neither a too-large output nor a run that used up its time costs heap.
   */
  private static Map<String, Tensor> copy(
      String[] names, OnnxValue[] values, Deadline deadline, long maxOutputBytes)
      throws OrtException {
    if (deadline != null) {
      deadline.check("before its outputs were copied");
    }
    long total = 0;
    for (int i = 0; i < names.length; i++) {
      total = checkBytes(names[i], values[i], total, maxOutputBytes);
    }
    Map<String, Tensor> out;
    if (names.length == 1) {
      out = Collections.singletonMap(names[0], convert(names[0], values[0]));
    } else {
      out = new LinkedHashMap<>(names.length * 2);
      for (int i = 0; i < names.length; i++) {
        out.put(names[i], convert(names[i], values[i]));
      }
    }
    if (deadline != null) {
      deadline.check("while its outputs were copied");
    }
    return out;
  }

  /**
   * Refuses a run once the engine stops or the session is closed. Runs through {@link DirectRun}
   * skip the binding's own check of a closed session, which would otherwise turn a run after close
   * into a read of freed memory.
   */
  private void refuseIfStopped() {
    String why = stopped;
    if (why != null) {
      throw new ClosedException("the ONNX Runtime session refuses new runs: " + why);
    }
    if (closed.get()) {
      throw new ClosedException("the ONNX Runtime session is closed");
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

    /** The task that terminates the run at its deadline; set when it is scheduled. */
    ScheduledFuture<?> terminator;

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
      throw tooLarge(name, TensorConversions.describe(info), bytes, total, sum, max);
    }
    return sum;
  }

  private static PredictionException tooLarge(
      String name, String described, long bytes, long total, long sum, long max) {
    return new PredictionException(
        "output '"
            + name
            + "' is "
            + described
            + " ("
            + bytes
            + " bytes"
            + (total != 0 ? "; " + sum + " with the outputs before it" : "")
            + "), but the outputs of one run may hold at most "
            + max
            + " bytes (maxOutputBytes); nothing was copied into the Java heap. Raise the"
            + " predictor's maxOutputBytes if the model's outputs are meant to be this large");
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
    runs.close();
  }
}
