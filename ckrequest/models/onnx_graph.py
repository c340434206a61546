"""A small ONNX graph builder for the image classifiers ck-request makes itself.

One place for unique initializer names, batch norm folded into convolutions, ReLU6 as
Clip(0, 6), and the fixed model signature: input "input" (float32 NCHW, dynamic "batch"),
output "logits", opset 17, IR version 8, producer "ck-request".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8
PRODUCER = "ck-request"
INPUT_NAME = "input"
OUTPUT_NAME = "logits"


@dataclass(frozen=True)
class BatchNorm:
    """Inference-time batch norm parameters of one layer."""

    gamma: np.ndarray
    beta: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    eps: float

    def scale_and_shift(self) -> tuple[np.ndarray, np.ndarray]:
        scale = self.gamma.astype(np.float64) / np.sqrt(self.var.astype(np.float64) + self.eps)
        return scale, self.beta.astype(np.float64) - self.mean.astype(np.float64) * scale


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow "SAME" padding along one axis: the odd pixel goes at the end."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class GraphBuilder:
    """Collects nodes and initializers in order; ``finish`` returns a checked ModelProto."""

    def __init__(self, channels: int, height: int, width: int) -> None:
        self.input_shape = (channels, height, width)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._names: set[str] = {INPUT_NAME, OUTPUT_NAME}
        self._clip_bounds: tuple[str, str] | None = None

    def unique(self, base: str) -> str:
        name, n = base, 1
        while name in self._names:
            n += 1
            name = f"{base}_{n}"
        self._names.add(name)
        return name

    def initializer(self, base: str, array: np.ndarray) -> str:
        name = self.unique(base)
        tensor = numpy_helper.from_array(np.ascontiguousarray(array), name)
        self.initializers.append(tensor)
        return name

    def node(self, op: str, inputs: list[str], base: str, **attrs: object) -> str:
        out = self.unique(base)
        self.nodes.append(helper.make_node(op, inputs, [out], name=self.unique(f"{base}/{op}"), **attrs))
        return out

    def conv(self, x: str, weight: np.ndarray, bias: np.ndarray | None, *, name: str,
             stride: int = 1, pads: tuple[int, int, int, int] | None = None,
             group: int = 1) -> str:
        """Conv with explicit pads (top, left, bottom, right); default pads keep the size at stride 1."""
        kh, kw = weight.shape[2:]
        if pads is None:
            pads = (kh // 2, kw // 2, kh // 2, kw // 2)
        inputs = [x, self.initializer(f"{name}.weight", weight.astype(np.float32, copy=False))]
        if bias is not None:
            inputs.append(self.initializer(f"{name}.bias", bias.astype(np.float32, copy=False)))
        # ONNX pads are (begin_h, begin_w, end_h, end_w): the same order as ours.
        return self.node("Conv", inputs, name, kernel_shape=[int(kh), int(kw)],
                         strides=[stride, stride], pads=[int(p) for p in pads], group=group,
                         dilations=[1, 1])

    def conv_bn(self, x: str, weight: np.ndarray, bn: BatchNorm, *, name: str, stride: int = 1,
                pads: tuple[int, int, int, int] | None = None, group: int = 1,
                conv_bias: np.ndarray | None = None) -> str:
        """Conv followed by inference batch norm, folded into the conv's weights and bias."""
        scale, shift = bn.scale_and_shift()
        folded = weight.astype(np.float64) * scale.reshape(-1, 1, 1, 1)
        if conv_bias is not None:
            shift = shift + conv_bias.astype(np.float64) * scale
        return self.conv(x, folded, shift, name=name, stride=stride, pads=pads, group=group)

    def relu6(self, x: str, name: str) -> str:
        if self._clip_bounds is None:
            self._clip_bounds = (self.initializer("relu6.min", np.array(0.0, np.float32)),
                                 self.initializer("relu6.max", np.array(6.0, np.float32)))
        return self.node("Clip", [x, *self._clip_bounds], f"{name}.relu6")

    def relu(self, x: str, name: str) -> str:
        return self.node("Relu", [x], f"{name}.relu")

    def add(self, a: str, b: str, name: str) -> str:
        return self.node("Add", [a, b], f"{name}.add")

    def concat(self, inputs: list[str], name: str) -> str:
        """Join feature maps along the channel axis."""
        return self.node("Concat", inputs, f"{name}.concat", axis=1)

    def max_pool(self, x: str, kernel: int, stride: int, name: str,
                 pads: tuple[int, int, int, int] = (0, 0, 0, 0)) -> str:
        return self.node("MaxPool", [x], f"{name}.maxpool", kernel_shape=[kernel, kernel],
                         strides=[stride, stride], pads=[int(p) for p in pads])

    def average_pool(self, x: str, kernel: int, stride: int, name: str,
                     pads: tuple[int, int, int, int] = (0, 0, 0, 0), count_include_pad: bool = False) -> str:
        """Average pooling; by default padded pixels are left out of the average (TF "SAME")."""
        return self.node("AveragePool", [x], f"{name}.avgpool", kernel_shape=[kernel, kernel],
                         strides=[stride, stride], pads=[int(p) for p in pads],
                         count_include_pad=int(count_include_pad))

    def global_average_pool(self, x: str, name: str = "pool") -> str:
        return self.node("GlobalAveragePool", [x], name)

    def flatten(self, x: str, name: str = "flatten") -> str:
        return self.node("Flatten", [x], name, axis=1)

    def reshape(self, x: str, shape: tuple[int, ...], name: str = "reshape") -> str:
        target = self.initializer(f"{name}.shape", np.array(shape, dtype=np.int64))
        return self.node("Reshape", [x, target], name)

    def gemm(self, x: str, weight: np.ndarray, bias: np.ndarray, name: str) -> str:
        """y = x @ weight.T + bias, with weight laid out (out_features, in_features)."""
        w = self.initializer(f"{name}.weight", weight.astype(np.float32, copy=False))
        b = self.initializer(f"{name}.bias", bias.astype(np.float32, copy=False))
        return self.node("Gemm", [x, w, b], name, transB=1)

    def finish(self, name: str, num_outputs: int = 1000, doc: str = "") -> onnx.ModelProto:
        """Rename the last node's output to "logits" (batch x num_outputs); return the checked model."""
        self.nodes[-1].output[0] = OUTPUT_NAME
        c, h, w = self.input_shape
        graph = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", c, h, w])],
            [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT,
                                           ["batch", num_outputs])],
            initializer=self.initializers)
        model = helper.make_model(graph, producer_name=PRODUCER, doc_string=doc,
                                  opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = IR_VERSION
        model.model_version = 1
        onnx.checker.check_model(model)
        return model


def serialize(model: onnx.ModelProto) -> bytes:
    """Byte-stable serialization: the same model always gives the same bytes."""
    return model.SerializeToString(deterministic=True)


def count_parameters(model: onnx.ModelProto) -> int:
    """Number of weight elements, not counting scalar constants and shape tensors."""
    total = 0
    for tensor in model.graph.initializer:
        if tensor.data_type in (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE,
                                TensorProto.BFLOAT16) and len(tensor.dims) > 0:
            total += int(np.prod(tensor.dims))
    return total
