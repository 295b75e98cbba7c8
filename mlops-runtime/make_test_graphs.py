#!/usr/bin/python3
"""Regenerate the small ONNX graphs under src/test/resources/graphs/.

Run from the repository root with Debian's python3-onnx (1.12) and python3-numpy:

    /usr/bin/python3 mlops-runtime/make_test_graphs.py

The files are committed because neither the tests nor CI have Python; the script
is deterministic, so re-running it rewrites byte-identical files. Every graph is
opset 13, IR version 8 unless its entry says otherwise.

Graphs that raw ONNX Runtime runs correctly but that fail on synthetic warm-up
inputs (zeros, every dynamic dimension 1), because an input is shape-like:

* pad-reflect.onnx     x float32[N,L] -> y float32[N,L+4]: reflect Pad by 2 on
                       each side of axis 1; needs L >= 3 (L = 1 is refused).
* slice-step.onnx      x float32[N,8], steps int64[1] -> y: x[:, ::steps];
                       a step of 0 is refused.
* reshape-shape.onnx   x float32[N,6], shape int64[3] -> y = Reshape(x, shape);
                       shape [0,0,0] is refused for a rank-2 input.
* resize-scales.onnx   x float32[1,1,H,W], scales float32[4] -> y: nearest
                       Resize; a scale of 0 is refused.
* mod-int.onnx         a int64[N], b int64[N] -> y = a mod b; b = 0 is refused.

A graph that aborts ONNX Runtime 1.29.0 (the process dies with SIGABRT,
"terminate called without an active exception") on an empty batch:

* lstm-empty-batch.onnx  x float32[1,N,3], h0 float32[1,N,4], c0 float32[1,N,4]
                         -> hn float32[1,N,4]: one LSTM layer, weights all 0.5.
                         N = 0 aborts; N >= 1 runs.

Graphs ONNX Runtime cannot load, for the load-error messages:

* opset-future.onnx     Relu, default-domain opset 30 (ONNX Runtime 1.29
                        supports up to 26).
* training-op.onnx      Adagrad from ai.onnx.preview.training (opset 1), a
                        training-only operator.
* locale-normalizer.onnx  StringNormalizer with locale "xx_YY", which no host has.
* unknown-op.onnx       FrobnicateV2, an operator no ONNX opset defines, in the
                        default domain (opset 13).
* custom-domain.onnx    Frob from the custom domain com.example (opset 1), whose
                        operator library ONNX Runtime does not have.
* no-kernel.onnx        Softplus (node "softplus") on float64: a valid model, but
                        ONNX Runtime's CPU provider implements Softplus for float32 only.

A graph that fails at run time inside a subgraph, for the run-error messages:

* if-pad.onnx           c bool[], x float32[N,L] -> y: If (node "If_25") whose then
                        branch is the reflect Pad of pad-reflect.onnx (node
                        "Pad_537"); c = true with L = 1 fails inside the branch.

Pairs for signature-compatibility tests:

* tiny-fixed-batch.onnx  the same y = x . W + b as mlops-test-models' tiny.onnx,
                         with the batch fixed: x float32[1,4] -> y float32[1,2].
* tiny-double.onnx       the same with float64: x float64[N,4] -> y float64[N,2].

A graph whose first input has a fixed leading dimension, like a recurrent model's
state, for the batch-size metric:

* state-first.onnx      state float32[2,N,3], x float32[N,3] -> y float32[N,3]
                        = x + state[0].

Graphs whose outputs are far larger than their inputs, for the output-size cap:

* constant-of-shape.onnx  shape int64[2] -> y float32[A,B] = ConstantOfShape(shape)
                          filled with 1.0: [16384,16384] asks for 1 GiB.
* expand-const.onnx      x float32[1] -> y float32[8192,8200] = Expand(x, [8192,8200]):
                          256.25 MiB from one float, whatever the input (synthetic warm-up
                          included).
* two-constants.onnx     shape int64[2] -> a float32[A,B] filled with 1.0, b int64[A,B]
                          filled with 2: two outputs of 4 and 8 bytes an element.
* reduce-sum.onnx        x float32[N,M] -> y float32[1,M] = ReduceSum over axis 0 (keepdims):
                          an empty x float32[0,M] still makes a float32[1,M] output.

A graph that runs for ever, for the deadline on warm-up and registration runs:

* loop-forever.onnx      x float32[N] -> y float32[N]: a Loop whose trip count is 2^62 and
                         whose condition stays true, carrying x through an Identity body;
                         every input (synthetic warm-up included) starts it. ONNX Runtime
                         checks a run's terminate flag between the body's runs.
* loop-once.onnx         the same graph with a trip count of 1: y = x, the same signature,
                         a version the hostile one can replace.
"""

import os

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import checker, helper as h, numpy_helper as nh

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "src", "test", "resources", "graphs")
PRODUCER = "mlops-runtime-test-graphs"
TINY_W = np.array([[1.0, -1.0], [0.5, 2.0], [-0.25, 0.75], [2.0, -0.5]])
TINY_B = np.array([0.5, -1.0])

vi = h.make_tensor_value_info


def save(name, nodes, inputs, outputs, inits=(), opset=13, domains=(), check=True):
    graph = h.make_graph(nodes, name.replace("-", "_"), inputs, outputs, initializer=list(inits))
    opsets = [h.make_opsetid("", opset)] + [h.make_opsetid(d, v) for d, v in domains]
    model = h.make_model(graph, opset_imports=opsets, producer_name=PRODUCER, producer_version="1")
    model.ir_version = 8
    if check:
        checker.check_model(model)
    path = os.path.join(OUT, name + ".onnx")
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    print("wrote", path, os.path.getsize(path), "bytes")


def i64(name, values):
    return nh.from_array(np.array(values, dtype=np.int64), name)


def main():
    os.makedirs(OUT, exist_ok=True)
    save("pad-reflect", [h.make_node("Pad", ["x", "pads"], ["y"], mode="reflect")],
         [vi("x", T.FLOAT, ["N", "L"])], [vi("y", T.FLOAT, ["N", "L4"])], [i64("pads", [0, 2, 0, 2])])
    save("slice-step", [h.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"])],
         [vi("x", T.FLOAT, ["N", 8]), vi("steps", T.INT64, [1])], [vi("y", T.FLOAT, ["N", "M"])],
         [i64("starts", [0]), i64("ends", [8]), i64("axes", [1])])
    save("reshape-shape", [h.make_node("Reshape", ["x", "shape"], ["y"])],
         [vi("x", T.FLOAT, ["N", 6]), vi("shape", T.INT64, [3])], [vi("y", T.FLOAT, ["A", "B", "C"])])
    save("resize-scales", [h.make_node("Resize", ["x", "", "scales"], ["y"], mode="nearest")],
         [vi("x", T.FLOAT, [1, 1, "H", "W"]), vi("scales", T.FLOAT, [4])], [vi("y", T.FLOAT, [1, 1, "H2", "W2"])])
    save("mod-int", [h.make_node("Mod", ["a", "b"], ["y"])],
         [vi("a", T.INT64, ["N"]), vi("b", T.INT64, ["N"])], [vi("y", T.INT64, ["N"])])

    hidden = 4
    save("lstm-empty-batch",
         [h.make_node("LSTM", ["x", "W", "R", "", "", "h0", "c0"], ["", "hn"], hidden_size=hidden)],
         [vi("x", T.FLOAT, [1, "N", 3]), vi("h0", T.FLOAT, [1, "N", hidden]), vi("c0", T.FLOAT, [1, "N", hidden])],
         [vi("hn", T.FLOAT, [1, "N", hidden])],
         [nh.from_array(np.full((1, 4 * hidden, 3), 0.5, np.float32), "W"),
          nh.from_array(np.full((1, 4 * hidden, hidden), 0.5, np.float32), "R")])

    # The checker of onnx 1.12 does not know opset 30; ONNX Runtime's refusal is what the tests need.
    save("opset-future", [h.make_node("Relu", ["x"], ["y"])],
         [vi("x", T.FLOAT, ["N", 3])], [vi("y", T.FLOAT, ["N", 3])], opset=30, check=False)
    save("training-op",
         [h.make_node("Adagrad", ["r", "t", "x", "g", "hh"], ["x2", "h2"], domain="ai.onnx.preview.training")],
         [vi("r", T.FLOAT, []), vi("t", T.INT64, []), vi("x", T.FLOAT, [3]), vi("g", T.FLOAT, [3]),
          vi("hh", T.FLOAT, [3])],
         [vi("x2", T.FLOAT, [3]), vi("h2", T.FLOAT, [3])], domains=[("ai.onnx.preview.training", 1)])
    save("locale-normalizer",
         [h.make_node("StringNormalizer", ["x"], ["y"], case_change_action="LOWER", locale="xx_YY")],
         [vi("x", T.STRING, ["N"])], [vi("y", T.STRING, ["M"])])
    # The checker refuses operators it has no schema for; ONNX Runtime's refusal is what the tests need.
    save("unknown-op", [h.make_node("FrobnicateV2", ["x"], ["y"])],
         [vi("x", T.FLOAT, ["N", 3])], [vi("y", T.FLOAT, ["N", 3])], check=False)
    save("custom-domain", [h.make_node("Frob", ["x"], ["y"], domain="com.example")],
         [vi("x", T.FLOAT, ["N", 3])], [vi("y", T.FLOAT, ["N", 3])], domains=[("com.example", 1)], check=False)
    save("no-kernel", [h.make_node("Softplus", ["x"], ["y"], name="softplus")],
         [vi("x", T.DOUBLE, ["N", 3])], [vi("y", T.DOUBLE, ["N", 3])])

    then_branch = h.make_graph([h.make_node("Pad", ["x", "pads"], ["t"], mode="reflect", name="Pad_537")], "then",
                               [], [vi("t", T.FLOAT, ["N", "L4"])], [i64("pads", [0, 2, 0, 2])])
    else_branch = h.make_graph([h.make_node("Identity", ["x"], ["e"])], "else", [], [vi("e", T.FLOAT, ["N", "L"])])
    save("if-pad", [h.make_node("If", ["c"], ["y"], then_branch=then_branch, else_branch=else_branch, name="If_25")],
         [vi("c", T.BOOL, []), vi("x", T.FLOAT, ["N", "L"])], [vi("y", T.FLOAT, ["N", "M"])])

    save("state-first", [h.make_node("Gather", ["state", "zero"], ["s0"], axis=0), h.make_node("Add", ["x", "s0"], ["y"])],
         [vi("state", T.FLOAT, [2, "N", 3]), vi("x", T.FLOAT, ["N", 3])], [vi("y", T.FLOAT, ["N", 3])],
         [nh.from_array(np.array(0, dtype=np.int64), "zero")])

    for name, batch, elem, dtype in (("tiny-fixed-batch", 1, T.FLOAT, np.float32),
                                     ("tiny-double", "N", T.DOUBLE, np.float64)):
        save(name, [h.make_node("MatMul", ["x", "W"], ["xw"]), h.make_node("Add", ["xw", "b"], ["y"])],
             [vi("x", elem, [batch, 4])], [vi("y", elem, [batch, 2])],
             [nh.from_array(TINY_W.astype(dtype), "W"), nh.from_array(TINY_B.astype(dtype), "b")])

    save("constant-of-shape",
         [h.make_node("ConstantOfShape", ["shape"], ["y"], value=nh.from_array(np.array([1.0], np.float32)))],
         [vi("shape", T.INT64, [2])], [vi("y", T.FLOAT, ["A", "B"])])
    save("expand-const", [h.make_node("Expand", ["x", "s"], ["y"])],
         [vi("x", T.FLOAT, [1])], [vi("y", T.FLOAT, [8192, 8200])], [i64("s", [8192, 8200])])
    save("two-constants",
         [h.make_node("ConstantOfShape", ["shape"], ["a"], value=nh.from_array(np.array([1.0], np.float32))),
          h.make_node("ConstantOfShape", ["shape"], ["b"], value=nh.from_array(np.array([2], np.int64)))],
         [vi("shape", T.INT64, [2])], [vi("a", T.FLOAT, ["A", "B"]), vi("b", T.INT64, ["A", "B"])])
    save("reduce-sum", [h.make_node("ReduceSum", ["x", "axes"], ["y"], keepdims=1)],
         [vi("x", T.FLOAT, ["N", "M"])], [vi("y", T.FLOAT, [1, "M"])], [i64("axes", [0])])

    # An output whose shape depends on the input's values, not only its shape: [2, nonzero count].
    save("nonzero", [h.make_node("NonZero", ["x"], ["y"])],
         [vi("x", T.FLOAT, ["N", 4])], [vi("y", T.INT64, [2, "M"])])

    body = h.make_graph(
        [h.make_node("Identity", ["c"], ["c_out"]), h.make_node("Identity", ["v"], ["v_out"])],
        "loop_body",
        [vi("i", T.INT64, []), vi("c", T.BOOL, []), vi("v", T.FLOAT, ["N"])],
        [vi("c_out", T.BOOL, []), vi("v_out", T.FLOAT, ["N"])])
    for name, trips in (("loop-forever", 2 ** 62), ("loop-once", 1)):
        save(name, [h.make_node("Loop", ["trips", "cond", "x"], ["y"], body=body)],
             [vi("x", T.FLOAT, ["N"])], [vi("y", T.FLOAT, ["N"])],
             [i64("trips", trips), nh.from_array(np.array(True), "cond")])


if __name__ == "__main__":
    main()
