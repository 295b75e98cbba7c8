package dev.mlops.runtime.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes ONNX models whose weight tensor {@code W} (float32, shape {@code [3]}) is stored as
 * external data, placed where a scanner has to look for it, with {@link OnnxModels.Proto}.
 *
 * <p>The {@link Placement#INITIALIZER} and {@link Placement#CONSTANT} models compute {@code y = x +
 * W} for {@code x} float32 {@code [N, 3]} and run in ONNX Runtime when the external file holds
 * {@link #weightBytes()}; the other placements exist to be refused and need not run. Immutable and
 * thread-safe.
 */
public final class ExternalDataModels {

  /** The weights {@code W}. */
  public static final float[] WEIGHTS = {1.5f, -2f, 0.25f};

  /** Where the external tensor sits in the model. */
  public enum Placement {
    /** {@code graph.initializer}. */
    INITIALIZER,
    /** The {@code value} attribute of a {@code Constant} node. */
    CONSTANT,
    /** An initializer of the {@code then_branch} subgraph of an {@code If} node. */
    IF_SUBGRAPH,
    /** The values of a {@code graph.sparse_initializer}. */
    SPARSE_INITIALIZER,
    /** A {@code Constant} node inside a model-local function. */
    FUNCTION,
    /**
     * An initializer in the body of a {@code Loop} nested in the {@code else_branch} of an {@code
     * If}.
     */
    NESTED_SUBGRAPH
  }

  private final Placement placement;
  private final Map<String, String> entries;

  private ExternalDataModels(Placement placement, Map<String, String> entries) {
    this.placement = Objects.requireNonNull(placement, "placement");
    this.entries = entries;
  }

  /**
   * A model with {@code W} at {@code location}; {@code offset} and {@code length} are written as
   * given ({@code null}: left out).
   */
  public static ExternalDataModels of(
      Placement placement, String location, String offset, String length) {
    Map<String, String> e = new LinkedHashMap<>();
    if (location != null) {
      e.put("location", location);
    }
    if (offset != null) {
      e.put("offset", offset);
    }
    if (length != null) {
      e.put("length", length);
    }
    return new ExternalDataModels(placement, e);
  }

  /** The usual valid reference: {@code W} is the first 12 bytes of {@code location}. */
  public static ExternalDataModels of(Placement placement, String location) {
    return of(placement, location, "0", "12");
  }

  /** {@link #WEIGHTS} as little-endian float32, the external file's content. */
  public static byte[] weightBytes() {
    ByteBuffer b = ByteBuffer.allocate(4 * WEIGHTS.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float w : WEIGHTS) {
      b.putFloat(w);
    }
    return b.array();
  }

  /** The serialized {@code ModelProto}. */
  public byte[] toBytes() {
    OnnxModels.Proto graph = new OnnxModels.Proto();
    List<OnnxModels.Proto> functions = new ArrayList<>();
    switch (placement) {
      case INITIALIZER ->
          graph
              .message(1, node("add", "Add", List.of("x", "W"), "y"))
              .string(2, "g")
              .message(5, externalTensor("W"));
      case CONSTANT ->
          graph
              .message(
                  1,
                  node("const", "Constant", List.of(), "W")
                      .message(5, tensorAttribute("value", externalTensor("W"))))
              .message(1, node("add", "Add", List.of("x", "W"), "y"))
              .string(2, "g");
      case IF_SUBGRAPH ->
          graph
              .message(
                  1,
                  ifNode(
                      subgraphWithExternalInitializer("then"),
                      subgraphWithInlineInitializer("else")))
              .message(1, node("add", "Add", List.of("x", "W"), "y"))
              .string(2, "g")
              .message(5, inlineBoolTensor("cond"));
      case SPARSE_INITIALIZER -> {
        OnnxModels.Proto indices =
            new OnnxModels.Proto()
                .varint(1, 3) // dims
                .varint(2, OnnxModels.INT64) // data_type
                .bytes(7, new byte[] {0, 1, 2}) // int64_data, packed
                .string(8, "W_indices");
        OnnxModels.Proto sparse =
            new OnnxModels.Proto()
                .message(1, externalTensor("W")) // values
                .message(2, indices) // indices
                .varint(3, 3); // dims
        graph
            .message(1, node("add", "Add", List.of("x", "W"), "y"))
            .string(2, "g")
            .message(15, sparse);
      }
      case FUNCTION -> {
        graph.message(1, node("call", "AddW", List.of("x"), "y").string(7, "local")).string(2, "g");
        functions.add(
            new OnnxModels.Proto()
                .string(1, "AddW") // FunctionProto.name
                .string(4, "fx") // input
                .string(5, "fy") // output
                .message(
                    7,
                    node("fconst", "Constant", List.of(), "fw")
                        .message(5, tensorAttribute("value", externalTensor("W"))))
                .message(7, node("fadd", "Add", List.of("fx", "fw"), "fy"))
                .message(9, opset("", 13))
                .string(10, "local"));
      }
      case NESTED_SUBGRAPH -> {
        OnnxModels.Proto loopBody = subgraphWithExternalInitializer("body");
        OnnxModels.Proto loop =
            node("loop", "Loop", List.of("", ""), "W").message(5, graphAttribute("body", loopBody));
        OnnxModels.Proto elseBranch = new OnnxModels.Proto().message(1, loop).string(2, "else");
        graph
            .message(1, ifNode(subgraphWithInlineInitializer("then"), elseBranch))
            .message(1, node("add", "Add", List.of("x", "W"), "y"))
            .string(2, "g")
            .message(5, inlineBoolTensor("cond"));
      }
      default -> throw new IllegalStateException(placement.toString());
    }
    graph.message(11, valueInfo("x")).message(12, valueInfo("y"));
    OnnxModels.Proto model =
        new OnnxModels.Proto()
            .varint(1, 8) // ir_version
            .string(2, OnnxModels.PRODUCER)
            .message(7, graph)
            .message(8, opset("", 13));
    if (placement == Placement.FUNCTION) {
      model.message(8, opset("local", 1));
    }
    for (OnnxModels.Proto f : functions) {
      model.message(25, f);
    }
    return model.toBytes();
  }

  /** A TensorProto {@code name}: float32 {@code [3]} with this model's external-data entries. */
  OnnxModels.Proto externalTensor(String name) {
    OnnxModels.Proto t =
        new OnnxModels.Proto()
            .varint(1, 3) // dims
            .varint(2, OnnxModels.FLOAT) // data_type
            .string(8, name);
    for (Map.Entry<String, String> e : entries.entrySet()) {
      t.message(13, new OnnxModels.Proto().string(1, e.getKey()).string(2, e.getValue()));
    }
    return t.varint(14, 1); // data_location = EXTERNAL
  }

  static OnnxModels.Proto node(String name, String op, List<String> inputs, String output) {
    OnnxModels.Proto n = new OnnxModels.Proto();
    for (String in : inputs) {
      n.string(1, in);
    }
    return n.string(2, output).string(3, name).string(4, op);
  }

  static OnnxModels.Proto tensorAttribute(String name, OnnxModels.Proto tensor) {
    return new OnnxModels.Proto().string(1, name).message(5, tensor).varint(20, 4); // type TENSOR
  }

  static OnnxModels.Proto graphAttribute(String name, OnnxModels.Proto graph) {
    return new OnnxModels.Proto().string(1, name).message(6, graph).varint(20, 5); // type GRAPH
  }

  private OnnxModels.Proto ifNode(OnnxModels.Proto thenBranch, OnnxModels.Proto elseBranch) {
    return node("if0", "If", List.of("cond"), "W")
        .message(5, graphAttribute("then_branch", thenBranch))
        .message(5, graphAttribute("else_branch", elseBranch));
  }

  private OnnxModels.Proto subgraphWithExternalInitializer(String name) {
    return new OnnxModels.Proto()
        .message(1, node(name + "_id", "Identity", List.of("W_" + name), "out_" + name))
        .string(2, name)
        .message(5, externalTensor("W_" + name))
        .message(12, valueInfo1d("out_" + name));
  }

  private static OnnxModels.Proto subgraphWithInlineInitializer(String name) {
    OnnxModels.Proto w =
        new OnnxModels.Proto()
            .varint(1, 3)
            .varint(2, OnnxModels.FLOAT)
            .string(8, "W_" + name)
            .bytes(9, weightBytes()); // raw_data
    return new OnnxModels.Proto()
        .message(1, node(name + "_id", "Identity", List.of("W_" + name), "out_" + name))
        .string(2, name)
        .message(5, w)
        .message(12, valueInfo1d("out_" + name));
  }

  private static OnnxModels.Proto inlineBoolTensor(String name) {
    return new OnnxModels.Proto()
        .varint(2, OnnxModels.BOOL)
        .string(8, name)
        .bytes(9, new byte[] {1});
  }

  static OnnxModels.Proto opset(String domain, long version) {
    return new OnnxModels.Proto().string(1, domain).varint(2, version);
  }

  static OnnxModels.Proto valueInfo(String name) {
    OnnxModels.Proto shape =
        new OnnxModels.Proto()
            .message(1, new OnnxModels.Proto().string(2, "N"))
            .message(1, new OnnxModels.Proto().varint(1, 3));
    OnnxModels.Proto tensorType =
        new OnnxModels.Proto().varint(1, OnnxModels.FLOAT).message(2, shape);
    return new OnnxModels.Proto()
        .string(1, name)
        .message(2, new OnnxModels.Proto().message(1, tensorType));
  }

  private static OnnxModels.Proto valueInfo1d(String name) {
    OnnxModels.Proto shape = new OnnxModels.Proto().message(1, new OnnxModels.Proto().varint(1, 3));
    OnnxModels.Proto tensorType =
        new OnnxModels.Proto().varint(1, OnnxModels.FLOAT).message(2, shape);
    return new OnnxModels.Proto()
        .string(1, name)
        .message(2, new OnnxModels.Proto().message(1, tensorType));
  }

  /**
   * A model whose {@code Constant} value is given twice, as protobuf allows for a singular field:
   * the first occurrence names a valid location, the second only adds {@code offset}. A parser
   * merges them into one tensor at {@code location} + {@code offset}.
   */
  public static byte[] constantSplitAcrossTwoOccurrences(String location, String offset) {
    OnnxModels.Proto first =
        new OnnxModels.Proto()
            .varint(1, 3)
            .varint(2, OnnxModels.FLOAT)
            .string(8, "W")
            .message(13, new OnnxModels.Proto().string(1, "location").string(2, location))
            .varint(14, 1);
    OnnxModels.Proto second =
        new OnnxModels.Proto()
            .message(13, new OnnxModels.Proto().string(1, "offset").string(2, offset));
    OnnxModels.Proto attribute =
        new OnnxModels.Proto()
            .string(1, "value")
            .message(5, first)
            .message(5, second)
            .varint(20, 4);
    OnnxModels.Proto graph =
        new OnnxModels.Proto()
            .message(1, node("const", "Constant", List.of(), "W").message(5, attribute))
            .message(1, node("add", "Add", List.of("x", "W"), "y"))
            .string(2, "g")
            .message(11, valueInfo("x"))
            .message(12, valueInfo("y"));
    return new OnnxModels.Proto()
        .varint(1, 8)
        .string(2, OnnxModels.PRODUCER)
        .message(7, graph)
        .message(8, opset("", 13))
        .toBytes();
  }
}
