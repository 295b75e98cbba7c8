package dev.mlops.runtime.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import dev.mlops.api.ElementType;
import dev.mlops.api.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One session's pinned runs: everything a call hands ONNX Runtime, made once per shape and reused,
 * so that a call allocates neither a native tensor nor a direct buffer, on any kind of thread.
 *
 * <p>A {@link Run} holds a pinned tensor per input (a native tensor over a direct buffer, refilled
 * by every call that takes it), the arrays of names and native handles ONNX Runtime's entry point
 * takes ({@link DirectRun}), and, once a call has shown their shapes (from the run's second call
 * on), a pinned tensor per output that ONNX Runtime writes into, so that it allocates no output
 * either; the call copies the outputs straight from there into its result. Should a model's output
 * shapes depend on more than its input shapes (a run with pinned outputs fails where one without
 * succeeds), the session stops pinning outputs ({@link #outputsVary()}).
 *
 * <p>A bounded pool of slots, safe for any number of threads, virtual ones included (no
 * thread-local state): a call takes a run of its shapes from a slot or makes one, and gives it back
 * after the run; when every slot is full the one given back replaces another, which is closed.
 * Every pinned tensor made is closed exactly once: when its run is replaced or stops pinning its
 * outputs, or when the pool closes with its session (a run given back after that is closed at
 * once).
 */
final class PinnedRuns {

  /** Float, double, int32 and int64 tensors up to this many bytes are pinned. */
  static final int MAX_BYTES = 1 << 20;

  private final OrtEnvironment env;
  private final String[] inputNames;
  private final boolean direct;
  private final AtomicReferenceArray<Run> slots;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicLong made;
  private final AtomicLong released;

  /** Set once a run failed with pinned outputs and succeeded without. */
  private volatile boolean outputsVary;

  /**
   * Slots per pool: twice the processors and at least 8, so that as many calls as can run at once
   * (a call inside ONNX Runtime holds its processor, also on a virtual thread) find a run.
   */
  static int slots() {
    return Math.max(8, 2 * Runtime.getRuntime().availableProcessors());
  }

  /**
   * @param inputNames the session's inputs, in the signature's order
   * @param direct whether runs go through {@link DirectRun} (their tensors' handles are read)
   * @param made counts every pinned tensor made
   * @param released counts every pinned tensor closed
   */
  PinnedRuns(
      OrtEnvironment env,
      String[] inputNames,
      boolean direct,
      int slots,
      AtomicLong made,
      AtomicLong released) {
    this.env = env;
    this.inputNames = inputNames;
    this.direct = direct;
    this.slots = new AtomicReferenceArray<>(slots);
    this.made = made;
    this.released = released;
  }

  /** Whether {@code t} can run on a pinned tensor. */
  static boolean pinnable(Tensor t) {
    int width = width(t.type());
    return width > 0 && t.elementCount() <= MAX_BYTES / width;
  }

  /** Bytes per element of a pinned type, 0 for a type that is not pinned. */
  private static int width(ElementType type) {
    boolean pinned =
        type == ElementType.FLOAT
            || type == ElementType.DOUBLE
            || type == ElementType.INT32
            || type == ElementType.INT64;
    return pinned ? type.byteWidth() : 0;
  }

  /** Whether a pinned run can take these inputs: exactly the signature's inputs. */
  boolean takes(Map<String, Tensor> inputs) {
    if (inputs.size() != inputNames.length) {
      return false;
    }
    for (String name : inputNames) {
      if (inputs.get(name) == null) {
        return false;
      }
    }
    return true;
  }

  /**
   * The shapes of {@code parts}' inputs stacked along their first dimension, by the signature's
   * order, if a pinned run can take the stack: every part has exactly the signature's inputs, each
   * pinnable once stacked and of the first part's type and row shape. Null otherwise.
   */
  long[][] stackedShapes(List<Map<String, Tensor>> parts) {
    Map<String, Tensor> first = parts.get(0);
    long[][] shapes = new long[inputNames.length][];
    for (int i = 0; i < inputNames.length; i++) {
      Tensor head = first.get(inputNames[i]);
      if (head == null || head.rank() == 0) {
        return null;
      }
      long rows = 0;
      long count = 0;
      for (Map<String, Tensor> part : parts) {
        Tensor t = part.get(inputNames[i]);
        if (part.size() != inputNames.length || t == null || !head.sameRowShape(t)) {
          return null;
        }
        rows += t.dim(0);
        count += t.elementCount();
      }
      int width = width(head.type());
      if (width == 0 || count > MAX_BYTES / width) {
        return null;
      }
      shapes[i] = head.shape();
      shapes[i][0] = rows;
    }
    return shapes;
  }

  /**
   * A run holding {@code inputs}' elements, for {@code outputs} (named in {@code outputNames}, in
   * the signature's order), the caller's until it {@link #release releases} it: one of the pool's
   * of those shapes, or a new one. Only for inputs this pool {@link #takes}.
   */
  Run take(Map<String, Tensor> inputs, Set<String> outputs, String[] outputNames)
      throws OrtException {
    return take(inputs, null, null, outputs, outputNames);
  }

  /**
   * A run holding {@code parts}' inputs stacked, of the {@link #stackedShapes} {@code shapes}: each
   * part's rows are copied straight into the pinned tensors, one after the other.
   */
  Run take(
      List<Map<String, Tensor>> parts, long[][] shapes, Set<String> outputs, String[] outputNames)
      throws OrtException {
    return take(parts.get(0), parts, shapes, outputs, outputNames);
  }

  private Run take(
      Map<String, Tensor> inputs,
      List<Map<String, Tensor>> parts,
      long[][] shapes,
      Set<String> outputs,
      String[] outputNames)
      throws OrtException {
    Run r = reuse(inputs, shapes, outputs);
    if (r == null) {
      r = new Run(inputs, shapes, outputs, outputNames);
    }
    try {
      r.fill(inputs, parts);
    } catch (OrtException | RuntimeException e) {
      release(r);
      throw e;
    }
    return r;
  }

  /** A pooled run of these shapes, taken out of its slot; null if there is none. */
  private Run reuse(Map<String, Tensor> inputs, long[][] shapes, Set<String> outputs) {
    int n = slots.length();
    int start = (int) (Thread.currentThread().getId() % n);
    for (int k = 0; k < n; k++) {
      int i = (start + k) % n;
      Run r = slots.get(i);
      if (r != null && r.fits(inputs, shapes, outputs) && slots.compareAndSet(i, r, null)) {
        if (outputsVary) {
          r.unpinOutputs();
        }
        return r;
      }
    }
    return null;
  }

  /** Gives a run back: into a free slot, else in place of another, which is closed. */
  void release(Run r) {
    r.endCall();
    if (closed.get()) {
      r.close();
      return;
    }
    int n = slots.length();
    int start = (int) (Thread.currentThread().getId() % n);
    Run evicted = r;
    for (int k = 0; k < n; k++) {
      int i = (start + k) % n;
      if (slots.get(i) == null && slots.compareAndSet(i, null, r)) {
        evicted = null;
        break;
      }
    }
    if (evicted != null) {
      evicted = slots.getAndSet(start, r);
    }
    if (evicted != null) {
      evicted.close();
    }
    if (closed.get()) {
      drain(); // closed meanwhile: what was just given back must not outlive the session
    }
  }

  /**
   * Records that a run failed with pinned outputs and succeeded without: no run of this session
   * pins its outputs from now on.
   */
  void outputsVary() {
    outputsVary = true;
  }

  /** Closes every pooled run; runs in use are closed when given back. Idempotent. */
  void close() {
    closed.set(true);
    drain();
  }

  private void drain() {
    for (int i = 0; i < slots.length(); i++) {
      Run r = slots.getAndSet(i, null);
      if (r != null) {
        r.close();
      }
    }
  }

  /**
   * One call's pinned state: input tensors of one set of shapes, the arrays the entry point takes,
   * and the output tensors once learned. An input that cannot be pinned (a string, one over {@link
   * #MAX_BYTES}) gets a native tensor of its own per call instead. Used by one call at a time.
   */
  final class Run {
    final Set<String> outputs;
    final String[] inputNames = PinnedRuns.this.inputNames;
    final String[] outputNames;

    /** Per input: its pinned tensor, or null for one converted per call. */
    final Pin[] in;

    /** Per input not pinned: the call's own native tensor, closed when the call ends. */
    final OnnxTensor[] perCall;

    final long[] inputHandles;

    /** Per output: its pinned tensor, or null for one ONNX Runtime allocates (then its value). */
    final OnnxValue[] outputValues;

    /** Per output: its pinned tensor's native handle, or 0. */
    final long[] outputHandles;

    /** The pinned outputs, in {@link #outputNames}' order; null until learned. */
    private Pin[] out;

    /** Bytes of the pinned outputs together. */
    private long outBytes;

    /** Whether this call's outputs are the pinned ones (set when the call takes the run). */
    private boolean pinning;

    /** Calls that have taken this run. */
    private long uses;

    /** A run of {@code inputs}' shapes, or of {@code shapes} if not null (a stack). */
    private Run(
        Map<String, Tensor> inputs, long[][] shapes, Set<String> outputs, String[] outputNames)
        throws OrtException {
      this.outputs = outputs;
      this.outputNames = outputNames;
      this.in = new Pin[inputNames.length];
      this.perCall = new OnnxTensor[inputNames.length];
      this.inputHandles = new long[inputNames.length];
      this.outputValues = new OnnxValue[outputNames.length];
      this.outputHandles = new long[outputNames.length];
      try {
        for (int i = 0; i < in.length; i++) {
          Tensor t = inputs.get(inputNames[i]);
          if (shapes != null) {
            in[i] = pin(t.type(), shapes[i], count(shapes[i]));
          } else if (pinnable(t)) {
            in[i] = pin(t.type(), t.shape(), t.elementCount());
          }
          if (in[i] != null) {
            inputHandles[i] = in[i].handle;
          }
        }
      } catch (OrtException | RuntimeException e) {
        close();
        throw e;
      }
    }

    /** Whether this run takes these inputs, or their stack of {@code shapes} if not null. */
    private boolean fits(Map<String, Tensor> inputs, long[][] shapes, Set<String> wanted) {
      if (outputs != wanted && !outputs.equals(wanted)) {
        return false;
      }
      for (int i = 0; i < in.length; i++) {
        Tensor t = inputs.get(inputNames[i]);
        boolean fits;
        if (shapes != null) {
          fits = in[i] != null && in[i].type == t.type() && Arrays.equals(in[i].shape, shapes[i]);
        } else {
          fits = in[i] == null ? !pinnable(t) : in[i].fits(t);
        }
        if (!fits) {
          return false;
        }
      }
      return true;
    }

    /** Copies the inputs, or every part's one after the other if {@code parts} is not null. */
    private void fill(Map<String, Tensor> inputs, List<Map<String, Tensor>> parts)
        throws OrtException {
      for (int i = 0; i < in.length; i++) {
        Tensor t = inputs.get(inputNames[i]);
        if (parts != null) {
          in[i].clear();
          for (Map<String, Tensor> part : parts) {
            in[i].append(part.get(inputNames[i]));
          }
        } else if (in[i] != null) {
          in[i].clear();
          in[i].append(t);
        } else {
          perCall[i] = TensorConversions.toOnnx(env, t);
          inputHandles[i] = direct ? DirectRun.tensor(perCall[i]) : 0;
        }
      }
      uses++;
      pinning = out != null;
      if (pinning) {
        for (int i = 0; i < out.length; i++) {
          outputValues[i] = out[i].tensor;
          outputHandles[i] = out[i].handle;
        }
      }
    }

    /** Whether ONNX Runtime writes this call's outputs into pinned tensors. */
    boolean outputsPinned() {
      return pinning;
    }

    /**
     * Lets ONNX Runtime allocate this call's outputs, keeping the pinned ones for later calls: for
     * a run that failed with them, run once more.
     */
    void allocateOutputs() {
      pinning = false;
      clearOutputs();
    }

    /** Bytes of the pinned outputs together; only when {@link #outputsPinned()}. */
    long outputBytes() {
      return outBytes;
    }

    /** Output {@code i}, copied from its pinned tensor; only when {@link #outputsPinned()}. */
    Tensor output(int i) {
      return out[i].read();
    }

    /** Bytes of output {@code i}; only when {@link #outputsPinned()}. */
    long outputBytes(int i) {
      return (long) out[i].count * width(out[i].type);
    }

    /**
     * How output {@code i} reads in messages, {@code float32[1,2]}; only when {@link
     * #outputsPinned()}.
     */
    String describe(int i) {
      Pin p = out[i];
      StringBuilder sb = new StringBuilder(p.type.onnxName()).append('[');
      for (int d = 0; d < p.shape.length; d++) {
        sb.append(d == 0 ? "" : ",").append(p.shape[d]);
      }
      return sb.append(']').toString();
    }

    /**
     * Pins the outputs ONNX Runtime allocated in a successful run, by their shapes, so that the
     * next run writes into them; nothing if any is not a pinnable tensor or the session's outputs
     * vary. Only from a run's second call on: a run made for one call and replaced before another
     * (batches of many sizes sharing a few slots) makes no output tensors it would never use.
     */
    void learnOutputs() {
      if (out != null || uses < 2 || outputsVary || closed.get()) {
        return;
      }
      Pin[] pins = new Pin[outputValues.length];
      long bytes = 0;
      try {
        for (int i = 0; i < pins.length; i++) {
          if (!(outputValues[i] instanceof OnnxTensor t)) {
            return;
          }
          TensorInfo info = t.getInfo();
          ElementType type = type(info.type);
          long count = info.getNumElements();
          int width = type == null ? 0 : width(type);
          if (width == 0 || count <= 0 || count > MAX_BYTES / width) {
            return;
          }
          pins[i] = pin(type, info.getShape(), (int) count);
          bytes += count * width;
        }
        out = pins;
        outBytes = bytes;
        pins = null;
      } catch (OrtException | RuntimeException e) {
        // Not pinned: the next run lets ONNX Runtime allocate its outputs again.
      } finally {
        if (pins != null) {
          for (Pin p : pins) {
            if (p != null) {
              close(p);
            }
          }
        }
      }
    }

    /**
     * Closes the pinned outputs: later runs let ONNX Runtime allocate them. Only when the output
     * arrays hold none of them (between calls, or after {@link #allocateOutputs()}).
     */
    void unpinOutputs() {
      Pin[] pins = out;
      out = null;
      pinning = false;
      if (pins != null) {
        for (Pin p : pins) {
          close(p);
        }
      }
    }

    /** The native tensor input {@code i} runs on in this call. */
    OnnxTensor input(int i) {
      return in[i] != null ? in[i].tensor : perCall[i];
    }

    /** Ends a call: closes its own input tensors and empties the output arrays. */
    private void endCall() {
      for (int i = 0; i < perCall.length; i++) {
        if (perCall[i] != null) {
          perCall[i].close();
          perCall[i] = null;
          inputHandles[i] = 0;
        }
      }
      clearOutputs();
    }

    /** Empties the output arrays, so that the next run's ONNX Runtime values land in them. */
    private void clearOutputs() {
      Arrays.fill(outputValues, null);
      Arrays.fill(outputHandles, 0);
    }

    /** Closes every pinned tensor of this run (made ones only, if its making failed). */
    private void close() {
      endCall();
      for (Pin p : in) {
        if (p != null) {
          close(p);
        }
      }
      unpinOutputs();
    }

    private void close(Pin p) {
      p.tensor.close();
      released.incrementAndGet();
    }
  }

  private static int count(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return (int) n;
  }

  private Pin pin(ElementType type, long[] shape, int count) throws OrtException {
    Pin p = new Pin(env, type, shape, count, direct);
    made.incrementAndGet();
    return p;
  }

  private static ElementType type(OnnxJavaType t) {
    switch (t) {
      case FLOAT:
        return ElementType.FLOAT;
      case DOUBLE:
        return ElementType.DOUBLE;
      case INT32:
        return ElementType.INT32;
      case INT64:
        return ElementType.INT64;
      default:
        return null;
    }
  }

  /** A native tensor over a direct buffer, of one type and shape. */
  static final class Pin {
    final ElementType type;
    final long[] shape;
    final int count;
    final OnnxTensor tensor;

    /** The tensor's native handle, for {@link DirectRun}; 0 when runs take the public method. */
    final long handle;

    private final FloatBuffer floats;
    private final DoubleBuffer doubles;
    private final IntBuffer ints;
    private final LongBuffer longs;

    private Pin(OrtEnvironment env, ElementType type, long[] shape, int count, boolean direct)
        throws OrtException {
      this.type = type;
      this.shape = shape;
      this.count = count;
      ByteBuffer b =
          ByteBuffer.allocateDirect(Math.max(count * width(type), 8))
              .order(ByteOrder.nativeOrder());
      FloatBuffer f = null;
      DoubleBuffer d = null;
      IntBuffer i = null;
      LongBuffer l = null;
      switch (type) {
        case FLOAT:
          f = b.asFloatBuffer();
          f.limit(count);
          tensor = OnnxTensor.createTensor(env, f, shape);
          break;
        case DOUBLE:
          d = b.asDoubleBuffer();
          d.limit(count);
          tensor = OnnxTensor.createTensor(env, d, shape);
          break;
        case INT32:
          i = b.asIntBuffer();
          i.limit(count);
          tensor = OnnxTensor.createTensor(env, i, shape);
          break;
        case INT64:
          l = b.asLongBuffer();
          l.limit(count);
          tensor = OnnxTensor.createTensor(env, l, shape);
          break;
        default:
          throw new IllegalArgumentException("not pinned: " + type);
      }
      this.floats = f;
      this.doubles = d;
      this.ints = i;
      this.longs = l;
      this.handle = direct ? DirectRun.tensor(tensor) : 0;
    }

    /** Whether {@code t} has this tensor's type and shape (read without copying its shape). */
    boolean fits(Tensor t) {
      if (t.type() != type || t.rank() != shape.length) {
        return false;
      }
      for (int i = 0; i < shape.length; i++) {
        if (t.dim(i) != shape[i]) {
          return false;
        }
      }
      return true;
    }

    /** Starts filling the native tensor's memory from its first element. */
    void clear() {
      switch (type) {
        case FLOAT:
          floats.clear();
          break;
        case DOUBLE:
          doubles.clear();
          break;
        case INT32:
          ints.clear();
          break;
        case INT64:
          longs.clear();
          break;
        default:
          throw new IllegalStateException("not pinned: " + type);
      }
    }

    /** Copies {@code t}'s elements into the native tensor's memory, after those before it. */
    void append(Tensor t) {
      switch (type) {
        case FLOAT:
          floats.put(t.floats());
          break;
        case DOUBLE:
          doubles.put(t.doubles());
          break;
        case INT32:
          ints.put(t.ints());
          break;
        case INT64:
          longs.put(t.longs());
          break;
        default:
          throw new IllegalStateException("not pinned: " + type);
      }
    }

    /** The native tensor's elements, copied into a new tensor on the heap. */
    Tensor read() {
      switch (type) {
        case FLOAT:
          {
            float[] a = new float[count];
            floats.clear();
            floats.get(a);
            return Tensor.ofFloats(a, shape);
          }
        case DOUBLE:
          {
            double[] a = new double[count];
            doubles.clear();
            doubles.get(a);
            return Tensor.ofDoubles(a, shape);
          }
        case INT32:
          {
            int[] a = new int[count];
            ints.clear();
            ints.get(a);
            return Tensor.ofInts(a, shape);
          }
        case INT64:
          {
            long[] a = new long[count];
            longs.clear();
            longs.get(a);
            return Tensor.ofLongs(a, shape);
          }
        default:
          throw new IllegalStateException("not pinned: " + type);
      }
    }
  }
}
