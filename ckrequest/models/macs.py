"""Multiply-accumulate count of an ONNX classifier, read from its graph at batch 1.

The usual convention of the model zoos' "MACs" / "MAdds" / "FLOPs" columns: a convolution
costs (output elements) x (input channels / groups) x kernel height x kernel width, a Gemm or
MatMul M x N x K; bias adds, activations, pooling and element-wise ops count as zero.
"""

from __future__ import annotations

import math

import onnx
from onnx import helper

from ..errors import RequestError

SMALL_TENSOR = 64  # shape tensors and scalars stay: shape inference reads their values


def _shapes_only(model: onnx.ModelProto) -> onnx.ModelProto:
    """The graph at batch 1 with its large weights turned into typed inputs: shape inference
    reads only their shapes, and nothing copies hundreds of megabytes."""
    graph = model.graph
    declared = {i.name for i in graph.input}
    kept = [t for t in graph.initializer if math.prod(t.dims) <= SMALL_TENSOR]
    moved = [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in graph.initializer
             if math.prod(t.dims) > SMALL_TENSOR and t.name not in declared]
    light = helper.make_model(
        helper.make_graph(list(graph.node), graph.name, [*graph.input, *moved], list(graph.output),
                          initializer=kept, value_info=list(graph.value_info)),
        opset_imports=list(model.opset_import))
    light.ir_version = model.ir_version
    for graph_input in light.graph.input:
        dims = graph_input.type.tensor_type.shape.dim
        if len(dims) > 0 and not dims[0].HasField("dim_value"):
            dims[0].dim_value = 1
    return light


def _static_shape(shapes: dict[str, list[int | None]], name: str, node: onnx.NodeProto) -> list[int]:
    dims = shapes.get(name)
    if dims is None or any(d is None for d in dims):
        raise RequestError(f"layer {node.name or node.op_type} of the model",
                           f"the shape of {name} is not known at batch 1",
                           "give the model static input sizes except the batch dimension")
    return dims  # type: ignore[return-value]


def _inferred_shapes(model: onnx.ModelProto) -> dict[str, list[int | None]]:
    inferred = onnx.shape_inference.infer_shapes(_shapes_only(model), strict_mode=True)
    shapes: dict[str, list[int | None]] = {}
    graph = inferred.graph
    for info in [*graph.input, *graph.value_info, *graph.output]:
        dims = info.type.tensor_type.shape.dim
        shapes[info.name] = [d.dim_value if d.HasField("dim_value") else None for d in dims]
    shapes.update({t.name: list(t.dims) for t in graph.initializer})
    return shapes


def _node_macs(node: onnx.NodeProto, shapes: dict[str, list[int | None]]) -> int:
    if node.op_type == "Conv":
        weight = _static_shape(shapes, node.input[1], node)
        return math.prod(_static_shape(shapes, node.output[0], node)) * math.prod(weight[1:])
    if node.op_type == "Gemm":
        a = _static_shape(shapes, node.input[0], node)
        trans_a = any(attr.name == "transA" and attr.i for attr in node.attribute)
        return math.prod(_static_shape(shapes, node.output[0], node)) * (a[0] if trans_a else a[1])
    if node.op_type == "MatMul":
        return math.prod(_static_shape(shapes, node.output[0], node)) * _static_shape(shapes, node.input[0], node)[-1]
    return 0


def macs_per_node(model: onnx.ModelProto) -> list[int]:
    """Multiply-accumulates of one image in each node of the graph, in the graph's order."""
    shapes = _inferred_shapes(model)
    return [_node_macs(node, shapes) for node in model.graph.node]


def count_macs(model: onnx.ModelProto) -> int:
    """Multiply-accumulates of one image through the model (Conv, Gemm and MatMul layers)."""
    return sum(macs_per_node(model))
