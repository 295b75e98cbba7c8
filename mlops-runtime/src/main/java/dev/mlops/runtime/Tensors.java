package dev.mlops.runtime;

import dev.mlops.api.ElementType;
import dev.mlops.api.Tensor;
import java.lang.reflect.Array;

/** Slices tensors along their first dimension, for every element type. */
final class Tensors {

  private Tensors() {}

  static Tensor of(ElementType type, Object data, long[] shape) {
    switch (type) {
      case FLOAT:
        return Tensor.ofFloats((float[]) data, shape);
      case DOUBLE:
        return Tensor.ofDoubles((double[]) data, shape);
      case INT8:
        return Tensor.ofInt8((byte[]) data, shape);
      case UINT8:
        return Tensor.ofUint8((byte[]) data, shape);
      case INT16:
        return Tensor.ofInt16((short[]) data, shape);
      case INT32:
        return Tensor.ofInts((int[]) data, shape);
      case INT64:
        return Tensor.ofLongs((long[]) data, shape);
      case BOOL:
        return Tensor.ofBooleans((boolean[]) data, shape);
      case STRING:
        return Tensor.ofStrings((String[]) data, shape);
      case FLOAT16:
        return Tensor.ofFloat16Bits((short[]) data, shape);
      case BFLOAT16:
        return Tensor.ofBFloat16Bits((short[]) data, shape);
      default:
        throw new IllegalStateException("unhandled element type " + type);
    }
  }

  /** Rows {@code [from, to)} of a tensor. */
  static Tensor rows(Tensor t, int from, int to) {
    long[] shape = t.shape();
    int rows = (int) shape[0];
    if (from == 0 && to == rows) {
      return t;
    }
    int width = rows == 0 ? 0 : t.elementCount() / rows;
    Object data = Array.newInstance(t.data().getClass().getComponentType(), (to - from) * width);
    System.arraycopy(t.data(), from * width, data, 0, (to - from) * width);
    shape[0] = to - from;
    return of(t.type(), data, shape);
  }
}
