"""AlexNet as ONNX with synthetic (He-uniform) weights drawn from a seed.

The torchvision layout (single tower, no local response normalisation, 64-192-384-256-256
channels), as Gluon's model zoo has it too: five convolutions with ReLU and three 3x3/2 max
pools, then 9216 -> 4096 -> 4096 -> 1000 fully connected layers (ReLU between, dropout
dropped). At 224x224 the 6x6 adaptive pool is the identity, so it is left out.
``synthetic.condition`` makes the weights usable.
"""

from __future__ import annotations

import onnx

from .onnx_graph import INPUT_NAME
from .synthetic import SyntheticGraph

RESOLUTION = 224
NUM_CLASSES = 1000
# (output channels, kernel, stride, padding, max pool after?) of the five convolutions.
CONVS = ((64, 11, 4, 2, True), (192, 5, 1, 2, True), (384, 3, 1, 1, False), (256, 3, 1, 1, False),
         (256, 3, 1, 1, True))
HIDDEN = 4096


def build_onnx(seed: int) -> onnx.ModelProto:
    """AlexNet 224x224 with He-uniform weights drawn from default_rng(seed), not yet conditioned."""
    graph = SyntheticGraph(3, RESOLUTION, RESOLUTION, seed)
    x, cin, size = INPUT_NAME, 3, RESOLUTION
    for i, (cout, kernel, stride, pad, pool) in enumerate(CONVS):
        name = f"features.conv{i}"
        x = graph.relu(graph.random_conv(x, cin, cout, kernel, name=name, stride=stride, pads=(pad,) * 4), name)
        cin, size = cout, (size + 2 * pad - kernel) // stride + 1
        if pool:
            x, size = graph.max_pool(x, 3, 2, f"features.pool{i}"), (size - 3) // 2 + 1
    x = graph.flatten(x)
    for name, fin, fout in (("classifier.fc1", cin * size * size, HIDDEN), ("classifier.fc2", HIDDEN, HIDDEN)):
        x = graph.relu(graph.random_gemm(x, fin, fout, name), name)
    graph.random_gemm(x, HIDDEN, NUM_CLASSES, "classifier.fc3")
    return graph.finish("alexnet", NUM_CLASSES,
                        doc="AlexNet (torchvision layout) with synthetic weights: timings are real, "
                            "predictions are not")
