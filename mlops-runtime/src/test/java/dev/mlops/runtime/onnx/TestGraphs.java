package dev.mlops.runtime.onnx;

import dev.mlops.api.ArtifactLocation;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The graphs under {@code src/test/resources/graphs/} (made by {@code make_test_graphs.py}), copied
 * into artifacts.
 */
final class TestGraphs {

  private TestGraphs() {}

  /**
   * Copies graph {@code name} (without {@code .onnx}) to {@code <root>/files/model.onnx}, an
   * artifact whose directory is {@code root}, as the registry lays out a version.
   */
  static ArtifactLocation artifact(String name, Path root) {
    try (InputStream in = TestGraphs.class.getResourceAsStream("/graphs/" + name + ".onnx")) {
      if (in == null) {
        throw new IllegalArgumentException(
            "no test graph " + name + ".onnx; run mlops-runtime/make_test_graphs.py");
      }
      Path file = Files.createDirectories(root.resolve("files")).resolve("model.onnx");
      Files.copy(in, file);
      return new ArtifactLocation(root, file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The model file's name in messages: its path relative to the artifact directory. */
  static final String MODEL = Path.of("files", "model.onnx").toString();
}
