"""ONNX -> OpenVINO IR (model.xml + model.bin): fp32, fp16 (compressed weights), int8 (NNCF)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..backends.base import import_framework


def onnx_to_ir(source: Path, dest_xml: Path, precision: str, calibration: np.ndarray | None) -> None:
    ov = import_framework("openvino", "lib-openvino")
    model = ov.convert_model(str(source))
    if precision == "int8":
        nncf = import_framework("nncf", "lib-openvino")
        dataset = nncf.Dataset([calibration[k:k + 1] for k in range(len(calibration))])
        model = nncf.quantize(model, dataset, subset_size=len(calibration))
    ov.save_model(model, str(dest_xml), compress_to_fp16=precision == "fp16")
