package dev.mlops.runtime.loading;

import dev.mlops.api.ModelSignature;
import dev.mlops.api.Tensor;
import dev.mlops.api.TensorSpec;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Builds warm-up inputs from a signature: zeros (empty strings, false) with every dynamic dimension
 * set to 1. Stateless.
 */
public final class SyntheticInputs {

  private SyntheticInputs() {}

  /** One zero-valued tensor per input of {@code signature}. */
  public static Map<String, Tensor> of(ModelSignature signature) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (TensorSpec spec : signature.inputs()) {
      long[] shape = spec.shapeArray();
      int n = 1;
      for (int i = 0; i < shape.length; i++) {
        if (shape[i] == TensorSpec.DYNAMIC) {
          shape[i] = 1;
        }
        n = Math.multiplyExact(n, (int) shape[i]);
      }
      out.put(spec.name(), zeros(spec, n, shape));
    }
    return out;
  }

  /**
   * How the inputs of {@link #of} look, for messages: {@code synthetic zeros ("" for strings, false
   * for booleans) with every dynamic dimension set to 1: x:float32[1,4], sr:int64[]}.
   */
  public static String describe(ModelSignature signature) {
    StringBuilder sb =
        new StringBuilder(
            "synthetic zeros (\"\" for strings, false for booleans) with every dynamic"
                + " dimension set to 1: ");
    String sep = "";
    for (Map.Entry<String, Tensor> e : of(signature).entrySet()) {
      sb.append(sep).append(e.getKey()).append(':').append(e.getValue().describe());
      sep = ", ";
    }
    return sb.toString();
  }

  private static Tensor zeros(TensorSpec spec, int n, long[] shape) {
    switch (spec.type()) {
      case FLOAT:
        return Tensor.ofFloats(new float[n], shape);
      case DOUBLE:
        return Tensor.ofDoubles(new double[n], shape);
      case INT8:
        return Tensor.ofInt8(new byte[n], shape);
      case UINT8:
        return Tensor.ofUint8(new byte[n], shape);
      case INT16:
        return Tensor.ofInt16(new short[n], shape);
      case INT32:
        return Tensor.ofInts(new int[n], shape);
      case INT64:
        return Tensor.ofLongs(new long[n], shape);
      case BOOL:
        return Tensor.ofBooleans(new boolean[n], shape);
      case STRING:
        {
          String[] s = new String[n];
          Arrays.fill(s, "");
          return Tensor.ofStrings(s, shape);
        }
      case FLOAT16:
        return Tensor.ofFloat16Bits(new short[n], shape);
      case BFLOAT16:
        return Tensor.ofBFloat16Bits(new short[n], shape);
      default:
        throw new IllegalStateException("unhandled element type " + spec.type());
    }
  }
}
