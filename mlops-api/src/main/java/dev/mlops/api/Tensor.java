package dev.mlops.api;

import java.util.Arrays;
import java.util.Objects;

/**
 * A dense tensor held on the Java heap: an element type, a shape and a flat row-major array.
 *
 * <p>The factories take ownership of the array they are given and the accessors return it without
 * copying, so a tensor costs no copy on the prediction path. Callers must not modify an array after
 * handing it over or after reading it from a result. With that rule a tensor is immutable and safe
 * to share between threads.
 */
public final class Tensor {

  private final ElementType type;
  private final long[] shape;
  private final Object data;

  private Tensor(ElementType type, long[] shape, Object data, int length) {
    this.type = type;
    this.shape = shape.clone();
    this.data = data;
    long count = 1;
    for (long d : this.shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      }
      count = Math.multiplyExact(count, d);
    }
    if (count != length) {
      throw new IllegalArgumentException(
          "shape "
              + Arrays.toString(shape)
              + " holds "
              + count
              + " elements but the data has "
              + length);
    }
  }

  /** A {@code float32} tensor. */
  public static Tensor ofFloats(float[] data, long... shape) {
    return new Tensor(ElementType.FLOAT, shape, data, data.length);
  }

  /** A {@code float64} tensor. */
  public static Tensor ofDoubles(double[] data, long... shape) {
    return new Tensor(ElementType.DOUBLE, shape, data, data.length);
  }

  /** An {@code int8} tensor. */
  public static Tensor ofInt8(byte[] data, long... shape) {
    return new Tensor(ElementType.INT8, shape, data, data.length);
  }

  /** A {@code uint8} tensor; values above 127 are stored as negative bytes. */
  public static Tensor ofUint8(byte[] data, long... shape) {
    return new Tensor(ElementType.UINT8, shape, data, data.length);
  }

  /** An {@code int16} tensor. */
  public static Tensor ofInt16(short[] data, long... shape) {
    return new Tensor(ElementType.INT16, shape, data, data.length);
  }

  /** An {@code int32} tensor. */
  public static Tensor ofInts(int[] data, long... shape) {
    return new Tensor(ElementType.INT32, shape, data, data.length);
  }

  /** An {@code int64} tensor. */
  public static Tensor ofLongs(long[] data, long... shape) {
    return new Tensor(ElementType.INT64, shape, data, data.length);
  }

  /** A {@code bool} tensor. */
  public static Tensor ofBooleans(boolean[] data, long... shape) {
    return new Tensor(ElementType.BOOL, shape, data, data.length);
  }

  /** A {@code string} tensor. */
  public static Tensor ofStrings(String[] data, long... shape) {
    for (String s : data) {
      Objects.requireNonNull(s, "string tensors cannot hold null");
    }
    return new Tensor(ElementType.STRING, shape, data, data.length);
  }

  /** A {@code float16} tensor from raw IEEE half-precision bit patterns. */
  public static Tensor ofFloat16Bits(short[] bits, long... shape) {
    return new Tensor(ElementType.FLOAT16, shape, bits, bits.length);
  }

  /** A {@code bfloat16} tensor from raw bit patterns. */
  public static Tensor ofBFloat16Bits(short[] bits, long... shape) {
    return new Tensor(ElementType.BFLOAT16, shape, bits, bits.length);
  }

  /**
   * Tensors of one element type and one row shape stacked along their first dimension, in order:
   * {@code [2, 4]} and {@code [3, 4]} make {@code [5, 4]}. One part is returned as it is.
   *
   * @throws IllegalArgumentException if there are no parts, or they differ in type, rank or any
   *     dimension but the first, or one is a scalar
   */
  public static Tensor stack(java.util.List<Tensor> parts) {
    if (parts.isEmpty()) {
      throw new IllegalArgumentException("nothing to stack: no parts");
    }
    Tensor first = parts.get(0);
    if (first.shape.length == 0) {
      throw new IllegalArgumentException("a scalar has no first dimension to stack along");
    }
    if (parts.size() == 1) {
      return first;
    }
    long rows = 0;
    int total = 0;
    for (Tensor t : parts) {
      if (!first.sameRowShape(t)) {
        throw new IllegalArgumentException(
            "cannot stack " + t.describe() + " onto " + first.describe());
      }
      rows += t.shape[0];
      total = Math.addExact(total, t.elementCount());
    }
    Object data =
        java.lang.reflect.Array.newInstance(first.data.getClass().getComponentType(), total);
    int at = 0;
    for (Tensor t : parts) {
      int n = t.elementCount();
      System.arraycopy(t.data, 0, data, at, n);
      at += n;
    }
    long[] shape = first.shape.clone();
    shape[0] = rows;
    return new Tensor(first.type, shape, data, total);
  }

  /**
   * Whether {@code other} has this tensor's element type and every dimension but the first, so that
   * the two {@link #stack} along it; false for scalars.
   */
  public boolean sameRowShape(Tensor other) {
    return other.type == type
        && shape.length > 0
        && other.shape.length == shape.length
        && Arrays.equals(other.shape, 1, shape.length, shape, 1, shape.length);
  }

  /** The element type. */
  public ElementType type() {
    return type;
  }

  /** A copy of the shape. */
  public long[] shape() {
    return shape.clone();
  }

  /** Number of dimensions; 0 for a scalar. */
  public int rank() {
    return shape.length;
  }

  /** Size of dimension {@code i}. */
  public long dim(int i) {
    return shape[i];
  }

  /** Number of elements (the product of the shape). */
  public int elementCount() {
    return java.lang.reflect.Array.getLength(data);
  }

  /** The values of a {@code float32} tensor. */
  public float[] floats() {
    return (float[]) expect(ElementType.FLOAT);
  }

  /** The values of a {@code float64} tensor. */
  public double[] doubles() {
    return (double[]) expect(ElementType.DOUBLE);
  }

  /** The values of an {@code int8} or {@code uint8} tensor. */
  public byte[] bytes() {
    if (type != ElementType.INT8 && type != ElementType.UINT8) {
      throw wrongType("int8 or uint8");
    }
    return (byte[]) data;
  }

  /**
   * The values of an {@code int16} tensor, or the raw bits of a {@code float16}/{@code bfloat16}
   * one.
   */
  public short[] shorts() {
    if (type != ElementType.INT16 && type != ElementType.FLOAT16 && type != ElementType.BFLOAT16) {
      throw wrongType("int16, float16 or bfloat16");
    }
    return (short[]) data;
  }

  /** The values of an {@code int32} tensor. */
  public int[] ints() {
    return (int[]) expect(ElementType.INT32);
  }

  /** The values of an {@code int64} tensor. */
  public long[] longs() {
    return (long[]) expect(ElementType.INT64);
  }

  /** The values of a {@code bool} tensor. */
  public boolean[] booleans() {
    return (boolean[]) expect(ElementType.BOOL);
  }

  /** The values of a {@code string} tensor. */
  public String[] strings() {
    return (String[]) expect(ElementType.STRING);
  }

  /** The backing array, whatever its type. */
  public Object data() {
    return data;
  }

  /** Type and shape as in messages, for example {@code float32[1,30]}. */
  public String describe() {
    StringBuilder sb = new StringBuilder(type.onnxName()).append('[');
    for (int i = 0; i < shape.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(shape[i]);
    }
    return sb.append(']').toString();
  }

  private Object expect(ElementType wanted) {
    if (type != wanted) {
      throw wrongType(wanted.onnxName());
    }
    return data;
  }

  private IllegalStateException wrongType(String wanted) {
    return new IllegalStateException("tensor is " + describe() + ", not " + wanted);
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof Tensor)) {
      return false;
    }
    Tensor t = (Tensor) o;
    return type == t.type
        && Arrays.equals(shape, t.shape)
        && Arrays.deepEquals(new Object[] {data}, new Object[] {t.data});
  }

  @Override
  public int hashCode() {
    return Objects.hash(type, Arrays.hashCode(shape), Arrays.deepHashCode(new Object[] {data}));
  }

  @Override
  public String toString() {
    return describe();
  }
}
