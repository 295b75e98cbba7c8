package dev.mlops.api;

import java.util.List;
import java.util.Objects;

/**
 * Name, element type and shape of one model input or output. A dimension of {@code -1} is dynamic
 * (any size, typically the batch dimension). Immutable and thread-safe.
 *
 * @param name the input or output name in the model graph
 * @param type the element type
 * @param shape the dimensions, {@code -1} for a dynamic one; empty for a scalar
 */
public record TensorSpec(String name, ElementType type, List<Long> shape) {

  /** Marks a dynamic dimension in {@link #shape()}. */
  public static final long DYNAMIC = -1L;

  /** Validates and copies the shape. */
  public TensorSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    shape = List.copyOf(shape);
    for (Long d : shape) {
      if (d < DYNAMIC) {
        throw new IllegalArgumentException("dimension must be >= 0 or -1 (dynamic): " + shape);
      }
    }
  }

  /** Creates a spec from a shape array. */
  public static TensorSpec of(String name, ElementType type, long... shape) {
    Long[] boxed = new Long[shape.length];
    for (int i = 0; i < shape.length; i++) {
      boxed[i] = shape[i];
    }
    return new TensorSpec(name, type, List.of(boxed));
  }

  /** Number of dimensions. */
  public int rank() {
    return shape.size();
  }

  /** Size of dimension {@code i}, or {@link #DYNAMIC}. */
  public long dim(int i) {
    return shape.get(i);
  }

  /** Whether the shape has at least one dynamic dimension. */
  public boolean isDynamic() {
    return shape.contains(DYNAMIC);
  }

  /** Shape as an array, dynamic dimensions as {@code -1}. */
  public long[] shapeArray() {
    long[] out = new long[shape.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = shape.get(i);
    }
    return out;
  }

  /** Type and shape as in messages, for example {@code float32[?,30]}. */
  public String describe() {
    StringBuilder sb = new StringBuilder(type.onnxName()).append('[');
    for (int i = 0; i < shape.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      long d = shape.get(i);
      sb.append(d == DYNAMIC ? "?" : Long.toString(d));
    }
    return sb.append(']').toString();
  }

  @Override
  public String toString() {
    return name + ":" + describe();
  }
}
