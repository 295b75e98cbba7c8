package dev.mlops.runtime.loading;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.Tensor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The tensor file format trusts nothing a file declares: every refusal is an {@link IOException}
 * naming the tensor, and nothing is allocated for data that is not there.
 */
class TensorIoLimitsTest {

  /** What a header-writing test puts after the magic, the format and the tensor count. */
  @FunctionalInterface
  private interface Body {
    void write(DataOutputStream out) throws IOException;
  }

  private static byte[] file(int count, Body body) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(0x4d4c5453);
      out.writeInt(1);
      out.writeInt(count);
      body.write(out);
    }
    return bytes.toByteArray();
  }

  private static Map<String, Tensor> read(byte[] bytes) throws IOException {
    return TensorIo.read(new DataInputStream(new ByteArrayInputStream(bytes)));
  }

  private static byte[] write(Map<String, Tensor> tensors) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      TensorIo.write(out, tensors);
    }
    return bytes.toByteArray();
  }

  private static Body header(String name, String type, long... shape) {
    return out -> {
      out.writeUTF(name);
      out.writeUTF(type);
      out.writeInt(shape.length);
      for (long d : shape) {
        out.writeLong(d);
      }
    };
  }

  @Test
  void everyElementTypeRoundTrips() throws IOException {
    Map<String, Tensor> all = new LinkedHashMap<>();
    all.put("f", Tensor.ofFloats(new float[] {1.5f, -2, Float.NaN, 0}, 2, 2));
    all.put("d", Tensor.ofDoubles(new double[] {1e300, -0.0}, 2));
    all.put("i8", Tensor.ofInt8(new byte[] {-128, 127}, 2));
    all.put("u8", Tensor.ofUint8(new byte[] {(byte) 255, 0}, 1, 2));
    all.put("i16", Tensor.ofInt16(new short[] {-32768, 7}, 2));
    all.put("f16", Tensor.ofFloat16Bits(new short[] {0x3c00}, 1));
    all.put("bf16", Tensor.ofBFloat16Bits(new short[] {0x3f80}, 1));
    all.put("i32", Tensor.ofInts(new int[] {Integer.MIN_VALUE, 3}, 2));
    all.put("i64", Tensor.ofLongs(new long[] {Long.MAX_VALUE}));
    all.put("b", Tensor.ofBooleans(new boolean[] {true, false, true}, 3));
    all.put("s", Tensor.ofStrings(new String[] {"", "é", "x".repeat(3000)}, 3));
    all.put("empty", Tensor.ofFloats(new float[0], 0, 5));
    String[] many = new String[5000];
    Arrays.fill(many, "s");
    all.put("many", Tensor.ofStrings(many, 5000));
    assertThat(read(write(all))).isEqualTo(all);
  }

  @Test
  void aShapePastTheElementCapIsRefusedBeforeItsDataIsRead() throws IOException {
    byte[] hostile =
        file(
            1,
            out -> {
              header("x", "FLOAT", 32768, 32768).write(out);
              out.writeFloat(1);
            });
    assertThat(hostile).hasSize(46);
    assertThatThrownBy(() -> read(hostile))
        .isExactlyInstanceOf(IOException.class)
        .hasMessage(
            "tensor 'x' declares float32[32768,32768], which takes the file past 67108864"
                + " elements, more than an input example may hold");
    // The cap counts the whole file, not each tensor.
    byte[] two =
        file(
            2,
            out -> {
              header("a", "INT8", 1 << 25).write(out);
              out.write(new byte[1 << 25]);
              header("b", "INT8", (1 << 25) + 1).write(out);
            });
    assertThatThrownBy(() -> read(two))
        .isExactlyInstanceOf(IOException.class)
        .hasMessage(
            "tensor 'b' declares int8[33554433], which takes the file past 67108864 elements,"
                + " more than an input example may hold");
  }

  @Test
  void aShapeThatTheBytesPresentDoNotFillIsRefused() throws IOException {
    byte[] shortData =
        file(
            1,
            out -> {
              header("x", "FLOAT", 4096, 4096).write(out);
              out.writeFloat(1);
            });
    assertThatThrownBy(() -> read(shortData))
        .isExactlyInstanceOf(IOException.class)
        .hasMessage(
            "tensor 'x' declares float32[4096,4096] (67108864 bytes of data) but the file ends"
                + " after 4 of them");
    byte[] shortStrings =
        file(
            1,
            out -> {
              header("s", "STRING", 1 << 26).write(out);
              out.writeUTF("only one");
            });
    assertThatThrownBy(() -> read(shortStrings))
        .isExactlyInstanceOf(IOException.class)
        .hasMessage(
            "tensor 's' declares string[67108864] but the file ends after 1 of its strings");
  }

  @Test
  void malformedHeadersAreIoExceptionsNamingWhatIsWrong() throws IOException {
    assertThatThrownBy(() -> read(file(-1, out -> {})))
        .isExactlyInstanceOf(IOException.class)
        .hasMessage("not an mlops tensor file: it declares -1 tensors");
    assertThatThrownBy(() -> read(file(1, out -> header("x", "COMPLEX64", 1).write(out))))
        .isExactlyInstanceOf(IOException.class)
        .hasMessage("tensor 'x' has unknown element type 'COMPLEX64'");
    assertThatThrownBy(
            () ->
                read(
                    file(
                        1,
                        out -> {
                          out.writeUTF("x");
                          out.writeUTF("FLOAT");
                          out.writeInt(Integer.MAX_VALUE);
                        })))
        .isExactlyInstanceOf(IOException.class)
        .hasMessage("tensor 'x' declares 2147483647 dimensions; at most 32 are allowed");
    assertThatThrownBy(() -> read(file(1, header("x", "FLOAT", 2, -3))))
        .isExactlyInstanceOf(IOException.class)
        .hasMessage(
            "tensor 'x' declares dimension 1 of size -3; every dimension must be between 0 and"
                + " 67108864");
    // An empty tensor holds no element, but its dimensions are bounded all the same.
    assertThatThrownBy(() -> read(file(1, header("x", "FLOAT", 0, 1L << 40))))
        .isExactlyInstanceOf(IOException.class)
        .hasMessage(
            "tensor 'x' declares dimension 1 of size 1099511627776; every dimension must be between"
                + " 0 and 67108864");
    assertThatThrownBy(() -> read(file(3, header("x", "INT64", 1))))
        .isExactlyInstanceOf(IOException.class)
        .hasMessage(
            "tensor 'x' declares int64[1] (8 bytes of data) but the file ends after 0 of them");
    assertThatThrownBy(() -> read(file(2, out -> {})))
        .isExactlyInstanceOf(IOException.class)
        .hasMessage("the tensor file ends before its last tensor is complete");
    assertThatThrownBy(() -> read(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}))
        .isExactlyInstanceOf(IOException.class)
        .hasMessage("not an mlops tensor file (bad magic or format)");
  }

  @Test
  void theWriterRefusesWhatTheReaderWouldRefuse() {
    assertThatThrownBy(() -> write(Map.of("x", Tensor.ofFloats(new float[0], 0, 1L << 27))))
        .isExactlyInstanceOf(IOException.class)
        .hasMessage(
            "tensor 'x' is float32[0,134217728]; no dimension of an input example may exceed"
                + " 67108864");
    assertThatThrownBy(
            () ->
                write(
                    Map.of(
                        "a", Tensor.ofInt8(new byte[1 << 25], 1 << 25),
                        "b", Tensor.ofInt8(new byte[(1 << 25) + 1], (1 << 25) + 1))))
        .isExactlyInstanceOf(IOException.class)
        .hasMessage(
            "the tensors hold 67108865 elements together; an input example may hold at most"
                + " 67108864");
  }
}
