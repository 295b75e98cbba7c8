package dev.mlops.runtime.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import dev.mlops.api.ElementType;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.PredictionException;
import dev.mlops.api.Tensor;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;

/**
 * Moves {@link Tensor}s across the JNI boundary, for every element type ONNX Runtime Java supports.
 */
final class TensorConversions {

  private TensorConversions() {}

  /**
   * The element type of a model input or output. ONNX Runtime's Java API reports uint16, uint32 and
   * uint64 as their signed Java types, which would make such a model load with a wrong signature
   * and fail on every call; they are refused at load instead.
   */
  static ElementType elementType(TensorInfo info, String name) {
    switch (info.onnxType) {
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16:
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32:
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64:
        throw new ModelLoadException(
            "tensor '"
                + name
                + "' has element type "
                + info.onnxType
                    .name()
                    .substring("ONNX_TENSOR_ELEMENT_DATA_TYPE_".length())
                    .toLowerCase(java.util.Locale.ROOT)
                + ", which ONNX Runtime's Java API cannot exchange");
      default:
        return elementType(info.type, name);
    }
  }

  static ElementType elementType(OnnxJavaType type, String name) {
    switch (type) {
      case FLOAT:
        return ElementType.FLOAT;
      case DOUBLE:
        return ElementType.DOUBLE;
      case INT8:
        return ElementType.INT8;
      case UINT8:
        return ElementType.UINT8;
      case INT16:
        return ElementType.INT16;
      case INT32:
        return ElementType.INT32;
      case INT64:
        return ElementType.INT64;
      case BOOL:
        return ElementType.BOOL;
      case STRING:
        return ElementType.STRING;
      case FLOAT16:
        return ElementType.FLOAT16;
      case BFLOAT16:
        return ElementType.BFLOAT16;
      default:
        throw new ModelLoadException(
            "tensor '"
                + name
                + "' has element type "
                + type
                + ", which ONNX Runtime's Java API cannot exchange");
    }
  }

  /**
   * Bytes a native output holds, read from its type and shape without copying it: element count
   * times element size (a string counts 8, the pointer ONNX Runtime keeps; its characters are not
   * known before the copy). Saturates at {@code Long.MAX_VALUE}.
   */
  static long outputBytes(TensorInfo info) {
    long n = info.getNumElements();
    int width;
    switch (info.type) {
      case INT8:
      case UINT8:
      case BOOL:
        width = 1;
        break;
      case INT16:
      case FLOAT16:
      case BFLOAT16:
        width = 2;
        break;
      case FLOAT:
      case INT32:
        width = 4;
        break;
      default:
        width = 8;
    }
    return n < 0 || n > Long.MAX_VALUE / width ? Long.MAX_VALUE : n * width;
  }

  /** How a native tensor reads in messages: {@code float32[16384,16384]}. */
  static String describe(TensorInfo info) {
    StringBuilder sb =
        new StringBuilder(
            info.type == OnnxJavaType.UNKNOWN
                ? info.onnxType.name()
                : elementType(info.type, "output").onnxName());
    sb.append('[');
    long[] shape = info.getShape();
    for (int i = 0; i < shape.length; i++) {
      sb.append(i == 0 ? "" : ",").append(shape[i]);
    }
    return sb.append(']').toString();
  }

  static OnnxTensor toOnnx(OrtEnvironment env, Tensor t) throws OrtException {
    long[] shape = t.shape();
    switch (t.type()) {
      case FLOAT:
        return OnnxTensor.createTensor(env, FloatBuffer.wrap(t.floats()), shape);
      case DOUBLE:
        return OnnxTensor.createTensor(env, DoubleBuffer.wrap(t.doubles()), shape);
      case INT8:
        return OnnxTensor.createTensor(env, ByteBuffer.wrap(t.bytes()), shape, OnnxJavaType.INT8);
      case UINT8:
        return OnnxTensor.createTensor(env, ByteBuffer.wrap(t.bytes()), shape, OnnxJavaType.UINT8);
      case INT16:
        return OnnxTensor.createTensor(
            env, ShortBuffer.wrap(t.shorts()), shape, OnnxJavaType.INT16);
      case FLOAT16:
        return OnnxTensor.createTensor(
            env, ShortBuffer.wrap(t.shorts()), shape, OnnxJavaType.FLOAT16);
      case BFLOAT16:
        return OnnxTensor.createTensor(
            env, ShortBuffer.wrap(t.shorts()), shape, OnnxJavaType.BFLOAT16);
      case INT32:
        return OnnxTensor.createTensor(env, IntBuffer.wrap(t.ints()), shape);
      case INT64:
        return OnnxTensor.createTensor(env, LongBuffer.wrap(t.longs()), shape);
      case BOOL:
        {
          boolean[] b = t.booleans();
          ByteBuffer buf = ByteBuffer.allocateDirect(b.length).order(ByteOrder.nativeOrder());
          for (boolean v : b) {
            buf.put((byte) (v ? 1 : 0));
          }
          buf.rewind();
          return OnnxTensor.createTensor(env, buf, shape, OnnxJavaType.BOOL);
        }
      case STRING:
        return OnnxTensor.createTensor(env, t.strings(), shape);
      default:
        throw new IllegalStateException("unhandled element type " + t.type());
    }
  }

  static Tensor fromOnnx(String name, OnnxValue value) throws OrtException {
    if (!(value instanceof OnnxTensor)) {
      throw new PredictionException(
          "output '" + name + "' is a " + value.getType() + ", not a tensor");
    }
    OnnxTensor t = (OnnxTensor) value;
    TensorInfo info = t.getInfo();
    long[] shape = info.getShape();
    switch (info.type) {
      case FLOAT:
        {
          FloatBuffer b = t.getFloatBuffer();
          // getFloatBuffer already returns a fresh heap copy: take its array rather than copy
          // again.
          float[] a;
          if (b.hasArray()
              && b.arrayOffset() == 0
              && b.position() == 0
              && b.array().length == b.remaining()) {
            a = b.array();
          } else {
            a = new float[b.remaining()];
            b.get(a);
          }
          return Tensor.ofFloats(a, shape);
        }
      case DOUBLE:
        {
          DoubleBuffer b = t.getDoubleBuffer();
          double[] a = new double[b.remaining()];
          b.get(a);
          return Tensor.ofDoubles(a, shape);
        }
      case INT8:
      case UINT8:
        {
          byte[] a = bytes(t.getByteBuffer());
          return info.type == OnnxJavaType.INT8
              ? Tensor.ofInt8(a, shape)
              : Tensor.ofUint8(a, shape);
        }
      case BOOL:
        {
          byte[] a = bytes(t.getByteBuffer());
          boolean[] out = new boolean[a.length];
          for (int i = 0; i < a.length; i++) {
            out[i] = a[i] != 0;
          }
          return Tensor.ofBooleans(out, shape);
        }
      case INT16:
      case FLOAT16:
      case BFLOAT16:
        {
          ShortBuffer b = t.getShortBuffer();
          short[] a = new short[b.remaining()];
          b.get(a);
          if (info.type == OnnxJavaType.INT16) {
            return Tensor.ofInt16(a, shape);
          }
          return info.type == OnnxJavaType.FLOAT16
              ? Tensor.ofFloat16Bits(a, shape)
              : Tensor.ofBFloat16Bits(a, shape);
        }
      case INT32:
        {
          IntBuffer b = t.getIntBuffer();
          int[] a = new int[b.remaining()];
          b.get(a);
          return Tensor.ofInts(a, shape);
        }
      case INT64:
        {
          LongBuffer b = t.getLongBuffer();
          long[] a = new long[b.remaining()];
          b.get(a);
          return Tensor.ofLongs(a, shape);
        }
      case STRING:
        {
          String[] flat = new String[(int) info.getNumElements()];
          flatten(t.getValue(), flat, new int[1]);
          return Tensor.ofStrings(flat, shape);
        }
      default:
        throw new PredictionException(
            "output '" + name + "' has unsupported element type " + info.type);
    }
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] a = new byte[b.remaining()];
    b.get(a);
    return a;
  }

  private static void flatten(Object value, String[] out, int[] pos) {
    if (value instanceof String) {
      out[pos[0]++] = (String) value;
    } else {
      int n = Array.getLength(value);
      for (int i = 0; i < n; i++) {
        flatten(Array.get(value, i), out, pos);
      }
    }
  }
}
