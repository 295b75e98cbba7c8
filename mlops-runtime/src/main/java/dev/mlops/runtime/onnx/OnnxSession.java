package dev.mlops.runtime.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.PredictionException;
import dev.mlops.api.Tensor;
import dev.mlops.api.TensorSpec;
import dev.mlops.api.spi.ModelSession;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/** One ONNX Runtime session. {@code run} is thread-safe; every native tensor it makes is closed. */
final class OnnxSession implements ModelSession {

  private final OrtEnvironment env;
  private final OrtSession session;
  private final ModelSignature signature;
  private final AtomicBoolean closed = new AtomicBoolean();

  OnnxSession(OrtEnvironment env, OrtSession session, ModelSignature signature) {
    this.env = env;
    this.session = session;
    this.signature = signature;
  }

  @Override
  public ModelSignature signature() {
    return signature;
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> inputs) {
    Map<String, OnnxTensor> native_ = new HashMap<>(inputs.size() * 2);
    try {
      for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
        native_.put(e.getKey(), TensorConversions.toOnnx(env, e.getValue()));
      }
      try (OrtSession.Result result = session.run(native_)) {
        Map<String, Tensor> out = new LinkedHashMap<>(signature.outputs().size() * 2);
        for (TensorSpec spec : signature.outputs()) {
          OnnxValue v = result.get(spec.name()).orElseThrow(
              () -> new PredictionException("ONNX Runtime returned no value for output '" + spec.name() + "'"));
          out.put(spec.name(), TensorConversions.fromOnnx(spec.name(), v));
        }
        return out;
      }
    } catch (OrtException e) {
      throw new PredictionException("ONNX Runtime failed to run the model: " + e.getMessage(), e);
    } finally {
      for (OnnxTensor t : native_.values()) {
        t.close();
      }
    }
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      OnnxRuntimeEngine.closeQuietly(session);
    }
  }
}
