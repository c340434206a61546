"""Synthetic weights: drawn from a seed, then conditioned on images so the network is usable.

Random (He) weights alone make deep networks whose activations drift and whose logits hardly
depend on the image. ``condition`` fixes that deterministically, LSUV style: in topological
order, each hidden Conv/Gemm is rescaled so that its output over a fixed calibration batch (real
photos + seeded patterns) has a set spread, and its bias puts every channel's mean at ``offset``
spreads; the last layer centres and scales each class on its own, then all classes together so
each image's logits spread ``logit_spread`` across classes.

Why not zero-mean, unit-spread channels (batch-norm style)? Measured on these graphs, that makes
deep ones chaotic: MobileNet-v2's softmax moved by 6e-4 when the input was scaled by 1 + 1e-5, and
by 6e-5 between onnxruntime with and without graph optimisations, too close to the 1e-4 that
cross-format agreement allows. One scale per layer and positive means (most ReLUs pass) bring
those to about 3e-5 and 4e-6 while top-1 still varies from image to image.

Each layer is conditioned from its raw output on the batch: scaling a channel's weights by ``a``
and setting its bias maps that output to ``a * (y + shift)`` exactly, so the corrected activations
are computed, not re-run. The graph is cut into steps by "weight depth" (Conv/Gemm layers on the
longest path from the input); step k runs only the nodes of depth k, fed with the stored
activations of earlier steps and with the weights as inputs, so all steps together cost about one
forward pass over the batch.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import onnx
import onnxruntime as ort
from google.protobuf.message import Message
from onnx import helper, numpy_helper
from PIL import Image

from ..datasets.preprocess import Preprocessing, decode_rgb, normalize, resize_and_crop
from ..datasets.sample_photos import skimage_data_dir
from ..errors import RequestError
from .onnx_graph import INPUT_NAME, IR_VERSION, OPSET, GraphBuilder

CALIBRATION_PHOTOS = ("chelsea.png", "coffee.png", "rocket.jpg", "astronaut.png", "motorcycle_left.png")
CALIBRATION_PATTERNS = 7
CALIBRATION_SEED = 0
PATTERN_KINDS = ("gradient", "stripes", "checkerboard", "blobs", "noise")
SPREAD = 1.0  # std of every hidden Conv/Gemm output over the calibration batch
OFFSET = 1.0  # its per-channel mean, in spreads: ReLU keeps ~84 %, ReLU6 clips at 5 spreads above
LOGIT_SPREAD = 2.0  # std of the logits across classes: softmax is peaked but not one-hot
WEIGHT_OPS = ("Conv", "Gemm")
SMALL_TENSOR = 64  # shape tensors and scalars stay initializers: some ops need their values


class SyntheticGraph(GraphBuilder):
    """A GraphBuilder whose layers draw He-uniform weights (zero bias) from one seeded generator,
    in graph order: the same seed always gives the same weights."""

    def __init__(self, channels: int, height: int, width: int, seed: int) -> None:
        super().__init__(channels, height, width)
        self.rng = np.random.default_rng(check_seed(seed))

    def he_uniform(self, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
        """Uniform in +-sqrt(6/fan_in) (variance 2/fan_in); uniform draws are twice as fast as normal ones."""
        weight = self.rng.random(shape, dtype=np.float32)
        weight -= np.float32(0.5)
        weight *= np.float32(2.0 * math.sqrt(6.0 / fan_in))
        return weight

    def random_conv(self, x: str, cin: int, cout: int, kernel: int | tuple[int, int], *, name: str,
                    stride: int = 1, pads: tuple[int, int, int, int] | None = None, group: int = 1) -> str:
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        weight = self.he_uniform((cout, cin // group, kh, kw), cin // group * kh * kw)
        return self.conv(x, weight, np.zeros(cout, np.float32), name=name, stride=stride, pads=pads,
                         group=group)

    def random_gemm(self, x: str, fin: int, fout: int, name: str) -> str:
        return self.gemm(x, self.he_uniform((fout, fin), fin), np.zeros(fout, np.float32), name)


def check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise RequestError(f"synthetic weights seed {seed!r}", "is not a non-negative integer",
                           "use a seed such as 0")
    return seed


# --- the calibration batch -------------------------------------------------------------------

def _pattern(kind: str, rng: np.random.Generator, height: int = 320, width: int = 400) -> np.ndarray:
    """One HxWx3 uint8 synthetic picture of the given kind, its parameters drawn from rng."""
    yy, xx = np.mgrid[0:height, 0:width] / np.array([height, width], dtype=np.float64).reshape(2, 1, 1)
    colours = rng.uniform(0, 255, (2, 3))
    if kind == "gradient":
        t = np.clip(xx * math.cos(rng.uniform(0, 2 * math.pi)) + yy * math.sin(rng.uniform(0, 2 * math.pi)), 0, 1)
    elif kind == "stripes":
        angle, freq = rng.uniform(0, math.pi), rng.uniform(3, 20)
        t = 0.5 + 0.5 * np.sin(2 * math.pi * freq * (xx * math.cos(angle) + yy * math.sin(angle)))
    elif kind == "checkerboard":
        cells = rng.integers(3, 12, 2)
        t = (np.floor(xx * cells[0]) + np.floor(yy * cells[1])) % 2
    elif kind == "blobs":
        centres, widths = rng.uniform(0, 1, (6, 2)), rng.uniform(0.05, 0.2, 6)
        t = sum(np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * w * w)) for (cx, cy), w in zip(centres, widths))
        t = np.clip(t, 0, 1)
    else:
        t = rng.uniform(0, 1, (height, width))
    pixels = colours[0] + t[..., None] * (colours[1] - colours[0])
    return np.clip(pixels, 0, 255).astype(np.uint8)


def calibration_batch(preprocessing: Preprocessing, patterns: int = CALIBRATION_PATTERNS,
                      seed: int = CALIBRATION_SEED) -> np.ndarray:
    """scikit-image's five photos and ``patterns`` seeded pictures, prepared as the model expects."""
    folder = skimage_data_dir()
    images = [decode_rgb(folder / name) for name in CALIBRATION_PHOTOS]
    rng = np.random.default_rng(seed)
    images += [Image.fromarray(_pattern(PATTERN_KINDS[i % len(PATTERN_KINDS)], rng)) for i in range(patterns)]
    return np.stack([normalize(np.asarray(resize_and_crop(image, preprocessing)), preprocessing)
                     for image in images])


# --- conditioning ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Conditioned:
    """A conditioned model and what conditioning did."""

    model: onnx.ModelProto
    layers: int  # Conv/Gemm layers rescaled
    steps: int  # onnxruntime sessions run (the graph's weight depth + its tail)
    seconds: float
    logit_spread: float  # mean over the batch of each image's logit std across classes


@dataclass
class _Layer:
    """One Conv/Gemm node: its drawn weight, and the per-channel scale and bias conditioning sets."""

    node: onnx.NodeProto
    weight: np.ndarray  # as drawn; output channels are rows (Conv, Gemm transB=1) or columns
    scale: np.ndarray
    bias: np.ndarray
    beta: float  # Gemm's beta: the bias enters as beta * C
    transposed: bool  # Gemm with transB=0 keeps output channels in the weight's columns

    @classmethod
    def of(cls, node: onnx.NodeProto, weights: dict[str, np.ndarray]) -> _Layer:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        transposed = node.op_type == "Gemm" and not attrs.get("transB", 0)
        if attrs.get("transA", 0):
            raise RequestError(f"layer {node.name}", "is a Gemm with transA=1, which conditioning does not handle",
                               "build the graph with transA=0")
        weight = weights[node.input[1]]
        channels = weight.shape[1] if transposed else weight.shape[0]
        has_bias = len(node.input) > 2 and node.input[2] != ""
        bias = weights[node.input[2]].astype(np.float64) if has_bias else np.zeros(channels)
        if bias.shape != (channels,):
            raise RequestError(f"layer {node.name}", f"its bias has shape {bias.shape}, not ({channels},)",
                               "give each Conv/Gemm a per-channel bias")
        beta = float(attrs.get("beta", 1.0)) if node.op_type == "Gemm" else 1.0
        return cls(node, weight, np.ones(channels), bias, beta, transposed)

    def rescale(self, scale: np.ndarray, shift: np.ndarray) -> None:
        """Make the layer's output ``scale * (y + shift)`` per channel, y being its output now."""
        self.scale = self.scale * scale
        self.bias = (self.bias + shift / self.beta) * scale

    def scaled_weight(self) -> np.ndarray:
        scale = self.scale if self.transposed else self.scale.reshape((-1,) + (1,) * (self.weight.ndim - 1))
        return self.weight * scale.astype(np.float32)


def _channel_stats(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (axis 1) mean and standard deviation over everything else, in float64."""
    axes = (0,) + tuple(range(2, y.ndim))
    mean = np.mean(y, axis=axes, dtype=np.float64)
    centred = y - mean.astype(np.float32).reshape((1, -1) + (1,) * (y.ndim - 2))
    return mean, np.sqrt(np.mean(np.square(centred), axis=axes, dtype=np.float64))


def _apply(y: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> np.ndarray:
    shape = (1, -1) + (1,) * (y.ndim - 2)
    return ((y + shift.astype(np.float32).reshape(shape)) * scale.astype(np.float32).reshape(shape))


def _depths(nodes: list[onnx.NodeProto], layer_ids: set[int]) -> list[int]:
    """Each node's weight depth: Conv/Gemm layers on the longest path from the graph input to it."""
    producer = {out: i for i, node in enumerate(nodes) for out in node.output}
    depths: list[int] = []
    for node in nodes:
        depth = 0
        for name in node.input:
            j = producer.get(name)
            if j is not None:
                depth = max(depth, depths[j] + (j in layer_ids))
        depths.append(depth)
    return depths


def _session_for(nodes: list[onnx.NodeProto], feeds: dict[str, np.ndarray],
                 initializers: dict[str, np.ndarray], outputs: list[str]) -> ort.InferenceSession:
    """A session running ``nodes``; large tensors are fed, not embedded, so nothing big is copied."""
    graph = helper.make_graph(
        nodes, "conditioning-step",
        [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
         for n, v in feeds.items()],
        [helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None) for n in outputs],
        initializer=[numpy_helper.from_array(v, n) for n, v in initializers.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


class _Conditioner:
    """Runs the graph step by step on the batch, conditioning each step's layers as it goes."""

    def __init__(self, model: onnx.ModelProto, spread: float, offset: float, logit_spread: float) -> None:
        self.model, self.spread, self.offset, self.logit_spread = model, spread, offset, logit_spread
        self.nodes = list(model.graph.node)
        self.initializers = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        self.layers = {i: _Layer.of(n, self.initializers) for i, n in enumerate(self.nodes)
                       if n.op_type in WEIGHT_OPS and n.input[1] in self.initializers}
        if not self.layers:
            raise RequestError(f"model {model.graph.name}", "has no Conv or Gemm layer with weights",
                               "condition a classifier graph")
        self.depths = _depths(self.nodes, set(self.layers))
        self.last_depth = max(self.depths[i] for i in self.layers)
        if len(model.graph.output) != 1:
            raise RequestError(f"model {model.graph.name}", f"has {len(model.graph.output)} outputs",
                               "condition a classifier with one output, the logits")
        self.outputs = {model.graph.output[0].name}
        self.last_use: dict[str, int] = {}
        for i, node in enumerate(self.nodes):
            for name in node.input:
                self.last_use[name] = max(self.last_use.get(name, 0), self.depths[i])

    def run(self, batch: np.ndarray) -> tuple[dict[str, np.ndarray], int]:
        """Condition every layer; returns the graph outputs on the batch and the number of steps."""
        values: dict[str, np.ndarray] = {INPUT_NAME: batch.astype(np.float32)}
        steps: dict[int, list[int]] = defaultdict(list)
        for i, depth in enumerate(self.depths):
            steps[depth].append(i)
        for depth in sorted(steps):
            values.update(self._step(depth, steps[depth], values))
            for name in [n for n in values if self.last_use.get(n, -1) <= depth and n not in self.outputs]:
                del values[name]
        return {n: values[n] for n in self.outputs}, len(steps)

    def _step(self, depth: int, ids: list[int], values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        nodes = [self.nodes[i] for i in ids]
        produced = {out for node in nodes for out in node.output}
        wanted = [out for i in ids for out in self.nodes[i].output
                  if i in self.layers or out in self.outputs or self.last_use.get(out, -1) > depth]
        feeds = {name: values[name] for node in nodes for name in node.input
                 if name in values and name not in produced}
        params = {name for node in nodes for name in node.input if name in self.initializers}
        # Each layer is conditioned in its own step, so the initializers still hold its drawn weights.
        feeds.update({n: self.initializers[n] for n in params if self.initializers[n].size > SMALL_TENSOR})
        small = {n: self.initializers[n] for n in sorted(params) if self.initializers[n].size <= SMALL_TENSOR}
        session = _session_for(nodes, feeds, small, wanted)
        results = dict(zip(wanted, session.run(wanted, feeds)))
        for i in ids:
            if i in self.layers:
                out = self.nodes[i].output[0]
                results[out] = self._condition(self.layers[i], results[out], depth == self.last_depth)
        return results

    def _condition(self, layer: _Layer, y: np.ndarray, last: bool) -> np.ndarray:
        """Hidden layers: one scale for the layer, each channel's mean at ``offset`` spreads.
        The last layer: each class centred and scaled on its own, so every class can win."""
        mean, std = _channel_stats(y)
        if last:
            # A class constant over the whole batch has no spread to restore: only centre it.
            scale = np.where(std > 1e-6 * max(float(std.max()), 1e-30), 1.0 / np.maximum(std, 1e-30), 1.0)
            shift = -mean
        else:
            rms = math.sqrt(float(np.mean(std * std)))
            scale = np.full(std.shape, self.spread / rms if rms > 0 else 1.0)
            shift = self.offset * self.spread / scale - mean
        layer.rescale(scale, shift)
        return _apply(y, scale, shift)

    def finish_logits(self, logits: np.ndarray) -> float:
        """Scale the last layers so each image's logits spread ``logit_spread`` across classes."""
        spread = float(np.mean(np.std(logits.astype(np.float64).reshape(len(logits), -1), axis=1)))
        if spread <= 0:
            raise RequestError(f"model {self.model.graph.name}", "gives the same logit to every class",
                               "check the graph's last layers")
        factor = self.logit_spread / spread
        for i, layer in self.layers.items():
            if self.depths[i] == self.last_depth:
                layer.rescale(np.full(layer.bias.shape, factor), np.zeros(layer.bias.shape))
        return float(spread * factor)

    def conditioned_model(self) -> onnx.ModelProto:
        """The model with every layer's weight and bias replaced; other initializers as they were."""
        nodes = [onnx.NodeProto() for _ in self.nodes]
        replacements: dict[str, np.ndarray] = {}
        for i, (node, original) in enumerate(zip(nodes, self.nodes)):
            node.CopyFrom(original)
            layer = self.layers.get(i)
            if layer is None:
                continue
            if len(node.input) < 3 or node.input[2] == "":
                del node.input[2:]
                node.input.append(f"{node.input[1]}.conditioned_bias")
            replacements[node.input[1]] = layer.scaled_weight()
            replacements[node.input[2]] = layer.bias.astype(np.float32)
        return _replace_graph_body(self.model, nodes, replacements)


def _replace_graph_body(model: onnx.ModelProto, nodes: list[onnx.NodeProto],
                        replacements: dict[str, np.ndarray]) -> onnx.ModelProto:
    """A copy of ``model`` with new nodes and some initializers replaced (or added), in their order;
    the old weights are never copied and the new ones only once."""
    result = onnx.ModelProto()
    for field, value in model.ListFields():
        if field.name != "graph":
            _copy_field(result, field.name, value)
    for field, value in model.graph.ListFields():
        if field.name not in ("node", "initializer"):
            _copy_field(result.graph, field.name, value)
    result.graph.node.extend(nodes)
    pending = dict(replacements)
    for tensor in model.graph.initializer:
        if tensor.name in pending:
            _add_float_tensor(result.graph, tensor.name, pending.pop(tensor.name))
        else:
            result.graph.initializer.append(tensor)
    for name, array in pending.items():
        _add_float_tensor(result.graph, name, array)
    return result


def _add_float_tensor(graph: onnx.GraphProto, name: str, array: np.ndarray) -> None:
    tensor = graph.initializer.add()
    tensor.name = name
    tensor.data_type = onnx.TensorProto.FLOAT
    tensor.dims.extend(array.shape)
    tensor.raw_data = np.ascontiguousarray(array, dtype="<f4").tobytes()


def _copy_field(target: Message, name: str, value: object) -> None:
    current = getattr(target, name)
    if isinstance(current, Message):
        current.CopyFrom(value)
    elif isinstance(value, (str, bytes, int, float)):
        setattr(target, name, value)
    else:
        current.extend(value)


def condition(model: onnx.ModelProto, batch: np.ndarray, *, spread: float = SPREAD, offset: float = OFFSET,
              logit_spread: float = LOGIT_SPREAD) -> Conditioned:
    """Rescale every Conv/Gemm of ``model`` on ``batch`` (see the module's description): hidden
    layers to std ``spread`` with channel means at ``offset`` spreads, the last layer per class,
    then to logits whose std across classes is ``logit_spread``. The input model is not changed.

    The tail after the last layer (ReLU, pooling, reshapes) must be positively homogeneous, as
    classifier heads are, for that last scaling to be exact. Weights shared by two layers are
    refused (builders here never share them).
    """
    start = time.perf_counter()
    conditioner = _Conditioner(model, spread, offset, logit_spread)
    shared = [n for n in {lay.node.input[1] for lay in conditioner.layers.values()}
              if sum(name == n for node in conditioner.nodes for name in node.input) > 1]
    if shared:
        raise RequestError(f"model {model.graph.name}", f"shares weights between layers ({shared[0]})",
                           "give each layer its own initializer")
    outputs, steps = conditioner.run(batch)
    spread_after = conditioner.finish_logits(next(iter(outputs.values())))
    return Conditioned(conditioner.conditioned_model(), len(conditioner.layers), steps,
                       time.perf_counter() - start, spread_after)
