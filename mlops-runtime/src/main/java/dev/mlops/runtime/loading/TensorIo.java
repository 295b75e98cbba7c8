package dev.mlops.runtime.loading;

import dev.mlops.api.ElementType;
import dev.mlops.api.Tensor;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Binary form of named tensors, in which the registry stores a version's input example and hands it
 * to a validating child JVM. An internal format of the runtime, not meant for applications.
 * Stateless.
 */
public final class TensorIo {

  private static final int MAGIC = 0x4d4c5453; // "MLTS"
  private static final int FORMAT = 1;

  /**
   * Most elements one file may hold, summed over its tensors (2^26 = 67,108,864: 256 MiB of
   * float32), and the largest any one dimension may be; {@link #write} refuses more too.
   */
  public static final int MAX_ELEMENTS = 1 << 26;

  /** Most dimensions one tensor may have (32; ONNX Runtime's Java API supports 8 for arrays). */
  public static final int MAX_RANK = 32;

  private TensorIo() {}

  /**
   * Writes named tensors.
   *
   * @throws IOException if the stream fails, or the tensors hold more than {@link #MAX_ELEMENTS}
   *     elements together or more than {@link #MAX_RANK} dimensions (what {@link #read} accepts)
   */
  public static void write(DataOutputStream out, Map<String, Tensor> tensors) throws IOException {
    long elements = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      Tensor t = e.getValue();
      elements += t.elementCount();
      if (t.rank() > MAX_RANK) {
        throw new IOException(
            "tensor '"
                + e.getKey()
                + "' has "
                + t.rank()
                + " dimensions; an input example may have at most "
                + MAX_RANK);
      }
      for (long d : t.shape()) {
        if (d > MAX_ELEMENTS) {
          throw new IOException(
              "tensor '"
                  + e.getKey()
                  + "' is "
                  + t.describe()
                  + "; no dimension of an input example may exceed "
                  + MAX_ELEMENTS);
        }
      }
    }
    if (elements > MAX_ELEMENTS) {
      throw new IOException(
          "the tensors hold "
              + elements
              + " elements together; an input example may hold at most "
              + MAX_ELEMENTS);
    }
    out.writeInt(MAGIC);
    out.writeInt(FORMAT);
    out.writeInt(tensors.size());
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      Tensor t = e.getValue();
      out.writeUTF(e.getKey());
      out.writeUTF(t.type().name());
      long[] shape = t.shape();
      out.writeInt(shape.length);
      for (long d : shape) {
        out.writeLong(d);
      }
      int n = t.elementCount();
      switch (t.type()) {
        case FLOAT:
          for (float v : t.floats()) {
            out.writeFloat(v);
          }
          break;
        case DOUBLE:
          for (double v : t.doubles()) {
            out.writeDouble(v);
          }
          break;
        case INT8:
        case UINT8:
          out.write(t.bytes(), 0, n);
          break;
        case INT16:
        case FLOAT16:
        case BFLOAT16:
          for (short v : t.shorts()) {
            out.writeShort(v);
          }
          break;
        case INT32:
          for (int v : t.ints()) {
            out.writeInt(v);
          }
          break;
        case INT64:
          for (long v : t.longs()) {
            out.writeLong(v);
          }
          break;
        case BOOL:
          for (boolean v : t.booleans()) {
            out.writeBoolean(v);
          }
          break;
        case STRING:
          for (String v : t.strings()) {
            out.writeUTF(v);
          }
          break;
        default:
          throw new IllegalStateException("unhandled element type " + t.type());
      }
    }
  }

  /**
   * Reads what {@link #write} wrote. The file may come from anyone who can write the registry's
   * directory, so nothing it declares is trusted: at most {@link #MAX_RANK} dimensions, each and
   * their product (over all tensors) at most {@link #MAX_ELEMENTS}, and every declared element
   * present in the stream. Memory grows with the bytes actually read, never with what a header
   * claims, so a short file that declares a huge tensor fails without allocating it.
   *
   * @throws IOException if the stream fails or does not hold this format within those limits; the
   *     message names the offending tensor and what it declared
   */
  public static Map<String, Tensor> read(DataInputStream in) throws IOException {
    try {
      return readTensors(in);
    } catch (EOFException e) {
      throw e.getMessage() != null
          ? e
          : new IOException("the tensor file ends before its last tensor is complete", e);
    }
  }

  private static Map<String, Tensor> readTensors(DataInputStream in) throws IOException {
    if (in.readInt() != MAGIC || in.readInt() != FORMAT) {
      throw new IOException("not an mlops tensor file (bad magic or format)");
    }
    int count = in.readInt();
    if (count < 0) {
      throw new IOException("not an mlops tensor file: it declares " + count + " tensors");
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    long elements = 0;
    for (int i = 0; i < count; i++) {
      String name = in.readUTF();
      String typeName = in.readUTF();
      ElementType type;
      try {
        type = ElementType.valueOf(typeName);
      } catch (IllegalArgumentException e) {
        throw new IOException("tensor '" + name + "' has unknown element type '" + typeName + "'");
      }
      int rank = in.readInt();
      if (rank < 0 || rank > MAX_RANK) {
        throw new IOException(
            "tensor '"
                + name
                + "' declares "
                + rank
                + " dimensions; at most "
                + MAX_RANK
                + " are allowed");
      }
      long[] shape = new long[rank];
      long n = 1;
      for (int d = 0; d < rank; d++) {
        shape[d] = in.readLong();
        if (shape[d] < 0 || shape[d] > MAX_ELEMENTS) {
          throw new IOException(
              "tensor '"
                  + name
                  + "' declares dimension "
                  + d
                  + " of size "
                  + shape[d]
                  + "; every dimension must be between 0 and "
                  + MAX_ELEMENTS);
        }
        // Both factors are at most 2^26, so the product cannot overflow before it is checked.
        n = Math.min(n * shape[d], MAX_ELEMENTS + 1L);
      }
      if (elements + n > MAX_ELEMENTS) {
        throw new IOException(
            "tensor '"
                + name
                + "' declares "
                + describe(type, shape)
                + ", which takes the file past "
                + MAX_ELEMENTS
                + " elements, more than an input example may hold");
      }
      elements += n;
      try {
        out.put(name, readData(in, name, type, (int) n, shape));
      } catch (RuntimeException e) {
        throw new IOException("tensor '" + name + "' is malformed: " + e.getMessage(), e);
      }
    }
    return out;
  }

  /** How a tensor header reads in messages: {@code float32[32768,32768]}. */
  private static String describe(ElementType type, long[] shape) {
    StringBuilder sb = new StringBuilder(type.onnxName()).append('[');
    for (int i = 0; i < shape.length; i++) {
      sb.append(i == 0 ? "" : ",").append(shape[i]);
    }
    return sb.append(']').toString();
  }

  /** Bytes one element of a fixed-width type takes in this format; -1 for strings. */
  private static int width(ElementType type) {
    return type.byteWidth();
  }

  private static Tensor readData(
      DataInputStream in, String name, ElementType type, int n, long[] shape) throws IOException {
    if (type == ElementType.STRING) {
      return Tensor.ofStrings(readStrings(in, name, n, shape), shape);
    }
    int width = width(type);
    if (width < 0) {
      throw new IOException("unhandled element type " + type);
    }
    // n <= 2^26 and width <= 8, so this fits an int. readNBytes allocates as bytes arrive.
    int want = n * width;
    byte[] raw = in.readNBytes(want);
    if (raw.length < want) {
      throw new IOException(
          "tensor '"
              + name
              + "' declares "
              + describe(type, shape)
              + " ("
              + want
              + " bytes of data) but the file ends after "
              + raw.length
              + " of them");
    }
    ByteBuffer b = ByteBuffer.wrap(raw); // big-endian, as DataOutputStream wrote it
    switch (type) {
      case FLOAT:
        {
          float[] a = new float[n];
          b.asFloatBuffer().get(a);
          return Tensor.ofFloats(a, shape);
        }
      case DOUBLE:
        {
          double[] a = new double[n];
          b.asDoubleBuffer().get(a);
          return Tensor.ofDoubles(a, shape);
        }
      case INT8:
        return Tensor.ofInt8(raw, shape);
      case UINT8:
        return Tensor.ofUint8(raw, shape);
      case INT16:
      case FLOAT16:
      case BFLOAT16:
        {
          short[] a = new short[n];
          b.asShortBuffer().get(a);
          if (type == ElementType.INT16) {
            return Tensor.ofInt16(a, shape);
          }
          return type == ElementType.FLOAT16
              ? Tensor.ofFloat16Bits(a, shape)
              : Tensor.ofBFloat16Bits(a, shape);
        }
      case INT32:
        {
          int[] a = new int[n];
          b.asIntBuffer().get(a);
          return Tensor.ofInts(a, shape);
        }
      case INT64:
        {
          long[] a = new long[n];
          b.asLongBuffer().get(a);
          return Tensor.ofLongs(a, shape);
        }
      case BOOL:
        {
          boolean[] a = new boolean[n];
          for (int i = 0; i < n; i++) {
            a[i] = raw[i] != 0;
          }
          return Tensor.ofBooleans(a, shape);
        }
      default:
        throw new IOException("unhandled element type " + type);
    }
  }

  /** Reads {@code n} strings, growing the array as they arrive rather than trusting {@code n}. */
  private static String[] readStrings(DataInputStream in, String name, int n, long[] shape)
      throws IOException {
    String[] a = new String[Math.min(n, 1024)];
    for (int i = 0; i < n; i++) {
      if (i == a.length) {
        a = Arrays.copyOf(a, (int) Math.min(n, 2L * a.length));
      }
      try {
        a[i] = in.readUTF();
      } catch (EOFException e) {
        throw new IOException(
            "tensor '"
                + name
                + "' declares "
                + describe(ElementType.STRING, shape)
                + " but the file ends after "
                + i
                + " of its strings",
            e);
      }
    }
    return a;
  }
}
