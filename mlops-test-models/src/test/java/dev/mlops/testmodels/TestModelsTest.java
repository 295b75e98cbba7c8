package dev.mlops.testmodels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TestModelsTest {

  private static final int FLOAT = 1;
  private static final int INT64 = 7;

  @ParameterizedTest
  @ValueSource(
      strings = {
        "breast-cancer-v1.onnx",
        "breast-cancer-v2.onnx",
        "mixed-inputs.onnx",
        "tiny.onnx",
        "breast-cancer-test.csv",
        "fixtures.properties",
        "breast-cancer-flaky.onnx"
      })
  void everyResourceIsShippedNonEmptyAndSmall(String name) throws IOException {
    byte[] content = resource(name);
    assertThat(content).isNotEmpty();
    assertThat(content.length).isLessThan(100 * 1024);
  }

  @Test
  void modelFilesListsEveryModelConstant() {
    assertThat(TestModels.modelFiles())
        .containsExactly(
            TestModels.BREAST_CANCER_V1,
            TestModels.BREAST_CANCER_V2,
            TestModels.BREAST_CANCER_FLAKY,
            TestModels.MIXED_INPUTS,
            TestModels.TINY);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "breast-cancer-v1.onnx",
        "breast-cancer-v2.onnx",
        "mixed-inputs.onnx",
        "tiny.onnx"
      })
  void everyModelIsAWellFormedOnnxModelProto(String name) {
    Proto model = Proto.parse(TestModels.bytes(name));

    // ONNX Runtime 1.29 loads IR 8 / opset 13; a regenerated file must not drift past it.
    assertThat(model.varint(1)).as("ir_version").isEqualTo(8);
    Proto opset = model.message(8);
    assertThat(opset.string(1)).as("default domain").isEmpty();
    assertThat(opset.varint(2)).as("opset").isEqualTo(13);
    assertThat(model.string(2)).as("producer_name").isEqualTo("mlops-test-models");
    assertThat(model.string(6)).as("doc_string").isNotBlank();
    assertThat(model.message(7).all(1)).as("graph nodes").isNotEmpty();
  }

  @Test
  void breastCancerModelsHaveTheDocumentedSignature() {
    for (String name : List.of(TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2)) {
      Proto graph = Proto.parse(TestModels.bytes(name)).message(7);
      assertThat(signature(graph, 11))
          .as(name + " inputs")
          .containsExactly(Map.entry("features", "1[N,30]"));
      assertThat(signature(graph, 12))
          .as(name + " outputs")
          .containsExactly(Map.entry("probabilities", "1[N,2]"), Map.entry("label", "7[N]"));
    }
  }

  @Test
  void mixedInputsAndTinyHaveTheDocumentedSignature() {
    Proto mixed = Proto.parse(TestModels.bytes(TestModels.MIXED_INPUTS)).message(7);
    assertThat(signature(mixed, 11))
        .containsExactly(
            Map.entry("amount", FLOAT + "[N,1]"), Map.entry("category", INT64 + "[N,1]"));
    assertThat(signature(mixed, 12)).containsExactly(Map.entry("score", FLOAT + "[N,1]"));

    Proto tiny = Proto.parse(TestModels.bytes(TestModels.TINY)).message(7);
    assertThat(signature(tiny, 11)).containsExactly(Map.entry("x", FLOAT + "[N,4]"));
    assertThat(signature(tiny, 12)).containsExactly(Map.entry("y", FLOAT + "[N,2]"));
  }

  @Test
  void testSetHasThirtyFeaturesPerRowAndTheRecordedRowCount() throws IOException {
    Properties properties = new Properties();
    try (InputStream in = TestModels.class.getResourceAsStream("fixtures.properties")) {
      properties.load(in);
    }

    TestSet testSet = TestModels.breastCancerTestSet();

    assertThat(testSet.size()).isEqualTo(Integer.parseInt(properties.getProperty("test.rows")));
    assertThat(testSet.features()).hasDimensions(testSet.size(), 30);
    for (float[] row : testSet.features()) {
      for (float value : row) {
        assertThat(value).isFinite();
      }
    }
    assertThat(testSet.labels()).containsOnly(0, 1).contains(0, 1);
  }

  @Test
  void accuracyCountsMatchingPredictions() {
    TestSet testSet = TestModels.breastCancerTestSet();
    int[] perfect = testSet.labels().clone();
    long[] allZero = new long[testSet.size()];
    long zeros = Arrays.stream(testSet.labels()).filter(l -> l == 0).count();

    assertThat(testSet.accuracy(perfect)).isEqualTo(1.0);
    assertThat(testSet.accuracy(allZero)).isEqualTo((double) zeros / testSet.size());
    assertThatThrownBy(() -> testSet.accuracy(new int[1]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void v2IsReportedMoreAccurateThanV1() {
    double v1 = TestModels.reportedAccuracy(TestModels.BREAST_CANCER_V1);
    double v2 = TestModels.reportedAccuracy(TestModels.BREAST_CANCER_V2);

    assertThat(v1).isBetween(0.9, 1.0);
    assertThat(v2).isBetween(0.9, 1.0).isGreaterThan(v1);
  }

  @Test
  void reportedAccuracyOfAModelWithoutOneNamesTheAvailableModels() {
    assertThatThrownBy(() -> TestModels.reportedAccuracy(TestModels.TINY))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(TestModels.BREAST_CANCER_V1);
  }

  @Test
  void copyWritesTheModelIntoANewDirectory(@TempDir Path tmp) throws IOException {
    Path dir = tmp.resolve("a").resolve("b");

    Path copied = TestModels.copy(TestModels.BREAST_CANCER_V2, dir);
    Path again = TestModels.copy(TestModels.BREAST_CANCER_V2, dir);

    assertThat(copied).isEqualTo(dir.resolve(TestModels.BREAST_CANCER_V2)).isEqualTo(again);
    assertThat(Files.readAllBytes(copied)).isEqualTo(resource(TestModels.BREAST_CANCER_V2));
  }

  @Test
  void copyOfAnUnknownNameListsTheAvailableModels(@TempDir Path tmp) {
    assertThatThrownBy(() -> TestModels.copy("no-such-model.onnx", tmp))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no-such-model.onnx")
        .hasMessageContaining(TestModels.BREAST_CANCER_V1)
        .hasMessageContaining(TestModels.BREAST_CANCER_V2)
        .hasMessageContaining(TestModels.MIXED_INPUTS)
        .hasMessageContaining(TestModels.TINY);
    // Non-model resources are not models, even though they sit next to them.
    assertThatThrownBy(() -> TestModels.copy("fixtures.properties", tmp))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void mixedInputsParametersMatchTheGenerator() {
    assertThat(TestModels.mixedInputsCategories()).isEqualTo(4);
    assertThat(TestModels.mixedInputsWeight(0)).isEqualTo(0.5f);
    assertThat(TestModels.mixedInputsWeight(3)).isEqualTo(3.25f);
    assertThat(TestModels.mixedInputsBias()).isEqualTo(0.25f);
    assertThat(TestModels.mixedInputsScore(2f, 2)).isEqualTo(2f * -2f + 0.25f);
    assertThatThrownBy(() -> TestModels.mixedInputsWeight(4))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TestModels.mixedInputsWeight(-1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void tinyOutputIsXTimesWPlusB() {
    float[][] w = TestModels.tinyWeights();
    float[] b = TestModels.tinyBias();
    assertThat(w).hasDimensions(4, 2);
    assertThat(b).hasSize(2);

    float[] y = TestModels.tinyOutput(new float[] {1f, 0f, 0f, 0f});

    assertThat(y).containsExactly(w[0][0] + b[0], w[0][1] + b[1]);
    w[0][0] = 99f;
    assertThat(TestModels.tinyWeights()[0][0]).as("defensive copy").isNotEqualTo(99f);
  }

  private static byte[] resource(String name) throws IOException {
    try (InputStream in = TestModels.class.getResourceAsStream(name)) {
      assertThat(in).as("resource %s", name).isNotNull();
      return in.readAllBytes();
    }
  }

  /** Name to "elemType[dims]" for each ValueInfoProto in graph field 11 (input) or 12. */
  private static Map<String, String> signature(Proto graph, int field) {
    Map<String, String> result = new LinkedHashMap<>();
    for (Object raw : graph.all(field)) {
      Proto valueInfo = Proto.parse((byte[]) raw);
      Proto tensorType = valueInfo.message(2).message(1);
      List<String> dims = new ArrayList<>();
      for (Object dim : tensorType.message(2).all(1)) {
        Proto d = Proto.parse((byte[]) dim);
        dims.add(d.has(2) ? d.string(2) : Long.toString(d.varint(1)));
      }
      String shape = "[" + String.join(",", dims) + "]";
      result.put(valueInfo.string(1), tensorType.varint(1) + shape);
    }
    return result;
  }

  /**
   * Minimal protobuf wire-format reader: enough to prove a file is one well-formed message and to
   * read a few ONNX fields without depending on ONNX Runtime or protobuf-java.
   */
  private static final class Proto {
    private final Map<Integer, List<Object>> fields = new LinkedHashMap<>();

    static Proto parse(byte[] data) {
      Proto proto = new Proto();
      int[] pos = {0};
      while (pos[0] < data.length) {
        long key = readVarint(data, pos);
        int field = (int) (key >>> 3);
        int wireType = (int) (key & 7);
        assertThat(field).as("field number at byte %d", pos[0]).isPositive();
        Object value;
        switch (wireType) {
          case 0:
            value = readVarint(data, pos);
            break;
          case 1:
            value = take(data, pos, 8);
            break;
          case 2:
            long length = readVarint(data, pos);
            assertThat(length)
                .as("length at byte %d", pos[0])
                .isBetween(0L, (long) data.length - pos[0]);
            value = take(data, pos, (int) length);
            break;
          case 5:
            value = take(data, pos, 4);
            break;
          default:
            throw new AssertionError("unsupported wire type " + wireType + " at byte " + pos[0]);
        }
        proto.fields.computeIfAbsent(field, f -> new ArrayList<>()).add(value);
      }
      return proto;
    }

    boolean has(int field) {
      return fields.containsKey(field);
    }

    List<Object> all(int field) {
      return fields.getOrDefault(field, List.of());
    }

    long varint(int field) {
      return (Long) single(field);
    }

    String string(int field) {
      return has(field) ? new String((byte[]) single(field), StandardCharsets.UTF_8) : "";
    }

    Proto message(int field) {
      return parse((byte[]) single(field));
    }

    private Object single(int field) {
      assertThat(all(field)).as("occurrences of field %d", field).hasSize(1);
      return all(field).get(0);
    }

    private static long readVarint(byte[] data, int[] pos) {
      long result = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        assertThat(pos[0]).as("truncated varint").isLessThan(data.length);
        byte b = data[pos[0]++];
        result |= (long) (b & 0x7f) << shift;
        if (b >= 0) {
          return result;
        }
      }
      throw new AssertionError("varint longer than 10 bytes");
    }

    private static byte[] take(byte[] data, int[] pos, int length) {
      assertThat(pos[0] + length).as("truncated field").isLessThanOrEqualTo(data.length);
      byte[] value = Arrays.copyOfRange(data, pos[0], pos[0] + length);
      pos[0] += length;
      return value;
    }
  }
}
