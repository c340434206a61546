"""MobileNet-v2 1.0/224 as ONNX with synthetic (He-uniform) weights drawn from a seed.

The Keras Applications / torchvision topology: inverted residual blocks (1x1 expand, 3x3
depthwise, linear 1x1 projection) with ReLU6, a 1280-channel head and a 1000-way classifier.
Stride-2 convolutions use TensorFlow "SAME" pads, as Keras does. Batch norm is taken as folded
into the convolutions' biases. ``synthetic.condition`` makes the weights usable.
"""

from __future__ import annotations

import onnx

from .onnx_graph import INPUT_NAME, same_pads
from .synthetic import SyntheticGraph

RESOLUTION = 224
NUM_CLASSES = 1000
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
# (expand ratio, output channels, repeats, stride of the first) of each stage.
STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
          (6, 320, 1, 1))


class _Builder:
    def __init__(self, seed: int) -> None:
        self.graph = SyntheticGraph(3, RESOLUTION, RESOLUTION, seed)
        self.size = RESOLUTION

    def conv(self, x: str, cin: int, cout: int, kernel: int, stride: int, name: str, relu6: bool,
             group: int = 1) -> str:
        begin, end = same_pads(self.size, kernel, stride)
        y = self.graph.random_conv(x, cin, cout, kernel, name=name, stride=stride,
                                   pads=(begin, begin, end, end), group=group)
        self.size = (self.size + begin + end - kernel) // stride + 1
        return self.graph.relu6(y, name) if relu6 else y

    def block(self, x: str, name: str, cin: int, cout: int, expand: int, stride: int) -> str:
        mid = cin * expand
        y = x if expand == 1 else self.conv(x, cin, mid, 1, 1, f"{name}.expand", True)
        y = self.conv(y, mid, mid, 3, stride, f"{name}.depthwise", True, group=mid)
        y = self.conv(y, mid, cout, 1, 1, f"{name}.project", False)
        return self.graph.add(y, x, name) if stride == 1 and cin == cout else y

    def build(self) -> onnx.ModelProto:
        x = self.conv(INPUT_NAME, 3, STEM_CHANNELS, 3, 2, "stem", True)
        cin, index = STEM_CHANNELS, 0
        for expand, cout, repeats, stride in STAGES:
            for r in range(repeats):
                x = self.block(x, f"block{index}", cin, cout, expand, stride if r == 0 else 1)
                cin, index = cout, index + 1
        x = self.conv(x, cin, HEAD_CHANNELS, 1, 1, "head", True)
        x = self.graph.flatten(self.graph.global_average_pool(x))
        self.graph.random_gemm(x, HEAD_CHANNELS, NUM_CLASSES, "classifier")
        return self.graph.finish("mobilenet_v2_1.0_224", NUM_CLASSES,
                                 doc="MobileNet-v2 1.0/224 with synthetic weights: timings are real, "
                                     "predictions are not")


def build_onnx(seed: int) -> onnx.ModelProto:
    """MobileNet-v2 1.0/224 with He-uniform weights drawn from default_rng(seed), not yet conditioned."""
    return _Builder(seed).build()
