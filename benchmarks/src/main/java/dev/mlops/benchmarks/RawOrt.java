package dev.mlops.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Set;

/**
 * The two raw ONNX Runtime paths of one-row prediction on one session, written as a user would, so
 * that {@link PredictBenchmark} and {@link SharedSessionPaths} measure the same code:
 *
 * <ul>
 *   <li>{@link #naive}: the heap array wrapped, every output run, {@code getValue()};
 *   <li>{@link #reusedBuffer}: the tightest plain-API path: one pre-allocated direct buffer
 *       refilled per call, a new tensor over it, only the float output requested, copied out into a
 *       pre-allocated array (returned, so overwritten by the next call).
 * </ul>
 *
 * <p>Not thread-safe (the reused buffers); never closes the session.
 */
final class RawOrt {

  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final OrtSession session;
  private final String inputName;
  private final String outputName;
  private final Set<String> requestedOutputs;
  private final long[] shape;
  private final FloatBuffer reusedInput;
  private final float[] reusedOutput;

  RawOrt(OrtSession session, BenchModel model, int width) throws OrtException {
    this.session = session;
    this.inputName = model.input;
    this.outputName = model.output;
    this.requestedOutputs = Set.of(outputName);
    this.shape = new long[] {1, width};
    this.reusedInput =
        ByteBuffer.allocateDirect(width * Float.BYTES)
            .order(ByteOrder.nativeOrder())
            .asFloatBuffer();
    this.reusedOutput = new float[naive(new float[width]).length];
  }

  float[] naive(float[] row) throws OrtException {
    try (OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(row), shape);
        OrtSession.Result result = session.run(Map.of(inputName, input))) {
      OnnxValue value = result.get(outputName).orElseThrow();
      return ((float[][]) value.getValue())[0];
    }
  }

  float[] reusedBuffer(float[] row) throws OrtException {
    reusedInput.clear();
    reusedInput.put(row);
    reusedInput.flip();
    try (OnnxTensor input = OnnxTensor.createTensor(env, reusedInput, shape);
        OrtSession.Result result = session.run(Map.of(inputName, input), requestedOutputs)) {
      ((OnnxTensor) result.get(0)).getFloatBuffer().get(reusedOutput);
      return reusedOutput;
    }
  }
}
