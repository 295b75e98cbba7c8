package dev.mlops.cli;

import dev.mlops.api.ElementType;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.Tensor;
import dev.mlops.api.TensorSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON values to tensors and back. A tensor in JSON is a nested array (its nesting is the shape);
 * inputs are an object of input name to tensor, or, for a model with one input, the rows alone.
 */
final class JsonTensors {

  private JsonTensors() {}

  /**
   * The inputs a JSON value names, converted to the element types of the signature's inputs.
   *
   * <ul>
   *   <li>an array: the rows of the model's only input;
   *   <li>{@code {"inputs": ...}} (MLflow's and TF Serving's form): its value, read as here;
   *   <li>{@code {"columns": [...], "data": [[...]]}} (pandas' split form): the rows of the only
   *       input;
   *   <li>any other object: input name to tensor.
   * </ul>
   *
   * @throws CliException naming what was expected and what was found
   */
  static Map<String, Tensor> inputs(Object json, ModelSignature signature, String what) {
    if (json instanceof Map<?, ?> m && m.size() == 1 && m.containsKey("inputs")) {
      return inputs(m.get("inputs"), signature, what);
    }
    if (json instanceof Map<?, ?> m && m.containsKey("data") && m.containsKey("columns")) {
      return inputs(m.get("data"), signature, what);
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    if (json instanceof List<?>) {
      if (signature.inputs().size() != 1) {
        throw new CliException(
            what
                + ": expected an object of input name to values, as the model has "
                + signature.inputs().size()
                + " inputs "
                + names(signature)
                + ", but found an array");
      }
      TensorSpec spec = signature.inputs().get(0);
      out.put(spec.name(), tensor(json, spec.type(), what + " input '" + spec.name() + "'"));
      return out;
    }
    if (!(json instanceof Map<?, ?> map)) {
      throw new CliException(
          what
              + ": expected a JSON array of rows or an object of input name to values, but found "
              + kind(json));
    }
    for (Map.Entry<?, ?> e : map.entrySet()) {
      String name = e.getKey().toString();
      TensorSpec spec =
          signature
              .input(name)
              .orElseThrow(
                  () ->
                      new CliException(
                          what
                              + ": expected the inputs "
                              + names(signature)
                              + " but found an input named '"
                              + name
                              + "'"));
      out.put(name, tensor(e.getValue(), spec.type(), what + " input '" + name + "'"));
    }
    return out;
  }

  private static List<String> names(ModelSignature s) {
    return s.inputs().stream().map(TensorSpec::name).toList();
  }

  /** A nested JSON array (or a scalar, rank 0) as a tensor of {@code type}. */
  static Tensor tensor(Object json, ElementType type, String what) {
    List<Long> shape = new ArrayList<>();
    Object probe = json;
    while (probe instanceof List<?> l) {
      shape.add((long) l.size());
      probe = l.isEmpty() ? null : l.get(0);
    }
    List<Object> flat = new ArrayList<>();
    flatten(json, 0, shape, flat, what);
    long[] dims = shape.stream().mapToLong(Long::longValue).toArray();
    int n = flat.size();
    try {
      switch (type) {
        case FLOAT -> {
          float[] a = new float[n];
          for (int i = 0; i < n; i++) {
            a[i] = (float) number(flat.get(i), what);
          }
          return Tensor.ofFloats(a, dims);
        }
        case DOUBLE -> {
          double[] a = new double[n];
          for (int i = 0; i < n; i++) {
            a[i] = number(flat.get(i), what);
          }
          return Tensor.ofDoubles(a, dims);
        }
        case INT64 -> {
          long[] a = new long[n];
          for (int i = 0; i < n; i++) {
            a[i] = integral(flat.get(i), what);
          }
          return Tensor.ofLongs(a, dims);
        }
        case INT32 -> {
          int[] a = new int[n];
          for (int i = 0; i < n; i++) {
            a[i] = Math.toIntExact(integral(flat.get(i), what));
          }
          return Tensor.ofInts(a, dims);
        }
        case INT16 -> {
          short[] a = new short[n];
          for (int i = 0; i < n; i++) {
            a[i] = (short) integral(flat.get(i), what);
          }
          return Tensor.ofInt16(a, dims);
        }
        case INT8, UINT8 -> {
          byte[] a = new byte[n];
          for (int i = 0; i < n; i++) {
            a[i] = (byte) integral(flat.get(i), what);
          }
          return type == ElementType.INT8 ? Tensor.ofInt8(a, dims) : Tensor.ofUint8(a, dims);
        }
        case BOOL -> {
          boolean[] a = new boolean[n];
          for (int i = 0; i < n; i++) {
            if (!(flat.get(i) instanceof Boolean b)) {
              throw new CliException(
                  what + ": expected true or false but found " + kind(flat.get(i)));
            }
            a[i] = b;
          }
          return Tensor.ofBooleans(a, dims);
        }
        case STRING -> {
          String[] a = new String[n];
          for (int i = 0; i < n; i++) {
            if (!(flat.get(i) instanceof String s)) {
              throw new CliException(what + ": expected a string but found " + kind(flat.get(i)));
            }
            a[i] = s;
          }
          return Tensor.ofStrings(a, dims);
        }
        default ->
            throw new CliException(
                what + ": " + type.onnxName() + " inputs cannot be given as JSON");
      }
    } catch (ArithmeticException e) {
      throw new CliException(what + ": a value does not fit in " + type.onnxName());
    }
  }

  private static void flatten(
      Object v, int depth, List<Long> shape, List<Object> out, String what) {
    if (depth == shape.size()) {
      if (v instanceof List<?>) {
        throw new CliException(
            what
                + ": expected a regular nested array of depth "
                + shape.size()
                + " but it is deeper");
      }
      out.add(v);
      return;
    }
    if (!(v instanceof List<?> l) || l.size() != shape.get(depth)) {
      throw new CliException(
          what
              + ": expected a regular nested array of shape "
              + shape
              + " but found "
              + (v instanceof List<?> l2 ? "an array of " + l2.size() : kind(v))
              + " at depth "
              + depth);
    }
    for (Object o : l) {
      flatten(o, depth + 1, shape, out, what);
    }
  }

  private static double number(Object v, String what) {
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    throw new CliException(what + ": expected a number but found " + kind(v));
  }

  private static long integral(Object v, String what) {
    if (v instanceof Long l) {
      return l;
    }
    if (v instanceof Double d && d == Math.rint(d) && !Double.isInfinite(d)) {
      return d.longValue();
    }
    throw new CliException(what + ": expected an integer but found " + kind(v));
  }

  static String kind(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof String s) {
      return "the string \"" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "\"";
    }
    if (v instanceof Map<?, ?>) {
      return "an object";
    }
    if (v instanceof List<?>) {
      return "an array";
    }
    return v.toString();
  }

  /** A tensor as a nested JSON array (a scalar for rank 0). */
  static Object toJson(Tensor t) {
    List<Object> flat = new ArrayList<>(t.elementCount());
    switch (t.type()) {
      case FLOAT -> {
        for (float f : t.floats()) {
          flat.add((double) f);
        }
      }
      case DOUBLE -> {
        for (double d : t.doubles()) {
          flat.add(d);
        }
      }
      case INT64 -> {
        for (long l : t.longs()) {
          flat.add(l);
        }
      }
      case INT32 -> {
        for (int i : t.ints()) {
          flat.add((long) i);
        }
      }
      case INT16 -> {
        for (short s : t.shorts()) {
          flat.add((long) s);
        }
      }
      case INT8 -> {
        for (byte b : t.bytes()) {
          flat.add((long) b);
        }
      }
      case UINT8 -> {
        for (byte b : t.bytes()) {
          flat.add((long) (b & 0xff));
        }
      }
      case BOOL -> {
        for (boolean b : t.booleans()) {
          flat.add(b);
        }
      }
      case STRING -> {
        for (String s : t.strings()) {
          flat.add(s);
        }
      }
      default -> {
        return t.describe();
      }
    }
    long[] shape = t.shape();
    if (shape.length == 0) {
      return flat.isEmpty() ? null : flat.get(0);
    }
    int[] pos = {0};
    return nest(flat, shape, 0, pos);
  }

  private static Object nest(List<Object> flat, long[] shape, int depth, int[] pos) {
    List<Object> out = new ArrayList<>((int) shape[depth]);
    for (long i = 0; i < shape[depth]; i++) {
      if (depth == shape.length - 1) {
        out.add(flat.get(pos[0]++));
      } else {
        out.add(nest(flat, shape, depth + 1, pos));
      }
    }
    return out;
  }
}
