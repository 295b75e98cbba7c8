package dev.mlops.testmodels;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Properties;

/**
 * Access to the small, real ONNX models and the held-out data set shipped in this module.
 *
 * <p>All files live on the class path under {@code dev/mlops/testmodels/} and were produced by
 * {@code mlops-test-models/generate_fixtures.py} (opset 13, IR version 8, no external data). The
 * models are:
 *
 * <dl>
 *   <dt>{@value #BREAST_CANCER_V1}, {@value #BREAST_CANCER_V2}
 *   <dd>Binary classifiers trained on scikit-learn's Wisconsin breast-cancer data set (v1: standard
 *       scaling + logistic regression; v2: standard scaling + MLP, more accurate). Input {@code
 *       features}: float32 {@code [N, 30]}. Outputs {@code probabilities}: float32 {@code [N, 2]}
 *       (P(class 0), P(class 1)) and {@code label}: int64 {@code [N]}, the arg-max of the
 *       probabilities. Scaling is part of the graph, so raw feature values are fed.
 *   <dt>{@value #MIXED_INPUTS}
 *   <dd>Two inputs of different element types: {@code amount} float32 {@code [N, 1]} and {@code
 *       category} int64 {@code [N, 1]} with {@code 0 <= category <} {@link
 *       #mixedInputsCategories()}. Output {@code score} float32 {@code [N, 1]}:
 *       <pre>{@code score = amount * w[category] + b}</pre>
 *       where {@code w} is {@link #mixedInputsWeight(long)} and {@code b} is {@link
 *       #mixedInputsBias()}. The runtime rounds the product and the sum to float32 exactly as
 *       Java's float arithmetic does, so {@link #mixedInputsScore(float, long)} predicts the output
 *       bit for bit.
 *   <dt>{@value #TINY}
 *   <dd>Input {@code x} float32 {@code [N, 4]}, output {@code y} float32 {@code [N, 2]} {@code = x
 *       · W + b} with the fixed weights of {@link #tinyWeights()} and {@link #tinyBias()}. Meant
 *       for per-call overhead benchmarks.
 * </dl>
 *
 * <p>The class is thread-safe and has no dependencies beyond the JDK.
 */
public final class TestModels {

  /** Breast-cancer classifier v1: standard scaling + logistic regression. */
  public static final String BREAST_CANCER_V1 = "breast-cancer-v1.onnx";

  /** Breast-cancer classifier v2: standard scaling + MLP; more accurate than v1. */
  public static final String BREAST_CANCER_V2 = "breast-cancer-v2.onnx";

  /**
   * Breast-cancer classifier v1 that fails at run time on a row whose feature {@code f0} is above
   * {@value #FLAKY_THRESHOLD} (a Gather out of bounds), and gives v1's results on every other row:
   * a candidate that fails on the share of calls a test chooses. Made by {@code generate_flaky.py}.
   */
  public static final String BREAST_CANCER_FLAKY = "breast-cancer-flaky.onnx";

  /** Rows of {@link #BREAST_CANCER_FLAKY} with {@code f0} above this fail. */
  public static final float FLAKY_THRESHOLD = 1000f;

  /** Model with a float32 {@code amount} and an int64 {@code category} input. */
  public static final String MIXED_INPUTS = "mixed-inputs.onnx";

  /** Minimal {@code x · W + b} model for measuring per-call overhead. */
  public static final String TINY = "tiny.onnx";

  private static final List<String> MODEL_FILES =
      List.of(BREAST_CANCER_V1, BREAST_CANCER_V2, BREAST_CANCER_FLAKY, MIXED_INPUTS, TINY);

  private static final String TEST_SET_FILE = "breast-cancer-test.csv";
  private static final String PROPERTIES_FILE = "fixtures.properties";
  private static final int TINY_INPUTS = 4;
  private static final int TINY_OUTPUTS = 2;

  private TestModels() {}

  /**
   * Returns the names of all shipped model files, usable with {@link #copy(String, Path)} and
   * {@link #bytes(String)}.
   *
   * @return an immutable list of file names
   */
  public static List<String> modelFiles() {
    return MODEL_FILES;
  }

  /**
   * Copies a shipped model into a directory, replacing any file of the same name there.
   *
   * @param fileName one of {@link #modelFiles()}, for example {@link #BREAST_CANCER_V1}
   * @param targetDir the directory to copy into; created with its parents if missing
   * @return the path of the copied file, {@code targetDir.resolve(fileName)}
   * @throws IllegalArgumentException if {@code fileName} is not a shipped model
   * @throws UncheckedIOException if the directory cannot be created or the file written
   */
  public static Path copy(String fileName, Path targetDir) {
    requireModel(fileName);
    Objects.requireNonNull(targetDir, "targetDir");
    Path target = targetDir.resolve(fileName);
    try (InputStream in = open(fileName)) {
      Files.createDirectories(targetDir);
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy " + fileName + " to " + targetDir, e);
    }
    return target;
  }

  /**
   * Reads a shipped model fully into memory, for APIs that load models from bytes.
   *
   * @param fileName one of {@link #modelFiles()}
   * @return a fresh array holding the serialized ONNX model
   * @throws IllegalArgumentException if {@code fileName} is not a shipped model
   */
  public static byte[] bytes(String fileName) {
    requireModel(fileName);
    try (InputStream in = open(fileName)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + fileName, e);
    }
  }

  /**
   * Loads the held-out breast-cancer rows that neither classifier saw during training.
   *
   * <p>Feature values are the exact float32 values the reported accuracies were computed on, so
   * feeding them to either model reproduces {@link #reportedAccuracy(String)}. Each call parses the
   * file anew and returns arrays the caller owns and may modify.
   *
   * @return the test set, {@code test.rows} rows of 30 features each
   */
  public static TestSet breastCancerTestSet() {
    int featureCount = Integer.parseInt(property("test.features"));
    List<float[]> rows = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    try (BufferedReader reader =
        new BufferedReader(new InputStreamReader(open(TEST_SET_FILE), StandardCharsets.US_ASCII))) {
      String header = reader.readLine();
      if (header == null || header.split(",", -1).length != featureCount + 1) {
        throw new IllegalStateException(TEST_SET_FILE + ": unexpected header " + header);
      }
      String line;
      while ((line = reader.readLine()) != null) {
        if (line.isEmpty()) {
          continue;
        }
        String[] cells = line.split(",", -1);
        if (cells.length != featureCount + 1) {
          throw new IllegalStateException(
              TEST_SET_FILE
                  + ": expected "
                  + (featureCount + 1)
                  + " columns, got "
                  + cells.length
                  + ": "
                  + line);
        }
        float[] row = new float[featureCount];
        for (int i = 0; i < featureCount; i++) {
          row[i] = Float.parseFloat(cells[i]);
        }
        rows.add(row);
        labels.add(Integer.parseInt(cells[featureCount]));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + TEST_SET_FILE, e);
    }
    int[] labelArray = labels.stream().mapToInt(Integer::intValue).toArray();
    return new TestSet(rows.toArray(new float[0][]), labelArray);
  }

  /**
   * Returns the held-out accuracy a breast-cancer model achieved when it was generated.
   *
   * <p>The value is the exact {@code double} quotient correct/rows, so it equals {@link
   * TestSet#accuracy(int[])} for predictions that match the generator's.
   *
   * @param fileName {@link #BREAST_CANCER_V1} or {@link #BREAST_CANCER_V2}
   * @return the accuracy in {@code [0, 1]}
   * @throws IllegalArgumentException if no accuracy is recorded for {@code fileName}
   */
  public static double reportedAccuracy(String fileName) {
    Objects.requireNonNull(fileName, "fileName");
    String key =
        fileName.endsWith(".onnx")
            ? fileName.substring(0, fileName.length() - ".onnx".length()) + ".accuracy"
            : null;
    String value = key == null ? null : Fixtures.PROPERTIES.getProperty(key);
    if (value == null) {
      throw new IllegalArgumentException(
          "no reported accuracy for '"
              + fileName
              + "'; available: "
              + List.of(BREAST_CANCER_V1, BREAST_CANCER_V2));
    }
    return Double.parseDouble(value);
  }

  /**
   * Returns the number of valid categories of {@link #MIXED_INPUTS}; the model rejects categories
   * outside {@code [0, mixedInputsCategories())}.
   *
   * @return the size of the weight lookup table
   */
  public static int mixedInputsCategories() {
    return Fixtures.MIXED_WEIGHTS.length;
  }

  /**
   * Returns the weight {@code w[category]} that {@link #MIXED_INPUTS} multiplies the amount by.
   *
   * @param category a category in {@code [0, mixedInputsCategories())}
   * @return the float32 weight stored in the model
   * @throws IllegalArgumentException if {@code category} is out of range
   */
  public static float mixedInputsWeight(long category) {
    if (category < 0 || category >= Fixtures.MIXED_WEIGHTS.length) {
      throw new IllegalArgumentException(
          "category " + category + " outside [0, " + Fixtures.MIXED_WEIGHTS.length + ")");
    }
    return Fixtures.MIXED_WEIGHTS[(int) category];
  }

  /**
   * Returns the bias {@code b} that {@link #MIXED_INPUTS} adds to every score.
   *
   * @return the float32 bias stored in the model
   */
  public static float mixedInputsBias() {
    return Fixtures.MIXED_BIAS;
  }

  /**
   * Computes the exact {@code score} that {@link #MIXED_INPUTS} returns for one row.
   *
   * @param amount the {@code amount} input
   * @param category the {@code category} input, in {@code [0, mixedInputsCategories())}
   * @return {@code amount * w[category] + b} in float32 arithmetic
   * @throws IllegalArgumentException if {@code category} is out of range
   */
  public static float mixedInputsScore(float amount, long category) {
    return amount * mixedInputsWeight(category) + mixedInputsBias();
  }

  /**
   * Returns the {@code 4 x 2} weight matrix {@code W} of {@link #TINY}.
   *
   * @return a fresh copy, indexed {@code [input][output]}
   */
  public static float[][] tinyWeights() {
    float[][] copy = new float[TINY_INPUTS][];
    for (int i = 0; i < TINY_INPUTS; i++) {
      copy[i] = Fixtures.TINY_WEIGHTS[i].clone();
    }
    return copy;
  }

  /**
   * Returns the bias vector {@code b} of {@link #TINY}.
   *
   * @return a fresh copy of length 2
   */
  public static float[] tinyBias() {
    return Fixtures.TINY_BIAS.clone();
  }

  /**
   * Computes the expected output {@code x · W + b} of {@link #TINY} for one row.
   *
   * <p>Runtimes may reorder or fuse the dot product, so compare with a small tolerance unless the
   * inputs are small multiples of powers of two, for which every step is exact.
   *
   * @param x one input row of length 4
   * @return the two outputs
   * @throws IllegalArgumentException if {@code x} does not have length 4
   */
  public static float[] tinyOutput(float[] x) {
    Objects.requireNonNull(x, "x");
    if (x.length != TINY_INPUTS) {
      throw new IllegalArgumentException("expected " + TINY_INPUTS + " inputs, got " + x.length);
    }
    float[] y = Fixtures.TINY_BIAS.clone();
    for (int o = 0; o < TINY_OUTPUTS; o++) {
      float dot = 0f;
      for (int i = 0; i < TINY_INPUTS; i++) {
        dot += x[i] * Fixtures.TINY_WEIGHTS[i][o];
      }
      y[o] += dot;
    }
    return y;
  }

  private static void requireModel(String fileName) {
    Objects.requireNonNull(fileName, "fileName");
    if (!MODEL_FILES.contains(fileName)) {
      throw new IllegalArgumentException(
          "unknown test model '" + fileName + "'; available: " + MODEL_FILES);
    }
  }

  private static InputStream open(String fileName) {
    InputStream in = TestModels.class.getResourceAsStream(fileName);
    if (in == null) {
      // Only a broken build can get here: every name passed in is a shipped file.
      throw new IllegalStateException(
          "resource dev/mlops/testmodels/" + fileName + " missing from the class path");
    }
    return in;
  }

  private static String property(String key) {
    String value = Fixtures.PROPERTIES.getProperty(key);
    if (value == null) {
      throw new IllegalStateException(PROPERTIES_FILE + " has no '" + key + "'");
    }
    return value;
  }

  private static float[] floats(String key) {
    String[] parts = property(key).split(",");
    float[] values = new float[parts.length];
    for (int i = 0; i < parts.length; i++) {
      values[i] = Float.parseFloat(parts[i].trim());
    }
    return values;
  }

  /** Lazily loaded generator outputs; the holder idiom makes loading thread-safe. */
  private static final class Fixtures {
    static final Properties PROPERTIES = load();
    static final float[] MIXED_WEIGHTS = floats("mixed-inputs.weights");
    static final float MIXED_BIAS = Float.parseFloat(property("mixed-inputs.bias"));
    static final float[][] TINY_WEIGHTS = tinyMatrix();
    static final float[] TINY_BIAS = tinyBiasVector();

    private Fixtures() {}

    private static Properties load() {
      Properties properties = new Properties();
      try (InputStream in = open(PROPERTIES_FILE)) {
        properties.load(in);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + PROPERTIES_FILE, e);
      }
      return properties;
    }

    private static float[][] tinyMatrix() {
      float[] flat = floats("tiny.weights");
      if (flat.length != TINY_INPUTS * TINY_OUTPUTS) {
        throw new IllegalStateException("tiny.weights has " + flat.length + " values");
      }
      float[][] matrix = new float[TINY_INPUTS][TINY_OUTPUTS];
      for (int i = 0; i < TINY_INPUTS; i++) {
        System.arraycopy(flat, i * TINY_OUTPUTS, matrix[i], 0, TINY_OUTPUTS);
      }
      return matrix;
    }

    private static float[] tinyBiasVector() {
      float[] bias = floats("tiny.bias");
      if (bias.length != TINY_OUTPUTS) {
        throw new IllegalStateException("tiny.bias has " + bias.length + " values");
      }
      return bias;
    }
  }
}
