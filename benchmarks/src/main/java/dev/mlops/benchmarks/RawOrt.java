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
 * The three raw ONNX Runtime paths of one-row prediction on one session, written as a user would,
 * so that {@link PredictBenchmark} and {@link SharedSessionPaths} measure the same code:
 *
 * <ul>
 *   <li>{@link #naive}: the heap array wrapped, every output run, {@code getValue()};
 *   <li>{@link #reusedBuffer}: one pre-allocated direct buffer refilled per call, a new tensor over
 *       it, only the float output requested, copied out into a pre-allocated array (returned, so
 *       overwritten by the next call);
 *   <li>{@link #limit}: the fastest path ONNX Runtime's Java API has: a pinned input tensor and a
 *       pinned output tensor, both over direct buffers, made once; per call the input's buffer is
 *       refilled, the session runs into the pinned output (so only that output is computed, and
 *       ONNX Runtime allocates no output), and the output is copied out into a pre-allocated array.
 *       No native tensor and no direct buffer is made per call.
 * </ul>
 *
 * <p>Not thread-safe (the reused buffers); never closes the session. {@link #close()} closes the
 * pinned tensors.
 */
final class RawOrt implements AutoCloseable {

  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final OrtSession session;
  private final String inputName;
  private final String outputName;
  private final Set<String> requestedOutputs;
  private final long[] shape;
  private final FloatBuffer reusedInput;
  private final float[] reusedOutput;
  private final FloatBuffer pinnedInputBuffer;
  private final FloatBuffer pinnedOutputBuffer;
  private final OnnxTensor pinnedInput;
  private final OnnxTensor pinnedOutput;
  private final Map<String, OnnxTensor> pinnedInputs;
  private final Map<String, OnnxTensor> pinnedOutputs;
  private final float[] limitOutput;

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
    int outputs = naive(new float[width]).length;
    this.reusedOutput = new float[outputs];
    this.limitOutput = new float[outputs];
    this.pinnedInputBuffer = direct(width);
    this.pinnedOutputBuffer = direct(outputs);
    this.pinnedInput = OnnxTensor.createTensor(env, pinnedInputBuffer, shape);
    OnnxTensor out;
    try {
      out = OnnxTensor.createTensor(env, pinnedOutputBuffer, new long[] {1, outputs});
    } catch (OrtException | RuntimeException e) {
      pinnedInput.close();
      throw e;
    }
    this.pinnedOutput = out;
    this.pinnedInputs = Map.of(inputName, pinnedInput);
    this.pinnedOutputs = Map.of(outputName, pinnedOutput);
  }

  private static FloatBuffer direct(int floats) {
    return ByteBuffer.allocateDirect(floats * Float.BYTES)
        .order(ByteOrder.nativeOrder())
        .asFloatBuffer();
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

  float[] limit(float[] row) throws OrtException {
    pinnedInputBuffer.clear();
    pinnedInputBuffer.put(row);
    // The result holds only the pinned output, which it does not own: closing it frees nothing.
    session.run(pinnedInputs, pinnedOutputs).close();
    pinnedOutputBuffer.clear();
    pinnedOutputBuffer.get(limitOutput);
    return limitOutput;
  }

  @Override
  public void close() {
    pinnedInput.close();
    pinnedOutput.close();
  }
}
