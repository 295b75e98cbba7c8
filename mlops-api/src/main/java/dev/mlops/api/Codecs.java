package dev.mlops.api;

import java.lang.reflect.Array;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The built-in codecs. Each is stateless and thread-safe.
 *
 * <ul>
 *   <li>{@link #floatRow()} — one {@code float[]} feature row in, the first {@code float32} output
 *       flattened out (e.g. class probabilities);
 *   <li>{@link #floatBatch()} — {@code float[][]} rows in, one {@code float[]} per row out;
 *   <li>{@link #namedInputs()} — a map from input name to a scalar, array or {@link Tensor},
 *       converted to each input's element type; all outputs as tensors;
 *   <li>{@link #tensors()} — raw named tensors in and out, any element type.
 * </ul>
 */
public final class Codecs {

  private Codecs() {}

  /**
   * A single feature row for a model with one {@code float32} input of shape {@code [n]} or {@code
   * [?, n]}; decodes the first {@code float32} output.
   */
  public static Codec<float[], float[]> floatRow() {
    return FloatRow.FIRST;
  }

  /** Like {@link #floatRow()}, decoding the named output. */
  public static Codec<float[], float[]> floatRow(String output) {
    return new FloatRow(Objects.requireNonNull(output, "output"));
  }

  /**
   * A batch of feature rows for a model with one {@code float32} input of shape {@code [?, n]};
   * decodes the first {@code float32} output into one array per row.
   */
  public static Codec<float[][], float[][]> floatBatch() {
    return FloatBatch.FIRST;
  }

  /** Like {@link #floatBatch()}, decoding the named output. */
  public static Codec<float[][], float[][]> floatBatch(String output) {
    return new FloatBatch(Objects.requireNonNull(output, "output"));
  }

  /**
   * Named inputs: each map key is an input name; each value is a {@link Tensor}, a scalar ({@link
   * Number}, {@link Boolean}, {@link String}) or a one-dimensional Java array, converted to the
   * input's element type and laid out in the input's shape: a single dynamic dimension is inferred
   * from the number of values, a scalar sets every dynamic dimension to 1, and an input with
   * several dynamic dimensions needs a {@link Tensor} with its shape (a flat array would fit more
   * than one). Decodes every output.
   */
  public static Codec<Map<String, ?>, Map<String, Tensor>> namedInputs() {
    return NamedInputs.INSTANCE;
  }

  /** Raw named tensors in and out, of any element type. */
  public static Codec<Map<String, Tensor>, Map<String, Tensor>> tensors() {
    return RawTensors.INSTANCE;
  }

  static TensorSpec singleFloatInput(ModelSignature signature, String codec) {
    List<TensorSpec> inputs = signature.inputs();
    if (inputs.size() != 1 || inputs.get(0).type() != ElementType.FLOAT) {
      throw new InvalidInputException(
          inputs.isEmpty() ? "(none)" : inputs.get(0).name(),
          "a model with exactly one float32 input for the " + codec + " codec",
          "inputs " + inputs);
    }
    return inputs.get(0);
  }

  /** The output a float codec decodes: the named one, else the first float32 output. */
  static String floatOutputName(ModelSignature signature, String name) {
    if (name != null) {
      if (signature.output(name).isEmpty()) {
        throw new PredictionException(
            "model has no output '" + name + "'; outputs are " + signature.outputs());
      }
      return name;
    }
    for (TensorSpec s : signature.outputs()) {
      if (s.type() == ElementType.FLOAT) {
        return s.name();
      }
    }
    throw new PredictionException(
        "model has no float32 output; outputs are " + signature.outputs());
  }

  static Tensor floatOutput(Map<String, Tensor> outputs, String name) {
    if (name != null) {
      Tensor t = outputs.get(name);
      if (t == null) {
        throw new PredictionException(
            "model has no output '" + name + "'; outputs are " + outputs.keySet());
      }
      return t;
    }
    for (Tensor t : outputs.values()) {
      if (t.type() == ElementType.FLOAT) {
        return t;
      }
    }
    throw new PredictionException("model has no float32 output; outputs are " + outputs);
  }

  private static final class FloatRow implements Codec<float[], float[]> {
    static final FloatRow FIRST = new FloatRow(null);
    private final String output;

    FloatRow(String output) {
      this.output = output;
    }

    @Override
    public Map<String, Tensor> encode(float[] row, ModelSignature signature) {
      TensorSpec spec = singleFloatInput(signature, "floatRow");
      Tensor t =
          spec.rank() == 1 ? Tensor.ofFloats(row, row.length) : Tensor.ofFloats(row, 1, row.length);
      return Map.of(spec.name(), t);
    }

    @Override
    public float[] decode(Map<String, Tensor> outputs, ModelSignature signature) {
      return floatOutput(outputs, output).floats();
    }

    @Override
    public java.util.Set<String> outputs(ModelSignature signature) {
      return java.util.Set.of(floatOutputName(signature, output));
    }

    @Override
    public String toString() {
      return "floatRow(" + (output == null ? "first float32 output" : output) + ")";
    }
  }

  private static final class FloatBatch implements Codec<float[][], float[][]> {
    static final FloatBatch FIRST = new FloatBatch(null);
    private final String output;

    FloatBatch(String output) {
      this.output = output;
    }

    @Override
    public Map<String, Tensor> encode(float[][] rows, ModelSignature signature) {
      TensorSpec spec = singleFloatInput(signature, "floatBatch");
      if (rows.length == 0) {
        throw new InvalidInputException(spec.name(), "at least one row", "an empty batch");
      }
      int width = rows[0].length;
      float[] flat = new float[Math.multiplyExact(rows.length, width)];
      for (int i = 0; i < rows.length; i++) {
        if (rows[i].length != width) {
          throw new InvalidInputException(
              spec.name(),
              "rows of equal length " + width,
              "row " + i + " of length " + rows[i].length);
        }
        System.arraycopy(rows[i], 0, flat, i * width, width);
      }
      return Map.of(spec.name(), Tensor.ofFloats(flat, rows.length, width));
    }

    @Override
    public java.util.Set<String> outputs(ModelSignature signature) {
      return java.util.Set.of(floatOutputName(signature, output));
    }

    @Override
    public float[][] decode(Map<String, Tensor> outputs, ModelSignature signature) {
      Tensor t = floatOutput(outputs, output);
      float[] flat = t.floats();
      int rows = t.rank() == 0 ? 1 : (int) t.dim(0);
      int width = rows == 0 ? 0 : flat.length / rows;
      float[][] out = new float[rows][];
      for (int i = 0; i < rows; i++) {
        out[i] = java.util.Arrays.copyOfRange(flat, i * width, (i + 1) * width);
      }
      return out;
    }

    @Override
    public String toString() {
      return "floatBatch(" + (output == null ? "first float32 output" : output) + ")";
    }
  }

  private static final class RawTensors implements Codec<Map<String, Tensor>, Map<String, Tensor>> {
    static final RawTensors INSTANCE = new RawTensors();

    @Override
    public Map<String, Tensor> encode(Map<String, Tensor> input, ModelSignature signature) {
      return input;
    }

    @Override
    public Map<String, Tensor> decode(Map<String, Tensor> outputs, ModelSignature signature) {
      return outputs;
    }

    @Override
    public String toString() {
      return "tensors";
    }
  }

  private static final class NamedInputs implements Codec<Map<String, ?>, Map<String, Tensor>> {
    static final NamedInputs INSTANCE = new NamedInputs();

    @Override
    public Map<String, Tensor> encode(Map<String, ?> input, ModelSignature signature) {
      Map<String, Tensor> out = new LinkedHashMap<>();
      for (Map.Entry<String, ?> e : input.entrySet()) {
        TensorSpec spec =
            signature
                .input(e.getKey())
                .orElseThrow(
                    () ->
                        new InvalidInputException(
                            e.getKey(),
                            "one of the inputs " + signature.inputs(),
                            "an unknown input name"));
        out.put(e.getKey(), toTensor(spec, e.getValue()));
      }
      return out;
    }

    @Override
    public Map<String, Tensor> decode(Map<String, Tensor> outputs, ModelSignature signature) {
      return outputs;
    }

    @Override
    public String toString() {
      return "namedInputs";
    }
  }

  /**
   * Converts a scalar, a one-dimensional array or a tensor into a tensor that fits {@code spec}.
   */
  static Tensor toTensor(TensorSpec spec, Object value) {
    if (value == null) {
      throw new InvalidInputException(spec.name(), spec.describe(), "null");
    }
    if (value instanceof Tensor) {
      return (Tensor) value;
    }
    boolean array = value.getClass().isArray();
    if (array && value.getClass().getComponentType().isArray()) {
      throw new InvalidInputException(
          spec.name(),
          spec.describe() + " as a scalar, a flat array or a Tensor",
          "a nested array");
    }
    int n = array ? Array.getLength(value) : 1;
    long[] shape = layout(spec, n, value);
    ElementType type = spec.type();
    switch (type) {
      case FLOAT:
        {
          float[] d = new float[n];
          for (int i = 0; i < n; i++) {
            d[i] = number(spec, element(value, array, i)).floatValue();
          }
          return Tensor.ofFloats(d, shape);
        }
      case DOUBLE:
        {
          double[] d = new double[n];
          for (int i = 0; i < n; i++) {
            d[i] = number(spec, element(value, array, i)).doubleValue();
          }
          return Tensor.ofDoubles(d, shape);
        }
      case INT8:
      case UINT8:
        {
          byte[] d = new byte[n];
          long min = type == ElementType.INT8 ? Byte.MIN_VALUE : 0;
          long max = type == ElementType.INT8 ? Byte.MAX_VALUE : 255;
          for (int i = 0; i < n; i++) {
            d[i] = (byte) integral(spec, element(value, array, i), min, max);
          }
          return type == ElementType.INT8 ? Tensor.ofInt8(d, shape) : Tensor.ofUint8(d, shape);
        }
      case INT16:
        {
          short[] d = new short[n];
          for (int i = 0; i < n; i++) {
            d[i] =
                (short) integral(spec, element(value, array, i), Short.MIN_VALUE, Short.MAX_VALUE);
          }
          return Tensor.ofInt16(d, shape);
        }
      case INT32:
        {
          int[] d = new int[n];
          for (int i = 0; i < n; i++) {
            d[i] =
                (int)
                    integral(spec, element(value, array, i), Integer.MIN_VALUE, Integer.MAX_VALUE);
          }
          return Tensor.ofInts(d, shape);
        }
      case INT64:
        {
          long[] d = new long[n];
          for (int i = 0; i < n; i++) {
            d[i] = integral(spec, element(value, array, i), Long.MIN_VALUE, Long.MAX_VALUE);
          }
          return Tensor.ofLongs(d, shape);
        }
      case BOOL:
        {
          boolean[] d = new boolean[n];
          for (int i = 0; i < n; i++) {
            Object v = element(value, array, i);
            if (!(v instanceof Boolean)) {
              throw new InvalidInputException(spec.name(), "bool values", describe(v));
            }
            d[i] = (Boolean) v;
          }
          return Tensor.ofBooleans(d, shape);
        }
      case STRING:
        {
          String[] d = new String[n];
          for (int i = 0; i < n; i++) {
            Object v = element(value, array, i);
            if (!(v instanceof String)) {
              throw new InvalidInputException(spec.name(), "string values", describe(v));
            }
            d[i] = (String) v;
          }
          return Tensor.ofStrings(d, shape);
        }
      default:
        throw new InvalidInputException(
            spec.name(), spec.describe() + " given as a Tensor of raw bits", describe(value));
    }
  }

  /**
   * The shape a flat array of {@code n} values takes for {@code spec}. With one dynamic dimension
   * it is inferred; with several it is ambiguous (18432 values for {@code [?,3,?,?]} fit many
   * shapes), unless the fixed dimensions alone hold all {@code n} values and every dynamic one is
   * 1.
   */
  private static long[] layout(TensorSpec spec, int n, Object value) {
    long[] shape = spec.shapeArray();
    long fixed = 1;
    int dynamic = 0;
    int lastDynamic = -1;
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] == TensorSpec.DYNAMIC) {
        shape[i] = 1;
        dynamic++;
        lastDynamic = i;
      } else {
        fixed *= shape[i];
      }
    }
    if (dynamic > 1 && fixed != n) {
      throw new InvalidInputException(
          spec.name(),
          spec.describe()
              + " as a Tensor with its shape (a flat array fits"
              + " more than one shape when "
              + dynamic
              + " dimensions are dynamic)",
          n + " value(s) from " + describe(value));
    }
    if (dynamic == 1 && fixed > 0 && n % fixed == 0) {
      shape[lastDynamic] = n / fixed;
      fixed = n;
    }
    if (fixed != n) {
      throw new InvalidInputException(
          spec.name(), spec.describe(), n + " value(s) from " + describe(value));
    }
    return shape;
  }

  private static Object element(Object value, boolean array, int i) {
    return array ? Array.get(value, i) : value;
  }

  private static Number number(TensorSpec spec, Object v) {
    if (v instanceof Number) {
      return (Number) v;
    }
    throw new InvalidInputException(spec.name(), spec.type().onnxName() + " numbers", describe(v));
  }

  private static long integral(TensorSpec spec, Object v, long min, long max) {
    Number num = number(spec, v);
    long l = num.longValue();
    if ((num instanceof Double || num instanceof Float) && num.doubleValue() != l) {
      throw new InvalidInputException(
          spec.name(), spec.type().onnxName() + " integers", "the fraction " + num);
    }
    if (l < min || l > max) {
      throw new InvalidInputException(
          spec.name(),
          spec.type().onnxName() + " values in [" + min + ", " + max + "]",
          "the value " + l);
    }
    return l;
  }

  private static String describe(Object v) {
    if (v == null) {
      return "null";
    }
    if (v.getClass().isArray()) {
      return v.getClass().getComponentType().getSimpleName() + "[" + Array.getLength(v) + "]";
    }
    return v.getClass().getSimpleName() + " " + v;
  }
}
