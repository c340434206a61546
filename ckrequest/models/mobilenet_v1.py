"""MobileNet-v1 as ONNX with synthetic weights drawn deterministically from a seed.

The weights carry no ImageNet knowledge; they are scaled so that every layer's
pre-activations are zero-mean with a fixed spread, which keeps ReLU6 in its useful range and
makes the logits differ from image to image (so latency and output checks are meaningful).
"""

from __future__ import annotations

import math

import numpy as np
import onnx

from ..datasets.preprocess import Preprocessing
from ..errors import RequestError
from .onnx_graph import INPUT_NAME, GraphBuilder, same_pads

MULTIPLIERS = (0.25, 0.5, 0.75, 1.0)
RESOLUTIONS = (128, 160, 192, 224)
NUM_CLASSES = 1000
STEM_CHANNELS = 32
# (output channels at multiplier 1.0, stride) of the 13 depthwise-separable blocks.
BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
          (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))
PRE_ACTIVATION_STD = 1.5  # every conv's output spread: ReLU6 stays mostly linear, rarely clips
LOGIT_SCALE = 1.5
INPUT_MEAN, INPUT_VAR = 0.0, 1.0 / 3.0  # pixels normalised to [-1, 1], taken as uniform


def make_divisible(value: float, divisor: int = 8) -> int:
    """TensorFlow's channel rounding: nearest multiple of divisor, never 10% below value."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def relu6_moments(std: float) -> tuple[float, float]:
    """Mean and variance of clip(z, 0, 6) for z ~ N(0, std^2), in closed form."""
    c = 6.0 / std
    pdf0, pdf_c = 1 / math.sqrt(2 * math.pi), math.exp(-c * c / 2) / math.sqrt(2 * math.pi)
    cdf_c = 0.5 * (1 + math.erf(c / math.sqrt(2)))
    mean = std * (pdf0 - pdf_c) + 6 * (1 - cdf_c)
    second = std * std * (cdf_c - 0.5 - c * pdf_c) + 36 * (1 - cdf_c)
    return mean, second - mean * mean


def preprocessing(resolution: int) -> Preprocessing:
    """How images are prepared for the synthetic MobileNet-v1 (TF-slim's Inception style)."""
    _check("resolution", resolution, RESOLUTIONS)
    return Preprocessing(resolution=resolution, crop_fraction=0.875, interpolation="bilinear",
                         mean=(127.5, 127.5, 127.5), std=(127.5, 127.5, 127.5))


def _check(what: str, value: object, accepted: tuple) -> None:
    if isinstance(value, bool) or value not in accepted:
        raise RequestError(f"MobileNet-v1 {what} {value!r}", "is not supported",
                           f"use one of {', '.join(str(a) for a in accepted)}")


class _Builder:
    """Draws each layer's weights in graph order and folds the centring into its bias."""

    def __init__(self, resolution: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.graph = GraphBuilder(3, resolution, resolution)
        self.size = resolution
        self.in_mean, self.in_var = INPUT_MEAN, INPUT_VAR
        self.out_mean, self.out_var = relu6_moments(PRE_ACTIVATION_STD)

    def _weights(self, shape: tuple[int, ...], target_std: float) -> tuple[np.ndarray, np.ndarray]:
        """Filters of norm target_std/input_std, biased so the output is zero-mean."""
        w = self.rng.standard_normal(shape)
        norms = np.sqrt(np.sum(w * w, axis=(1, 2, 3), keepdims=True))
        w *= target_std / math.sqrt(self.in_var) / norms
        return w, -self.in_mean * np.sum(w, axis=(1, 2, 3))

    def conv_relu6(self, x: str, cin: int, cout: int, kernel: int, stride: int, name: str,
                   depthwise: bool = False) -> str:
        group = cin if depthwise else 1
        w, b = self._weights((cout, cin // group, kernel, kernel), PRE_ACTIVATION_STD)
        begin, end = same_pads(self.size, kernel, stride)
        y = self.graph.conv(x, w, b, name=name, stride=stride, pads=(begin, begin, end, end),
                            group=group)
        self.size = (self.size + begin + end - kernel) // stride + 1
        self.in_mean, self.in_var = self.out_mean, self.out_var
        return self.graph.relu6(y, name)

    def build(self, multiplier: float) -> onnx.ModelProto:
        cin = make_divisible(STEM_CHANNELS * multiplier)
        x = self.conv_relu6(INPUT_NAME, 3, cin, 3, 2, "conv0")
        for i, (channels, stride) in enumerate(BLOCKS, start=1):
            cout = make_divisible(channels * multiplier)
            x = self.conv_relu6(x, cin, cin, 3, stride, f"conv{i}_dw", depthwise=True)
            x = self.conv_relu6(x, cin, cout, 1, 1, f"conv{i}_pw")
            cin = cout
        x = self.graph.global_average_pool(x)
        # Pooling averages size^2 positions, shrinking the features' spread by about size.
        w, b = self._weights((NUM_CLASSES, cin, 1, 1), LOGIT_SCALE * self.size)
        x = self.graph.conv(x, w, b, name="logits_conv")
        self.graph.flatten(x)
        return self.graph.finish(
            f"mobilenet_v1_{multiplier}_{self.graph.input_shape[1]}", NUM_CLASSES,
            doc="MobileNet-v1 with synthetic weights: timings are real, predictions are not")


def build_onnx(multiplier: float, resolution: int, seed: int) -> onnx.ModelProto:
    """MobileNet-v1 (multiplier, resolution) with weights drawn from default_rng(seed)."""
    _check("multiplier", multiplier, MULTIPLIERS)
    _check("resolution", resolution, RESOLUTIONS)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise RequestError(f"MobileNet-v1 seed {seed!r}", "is not a non-negative integer",
                           "use a seed such as 0")
    return _Builder(resolution, seed).build(float(multiplier))
