package dev.mlops.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A wide multi-layer perceptron written by the benchmarks themselves, so that no Python runs at
 * benchmark time and no 20 MB binary is committed: {@code x} float32 {@code [N, 512]} → MatMul +
 * Add + Relu to 2048 → MatMul + Add + Relu to 2048 → MatMul + Add to {@code y} float32 {@code [N,
 * 10]}. {@code N} is dynamic. Weights are drawn uniformly from {@code ±sqrt(6 / fan_in)} (He
 * initialisation, so activations neither vanish nor blow up), biases from {@code ±0.01}, all from a
 * {@link SplittableRandom} with a fixed seed: every run measures the same model.
 *
 * <p>5,267,466 parameters, 21.1 MB of float32 weights, IR version 8, opset 13. One row reads every
 * weight once, so a single-row call is bound by memory bandwidth; that is what makes batching pay.
 */
final class WideModel {

  static final String FILE = "wide.onnx";
  static final String INPUT = "x";
  static final String OUTPUT = "y";
  static final int IN = 512;
  static final int HIDDEN = 2048;
  static final int OUT = 10;
  private static final int[] WIDTHS = {IN, HIDDEN, HIDDEN, OUT};
  private static final long SEED = 0x6D6C6F7073L; // "mlops"

  private static final int IR_VERSION = 8;
  private static final int OPSET = 13;
  private static final int FLOAT = 1; // TensorProto.DataType.FLOAT

  private WideModel() {}

  /** Weights and biases of every layer, in order: {@code W0, b0, W1, b1, W2, b2}. */
  static float[][] parameters() {
    SplittableRandom random = new SplittableRandom(SEED);
    float[][] out = new float[2 * (WIDTHS.length - 1)][];
    for (int layer = 0; layer < WIDTHS.length - 1; layer++) {
      int fanIn = WIDTHS[layer];
      int fanOut = WIDTHS[layer + 1];
      out[2 * layer] = uniform(random, fanIn * fanOut, Math.sqrt(6.0 / fanIn));
      out[2 * layer + 1] = uniform(random, fanOut, 0.01);
    }
    return out;
  }

  static long parameterCount() {
    long n = 0;
    for (float[] p : parameters()) {
      n += p.length;
    }
    return n;
  }

  /** Fixed input rows in {@code [-1, 1)}, from their own seed. */
  static float[][] rows(int count) {
    SplittableRandom random = new SplittableRandom(SEED + 1);
    float[][] rows = new float[count][];
    for (int i = 0; i < count; i++) {
      rows[i] = uniform(random, IN, 1.0);
    }
    return rows;
  }

  /** Writes the model to {@code directory/wide.onnx} and returns its path. */
  static Path write(Path directory) {
    float[][] params = parameters();
    ProtoWriter graph = new ProtoWriter(23 << 20);
    String previous = INPUT;
    for (int layer = 0; layer < WIDTHS.length - 1; layer++) {
      String w = "W" + layer;
      String b = "b" + layer;
      String product = "matmul" + layer;
      String sum = layer == WIDTHS.length - 2 ? OUTPUT : "add" + layer;
      graph.message(1, node("MatMul" + layer, "MatMul", new String[] {previous, w}, product));
      graph.message(1, node("Add" + layer, "Add", new String[] {product, b}, sum));
      previous = sum;
      if (layer < WIDTHS.length - 2) {
        String relu = "relu" + layer;
        graph.message(1, node("Relu" + layer, "Relu", new String[] {sum}, relu));
        previous = relu;
      }
    }
    graph.string(2, "wide_mlp");
    for (int layer = 0; layer < WIDTHS.length - 1; layer++) {
      graph.message(5, tensor("W" + layer, params[2 * layer], WIDTHS[layer], WIDTHS[layer + 1]));
      graph.message(5, tensor("b" + layer, params[2 * layer + 1], WIDTHS[layer + 1]));
    }
    graph.message(11, valueInfo(INPUT, IN));
    graph.message(12, valueInfo(OUTPUT, OUT));

    ProtoWriter model = new ProtoWriter(23 << 20);
    model.varint(1, IR_VERSION);
    model.string(2, "mlops-benchmarks");
    model.message(7, graph);
    model.message(8, new ProtoWriter().string(1, "").varint(2, OPSET));
    Path file = directory.resolve(FILE);
    try {
      Files.createDirectories(directory);
      Files.write(file, model.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the wide model to " + file, e);
    }
    return file;
  }

  /**
   * Loads the file in ONNX Runtime, runs three rows, and checks that the output is {@code [3, 10]}
   * and agrees with a double-precision Java forward pass over the same weights. A model that loads
   * but computes something else would make every figure meaningless.
   */
  static void verify(OrtEnvironment env, Path file) throws OrtException {
    float[][] rows = rows(3);
    float[] flat = new float[3 * IN];
    for (int i = 0; i < 3; i++) {
      System.arraycopy(rows[i], 0, flat, i * IN, IN);
    }
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        OrtSession session = env.createSession(file.toString(), options);
        OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(flat), new long[] {3, IN});
        OrtSession.Result result = session.run(Map.of(INPUT, x))) {
      OnnxTensor y = (OnnxTensor) result.get(OUTPUT).orElseThrow();
      long[] shape = y.getInfo().getShape();
      if (!Arrays.equals(shape, new long[] {3, OUT})) {
        throw new IllegalStateException(
            file
                + ": expected output y of shape [3, 10] for 3 rows but got "
                + Arrays.toString(shape));
      }
      float[][] actual = (float[][]) y.getValue();
      float[][] params = parameters();
      for (int i = 0; i < 3; i++) {
        double[] expected = forward(params, rows[i]);
        for (int j = 0; j < OUT; j++) {
          double tolerance = 1e-3 * Math.max(1.0, Math.abs(expected[j]));
          if (Math.abs(actual[i][j] - expected[j]) > tolerance) {
            throw new IllegalStateException(
                file
                    + ": row "
                    + i
                    + " output "
                    + j
                    + " is "
                    + actual[i][j]
                    + " but the Java forward pass gives "
                    + expected[j]
                    + "; the protobuf writer or the weights are wrong");
          }
        }
      }
    }
  }

  /** The reference forward pass, in double precision. */
  static double[] forward(float[][] params, float[] row) {
    double[] a = new double[row.length];
    for (int i = 0; i < row.length; i++) {
      a[i] = row[i];
    }
    for (int layer = 0; layer < WIDTHS.length - 1; layer++) {
      int fanIn = WIDTHS[layer];
      int fanOut = WIDTHS[layer + 1];
      float[] w = params[2 * layer];
      float[] b = params[2 * layer + 1];
      double[] next = new double[fanOut];
      for (int j = 0; j < fanOut; j++) {
        next[j] = b[j];
      }
      for (int i = 0; i < fanIn; i++) {
        double ai = a[i];
        int base = i * fanOut;
        for (int j = 0; j < fanOut; j++) {
          next[j] += ai * w[base + j];
        }
      }
      if (layer < WIDTHS.length - 2) {
        for (int j = 0; j < fanOut; j++) {
          next[j] = Math.max(0.0, next[j]);
        }
      }
      a = next;
    }
    return a;
  }

  private static ProtoWriter node(String name, String op, String[] inputs, String output) {
    ProtoWriter node = new ProtoWriter();
    for (String in : inputs) {
      node.string(1, in);
    }
    return node.string(2, output).string(3, name).string(4, op);
  }

  private static ProtoWriter tensor(String name, float[] values, long... dims) {
    ByteBuffer raw =
        ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(values);
    return new ProtoWriter(raw.capacity() + 64)
        .packedVarints(1, dims)
        .varint(2, FLOAT)
        .string(8, name)
        .bytes(9, raw.array());
  }

  /** {@code name}: float32 {@code [N, width]} with a symbolic batch dimension. */
  private static ProtoWriter valueInfo(String name, int width) {
    ProtoWriter shape =
        new ProtoWriter()
            .message(1, new ProtoWriter().string(2, "N"))
            .message(1, new ProtoWriter().varint(1, width));
    ProtoWriter tensorType = new ProtoWriter().varint(1, FLOAT).message(2, shape);
    ProtoWriter type = new ProtoWriter().message(1, tensorType);
    return new ProtoWriter().string(1, name).message(2, type);
  }

  private static float[] uniform(SplittableRandom random, int n, double bound) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
    }
    return out;
  }
}
