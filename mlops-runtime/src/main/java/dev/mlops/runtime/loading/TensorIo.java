package dev.mlops.runtime.loading;

import dev.mlops.api.ElementType;
import dev.mlops.api.Tensor;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
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

  private TensorIo() {}

  /**
   * Writes named tensors.
   *
   * @throws IOException if the stream fails
   */
  public static void write(DataOutputStream out, Map<String, Tensor> tensors) throws IOException {
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
   * Reads what {@link #write} wrote.
   *
   * @throws IOException if the stream fails or does not hold this format
   */
  public static Map<String, Tensor> read(DataInputStream in) throws IOException {
    if (in.readInt() != MAGIC || in.readInt() != FORMAT) {
      throw new IOException("not an mlops tensor file (bad magic or format)");
    }
    int count = in.readInt();
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      String name = in.readUTF();
      ElementType type = ElementType.valueOf(in.readUTF());
      long[] shape = new long[in.readInt()];
      long total = 1;
      for (int d = 0; d < shape.length; d++) {
        shape[d] = in.readLong();
        total = Math.multiplyExact(total, shape[d]);
      }
      int n = Math.toIntExact(total);
      out.put(name, readData(in, type, n, shape));
    }
    return out;
  }

  private static Tensor readData(DataInputStream in, ElementType type, int n, long[] shape)
      throws IOException {
    switch (type) {
      case FLOAT:
        {
          float[] a = new float[n];
          for (int i = 0; i < n; i++) {
            a[i] = in.readFloat();
          }
          return Tensor.ofFloats(a, shape);
        }
      case DOUBLE:
        {
          double[] a = new double[n];
          for (int i = 0; i < n; i++) {
            a[i] = in.readDouble();
          }
          return Tensor.ofDoubles(a, shape);
        }
      case INT8:
      case UINT8:
        {
          byte[] a = new byte[n];
          in.readFully(a);
          return type == ElementType.INT8 ? Tensor.ofInt8(a, shape) : Tensor.ofUint8(a, shape);
        }
      case INT16:
      case FLOAT16:
      case BFLOAT16:
        {
          short[] a = new short[n];
          for (int i = 0; i < n; i++) {
            a[i] = in.readShort();
          }
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
          for (int i = 0; i < n; i++) {
            a[i] = in.readInt();
          }
          return Tensor.ofInts(a, shape);
        }
      case INT64:
        {
          long[] a = new long[n];
          for (int i = 0; i < n; i++) {
            a[i] = in.readLong();
          }
          return Tensor.ofLongs(a, shape);
        }
      case BOOL:
        {
          boolean[] a = new boolean[n];
          for (int i = 0; i < n; i++) {
            a[i] = in.readBoolean();
          }
          return Tensor.ofBooleans(a, shape);
        }
      case STRING:
        {
          String[] a = new String[n];
          for (int i = 0; i < n; i++) {
            a[i] = in.readUTF();
          }
          return Tensor.ofStrings(a, shape);
        }
      default:
        throw new IOException("unhandled element type " + type);
    }
  }
}
