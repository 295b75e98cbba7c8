package dev.mlops.api;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Turns a domain input into named tensors and the model's named output tensors into a domain
 * output. Implementations must be thread-safe and should be stateless. {@link Codecs} has the
 * built-ins; write your own for your types.
 *
 * @param <I> input type
 * @param <O> output type
 */
public interface Codec<I, O> {

  /**
   * Encodes an input.
   *
   * @param input the caller's input
   * @param signature the serving version's signature
   * @return one tensor per model input, keyed by input name
   * @throws InvalidInputException if the input cannot be encoded for this signature
   */
  Map<String, Tensor> encode(I input, ModelSignature signature);

  /**
   * Decodes the outputs of one run.
   *
   * @param outputs every model output, keyed by name, in signature order
   * @param signature the serving version's signature
   */
  O decode(Map<String, Tensor> outputs, ModelSignature signature);

  /**
   * The outputs {@link #decode} reads. The engine computes and copies only these, which saves time
   * on models with several outputs. Default: every output.
   */
  default Set<String> outputs(ModelSignature signature) {
    Set<String> all = new LinkedHashSet<>();
    for (TensorSpec s : signature.outputs()) {
      all.add(s.name());
    }
    return all;
  }
}
