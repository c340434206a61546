"""SqueezeNet 1.1 as ONNX with synthetic (He-uniform) weights drawn from a seed.

The torchvision / Gluon layout: a 3x3/2 stem with 64 channels, eight Fire modules (1x1
squeeze, then 1x1 and 3x3 expands concatenated) between three 3x3/2 max pools, and a 1x1
convolution to 1000 classes followed by ReLU and a global average pool (dropout dropped).
torchvision's pools round up (ceil_mode); at 224x224 the sizes (111 -> 55 -> 27 -> 13) come
out the same rounding down, so the graph uses the plain pools every converter knows.
``synthetic.condition`` makes the weights usable.
"""

from __future__ import annotations

import onnx

from .onnx_graph import INPUT_NAME
from .synthetic import SyntheticGraph

RESOLUTION = 224
NUM_CLASSES = 1000
STEM_CHANNELS = 64
# (squeeze, expand 1x1, expand 3x3) of each Fire module; None is a 3x3/2 max pool.
FEATURES = (None, (16, 64, 64), (16, 64, 64), None, (32, 128, 128), (32, 128, 128), None,
            (48, 192, 192), (48, 192, 192), (64, 256, 256), (64, 256, 256))


def _conv_relu(graph: SyntheticGraph, x: str, cin: int, cout: int, kernel: int, name: str) -> str:
    return graph.relu(graph.random_conv(x, cin, cout, kernel, name=name), name)


def _fire(graph: SyntheticGraph, x: str, cin: int, squeeze: int, e1: int, e3: int, name: str) -> str:
    s = _conv_relu(graph, x, cin, squeeze, 1, f"{name}.squeeze")
    return graph.concat([_conv_relu(graph, s, squeeze, e1, 1, f"{name}.expand1x1"),
                         _conv_relu(graph, s, squeeze, e3, 3, f"{name}.expand3x3")], name)


def build_onnx(seed: int) -> onnx.ModelProto:
    """SqueezeNet 1.1 224x224 with He-uniform weights drawn from default_rng(seed), not yet conditioned."""
    graph = SyntheticGraph(3, RESOLUTION, RESOLUTION, seed)
    stem = graph.random_conv(INPUT_NAME, 3, STEM_CHANNELS, 3, name="features.0", stride=2, pads=(0, 0, 0, 0))
    x, cin = graph.relu(stem, "features.0"), STEM_CHANNELS
    for i, fire in enumerate(FEATURES, start=2):
        if fire is None:
            x = graph.max_pool(x, 3, 2, f"features.{i}")
        else:
            x, cin = _fire(graph, x, cin, *fire, f"features.{i}"), fire[1] + fire[2]
    x = _conv_relu(graph, x, cin, NUM_CLASSES, 1, "classifier.1")
    graph.flatten(graph.global_average_pool(x))
    return graph.finish("squeezenet1_1", NUM_CLASSES,
                        doc="SqueezeNet 1.1 with synthetic weights: timings are real, predictions are not")
