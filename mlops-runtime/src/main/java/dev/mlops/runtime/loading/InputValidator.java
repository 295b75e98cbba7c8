package dev.mlops.runtime.loading;

import dev.mlops.api.InvalidInputException;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.Tensor;
import dev.mlops.api.TensorSpec;
import java.util.List;
import java.util.Map;

/**
 * Checks named input tensors against a model signature before any native memory is allocated: every
 * input present, no unknown name, element type, rank, every fixed dimension equal, no dimension
 * above a bound and, unless allowed, no dimension of size zero. Stateless and thread-safe.
 */
public final class InputValidator {

  private InputValidator() {}

  /**
   * Checks {@code inputs} against {@code signature}, refusing empty tensors.
   *
   * @throws InvalidInputException naming the first offending input, what was expected and found
   */
  public static void check(ModelSignature signature, Map<String, Tensor> inputs) {
    check(signature, inputs, false);
  }

  /**
   * Checks {@code inputs} against {@code signature}, with no bound on a dimension beyond what the
   * element count implies.
   *
   * @param allowEmpty whether a dimension of size zero may pass; see {@link #check(ModelSignature,
   *     Map, boolean, long)}
   * @throws InvalidInputException naming the first offending input, what was expected and found
   */
  public static void check(
      ModelSignature signature, Map<String, Tensor> inputs, boolean allowEmpty) {
    check(signature, inputs, allowEmpty, Long.MAX_VALUE);
  }

  /**
   * Checks {@code inputs} against {@code signature}.
   *
   * @param allowEmpty whether a dimension of size zero may pass. ONNX Runtime does not handle empty
   *     tensors everywhere: in 1.29.0 an LSTM on an empty batch aborts the whole process ({@code
   *     terminate called without an active exception}), so they are refused unless a predictor opts
   *     in.
   * @param maxDimension the largest size any one dimension may have. An element-count cap alone
   *     does not bound the dimensions of an empty tensor ({@code [0, 2^28]} holds no element), yet
   *     an operator may size its output by them (a ReduceSum over the empty axis makes {@code [1,
   *     2^28]}).
   * @throws InvalidInputException naming the first offending input, what was expected and found
   */
  public static void check(
      ModelSignature signature, Map<String, Tensor> inputs, boolean allowEmpty, long maxDimension) {
    List<TensorSpec> specs = signature.inputs();
    for (int i = 0, n = specs.size(); i < n; i++) {
      TensorSpec spec = specs.get(i);
      Tensor t = inputs.get(spec.name());
      if (t == null) {
        throw new InvalidInputException(
            spec.name(), spec.describe(), "no value (given: " + inputs.keySet() + ")");
      }
      if (t.type() != spec.type() || t.rank() != spec.rank()) {
        throw new InvalidInputException(spec.name(), spec.describe(), t.describe());
      }
      for (int d = 0; d < spec.rank(); d++) {
        long want = spec.dim(d);
        long have = t.dim(d);
        if (want != TensorSpec.DYNAMIC && want != have) {
          throw new InvalidInputException(spec.name(), spec.describe(), t.describe());
        }
        if (have > maxDimension) {
          throw new InvalidInputException(
              spec.name(),
              spec.describe()
                  + " with no dimension larger than "
                  + maxDimension
                  + " (a predictor's maxInputElements bounds every dimension, those of empty"
                  + " tensors too)",
              t.describe());
        }
        if (have == 0 && !allowEmpty) {
          throw new InvalidInputException(
              spec.name(),
              spec.describe()
                  + " with no dimension of size 0 (ONNX Runtime can"
                  + " abort the process on empty tensors; a predictor built with allowEmptyTensors() passes them)",
              t.describe());
        }
      }
    }
    if (inputs.size() != specs.size()) {
      for (String name : inputs.keySet()) {
        if (signature.input(name).isEmpty()) {
          throw new InvalidInputException(
              name, "one of the inputs " + specs, "an unknown input name");
        }
      }
    }
  }
}
