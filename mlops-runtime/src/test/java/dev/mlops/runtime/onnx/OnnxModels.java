package dev.mlops.runtime.onnx;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Writes minimal ONNX models by hand in protobuf wire format, so that tests can make a model of any
 * element type without a protobuf library or Python.
 *
 * <p>The model is one node {@code y = op(x)} with input {@code x} and output {@code y} of shape
 * {@code [N, 3]} ({@code N} a symbolic dimension). By default the node is {@code Identity}, the IR
 * version 8 and the default-domain opset 13; the {@code with*} methods break one of these at a time
 * to make models ONNX Runtime must reject. Fields are written in field-number order, as protobuf's
 * own serializers do, so the bytes equal those of {@code onnx.helper.make_model(...)
 * .SerializeToString()} for the same model.
 *
 * <p>Immutable and thread-safe.
 */
final class OnnxModels {

  // TensorProto.DataType numbers.
  static final int FLOAT = 1;
  static final int UINT8 = 2;
  static final int INT8 = 3;
  static final int UINT16 = 4;
  static final int INT16 = 5;
  static final int INT32 = 6;
  static final int INT64 = 7;
  static final int STRING = 8;
  static final int BOOL = 9;
  static final int FLOAT16 = 10;
  static final int DOUBLE = 11;
  static final int UINT32 = 12;
  static final int UINT64 = 13;
  static final int BFLOAT16 = 16;

  static final String PRODUCER = "mlops-onnx-models";

  private final int elemType;
  private final String opType;
  private final String nodeInput;
  private final long irVersion;
  private final long opsetVersion;

  private OnnxModels(
      int elemType, String opType, String nodeInput, long irVersion, long opsetVersion) {
    this.elemType = elemType;
    this.opType = Objects.requireNonNull(opType, "opType");
    this.nodeInput = Objects.requireNonNull(nodeInput, "nodeInput");
    this.irVersion = irVersion;
    this.opsetVersion = opsetVersion;
  }

  /**
   * {@code y = Identity(x)}, both of the given {@code TensorProto.DataType} and shape {@code [N,
   * 3]}.
   */
  static OnnxModels identity(int elemType) {
    return new OnnxModels(elemType, "Identity", "x", 8, 13);
  }

  /** The same model with another operator in place of {@code Identity}. */
  OnnxModels withOpType(String op) {
    return new OnnxModels(elemType, op, nodeInput, irVersion, opsetVersion);
  }

  /** The same model whose node reads {@code name} instead of the graph input {@code x}. */
  OnnxModels withNodeInput(String name) {
    return new OnnxModels(elemType, opType, name, irVersion, opsetVersion);
  }

  /** The same model stamped with another IR version. */
  OnnxModels withIrVersion(long version) {
    return new OnnxModels(elemType, opType, nodeInput, version, opsetVersion);
  }

  /** The same model importing another version of the default-domain opset. */
  OnnxModels withOpsetVersion(long version) {
    return new OnnxModels(elemType, opType, nodeInput, irVersion, version);
  }

  /** The serialized {@code ModelProto}. */
  byte[] toBytes() {
    Proto node =
        new Proto()
            .string(1, nodeInput) // NodeProto.input
            .string(2, "y") // NodeProto.output
            .string(3, "node0") // NodeProto.name
            .string(4, opType); // NodeProto.op_type
    Proto graph =
        new Proto()
            .message(1, node) // GraphProto.node
            .string(2, "g") // GraphProto.name
            .message(11, valueInfo("x")) // GraphProto.input
            .message(12, valueInfo("y")); // GraphProto.output
    Proto opset =
        new Proto()
            .string(1, "") // OperatorSetIdProto.domain
            .varint(2, opsetVersion); // OperatorSetIdProto.version
    return new Proto()
        .varint(1, irVersion) // ModelProto.ir_version
        .string(2, PRODUCER) // ModelProto.producer_name
        .message(7, graph) // ModelProto.graph
        .message(8, opset) // ModelProto.opset_import
        .toBytes();
  }

  /** Writes {@link #toBytes()} to {@code file} and returns it. */
  Path writeTo(Path file) {
    try {
      return Files.write(file, toBytes());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  private Proto valueInfo(String name) {
    Proto shape =
        new Proto()
            .message(1, new Proto().string(2, "N")) // TensorShapeProto.dim {dim_param}
            .message(1, new Proto().varint(1, 3)); // TensorShapeProto.dim {dim_value}
    Proto tensorType =
        new Proto()
            .varint(1, elemType) // TypeProto.Tensor.elem_type
            .message(2, shape); // TypeProto.Tensor.shape
    return new Proto()
        .string(1, name) // ValueInfoProto.name
        .message(2, new Proto().message(1, tensorType)); // ValueInfoProto.type {tensor_type}
  }

  /** One protobuf message being written: fields appended in call order. */
  static final class Proto {
    private static final int VARINT = 0;
    private static final int LENGTH_DELIMITED = 2;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** A varint field (int32, int64, enum). Negative values take ten bytes, as in protobuf. */
    Proto varint(int field, long value) {
      tag(field, VARINT);
      rawVarint(value);
      return this;
    }

    /** A UTF-8 string field. */
    Proto string(int field, String value) {
      return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    /** An embedded message field. */
    Proto message(int field, Proto value) {
      return bytes(field, value.toBytes());
    }

    /** A length-delimited field. */
    Proto bytes(int field, byte[] value) {
      tag(field, LENGTH_DELIMITED);
      rawVarint(value.length);
      out.writeBytes(value);
      return this;
    }

    byte[] toBytes() {
      return out.toByteArray();
    }

    private void tag(int field, int wireType) {
      if (field < 1) {
        throw new IllegalArgumentException("field numbers start at 1 but was " + field);
      }
      rawVarint(((long) field << 3) | wireType);
    }

    private void rawVarint(long value) {
      long v = value;
      while ((v & ~0x7FL) != 0) {
        out.write((int) ((v & 0x7F) | 0x80));
        v >>>= 7;
      }
      out.write((int) v);
    }
  }
}
