package dev.mlops.api.spi;

import dev.mlops.api.ModelSignature;
import dev.mlops.api.PredictionException;
import dev.mlops.api.Tensor;
import java.util.Map;

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

  /** Releases the session's native resources. Idempotent. */
  @Override
  void close();
}
