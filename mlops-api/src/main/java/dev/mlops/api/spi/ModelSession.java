package dev.mlops.api.spi;

import dev.mlops.api.ElementType;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.PredictionException;
import dev.mlops.api.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One loaded model. {@link #run} is thread-safe and may be called concurrently; {@link #close()}
 * must not be called while a run is in progress (the runtime guarantees this with leases).
 */
public interface ModelSession extends AutoCloseable {

  /**
   * Bytes the outputs of one run may hold together when the caller names no cap (256 MiB): what
   * {@link #run(Map)} and {@link #run(Map, Set, Duration)} apply in an engine that caps outputs, as
   * the ONNX Runtime engine does. The runtime's warm-up runs go through {@link #run(Map)}, so a
   * model whose output is far larger than its input (an {@code Expand} to a constant shape) cannot
   * exhaust the Java heap while it loads.
   */
  long DEFAULT_MAX_OUTPUT_BYTES = 256L << 20;

  /** The model's inputs and outputs. */
  ModelSignature signature();

  /**
   * Runs the model on inputs already checked against {@link #signature()}. An engine that caps
   * outputs applies {@link #DEFAULT_MAX_OUTPUT_BYTES}.
   *
   * @return every output, keyed by name, in signature order
   * @throws PredictionException if the engine fails, or the outputs exceed the engine's cap
   */
  Map<String, Tensor> run(Map<String, Tensor> inputs);

  /**
   * Runs the model computing only the named outputs, within an optional time limit.
   *
   * @param inputs inputs already checked against {@link #signature()}
   * @param outputs names of the outputs to compute and return
   * @param timeout terminate the run after this long; {@code null} for no limit
   * @return the requested outputs, keyed by name, in signature order
   * @throws dev.mlops.api.PredictionTimeoutException if the run was terminated at the deadline; the
   *     session stays usable
   * @throws PredictionException if the engine fails, or the outputs exceed the engine's cap ({@link
   *     #DEFAULT_MAX_OUTPUT_BYTES} in an engine that caps outputs)
   */
  default Map<String, Tensor> run(
      Map<String, Tensor> inputs, Set<String> outputs, Duration timeout) {
    Map<String, Tensor> all = run(inputs);
    if (all.keySet().equals(outputs)) {
      return all;
    }
    Map<String, Tensor> some = new LinkedHashMap<>();
    all.forEach(
        (k, v) -> {
          if (outputs.contains(k)) {
            some.put(k, v);
          }
        });
    return some;
  }

  /**
   * Runs the model as {@link #run(Map, Set, Duration)} does, refusing outputs that hold more than
   * {@code maxOutputBytes} together. An output's bytes are its element count times its element's
   * size as the engine holds it (4 for float32, 1 for bool; a string counts 8, its characters
   * unknown before the copy).
   *
   * <p>The default runs {@link #run(Map, Set, Duration)} and measures what it returned, which is
   * too late to spare the Java heap; an engine overrides it to measure its native outputs before it
   * copies any of them, as the ONNX Runtime engine does, and to count the copy within {@code
   * timeout}.
   *
   * @param inputs inputs already checked against {@link #signature()}
   * @param outputs names of the outputs to compute and return
   * @param timeout the run's time limit; {@code null} for no limit
   * @param maxOutputBytes most bytes the returned outputs may hold together; at least 0
   * @return the requested outputs, keyed by name, in signature order
   * @throws dev.mlops.api.PredictionTimeoutException if the run passed its deadline
   * @throws PredictionException if the engine fails, or the outputs hold more than {@code
   *     maxOutputBytes}; the message names the output, its type and shape, and the cap
   * @throws IllegalArgumentException if {@code maxOutputBytes} is negative
   */
  default Map<String, Tensor> run(
      Map<String, Tensor> inputs, Set<String> outputs, Duration timeout, long maxOutputBytes) {
    if (maxOutputBytes < 0) {
      throw new IllegalArgumentException("maxOutputBytes must be >= 0 but was " + maxOutputBytes);
    }
    Map<String, Tensor> out = run(inputs, outputs, timeout);
    long total = 0;
    for (Map.Entry<String, Tensor> e : out.entrySet()) {
      Tensor t = e.getValue();
      long bytes = (long) t.elementCount() * elementBytes(t.type());
      total += bytes;
      if (total > maxOutputBytes) {
        throw new PredictionException(
            outputTooLarge(e.getKey(), t.describe(), bytes, total, maxOutputBytes));
      }
    }
    return out;
  }

  /**
   * Runs several calls' inputs as one batch, as {@link #run(Map, Set, Duration, long)} runs their
   * stack: each input is the parts' tensors of that name stacked along their first dimension, in
   * order ({@link Tensor#stack}). The parts have the same inputs, each of one type and row shape.
   *
   * <p>The default stacks them on the heap and runs the stack; an engine overrides it to stage the
   * parts straight into its own buffers, as the ONNX Runtime engine does into its pinned tensors.
   *
   * @param parts the calls' inputs, at least one, each already checked against {@link #signature()}
   * @return the requested outputs of the whole batch, keyed by name, in signature order
   */
  default Map<String, Tensor> runStacked(
      List<Map<String, Tensor>> parts, Set<String> outputs, Duration timeout, long maxOutputBytes) {
    return run(stack(parts), outputs, timeout, maxOutputBytes);
  }

  /**
   * The inputs {@link #runStacked} runs: per input of the first part, every part's tensor of that
   * name stacked along the first dimension ({@link Tensor#stack}).
   */
  static Map<String, Tensor> stack(List<Map<String, Tensor>> parts) {
    if (parts.size() == 1) {
      return parts.get(0);
    }
    Map<String, Tensor> stacked = new LinkedHashMap<>();
    for (String name : parts.get(0).keySet()) {
      List<Tensor> tensors = new ArrayList<>(parts.size());
      for (Map<String, Tensor> part : parts) {
        tensors.add(part.get(name));
      }
      stacked.put(name, Tensor.stack(tensors));
    }
    return stacked;
  }

  /**
   * Bytes one element of {@code type} takes in an engine's memory, as the cap counts them (a string
   * element as the 8 bytes of its pointer, its characters aside).
   */
  private static int elementBytes(ElementType type) {
    return type == ElementType.STRING ? 8 : type.byteWidth();
  }

  private static String outputTooLarge(
      String output, String described, long bytes, long total, long maxOutputBytes) {
    return "output '"
        + output
        + "' is "
        + described
        + " ("
        + bytes
        + " bytes"
        + (total != bytes ? "; " + total + " with the outputs before it" : "")
        + "), but the outputs of one run may hold at most "
        + maxOutputBytes
        + " bytes (maxOutputBytes). Raise the predictor's maxOutputBytes if the model's outputs"
        + " are meant to be this large";
  }

  /** Releases the session's native resources. Idempotent. */
  @Override
  void close();
}
