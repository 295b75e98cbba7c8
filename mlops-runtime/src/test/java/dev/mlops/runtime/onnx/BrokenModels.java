package dev.mlops.runtime.onnx;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Serialized ONNX models that are valid protobuf but not loadable models: a broken graph, an
 * unsupported opset or IR version, a missing part. Built with {@link OnnxModels}, for suites
 * outside this package. Thread-safe.
 */
public final class BrokenModels {

  private BrokenModels() {}

  /** Each broken model by a name saying what is wrong with it. */
  public static Map<String, byte[]> all() {
    Map<String, byte[]> out = new LinkedHashMap<>();
    OnnxModels identity = OnnxModels.identity(OnnxModels.FLOAT);
    out.put("node reads an undefined tensor", identity.withNodeInput("undefined_tensor").toBytes());
    out.put("unknown operator", identity.withOpType("NoSuchOpAnywhere").toBytes());
    out.put("unsupported opset 99", identity.withOpsetVersion(99).toBytes());
    out.put("unsupported opset 0", identity.withOpsetVersion(0).toBytes());
    out.put("unsupported IR version 99", identity.withIrVersion(99).toBytes());
    out.put("IR version 0", identity.withIrVersion(0).toBytes());
    out.put("operator that needs two inputs given one", identity.withOpType("Add").toBytes());
    out.put(
        "operator newer than the opset", identity.withOpType("Gelu").toBytes()); // Gelu is opset 20
    out.put(
        "no graph",
        new OnnxModels.Proto().varint(1, 8).message(8, ExternalDataModels.opset("", 13)).toBytes());
    out.put("no opset import", new OnnxModels.Proto().varint(1, 8).toBytes());
    out.put(
        "graph without nodes or outputs",
        new OnnxModels.Proto()
            .varint(1, 8)
            .message(7, new OnnxModels.Proto().string(2, "g"))
            .message(8, ExternalDataModels.opset("", 13))
            .toBytes());
    out.put(
        "two nodes write the same output",
        graph(
            List.of(
                ExternalDataModels.node("a", "Identity", List.of("x"), "y"),
                ExternalDataModels.node("b", "Identity", List.of("x"), "y"))));
    out.put(
        "cycle between two nodes",
        graph(
            List.of(
                ExternalDataModels.node("a", "Identity", List.of("t2"), "t1"),
                ExternalDataModels.node("b", "Identity", List.of("t1"), "t2"),
                ExternalDataModels.node("c", "Identity", List.of("t2"), "y"))));
    out.put(
        "initializer whose data does not fit its shape",
        new OnnxModels.Proto()
            .varint(1, 8)
            .message(
                7,
                new OnnxModels.Proto()
                    .message(1, ExternalDataModels.node("add", "Add", List.of("x", "W"), "y"))
                    .string(2, "g")
                    .message(
                        5,
                        new OnnxModels.Proto()
                            .varint(1, 3)
                            .varint(2, OnnxModels.FLOAT)
                            .string(8, "W")
                            .bytes(9, new byte[] {1, 2, 3}))
                    .message(11, ExternalDataModels.valueInfo("x"))
                    .message(12, ExternalDataModels.valueInfo("y")))
            .message(8, ExternalDataModels.opset("", 13))
            .toBytes());
    out.put(
        "unknown operator domain",
        graph(
            List.of(
                ExternalDataModels.node("a", "Secret", List.of("x"), "y")
                    .string(7, "com.example.unknown"))));
    out.put("element type 0 (undefined)", OnnxModels.identity(0).toBytes());
    return out;
  }

  private static byte[] graph(List<OnnxModels.Proto> nodes) {
    OnnxModels.Proto g = new OnnxModels.Proto();
    for (OnnxModels.Proto n : nodes) {
      g.message(1, n);
    }
    g.string(2, "g")
        .message(11, ExternalDataModels.valueInfo("x"))
        .message(12, ExternalDataModels.valueInfo("y"));
    return new OnnxModels.Proto()
        .varint(1, 8)
        .message(7, g)
        .message(8, ExternalDataModels.opset("", 13))
        .toBytes();
  }
}
