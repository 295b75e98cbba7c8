package dev.mlops.benchmarks;

import dev.mlops.testmodels.TestModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** The models the benchmarks run, by their {@code @Param} name, with the rows fed to them. */
enum BenchModel {
  /** {@code x} float32 {@code [N, 4]} → {@code y} float32 {@code [N, 2]}: per-call overhead. */
  TINY("tiny", "x", "y"),
  /** {@code features} float32 {@code [N, 30]} → {@code probabilities} [N, 2] and {@code label}. */
  BREAST_CANCER("breast-cancer", "features", "probabilities"),
  /** {@link WideModel}: {@code x} float32 {@code [N, 512]} → {@code y} float32 {@code [N, 10]}. */
  WIDE("wide", WideModel.INPUT, WideModel.OUTPUT);

  /** Rows cycled through; a power of two so the index is a mask. */
  static final int ROWS = 64;

  final String param;
  final String input;
  final String output;

  BenchModel(String param, String input, String output) {
    this.param = param;
    this.input = input;
    this.output = output;
  }

  static BenchModel of(String param) {
    for (BenchModel m : values()) {
      if (m.param.equals(param)) {
        return m;
      }
    }
    throw new IllegalArgumentException(
        "model must be tiny, breast-cancer or wide but was '" + param + "'");
  }

  /**
   * Puts the model file into {@code directory}: the shipped fixture, or the wide model written
   * afresh (verify it with {@link WideModel#verify} once ONNX Runtime may be started).
   */
  Path writeTo(Path directory) {
    switch (this) {
      case TINY:
        return TestModels.copy(TestModels.TINY, directory);
      case BREAST_CANCER:
        return TestModels.copy(TestModels.BREAST_CANCER_V2, directory);
      case WIDE:
        return WideModel.write(directory);
      default:
        throw new IllegalStateException("unhandled model " + this);
    }
  }

  /**
   * {@link #ROWS} input rows: fixed synthetic rows for {@code tiny}, held-out test-set rows for
   * {@code breast-cancer}, fixed-seed random rows for {@code wide}.
   */
  float[][] rows() {
    switch (this) {
      case TINY:
        return tinyRows();
      case BREAST_CANCER:
        return breastCancerRows();
      case WIDE:
        return WideModel.rows(ROWS);
      default:
        throw new IllegalStateException("unhandled model " + this);
    }
  }

  static float[][] breastCancerRows() {
    float[][] source = TestModels.breastCancerTestSet().features();
    if (source.length == 0) {
      throw new IllegalStateException("the breast-cancer test set is empty");
    }
    float[][] out = new float[ROWS][];
    for (int i = 0; i < ROWS; i++) {
      out[i] = source[i % source.length].clone();
    }
    return out;
  }

  private static float[][] tinyRows() {
    float[][] out = new float[ROWS][4];
    for (int i = 0; i < ROWS; i++) {
      for (int j = 0; j < 4; j++) {
        out[i][j] = (i * 4 + j) * 0.25f - 8f;
      }
    }
    return out;
  }

  /** Deletes a benchmark's temporary directory and everything in it; null or missing is fine. */
  static void deleteRecursively(Path root) throws IOException {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(BenchModel::delete);
    }
  }

  private static void delete(Path p) {
    try {
      Files.delete(p);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + p, e);
    }
  }
}
