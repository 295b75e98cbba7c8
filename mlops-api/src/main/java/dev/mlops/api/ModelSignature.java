package dev.mlops.api;

import java.util.ArrayList;
import java.util.Collection;
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

  /**
   * What would break for callers of a model with this signature if it were replaced by a model with
   * {@code candidate}'s, checking every output of this signature. See {@link
   * #incompatibilities(ModelSignature, Collection)}.
   *
   * @return one line per difference, empty when {@code candidate} is compatible
   */
  public List<String> incompatibilities(ModelSignature candidate) {
    return incompatibilities(candidate, outputs.stream().map(TensorSpec::name).toList());
  }

  /**
   * What would break for callers of a model with this signature if it were replaced by a model with
   * {@code candidate}'s. The candidate is compatible when it has the same input names, each with
   * the same element type and rank, where every fixed dimension stays the same or becomes dynamic
   * (a dynamic one must stay dynamic), and when every output in {@code outputsRead} that this
   * signature has is still there with the same element type. Inputs the candidate adds or drops are
   * differences; outputs it adds are not.
   *
   * @param candidate the signature of the replacement
   * @param outputsRead the outputs callers read (a codec's outputs); names this signature lacks are
   *     ignored
   * @return one line per difference, in input then output order; empty when compatible
   */
  public List<String> incompatibilities(ModelSignature candidate, Collection<String> outputsRead) {
    java.util.Objects.requireNonNull(candidate, "candidate");
    java.util.Objects.requireNonNull(outputsRead, "outputsRead");
    List<String> out = new ArrayList<>();
    for (TensorSpec was : inputs) {
      Optional<TensorSpec> now = candidate.input(was.name());
      if (now.isEmpty()) {
        out.add("input '" + was.name() + "' (" + was.describe() + ") is gone");
        continue;
      }
      TensorSpec is = now.get();
      if (is.type() != was.type()) {
        out.add(
            "input '"
                + was.name()
                + "': element type "
                + was.type().onnxName()
                + " became "
                + is.type().onnxName());
      }
      if (is.rank() != was.rank()) {
        out.add(
            "input '"
                + was.name()
                + "': rank "
                + was.rank()
                + " became "
                + is.rank()
                + " ("
                + was.describe()
                + " -> "
                + is.describe()
                + ")");
        continue;
      }
      for (int d = 0; d < was.rank(); d++) {
        long a = was.dim(d);
        long b = is.dim(d);
        if (a == TensorSpec.DYNAMIC && b != TensorSpec.DYNAMIC) {
          out.add(
              "input '"
                  + was.name()
                  + "': dimension "
                  + d
                  + " was dynamic and is now fixed at "
                  + b
                  + " ("
                  + was.describe()
                  + " -> "
                  + is.describe()
                  + ")");
        } else if (a != TensorSpec.DYNAMIC && b != TensorSpec.DYNAMIC && a != b) {
          out.add(
              "input '"
                  + was.name()
                  + "': dimension "
                  + d
                  + " was "
                  + a
                  + " and is now "
                  + b
                  + " ("
                  + was.describe()
                  + " -> "
                  + is.describe()
                  + ")");
        }
      }
    }
    for (TensorSpec is : candidate.inputs) {
      if (input(is.name()).isEmpty()) {
        out.add("input '" + is.name() + "' (" + is.describe() + ") is new");
      }
    }
    for (TensorSpec was : outputs) {
      if (!outputsRead.contains(was.name())) {
        continue;
      }
      Optional<TensorSpec> now = candidate.output(was.name());
      if (now.isEmpty()) {
        out.add("output '" + was.name() + "' (" + was.describe() + ") is gone");
      } else if (now.get().type() != was.type()) {
        out.add(
            "output '"
                + was.name()
                + "': element type "
                + was.type().onnxName()
                + " became "
                + now.get().type().onnxName());
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return "inputs " + inputs + " -> outputs " + outputs;
  }
}
