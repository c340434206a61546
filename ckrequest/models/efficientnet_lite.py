"""EfficientNet-Lite0 as ONNX, built from the real ImageNet weights of a PyTorch state dict.

The state dict uses lukemelas EfficientNet-PyTorch names; Lite0 is the B0 topology without
squeeze-excitation, with ReLU6 instead of swish. ``synthetic_state_dict`` draws a state dict of
the same names and shapes from a seed, for the synthetic-weights model.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors

from ..datasets.preprocess import Preprocessing, preprocess_file
from ..errors import RequestError
from .onnx_graph import INPUT_NAME, BatchNorm, GraphBuilder, same_pads, serialize
from .synthetic import check_seed

RESOLUTION = 224
NUM_CLASSES = 1000
# The TF original trained with eps 1e-3 and 639 channels have running_var < 1e-3; 1e-5 keeps
# every top-1 and moves correct-set mass only slightly (cat .91->.94, coffee .97->.96, rocket .67->.75).
BN_EPS = 1e-3
# TF "SAME" pads beat symmetric ones: correct-set mass cat/coffee/rocket .914/.973/.668 vs .911/.952/.602.
PADDING = "same"
# (kernel, stride, expand ratio, output channels, repeats) of each MBConv stage.
STAGES = ((3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3),
          (5, 1, 6, 112, 3), (5, 2, 6, 192, 4), (3, 1, 6, 320, 1))
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
CAT_CLASSES = frozenset({281, 282, 285})  # tabby, tiger cat, Egyptian cat
# 127/128 (TF-Lite's own) ties 127.5 and beats ImageNet mean/std (.865/.948/.554); bicubic loses the rocket (.548).
PREPROCESSING = Preprocessing(resolution=RESOLUTION, crop_fraction=0.875, interpolation="bilinear",
                              mean=(127.0, 127.0, 127.0), std=(128.0, 128.0, 128.0))

StateDict = Mapping[str, np.ndarray]
_ORT_ERRORS = (ort_errors.Fail, ort_errors.InvalidArgument, ort_errors.NoSuchFile,
               ort_errors.InvalidProtobuf, ort_errors.RuntimeException, ort_errors.NotImplemented,
               OSError)
ModelLike = str | Path | onnx.ModelProto | ort.InferenceSession


def _tensor(sd: StateDict, key: str, shape: tuple[int, ...]) -> np.ndarray:
    if key not in sd:
        raise RequestError("EfficientNet-Lite0 weights", f"the state dict has no {key}",
                           "use the efficientnet-lite0 state dict (lukemelas EfficientNet-PyTorch names)")
    value = np.asarray(sd[key])
    if value.shape != shape:
        raise RequestError("EfficientNet-Lite0 weights",
                           f"{key} has shape {value.shape}, EfficientNet-Lite0 needs {shape}",
                           "use the efficientnet-lite0 state dict, not another model's")
    if not np.all(np.isfinite(value)):
        raise RequestError("EfficientNet-Lite0 weights", f"{key} holds NaN or infinite values",
                           "download the weights again")
    return value


def _bn(sd: StateDict, prefix: str, channels: int, eps: float) -> BatchNorm:
    shape = (channels,)
    return BatchNorm(_tensor(sd, f"{prefix}.weight", shape), _tensor(sd, f"{prefix}.bias", shape),
                     _tensor(sd, f"{prefix}.running_mean", shape),
                     _tensor(sd, f"{prefix}.running_var", shape), eps)


class _Builder:
    """Walks the topology, tracking the spatial size so stride-2 convs get TF SAME pads."""

    def __init__(self, sd: StateDict, padding: str, eps: float) -> None:
        self.sd, self.padding, self.eps = sd, padding, eps
        self.graph = GraphBuilder(3, RESOLUTION, RESOLUTION)
        self.size = RESOLUTION

    def conv_bn(self, x: str, conv: str, bn: str, shape: tuple[int, int, int, int], stride: int,
                relu6: bool, group: int = 1) -> str:
        weight = _tensor(self.sd, f"{conv}.weight", shape)
        kernel = shape[2]
        if self.padding == "same":
            begin, end = same_pads(self.size, kernel, stride)
        else:
            begin = end = kernel // 2
        y = self.graph.conv_bn(x, weight, _bn(self.sd, bn, shape[0], self.eps), name=conv,
                               stride=stride, pads=(begin, begin, end, end), group=group)
        self.size = (self.size + begin + end - kernel) // stride + 1
        return self.graph.relu6(y, conv) if relu6 else y

    def block(self, x: str, index: int, kernel: int, stride: int, expand: int, cin: int,
              cout: int) -> str:
        p = f"_blocks.{index}"
        mid = cin * expand
        y = x
        if expand != 1:
            y = self.conv_bn(y, f"{p}._expand_conv", f"{p}._bn0", (mid, cin, 1, 1), 1, True)
        y = self.conv_bn(y, f"{p}._depthwise_conv", f"{p}._bn1", (mid, 1, kernel, kernel), stride,
                         True, group=mid)
        y = self.conv_bn(y, f"{p}._project_conv", f"{p}._bn2", (cout, mid, 1, 1), 1, False)
        if stride == 1 and cin == cout:
            y = self.graph.add(y, x, p)
        return y

    def build(self) -> onnx.ModelProto:
        x = self.conv_bn(INPUT_NAME, "_conv_stem", "_bn0", (STEM_CHANNELS, 3, 3, 3), 2, True)
        cin, index = STEM_CHANNELS, 0
        for kernel, stride, expand, cout, repeats in STAGES:
            for r in range(repeats):
                x = self.block(x, index, kernel, stride if r == 0 else 1, expand, cin, cout)
                cin, index = cout, index + 1
        x = self.conv_bn(x, "_conv_head", "_bn1", (HEAD_CHANNELS, cin, 1, 1), 1, True)
        x = self.graph.flatten(self.graph.global_average_pool(x))
        self.graph.gemm(x, _tensor(self.sd, "_fc.weight", (NUM_CLASSES, HEAD_CHANNELS)),
                        _tensor(self.sd, "_fc.bias", (NUM_CLASSES,)), "_fc")
        return self.graph.finish("efficientnet_lite0", NUM_CLASSES,
                                 doc="EfficientNet-Lite0, ImageNet weights, batch norm folded")


def parameter_shapes() -> list[tuple[str, tuple[int, ...]]]:
    """Every state-dict entry ``build_onnx`` reads, with its shape, in graph order."""
    shapes: list[tuple[str, tuple[int, ...]]] = []

    def conv_bn(conv: str, bn: str, shape: tuple[int, ...]) -> None:
        shapes.append((f"{conv}.weight", shape))
        shapes.extend((f"{bn}.{part}", shape[:1]) for part in ("weight", "bias", "running_mean", "running_var"))

    conv_bn("_conv_stem", "_bn0", (STEM_CHANNELS, 3, 3, 3))
    cin, index = STEM_CHANNELS, 0
    for kernel, _, expand, cout, repeats in STAGES:
        for _ in range(repeats):
            p, mid = f"_blocks.{index}", cin * expand
            if expand != 1:
                conv_bn(f"{p}._expand_conv", f"{p}._bn0", (mid, cin, 1, 1))
            conv_bn(f"{p}._depthwise_conv", f"{p}._bn1", (mid, 1, kernel, kernel))
            conv_bn(f"{p}._project_conv", f"{p}._bn2", (cout, mid, 1, 1))
            cin, index = cout, index + 1
    conv_bn("_conv_head", "_bn1", (HEAD_CHANNELS, cin, 1, 1))
    shapes += [("_fc.weight", (NUM_CLASSES, HEAD_CHANNELS)), ("_fc.bias", (NUM_CLASSES,))]
    return shapes


def synthetic_state_dict(seed: int) -> dict[str, np.ndarray]:
    """A state dict with the real one's names and shapes: He-normal convolutions, neutral batch norm
    (gamma 1, beta 0, mean 0, variance 1), drawn from default_rng(seed) in graph order."""
    rng = np.random.default_rng(check_seed(seed))
    neutral_bn = {"weight": 1.0, "bias": 0.0, "running_mean": 0.0, "running_var": 1.0}
    state: dict[str, np.ndarray] = {}
    for key, shape in parameter_shapes():
        if len(shape) == 1:
            state[key] = np.full(shape, 0.0 if key == "_fc.bias" else neutral_bn[key.rsplit(".", 1)[1]],
                                 np.float32)
        else:
            fan_in = int(np.prod(shape[1:]))
            state[key] = rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))
    return state


def build_onnx(state_dict: StateDict, *, padding: str = PADDING, eps: float = BN_EPS) -> onnx.ModelProto:
    """EfficientNet-Lite0 (ReLU6, no SE) as ONNX; padding is "same" (TF) or "symmetric"."""
    if padding not in ("same", "symmetric"):
        raise ValueError(f"padding {padding!r} is not 'same' or 'symmetric'")
    return _Builder(state_dict, padding, eps).build()


def _session(model: ModelLike) -> tuple[ort.InferenceSession, str]:
    if isinstance(model, ort.InferenceSession):
        return model, "the EfficientNet-Lite0 model"
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if isinstance(model, onnx.ModelProto):
        return (ort.InferenceSession(serialize(model), options, providers=["CPUExecutionProvider"]),
                "the EfficientNet-Lite0 model")
    try:
        return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"]), str(model)
    except _ORT_ERRORS as err:
        raise RequestError(f"model file {model}", f"onnxruntime cannot load it ({err})",
                           "reinstall the model package") from None


def top5(model: ModelLike, image_path: str | Path,
         preprocessing: Preprocessing = PREPROCESSING) -> tuple[list[int], list[float]]:
    """The five most probable ImageNet classes of one photo, with their softmax probabilities."""
    session, _ = _session(model)
    return _top5(session, image_path, preprocessing)


def _top5(session: ort.InferenceSession, image_path: str | Path,
          preprocessing: Preprocessing) -> tuple[list[int], list[float]]:
    batch = preprocess_file(image_path, preprocessing)[np.newaxis]
    logits = session.run(None, {INPUT_NAME: batch})[0][0].astype(np.float64)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    order = np.argsort(-probs, kind="stable")[:5]
    return [int(i) for i in order], [float(probs[i]) for i in order]


def check_cat_photo(model: ModelLike, chelsea_path: str | Path, name: str | None = None) -> list[int]:
    """Run the model on skimage's chelsea.png; a cat class must be in the top-5 or it is broken."""
    session, label = _session(model)
    label = name or label
    classes, _ = _top5(session, chelsea_path, PREPROCESSING)
    if not CAT_CLASSES & set(classes):
        raise RequestError(f"self-check of {label}",
                           f"it does not see a cat in {Path(chelsea_path).name} (top-5 {classes}, "
                           f"expected one of {sorted(CAT_CLASSES)}): the weights or the conversion are wrong",
                           "reinstall the model package; if it persists, report a bug")
    return classes
