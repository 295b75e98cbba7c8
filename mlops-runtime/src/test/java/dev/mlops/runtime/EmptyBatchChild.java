package dev.mlops.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.Map;

/**
 * Run in a child JVM by {@link ZeroSizeGuardTest}: feeds {@code lstm-empty-batch.onnx} an empty
 * batch through plain ONNX Runtime, without the library's guard. ONNX Runtime 1.29.0 aborts the
 * process ({@code terminate called without an active exception}, exit code 134); if it ever stops
 * doing so, this prints {@code SURVIVED} and exits with 0.
 */
public final class EmptyBatchChild {

  private EmptyBatchChild() {}

  public static void main(String[] args) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        OrtSession session = env.createSession(args[0], options);
        OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.allocate(0), new long[] {1, 0, 3});
        OnnxTensor h0 =
            OnnxTensor.createTensor(env, FloatBuffer.allocate(0), new long[] {1, 0, 4});
        OnnxTensor c0 =
            OnnxTensor.createTensor(env, FloatBuffer.allocate(0), new long[] {1, 0, 4})) {
      System.out.println("RUNNING");
      System.out.flush();
      session.run(Map.of("x", x, "h0", h0, "c0", c0)).close();
    }
    System.out.println("SURVIVED");
  }
}
