"""count_macs: multiply-accumulates read from the graph, checked by hand and against MobileNet's paper.

Every architecture's count against its published figure is in test_architectures.py, on the graphs
built there once."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from ckrequest.errors import RequestError
from ckrequest.models import mobilenet_v1
from ckrequest.models.macs import count_macs
from ckrequest.models.onnx_graph import GraphBuilder


def _model(nodes: list[onnx.NodeProto], input_shape: list, weights: dict[str, np.ndarray],
           output_shape: list | None = None) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "hand-made", [helper.make_tensor_value_info("input", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, output_shape)],
        initializer=[numpy_helper.from_array(v, k) for k, v in weights.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def test_convolutions_and_gemm_counted_by_hand() -> None:
    """Conv 3->8 3x3/2 on 9x9 (5x5 out), depthwise 3x3 on it, then Gemm 200->10."""
    builder = GraphBuilder(3, 9, 9)
    x = builder.conv("input", np.zeros((8, 3, 3, 3)), np.zeros(8), name="c1", stride=2)
    x = builder.relu(x, "c1")
    x = builder.conv(x, np.zeros((8, 1, 3, 3)), None, name="dw", group=8)
    x = builder.flatten(x)
    builder.gemm(x, np.zeros((10, 200)), np.zeros(10), "fc")
    model = builder.finish("hand", 10)
    assert count_macs(model) == 8 * 25 * 3 * 9 + 8 * 25 * 9 + 200 * 10


def test_matmul_and_transposed_gemm() -> None:
    weights = {"shape": np.array([-1, 6], np.int64), "w1": np.zeros((6, 4), np.float32),
               "w2": np.zeros((5, 4), np.float32)}
    nodes = [helper.make_node("Reshape", ["input", "shape"], ["a"]),
             helper.make_node("MatMul", ["a", "w1"], ["b"]),  # (1x6) @ (6x4): 24
             helper.make_node("Transpose", ["b"], ["bt"], perm=[1, 0]),  # (4x1)
             helper.make_node("Gemm", ["bt", "w2"], ["logits"], transA=1, transB=1)]  # M=1, K=4, N=5: 20
    assert count_macs(_model(nodes, ["batch", 6], weights)) == 24 + 20


def test_counts_one_image_whatever_the_batch_dimension() -> None:
    model = mobilenet_v1.build_onnx(0.25, 128, seed=0)
    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    fixed.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 1
    assert count_macs(model) == count_macs(fixed)
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"  # the input is not changed


@pytest.mark.parametrize("multiplier, resolution, published", [
    (1.0, 224, 569e6), (0.75, 224, 325e6), (0.5, 160, 77e6), (1.0, 128, 186e6)])
def test_mobilenet_v1_matches_the_paper_and_tf_slim(multiplier: float, resolution: int, published: float) -> None:
    """569 M (paper and TF-slim table) within 1 %; 0.75/224 is 325 M in the paper's Table 6."""
    macs = count_macs(mobilenet_v1.build_onnx(multiplier, resolution, seed=0))
    assert abs(macs / published - 1) < (0.01 if published == 569e6 else 0.03)


def test_unknown_spatial_size_is_a_clear_error() -> None:
    nodes = [helper.make_node("Conv", ["input", "w"], ["logits"], kernel_shape=[3, 3])]
    model = _model(nodes, ["batch", 3, "height", "width"], {"w": np.zeros((4, 3, 3, 3), np.float32)})
    with pytest.raises(RequestError, match="shape of logits is not known at batch 1"):
        count_macs(model)
