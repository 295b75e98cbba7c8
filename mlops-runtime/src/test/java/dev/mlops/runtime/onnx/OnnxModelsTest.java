package dev.mlops.runtime.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class OnnxModelsTest {

  /**
   * {@code onnx.helper.make_model(graph, ir_version=8, producer_name="mlops-onnx-models",
   * opset_imports=[make_opsetid("", 13)]).SerializeToString().hex()} with onnx 1.12, where graph is
   * {@code make_graph([make_node("Identity", ["x"], ["y"], name="node0")], "g",
   * [make_tensor_value_info("x", 1, ["N", 3])], [make_tensor_value_info("y", 1, ["N", 3])])}.
   */
  private static final String FLOAT_IDENTITY_FROM_ONNX_PYTHON =
      "080812116d6c6f70732d6f6e6e782d6d6f64656c733a480a170a01781201791a056e6f646530220849"
          + "64656e746974791201675a140a0178120f0a0d080112090a0312014e0a02080362140a0179120f0a0d08"
          + "0112090a0312014e0a02080342040a00100d";

  @Test
  void floatIdentityIsByteForByteWhatTheOnnxPythonPackageWrites() {
    assertThat(HexFormat.of().formatHex(OnnxModels.identity(OnnxModels.FLOAT).toBytes()))
        .isEqualTo(FLOAT_IDENTITY_FROM_ONNX_PYTHON);
  }

  @Test
  void elementTypeIsTheOnlyDifferenceBetweenIdentityModelsOfTwoTypes() {
    byte[] f = OnnxModels.identity(OnnxModels.FLOAT).toBytes();
    byte[] b = OnnxModels.identity(OnnxModels.BFLOAT16).toBytes();
    assertThat(b).hasSameSizeAs(f);
    int differing = 0;
    for (int i = 0; i < f.length; i++) {
      if (f[i] != b[i]) {
        differing++;
        assertThat(f[i]).isEqualTo((byte) OnnxModels.FLOAT);
        assertThat(b[i]).isEqualTo((byte) OnnxModels.BFLOAT16);
      }
    }
    assertThat(differing).as("elem_type of x and of y").isEqualTo(2);
  }

  @Test
  void varintsUseSevenBitGroupsLowFirstAndTenBytesForNegatives() {
    assertThat(new OnnxModels.Proto().varint(1, 0).toBytes()).containsExactly(0x08, 0x00);
    assertThat(new OnnxModels.Proto().varint(1, 300).toBytes()).containsExactly(0x08, 0xAC, 0x02);
    assertThat(new OnnxModels.Proto().varint(16, 1).toBytes()).containsExactly(0x80, 0x01, 0x01);
    assertThat(new OnnxModels.Proto().varint(2, -1).toBytes())
        .containsExactly(0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01);
  }

  @Test
  void stringsAreLengthPrefixedUtf8() {
    assertThat(new OnnxModels.Proto().string(2, "é").toBytes())
        .containsExactly(0x12, 0x02, 0xC3, 0xA9);
    assertThat(new OnnxModels.Proto().message(7, new OnnxModels.Proto()).toBytes())
        .containsExactly(0x3A, 0x00);
  }
}
