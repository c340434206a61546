"""VGG16 as ONNX with synthetic (He-uniform) weights drawn from a seed.

The Keras Applications / torchvision configuration "D": 13 3x3 convolutions with ReLU in five
groups, each closed by a 2x2/2 max pool, then 25088 -> 4096 -> 4096 -> 1000 fully connected
layers (ReLU between, dropout dropped). At 224x224 torchvision's 7x7 adaptive pool is the
identity, so it is left out. ``synthetic.condition`` makes the weights usable.
"""

from __future__ import annotations

import onnx

from .onnx_graph import INPUT_NAME
from .synthetic import SyntheticGraph

RESOLUTION = 224
NUM_CLASSES = 1000
# Output channels of each group's convolutions.
GROUPS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))
HIDDEN = 4096


def build_onnx(seed: int) -> onnx.ModelProto:
    """VGG16 224x224 with He-uniform weights drawn from default_rng(seed), not yet conditioned."""
    graph = SyntheticGraph(3, RESOLUTION, RESOLUTION, seed)
    x, cin, size = INPUT_NAME, 3, RESOLUTION
    for g, widths in enumerate(GROUPS, start=1):
        for i, cout in enumerate(widths, start=1):
            name = f"block{g}_conv{i}"
            x, cin = graph.relu(graph.random_conv(x, cin, cout, 3, name=name), name), cout
        x, size = graph.max_pool(x, 2, 2, f"block{g}_pool"), size // 2
    x = graph.flatten(x)
    features = cin * size * size
    for name, fin, fout in (("fc1", features, HIDDEN), ("fc2", HIDDEN, HIDDEN)):
        x = graph.relu(graph.random_gemm(x, fin, fout, name), name)
    graph.random_gemm(x, HIDDEN, NUM_CLASSES, "predictions")
    return graph.finish("vgg16", NUM_CLASSES,
                        doc="VGG16 with synthetic weights: timings are real, predictions are not")
