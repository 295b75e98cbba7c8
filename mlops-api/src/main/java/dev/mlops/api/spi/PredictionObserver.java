package dev.mlops.api.spi;

import dev.mlops.api.ModelVersion;
import dev.mlops.api.Tensor;
import java.util.Map;

/**
 * Sees the inputs and outputs of every successful prediction, for monitors that need the data
 * itself (drift, data quality). Called on the prediction thread after the engine returns, so it
 * must be thread-safe, fast and must not keep references to the tensors' arrays beyond the call
 * unless it copies them. The runtime catches and logs anything it throws.
 */
@FunctionalInterface
public interface PredictionObserver {

  /**
   * Called once per successful engine run.
   *
   * @param version the version that ran
   * @param inputs the validated inputs, by name
   * @param outputs the outputs, by name
   */
  void observe(ModelVersion version, Map<String, Tensor> inputs, Map<String, Tensor> outputs);
}
