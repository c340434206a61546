"""The architectures of the ReQuEST tournament: one registry keyed by their arch tags.

Each ``Architecture`` knows its accepted variants (multiplier x resolution), how to make its
synthetic-weights canonical ONNX graph, and ``preprocessing_for`` gives the input preparation
its usual trained weights expect (so a synthetic model is prepared like the real one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import onnx

from ..datasets.preprocess import Preprocessing
from ..errors import RequestError
from . import alexnet, efficientnet_lite, inception_v3, mobilenet_v1, mobilenet_v2, resnet, squeezenet, vgg
from .synthetic import calibration_batch, check_seed, condition

# Keras Applications' "tf" mode: pixels to [-1, 1].
KERAS_TF = {"mean": (127.5, 127.5, 127.5), "std": (127.5, 127.5, 127.5)}
# Keras Applications' "caffe" mode: BGR, mean subtracted, no scaling. Preprocessing keeps the mean in
# RGB order and reverses it with the channels, so B gets 103.939.
KERAS_CAFFE = {"mean": (123.68, 116.779, 103.939), "std": (1.0, 1.0, 1.0), "channel_order": "BGR"}
# Gluon / torchvision: ImageNet mean and std of [0, 1] pixels, on the 0..255 scale.
IMAGENET_RGB = {"mean": (123.675, 116.28, 103.53), "std": (58.395, 57.12, 57.375)}


@dataclass(frozen=True)
class Architecture:
    """One network design: its arch tag, accepted variants and synthetic-weights builder."""

    name: str
    display_name: str
    topology: str  # which published layout the graph follows
    default_resolution: int
    resolutions: tuple[int, ...]
    multipliers: tuple[float, ...]
    build: Callable[[int, float, int], onnx.ModelProto]  # (seed, multiplier, resolution) -> raw graph
    conditioned: bool = True  # False: the builder already scales its weights (MobileNet-v1)

    def variant(self, multiplier: float | None = None, resolution: int | None = None) -> tuple[float, int]:
        """The (multiplier, resolution) to build, by default 1.0 and the default resolution;
        RequestError if the architecture does not come in that variant."""
        multiplier = 1.0 if multiplier is None else multiplier
        resolution = self.default_resolution if resolution is None else resolution
        for what, value, accepted in (("multiplier", multiplier, self.multipliers),
                                      ("resolution", resolution, self.resolutions)):
            if isinstance(value, bool) or value not in accepted:
                raise RequestError(f"{self.name} {what} {value!r}", "is not available",
                                   f"use one of {', '.join(str(a) for a in accepted)}")
        return float(multiplier), int(resolution)

    def synthetic_onnx(self, seed: int, multiplier: float | None = None,
                       resolution: int | None = None) -> onnx.ModelProto:
        """The canonical ONNX graph with deterministic synthetic weights, conditioned on images."""
        multiplier, resolution = self.variant(multiplier, resolution)
        model = self.build(check_seed(seed), multiplier, resolution)
        if not self.conditioned:
            return model
        return condition(model, calibration_batch(preprocessing_for(self.name, resolution))).model


def _efficientnet_lite0(seed: int, multiplier: float, resolution: int) -> onnx.ModelProto:
    return efficientnet_lite.build_onnx(efficientnet_lite.synthetic_state_dict(seed))


def _one_size(name: str, display: str, topology: str, resolution: int,
              build: Callable[[int], onnx.ModelProto]) -> Architecture:
    return Architecture(name, display, topology, resolution, (resolution,), (1.0,),
                        lambda seed, multiplier, size: build(seed))


ARCHITECTURES: dict[str, Architecture] = {a.name: a for a in (
    Architecture("mobilenet-v1", "MobileNet-v1", "TF-slim MobileNet-v1 (TF SAME pads), analytically scaled",
                 224, mobilenet_v1.RESOLUTIONS, mobilenet_v1.MULTIPLIERS,
                 lambda seed, multiplier, resolution: mobilenet_v1.build_onnx(multiplier, resolution, seed),
                 conditioned=False),
    _one_size("mobilenet-v2", "MobileNet-v2 1.0/224", "Keras / torchvision MobileNet-v2 (TF SAME pads)", 224,
              mobilenet_v2.build_onnx),
    _one_size("resnet-18", "ResNet-18", "torchvision resnet18 (basic blocks)", 224,
              lambda seed: resnet.build_onnx(18, seed)),
    _one_size("resnet-50", "ResNet-50", "torchvision resnet50 (bottleneck v1.5: stride in the 3x3)", 224,
              lambda seed: resnet.build_onnx(50, seed)),
    _one_size("inception-v3", "Inception-v3", "torchvision / Keras Inception-v3, no aux head", 299,
              inception_v3.build_onnx),
    _one_size("vgg16", "VGG16", "Keras / torchvision VGG16 (configuration D)", 224, vgg.build_onnx),
    _one_size("alexnet", "AlexNet", "torchvision / Gluon AlexNet (single tower, no LRN)", 224, alexnet.build_onnx),
    _one_size("squeezenet-1.1", "SqueezeNet 1.1", "torchvision / Gluon squeezenet1_1", 224, squeezenet.build_onnx),
    Architecture("efficientnet-lite0", "EfficientNet-Lite0", "EfficientNet-Lite0 (TF SAME pads, no SE, ReLU6)",
                 224, (224,), (1.0,), _efficientnet_lite0),
)}


def architecture(name: str) -> Architecture:
    """The registry entry of an arch tag, or a RequestError listing the known ones."""
    if name not in ARCHITECTURES:
        raise RequestError(f"architecture {name!r}", "is not known",
                           f"use one of {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[name]


def preprocessing_for(arch: str, resolution: int | None = None) -> Preprocessing:
    """How images are prepared for the usual trained weights of ``arch`` at ``resolution``."""
    _, resolution = architecture(arch).variant(resolution=resolution)
    if arch == "mobilenet-v1":
        return mobilenet_v1.preprocessing(resolution)
    if arch == "efficientnet-lite0":
        return efficientnet_lite.PREPROCESSING
    if arch in ("mobilenet-v2", "inception-v3"):
        style = KERAS_TF
    elif arch in ("resnet-50", "vgg16"):
        style = KERAS_CAFFE
    else:
        style = IMAGENET_RGB
    return Preprocessing(resolution=resolution, crop_fraction=0.875, interpolation="bilinear", **style)
