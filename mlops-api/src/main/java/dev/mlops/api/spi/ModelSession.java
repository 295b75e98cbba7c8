package dev.mlops.api.spi;

import dev.mlops.api.ModelSignature;
import dev.mlops.api.PredictionException;
import dev.mlops.api.Tensor;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * One loaded model. {@link #run} is thread-safe and may be called concurrently; {@link #close()}
 * must not be called while a run is in progress (the runtime guarantees this with leases).
 */
public interface ModelSession extends AutoCloseable {

  /** The model's inputs and outputs. */
  ModelSignature signature();

  /**
   * Runs the model on inputs already checked against {@link #signature()}.
   *
   * @return every output, keyed by name, in signature order
   * @throws PredictionException if the engine fails
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
   * @throws PredictionException if the engine fails
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

  /** Releases the session's native resources. Idempotent. */
  @Override
  void close();
}
