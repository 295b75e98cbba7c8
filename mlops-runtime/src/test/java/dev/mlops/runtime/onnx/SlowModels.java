package dev.mlops.runtime.onnx;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Test models that take long to run without large weights: {@code y = Sin(Sin(...Sin(x)))}, {@code
 * x} and {@code y} float32 of shape {@code [N, width]}. The run time grows with the number of
 * operators times the input size.
 */
public final class SlowModels {

  private SlowModels() {}

  /**
   * Writes a chain of {@code ops} Sin operators over float32 {@code [N, width]} to {@code file}.
   */
  public static Path sinChain(int ops, long width, Path file) {
    OnnxModels.Proto graph = new OnnxModels.Proto();
    for (int i = 0; i < ops; i++) {
      String in = i == 0 ? "x" : "t" + i;
      String out = i == ops - 1 ? "y" : "t" + (i + 1);
      graph.message(
          1,
          new OnnxModels.Proto()
              .string(1, in)
              .string(2, out)
              .string(3, "sin" + i)
              .string(4, "Sin"));
    }
    graph.string(2, "slow").message(11, valueInfo("x", width)).message(12, valueInfo("y", width));
    byte[] bytes =
        new OnnxModels.Proto()
            .varint(1, 8)
            .string(2, "mlops-tests")
            .message(7, graph)
            .message(8, new OnnxModels.Proto().string(1, "").varint(2, 13))
            .toBytes();
    try {
      return Files.write(file, bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static OnnxModels.Proto valueInfo(String name, long width) {
    OnnxModels.Proto shape =
        new OnnxModels.Proto()
            .message(1, new OnnxModels.Proto().string(2, "N"))
            .message(1, new OnnxModels.Proto().varint(1, width));
    OnnxModels.Proto tensorType = new OnnxModels.Proto().varint(1, 1).message(2, shape);
    return new OnnxModels.Proto()
        .string(1, name)
        .message(2, new OnnxModels.Proto().message(1, tensorType));
  }
}
