"""Inception-v3 at 299x299 as ONNX with synthetic (He-uniform) weights drawn from a seed.

The torchvision / Keras Applications topology without the auxiliary head: a five-convolution
stem with two max pools, then Mixed_5b..5d (Inception-A), 6a (B), 6b..6e (C, factorised 7x7),
7a (D) and 7b..7c (E), global average pool and a 1000-way classifier. The 3x3/1 average pools
leave the padding out of the average, as Keras (TensorFlow "SAME") does. Batch norm is taken as
folded into the convolutions' biases. ``synthetic.condition`` makes the weights usable.
"""

from __future__ import annotations

import onnx

from .onnx_graph import INPUT_NAME
from .synthetic import SyntheticGraph

RESOLUTION = 299
NUM_CLASSES = 1000
FEATURES = 2048
Kernel = int | tuple[int, int]


class _Builder:
    def __init__(self, seed: int) -> None:
        self.graph = SyntheticGraph(3, RESOLUTION, RESOLUTION, seed)

    def conv(self, x: str, cin: int, cout: int, kernel: Kernel, name: str, stride: int = 1,
             valid: bool = False) -> str:
        """Conv + ReLU; "valid" means no padding, otherwise the size is kept at stride 1."""
        pads = (0, 0, 0, 0) if valid else None
        return self.graph.relu(self.graph.random_conv(x, cin, cout, kernel, name=name, stride=stride, pads=pads),
                               name)

    def chain(self, x: str, cin: int, layers: list[tuple[int, Kernel]], name: str) -> str:
        for i, (cout, kernel) in enumerate(layers):
            x, cin = self.conv(x, cin, cout, kernel, f"{name}_{i}"), cout
        return x

    def pool_branch(self, x: str, cin: int, cout: int, name: str) -> str:
        pooled = self.graph.average_pool(x, 3, 1, f"{name}_pool", pads=(1, 1, 1, 1))
        return self.conv(pooled, cin, cout, 1, f"{name}_pool_proj")

    def inception_a(self, x: str, cin: int, pool_features: int, name: str) -> tuple[str, int]:
        branches = [self.conv(x, cin, 64, 1, f"{name}.branch1x1"),
                    self.chain(x, cin, [(48, 1), (64, 5)], f"{name}.branch5x5"),
                    self.chain(x, cin, [(64, 1), (96, 3), (96, 3)], f"{name}.branch3x3dbl"),
                    self.pool_branch(x, cin, pool_features, f"{name}.branch")]
        return self.graph.concat(branches, name), 64 + 64 + 96 + pool_features

    def inception_b(self, x: str, cin: int, name: str) -> tuple[str, int]:
        double = self.chain(x, cin, [(64, 1), (96, 3)], f"{name}.branch3x3dbl")
        branches = [self.conv(x, cin, 384, 3, f"{name}.branch3x3", stride=2, valid=True),
                    self.conv(double, 96, 96, 3, f"{name}.branch3x3dbl_2", stride=2, valid=True),
                    self.graph.max_pool(x, 3, 2, f"{name}.branch_pool")]
        return self.graph.concat(branches, name), 384 + 96 + cin

    def inception_c(self, x: str, cin: int, c7: int, name: str) -> tuple[str, int]:
        branches = [self.conv(x, cin, 192, 1, f"{name}.branch1x1"),
                    self.chain(x, cin, [(c7, 1), (c7, (1, 7)), (192, (7, 1))], f"{name}.branch7x7"),
                    self.chain(x, cin, [(c7, 1), (c7, (7, 1)), (c7, (1, 7)), (c7, (7, 1)), (192, (1, 7))],
                               f"{name}.branch7x7dbl"),
                    self.pool_branch(x, cin, 192, f"{name}.branch")]
        return self.graph.concat(branches, name), 4 * 192

    def inception_d(self, x: str, cin: int, name: str) -> tuple[str, int]:
        b3 = self.conv(x, cin, 192, 1, f"{name}.branch3x3_1")
        b7 = self.chain(x, cin, [(192, 1), (192, (1, 7)), (192, (7, 1))], f"{name}.branch7x7x3")
        branches = [self.conv(b3, 192, 320, 3, f"{name}.branch3x3_2", stride=2, valid=True),
                    self.conv(b7, 192, 192, 3, f"{name}.branch7x7x3_4", stride=2, valid=True),
                    self.graph.max_pool(x, 3, 2, f"{name}.branch_pool")]
        return self.graph.concat(branches, name), 320 + 192 + cin

    def split_3x3(self, x: str, cin: int, name: str) -> str:
        """The 1x3 and 3x1 convolutions side by side, concatenated."""
        return self.graph.concat([self.conv(x, cin, 384, (1, 3), f"{name}a"),
                                  self.conv(x, cin, 384, (3, 1), f"{name}b")], name)

    def inception_e(self, x: str, cin: int, name: str) -> tuple[str, int]:
        b3 = self.conv(x, cin, 384, 1, f"{name}.branch3x3_1")
        dbl = self.chain(x, cin, [(448, 1), (384, 3)], f"{name}.branch3x3dbl")
        branches = [self.conv(x, cin, 320, 1, f"{name}.branch1x1"),
                    self.split_3x3(b3, 384, f"{name}.branch3x3_2"),
                    self.split_3x3(dbl, 384, f"{name}.branch3x3dbl_3"),
                    self.pool_branch(x, cin, 192, f"{name}.branch")]
        return self.graph.concat(branches, name), 320 + 768 + 768 + 192

    def stem(self) -> tuple[str, int]:
        x = self.conv(INPUT_NAME, 3, 32, 3, "Conv2d_1a_3x3", stride=2, valid=True)
        x = self.conv(x, 32, 32, 3, "Conv2d_2a_3x3", valid=True)
        x = self.conv(x, 32, 64, 3, "Conv2d_2b_3x3")
        x = self.graph.max_pool(x, 3, 2, "maxpool1")
        x = self.conv(x, 64, 80, 1, "Conv2d_3b_1x1", valid=True)
        x = self.conv(x, 80, 192, 3, "Conv2d_4a_3x3", valid=True)
        return self.graph.max_pool(x, 3, 2, "maxpool2"), 192

    def build(self) -> onnx.ModelProto:
        x, c = self.stem()
        for name, pool_features in (("Mixed_5b", 32), ("Mixed_5c", 64), ("Mixed_5d", 64)):
            x, c = self.inception_a(x, c, pool_features, name)
        x, c = self.inception_b(x, c, "Mixed_6a")
        for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
            x, c = self.inception_c(x, c, c7, name)
        x, c = self.inception_d(x, c, "Mixed_7a")
        for name in ("Mixed_7b", "Mixed_7c"):
            x, c = self.inception_e(x, c, name)
        x = self.graph.flatten(self.graph.global_average_pool(x))
        self.graph.random_gemm(x, c, NUM_CLASSES, "fc")
        return self.graph.finish("inception_v3", NUM_CLASSES,
                                 doc="Inception-v3 (no aux head) with synthetic weights: timings are real, "
                                     "predictions are not")


def build_onnx(seed: int) -> onnx.ModelProto:
    """Inception-v3 299x299 with He-uniform weights drawn from default_rng(seed), not yet conditioned."""
    return _Builder(seed).build()
