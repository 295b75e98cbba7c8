package dev.mlops.api;

import java.util.List;
import java.util.Optional;

/**
 * The inputs and outputs of a model, read from its graph at registration and checked on every
 * prediction. Immutable and thread-safe.
 *
 * @param inputs inputs in graph order
 * @param outputs outputs in graph order
 */
public record ModelSignature(List<TensorSpec> inputs, List<TensorSpec> outputs) {

  /** Copies the lists and rejects duplicate names. */
  public ModelSignature {
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    if (inputs.stream().map(TensorSpec::name).distinct().count() != inputs.size()) {
      throw new IllegalArgumentException("duplicate input names: " + inputs);
    }
    if (outputs.stream().map(TensorSpec::name).distinct().count() != outputs.size()) {
      throw new IllegalArgumentException("duplicate output names: " + outputs);
    }
  }

  /** The input with this name, if any. */
  public Optional<TensorSpec> input(String name) {
    return inputs.stream().filter(s -> s.name().equals(name)).findFirst();
  }

  /** The output with this name, if any. */
  public Optional<TensorSpec> output(String name) {
    return outputs.stream().filter(s -> s.name().equals(name)).findFirst();
  }

  @Override
  public String toString() {
    return "inputs " + inputs + " -> outputs " + outputs;
  }
}
