package dev.mlops.runtime.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.mlops.api.ElementType;
import dev.mlops.api.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One input's pinned tensors: native ONNX Runtime tensors, each over a direct buffer of one shape,
 * made once and refilled by every call that takes it, so that a call allocates neither a native
 * tensor nor a direct buffer. A bounded pool of slots, safe for any number of threads, virtual ones
 * included (no thread-local state): a call takes a tensor of its shape from a slot or makes one,
 * and gives it back after the run; when every slot is full the one given back replaces another,
 * which is closed. Every tensor made is closed exactly once: when it is replaced, or when the pool
 * closes with its session (a tensor given back after that is closed at once).
 */
final class PinnedInputs {

  /** Float, double, int32 and int64 inputs up to this many bytes are pinned. */
  static final int MAX_BYTES = 1 << 20;

  private final OrtEnvironment env;
  private final AtomicReferenceArray<Pinned> slots;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicLong made;
  private final AtomicLong released;

  /** A native tensor over a direct buffer, of one type and shape. */
  static final class Pinned {
    final ElementType type;
    final long[] shape;
    final OnnxTensor tensor;
    private final FloatBuffer floats;
    private final DoubleBuffer doubles;
    private final IntBuffer ints;
    private final LongBuffer longs;

    private Pinned(OrtEnvironment env, Tensor t) throws OrtException {
      this.type = t.type();
      this.shape = t.shape();
      int bytes = Math.max(TensorConversions.nativeBytes(t), 8);
      ByteBuffer b = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
      int n = t.elementCount();
      FloatBuffer f = null;
      DoubleBuffer d = null;
      IntBuffer i = null;
      LongBuffer l = null;
      switch (type) {
        case FLOAT:
          f = b.asFloatBuffer();
          f.limit(n);
          tensor = OnnxTensor.createTensor(env, f, shape);
          break;
        case DOUBLE:
          d = b.asDoubleBuffer();
          d.limit(n);
          tensor = OnnxTensor.createTensor(env, d, shape);
          break;
        case INT32:
          i = b.asIntBuffer();
          i.limit(n);
          tensor = OnnxTensor.createTensor(env, i, shape);
          break;
        case INT64:
          l = b.asLongBuffer();
          l.limit(n);
          tensor = OnnxTensor.createTensor(env, l, shape);
          break;
        default:
          throw new IllegalArgumentException("not pinned: " + type);
      }
      this.floats = f;
      this.doubles = d;
      this.ints = i;
      this.longs = l;
    }

    boolean fits(Tensor t) {
      return t.type() == type && Arrays.equals(t.shape(), shape);
    }

    /** Copies {@code t}'s elements into the native tensor's memory. */
    void fill(Tensor t) {
      switch (type) {
        case FLOAT:
          floats.clear();
          floats.put(t.floats());
          break;
        case DOUBLE:
          doubles.clear();
          doubles.put(t.doubles());
          break;
        case INT32:
          ints.clear();
          ints.put(t.ints());
          break;
        case INT64:
          longs.clear();
          longs.put(t.longs());
          break;
        default:
          throw new IllegalStateException("not pinned: " + type);
      }
    }
  }

  /**
   * Slots per pool: twice the processors and at least 8, so that as many calls as can run at once
   * (a call inside ONNX Runtime holds its processor, also on a virtual thread) find a tensor.
   */
  static int slots() {
    return Math.max(8, 2 * Runtime.getRuntime().availableProcessors());
  }

  PinnedInputs(OrtEnvironment env, int slots, AtomicLong made, AtomicLong released) {
    this.env = env;
    this.slots = new AtomicReferenceArray<>(slots);
    this.made = made;
    this.released = released;
  }

  /** Whether {@code t} can run on a pinned tensor. */
  static boolean pinnable(Tensor t) {
    switch (t.type()) {
      case FLOAT:
      case DOUBLE:
      case INT32:
      case INT64:
        int bytes = TensorConversions.nativeBytes(t);
        return bytes >= 0 && bytes <= MAX_BYTES;
      default:
        return false;
    }
  }

  /**
   * A pinned tensor holding {@code t}'s elements, the caller's until it {@link #release releases}
   * it: one of the pool's of that shape, or a new one.
   */
  Pinned take(Tensor t) throws OrtException {
    int n = slots.length();
    int start = (int) (Thread.currentThread().getId() % n);
    for (int k = 0; k < n; k++) {
      int i = (start + k) % n;
      Pinned p = slots.get(i);
      if (p != null && p.fits(t) && slots.compareAndSet(i, p, null)) {
        p.fill(t);
        return p;
      }
    }
    Pinned p = new Pinned(env, t);
    made.incrementAndGet();
    p.fill(t);
    return p;
  }

  /** Gives a tensor back: into a free slot, else in place of another, which is closed. */
  void release(Pinned p) {
    if (closed.get()) {
      close(p);
      return;
    }
    int n = slots.length();
    int start = (int) (Thread.currentThread().getId() % n);
    Pinned evicted = p;
    for (int k = 0; k < n; k++) {
      int i = (start + k) % n;
      if (slots.get(i) == null && slots.compareAndSet(i, null, p)) {
        evicted = null;
        break;
      }
    }
    if (evicted != null) {
      evicted = slots.getAndSet(start, p);
    }
    if (evicted != null) {
      close(evicted);
    }
    if (closed.get()) {
      drain(); // closed meanwhile: what was just given back must not outlive the session
    }
  }

  /** Closes every pooled tensor; tensors in use are closed when given back. Idempotent. */
  void close() {
    closed.set(true);
    drain();
  }

  private void drain() {
    for (int i = 0; i < slots.length(); i++) {
      Pinned p = slots.getAndSet(i, null);
      if (p != null) {
        close(p);
      }
    }
  }

  private void close(Pinned p) {
    p.tensor.close();
    released.incrementAndGet();
  }
}
