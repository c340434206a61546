"""ResNet-18 and ResNet-50 as ONNX with synthetic (He-uniform) weights drawn from a seed.

The torchvision topology: 7x7/2 stem, 3x3/2 max pool, four stages, global average pool and a
1000-way classifier. ResNet-18 uses basic blocks (two 3x3 convolutions); ResNet-50 uses
bottleneck blocks in their v1.5 form, with the stride on the 3x3 convolution (torchvision, Gluon
v1b), which is why it costs 4.1 G multiply-accumulates rather than v1's 3.9 G (Keras's
ResNet50 is v1). Batch norm is taken as folded into the convolutions' biases.
``synthetic.condition`` makes the weights usable.
"""

from __future__ import annotations

import onnx

from ..errors import RequestError
from .onnx_graph import INPUT_NAME
from .synthetic import SyntheticGraph

RESOLUTION = 224
NUM_CLASSES = 1000
STEM_CHANNELS = 64
STAGE_WIDTHS = (64, 128, 256, 512)
# depth -> (blocks per stage, bottleneck blocks?)
DEPTHS = {18: ((2, 2, 2, 2), False), 50: ((3, 4, 6, 3), True)}
BOTTLENECK_EXPANSION = 4


class _Builder:
    def __init__(self, seed: int) -> None:
        self.graph = SyntheticGraph(3, RESOLUTION, RESOLUTION, seed)

    def conv(self, x: str, cin: int, cout: int, kernel: int, stride: int, name: str, relu: bool) -> str:
        y = self.graph.random_conv(x, cin, cout, kernel, name=name, stride=stride)
        return self.graph.relu(y, name) if relu else y

    def basic(self, x: str, name: str, cin: int, width: int, stride: int) -> tuple[str, int]:
        y = self.conv(x, cin, width, 3, stride, f"{name}.conv1", True)
        y = self.conv(y, width, width, 3, 1, f"{name}.conv2", False)
        return self._join(x, y, name, cin, width, stride), width

    def bottleneck(self, x: str, name: str, cin: int, width: int, stride: int) -> tuple[str, int]:
        cout = width * BOTTLENECK_EXPANSION
        y = self.conv(x, cin, width, 1, 1, f"{name}.conv1", True)
        y = self.conv(y, width, width, 3, stride, f"{name}.conv2", True)
        y = self.conv(y, width, cout, 1, 1, f"{name}.conv3", False)
        return self._join(x, y, name, cin, cout, stride), cout

    def _join(self, x: str, y: str, name: str, cin: int, cout: int, stride: int) -> str:
        """Residual add (through a 1x1 projection when the shape changes), then ReLU."""
        if stride != 1 or cin != cout:
            x = self.conv(x, cin, cout, 1, stride, f"{name}.downsample", False)
        return self.graph.relu(self.graph.add(y, x, name), name)

    def build(self, depth: int) -> onnx.ModelProto:
        blocks, bottleneck = DEPTHS[depth]
        x = self.conv(INPUT_NAME, 3, STEM_CHANNELS, 7, 2, "conv1", True)
        x = self.graph.max_pool(x, 3, 2, "maxpool", pads=(1, 1, 1, 1))
        cin = STEM_CHANNELS
        make_block = self.bottleneck if bottleneck else self.basic
        for stage, (count, width) in enumerate(zip(blocks, STAGE_WIDTHS), start=1):
            for b in range(count):
                x, cin = make_block(x, f"layer{stage}.{b}", cin, width, 2 if b == 0 and stage > 1 else 1)
        x = self.graph.flatten(self.graph.global_average_pool(x))
        self.graph.random_gemm(x, cin, NUM_CLASSES, "fc")
        return self.graph.finish(f"resnet{depth}", NUM_CLASSES,
                                 doc=f"ResNet-{depth} with synthetic weights: timings are real, predictions are not")


def build_onnx(depth: int, seed: int) -> onnx.ModelProto:
    """ResNet-<depth> (18 or 50) with He-uniform weights drawn from default_rng(seed), not yet conditioned."""
    if isinstance(depth, bool) or depth not in DEPTHS:
        raise RequestError(f"ResNet depth {depth!r}", "is not supported",
                           f"use one of {', '.join(str(d) for d in DEPTHS)}")
    return _Builder(seed).build(depth)
