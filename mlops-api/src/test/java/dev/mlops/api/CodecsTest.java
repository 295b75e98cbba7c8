package dev.mlops.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CodecsTest {

  private static final ModelSignature ROW_MODEL =
      new ModelSignature(
          java.util.List.of(TensorSpec.of("features", ElementType.FLOAT, -1, 3)),
          java.util.List.of(
              TensorSpec.of("label", ElementType.INT64, -1),
              TensorSpec.of("p", ElementType.FLOAT, -1, 2)));

  private static final ModelSignature MIXED =
      new ModelSignature(
          java.util.List.of(
              TensorSpec.of("amount", ElementType.FLOAT, -1, 1),
              TensorSpec.of("category", ElementType.INT64, -1, 1),
              TensorSpec.of("flag", ElementType.BOOL, 1),
              TensorSpec.of("city", ElementType.STRING, -1),
              TensorSpec.of("small", ElementType.UINT8, -1)),
          java.util.List.of(TensorSpec.of("y", ElementType.FLOAT, -1)));

  @Test
  void floatRowLaysARowOutAsABatchOfOneAndDecodesTheFirstFloatOutput() {
    Map<String, Tensor> in = Codecs.floatRow().encode(new float[] {1, 2, 3}, ROW_MODEL);
    assertThat(in.get("features").shape()).containsExactly(1, 3);
    float[] out =
        Codecs.floatRow()
            .decode(
                Map.of(
                    "label",
                    Tensor.ofLongs(new long[] {1}, 1),
                    "p",
                    Tensor.ofFloats(new float[] {0.25f, 0.75f}, 1, 2)),
                ROW_MODEL);
    assertThat(out).containsExactly(0.25f, 0.75f);
  }

  @Test
  void floatBatchRejectsRaggedRowsNamingTheRow() {
    assertThatThrownBy(
            () -> Codecs.floatBatch().encode(new float[][] {{1, 2, 3}, {1, 2}}, ROW_MODEL))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(
            "input 'features': expected rows of equal length 3 but found row 1 of length 2");
  }

  @Test
  void floatBatchSplitsTheOutputPerRow() {
    float[][] out =
        Codecs.floatBatch("p")
            .decode(Map.of("p", Tensor.ofFloats(new float[] {1, 2, 3, 4, 5, 6}, 3, 2)), ROW_MODEL);
    assertThat(out).isDeepEqualTo(new float[][] {{1, 2}, {3, 4}, {5, 6}});
  }

  @Test
  void namedInputsConvertScalarsAndArraysToEachInputsTypeAndShape() {
    Map<String, Tensor> in =
        Codecs.namedInputs()
            .encode(
                Map.of(
                    "amount",
                    2.5,
                    "category",
                    3,
                    "flag",
                    true,
                    "city",
                    new String[] {"Zürich", "Oslo"},
                    "small",
                    new int[] {0, 255}),
                MIXED);
    assertThat(in.get("amount")).isEqualTo(Tensor.ofFloats(new float[] {2.5f}, 1, 1));
    assertThat(in.get("category")).isEqualTo(Tensor.ofLongs(new long[] {3}, 1, 1));
    assertThat(in.get("flag")).isEqualTo(Tensor.ofBooleans(new boolean[] {true}, 1));
    assertThat(in.get("city")).isEqualTo(Tensor.ofStrings(new String[] {"Zürich", "Oslo"}, 2));
    assertThat(in.get("small")).isEqualTo(Tensor.ofUint8(new byte[] {0, (byte) 255}, 2));
  }

  @Test
  void namedInputsRejectLossyOrOutOfRangeValues() {
    assertThatThrownBy(() -> Codecs.namedInputs().encode(Map.of("category", 1.5), MIXED))
        .hasMessage("input 'category': expected int64 integers but found the fraction 1.5");
    assertThatThrownBy(() -> Codecs.namedInputs().encode(Map.of("small", new int[] {256}), MIXED))
        .hasMessage("input 'small': expected uint8 values in [0, 255] but found the value 256");
    assertThatThrownBy(() -> Codecs.namedInputs().encode(Map.of("flag", 1), MIXED))
        .hasMessage("input 'flag': expected bool values but found Integer 1");
    assertThatThrownBy(() -> Codecs.namedInputs().encode(Map.of("nope", 1), MIXED))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("unknown input name");
  }

  private static final ModelSignature IMAGE =
      new ModelSignature(
          java.util.List.of(TensorSpec.of("x", ElementType.FLOAT, -1, 3, -1, -1)),
          java.util.List.of(TensorSpec.of("y", ElementType.FLOAT, -1, 1, -1, -1)));

  @Test
  void namedInputsRefuseAFlatArrayForAnInputWithSeveralDynamicDimensions() {
    // 18432 values fit [1,3,1,6144], [1,3,64,96], [2,3,48,64] ...: only a shape can say which.
    assertThatThrownBy(() -> Codecs.namedInputs().encode(Map.of("x", new float[18432]), IMAGE))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(
            "input 'x': expected float32[?,3,?,?] as a Tensor with its shape (a flat array fits more than"
                + " one shape when 3 dimensions are dynamic) but found 18432 value(s) from float[18432]");
    Tensor shaped = Tensor.ofFloats(new float[18432], 2, 3, 48, 64);
    assertThat(Codecs.namedInputs().encode(Map.of("x", shaped), IMAGE).get("x").shape())
        .containsExactly(2, 3, 48, 64);
  }

  @Test
  void namedInputsStillLayOutValuesThatOnlyTheFixedDimensionsHold() {
    // Three values for [?,3,?,?] have one shape: every dynamic dimension 1.
    assertThat(
            Codecs.namedInputs().encode(Map.of("x", new float[] {1, 2, 3}), IMAGE).get("x").shape())
        .containsExactly(1, 3, 1, 1);
    // One dynamic dimension is inferred.
    assertThat(
            Codecs.namedInputs()
                .encode(Map.of("features", new float[6]), ROW_MODEL)
                .get("features")
                .shape())
        .containsExactly(2, 3);
  }

  @Test
  void tensorRejectsAShapeThatDoesNotHoldTheData() {
    assertThatThrownBy(() -> Tensor.ofFloats(new float[5], 2, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("shape [2, 3] holds 6 elements but the data has 5");
    assertThatThrownBy(() -> Tensor.ofFloats(new float[6], 2, 3).longs())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("tensor is float32[2,3], not int64");
  }
}
