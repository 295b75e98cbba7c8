#!/usr/bin/python3
"""Write breast-cancer-flaky.onnx: breast-cancer-v1 that fails on some inputs.

Run from the repository root with Debian's Python (python3-onnx 1.12, numpy):

    /usr/bin/python3 mlops-test-models/generate_flaky.py

Same signature as breast-cancer-v1 (features float32 [N,30] -> probabilities float32 [N,2],
label int64 [N]) and the same results, except that a row whose feature f0 is above 1000 makes
the run fail: the model gathers from a one-element table at index (f0 > 1000), and index 1 is out
of bounds, which ONNX Runtime reports as an error at run time. Held-out rows have f0 below 30, so
a caller makes the candidate fail on exactly the rows it chooses. For tests of rollouts that must
roll back a candidate failing on a share of its calls.
"""

import os

import numpy as np
from onnx import TensorProto, checker, helper, numpy_helper, shape_inference

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "src", "main", "resources", "dev", "mlops", "testmodels")
THRESHOLD = 1000.0


def main():
    import onnx

    v1 = onnx.load(os.path.join(OUT_DIR, "breast-cancer-v1.onnx"))
    g = v1.graph
    # The original probabilities become internal; the new output adds the gathered zero.
    for node in g.node:
        node.output[:] = ["p_raw" if o == "probabilities" else o for o in node.output]
        node.input[:] = ["p_raw" if i == "probabilities" else i for i in node.input]
    g.initializer.extend([
        numpy_helper.from_array(np.array([THRESHOLD], dtype=np.float32), "flaky_threshold"),
        numpy_helper.from_array(np.array([0.0], dtype=np.float32), "flaky_table"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "flaky_f0_index"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "flaky_axis1"),
    ])
    g.node.extend([
        helper.make_node("Gather", ["features", "flaky_f0_index"], ["flaky_f0"], axis=1,
                         name="flaky_f0"),                                   # [N, 1]
        helper.make_node("Greater", ["flaky_f0", "flaky_threshold"], ["flaky_over"],
                         name="flaky_over"),
        helper.make_node("Cast", ["flaky_over"], ["flaky_index"], to=TensorProto.INT64,
                         name="flaky_index"),                                # 0 or 1
        helper.make_node("Gather", ["flaky_table", "flaky_index"], ["flaky_zero"], axis=0,
                         name="flaky_gather"),                               # fails at 1
        helper.make_node("Add", ["p_raw", "flaky_zero"], ["probabilities"], name="flaky_add"),
    ])
    v1.doc_string = (
        "breast-cancer-v1 that fails at run time on rows whose f0 is above %g (a Gather out of "
        "bounds); other rows give v1's results." % THRESHOLD)
    checker.check_model(v1, full_check=True)
    shape_inference.infer_shapes(v1, check_type=True, strict_mode=True)
    path = os.path.join(OUT_DIR, "breast-cancer-flaky.onnx")
    with open(path, "wb") as f:
        f.write(v1.SerializeToString())
    print("%s %d bytes" % (path, os.path.getsize(path)))


if __name__ == "__main__":
    main()
