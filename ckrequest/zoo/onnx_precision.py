"""ONNX at fp16 (weights and compute, fp32 at the edges) and at int8 (QDQ, calibrated)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnx

from ..errors import missing_extra
from ..models.onnx_graph import INPUT_NAME


def to_fp16(source: Path, dest: Path) -> None:
    try:
        from onnxconverter_common import float16
    except ImportError as err:
        raise missing_extra(err) or err from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns for every weight below fp16's range
        model = float16.convert_float_to_float16(onnx.load(str(source)), keep_io_types=True)
    onnx.save(model, str(dest))


def to_int8(source: Path, dest: Path, calibration: np.ndarray) -> None:
    """Static post-training quantization: QDQ, int8 weights per channel, uint8 activations."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Images(CalibrationDataReader):
        def __init__(self) -> None:
            self._batches = iter(calibration[k:k + 1] for k in range(len(calibration)))

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self._batches, None)
            return None if batch is None else {INPUT_NAME: batch}

    prepared = dest.with_name(dest.stem + ".pre.onnx")
    try:
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_static(str(prepared), str(dest), Images(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    finally:
        prepared.unlink(missing_ok=True)
