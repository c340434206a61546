"""Install one model: its canonical ONNX converted to a format and precision, checked, described.

Every converted model is compared with the canonical ONNX (run by ONNX Runtime) on seeded
pattern images and the calibration photos: fp32 must agree (softmax within 1e-4, same top-1) or
the install fails; fp16 and int8 record how far they agree.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import atomic
from ..backends import backend_class
from ..datasets.preprocess import Preprocessing
from ..digest import tree_sha256
from ..errors import RequestError
from ..models.model_info import MODEL_INFO_FILE, ModelInfo
from ..models.onnx_graph import INPUT_NAME, OUTPUT_NAME
from ..progress import step
from .calibration import calibration_set, pattern_set
from .canonical import Canonical, ModelSpec, canonical_onnx

FP32_TOLERANCE = 1e-4  # max abs difference of softmax allowed between formats at fp32
SAVED_MODEL_VERSION = 3  # bump when tf_convert changes what it makes: cached SavedModels are then remade


@dataclass(frozen=True)
class Format:
    name: str
    backend: str
    layout: str
    precisions: tuple[str, ...]
    files: tuple[str, ...]  # the model's files in the install folder; the first one is opened


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("onnx", "onnxruntime", "NCHW", ("fp32", "fp16", "int8"), ("model.onnx",)),
    Format("tf", "tensorflow", "NHWC", ("fp32",), ("saved_model",)),
    Format("tflite", "tflite", "NHWC", ("fp32", "fp16", "int8"), ("model.tflite",)),
    Format("openvino", "openvino", "NCHW", ("fp32", "fp16", "int8"), ("model.xml", "model.bin")),
    Format("mxnet", "mxnet", "NCHW", ("fp32",), ("model-symbol.json", "model-0000.params")),
)}


def model_format(name: str, precision: str) -> Format:
    if name not in FORMATS:
        raise RequestError(f"model format {name!r}", f"is not one of {', '.join(FORMATS)}", "use one of them")
    fmt = FORMATS[name]
    if precision not in fmt.precisions:
        raise RequestError(f"{precision} {name} model", f"is not made: {name} has {', '.join(fmt.precisions)}",
                           "pick one of those precisions")
    return fmt


def _with_layout(spec: Preprocessing, layout: str) -> Preprocessing:
    return Preprocessing(spec.resolution, spec.crop_fraction, spec.interpolation, spec.mean, spec.std,
                         spec.channel_order, layout)


def _saved_model(canonical: Canonical) -> Path:
    """onnx2tf's SavedModel for a canonical model, made once next to the canonical ONNX."""
    from .tf_convert import onnx_to_saved_model

    folder = canonical.path.parent / f"saved_model-v{SAVED_MODEL_VERSION}"
    if not (folder / "saved_model.pb").is_file():
        with atomic.staged_dir(folder) as staging:
            onnx_to_saved_model(canonical.path, staging)
    return folder


def _convert(fmt: Format, precision: str, canonical: Canonical, staging: Path,
             calibration: np.ndarray | None) -> None:
    if fmt.name == "onnx":
        from .onnx_precision import to_fp16, to_int8

        target = staging / "model.onnx"
        if precision == "fp32":
            atomic.write_bytes(target, canonical.path.read_bytes())
        elif precision == "fp16":
            to_fp16(canonical.path, target)
        else:
            to_int8(canonical.path, target, calibration)
    elif fmt.name == "tf":
        import shutil

        shutil.copytree(_saved_model(canonical), staging / "saved_model")
    elif fmt.name == "tflite":
        from .tf_convert import saved_model_to_tflite

        saved_model_to_tflite(_saved_model(canonical), staging / "model.tflite", precision, calibration)
    elif fmt.name == "openvino":
        from .openvino_convert import onnx_to_ir

        onnx_to_ir(canonical.path, staging / "model.xml", precision, calibration)
    else:
        raise AssertionError(fmt.name)  # MXNet is converted in its own interpreter: _convert_mxnet


def _convert_mxnet(canonical: Canonical, staging: Path, check_inputs: np.ndarray) -> np.ndarray:
    python = os.environ.get("CK_ENV_LIB_MXNET_PYTHON", "")
    if not python:
        raise RequestError("MXNet", "is not in this environment (CK_ENV_LIB_MXNET_PYTHON is not set)",
                           "install it: ck install package:lib-mxnet --quiet")
    np.save(staging / "check-input.npy", check_inputs)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the venv must not see our numpy
    proc = subprocess.run([python, "-m", "ckrequest.zoo.mxnet_convert", str(canonical.path), str(staging),
                           str(staging / "check-input.npy")], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RequestError(f"MXNet import of {canonical.path}", last, "see the MXNet error; report the model")
    outputs = np.load(staging / "check-output.npy")
    for scratch in ("check-input.npy", "check-output.npy"):
        (staging / scratch).unlink()
    return outputs


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def compare(reference: np.ndarray, candidate: np.ndarray) -> dict[str, float]:
    """Softmax distance and top-1 agreement. An image whose reference top two classes are within
    2 x FP32_TOLERANCE of each other is a near tie: a difference the tolerance allows can swap them,
    so fp32 conversions must agree on top-1 only where it is decided (a seeded synthetic VGG16 has
    one image of 40 with its top two logits 6e-6 apart)."""
    a, b = _softmax(reference.astype(np.float64)), _softmax(candidate.astype(np.float64))
    top_two = np.sort(a, axis=1)[:, -2:]
    decided = (top_two[:, 1] - top_two[:, 0]) > 2 * FP32_TOLERANCE
    same = a.argmax(1) == b.argmax(1)
    return {"images": int(len(a)), "max_abs_softmax_diff": float(np.abs(a - b).max()),
            "top1_agreement": float(same.mean()), "near_ties": int((~decided).sum()),
            "top1_agreement_decided": float(same[decided].mean()) if decided.any() else 1.0}


def fp32_agrees(agreement: dict[str, float]) -> bool:
    """The bar for an fp32 conversion: softmax within FP32_TOLERANCE, the same top-1 wherever it is decided."""
    return agreement["max_abs_softmax_diff"] <= FP32_TOLERANCE and agreement["top1_agreement_decided"] == 1.0


def _run(backend_name: str, model_path: Path, info: ModelInfo, inputs: np.ndarray) -> np.ndarray:
    backend = backend_class(backend_name)(model_path, info)
    outputs = [backend.logits(backend.run(backend.prepare(inputs[k:k + 8]))) for k in range(0, len(inputs), 8)]
    return np.concatenate(outputs)


def build_model(fmt_name: str, precision: str, spec: ModelSpec, dest: Path,
                weights_file: Path | None = None) -> Path:
    """Build (or fetch), convert, check and describe one model in ``dest``; all or nothing."""
    fmt = model_format(fmt_name, precision)
    with step(f"{spec.arch} ({spec.weights} weights): canonical ONNX graph"):
        canonical = canonical_onnx(spec, weights_file)
    nchw = canonical.preprocessing
    preprocessing = _with_layout(nchw, fmt.layout)
    calibration = calibration_set(preprocessing) if precision == "int8" else None
    check_nchw = np.concatenate([pattern_set(nchw, 24), calibration_set(nchw).inputs[:16]])
    check = check_nchw if fmt.layout == "NCHW" else np.ascontiguousarray(check_nchw.transpose(0, 2, 3, 1))
    info_path = dest / MODEL_INFO_FILE
    with atomic.publishing(dest, last=MODEL_INFO_FILE) as staging:
        with step(f"{spec.arch}: conversion to {fmt.name} {precision}"):
            if fmt.name == "mxnet":
                converted = _convert_mxnet(canonical, staging, check_nchw)
            else:
                _convert(fmt, precision, canonical, staging, None if calibration is None else calibration.inputs)
            info = _describe(fmt, precision, canonical, preprocessing, staging, calibration)
            atomic.write_json(staging / MODEL_INFO_FILE, info.to_json())
        with step(f"{spec.arch}: {fmt.name} {precision} checked against the canonical graph on {len(check)} images"):
            if fmt.name != "mxnet":
                converted = _run(fmt.backend, info.model_path(staging / MODEL_INFO_FILE), info, check)
            reference = _run("onnxruntime", canonical.path, _canonical_info(canonical), check_nchw)
            agreement = compare(reference, converted)
        if precision == "fp32" and not fp32_agrees(agreement):
            raise RequestError(f"{fmt.name} conversion of {canonical.design_name}",
                               f"disagrees with the canonical ONNX ({agreement})", "report the model and format")
        info = _describe(fmt, precision, canonical, preprocessing, staging, calibration, agreement)
        atomic.write_json(staging / MODEL_INFO_FILE, info.to_json())
    return info_path


def _canonical_info(canonical: Canonical) -> ModelInfo:
    return ModelInfo(arch=canonical.spec.arch, format="onnx", precision="fp32", weights=canonical.spec.weights,
                     design_name=canonical.design_name, file=canonical.path.name, input_name=INPUT_NAME,
                     output_name=OUTPUT_NAME, preprocessing=canonical.preprocessing, seed=canonical.spec.seed)


def _describe(fmt: Format, precision: str, canonical: Canonical, preprocessing: Preprocessing, staging: Path,
              calibration, agreement: dict[str, float] | None = None) -> ModelInfo:
    spec = canonical.spec
    quantization: dict[str, Any] = {}
    if calibration is not None:
        quantization["calibration"] = calibration.describe()
    if agreement is not None:
        quantization["agreement_with_fp32_canonical"] = agreement
    plain = (fmt.name, precision) == ("onnx", "fp32")
    design = canonical.design_name + ("" if plain else f" [{fmt.name} {precision}]")
    return ModelInfo(
        arch=spec.arch, format=fmt.name, precision=precision, weights=spec.weights, design_name=design,
        file=fmt.files[0], files=fmt.files, input_name=INPUT_NAME, output_name=OUTPUT_NAME,
        preprocessing=preprocessing, parameters=canonical.parameters, macs=canonical.macs,
        sha256=tree_sha256(staging / name for name in fmt.files),
        seed=spec.seed if spec.weights == "synthetic" else None,
        source={**canonical.source, "multiplier": spec.multiplier, "resolution": spec.resolution},
        converted_from={"format": "onnx", "sha256": canonical.sha256}, quantization=quantization)


def build_and_run(spec: ModelSpec, fmt: str, precision: str, folder: Path, nchw: np.ndarray) -> np.ndarray:
    """Build one format of ``spec`` in ``folder`` and return its logits on the NCHW images (a worker's job:
    module-level, so that a spawned process can be handed it)."""
    info_path = build_model(fmt, precision, spec, folder)
    info = ModelInfo.load(info_path)
    inputs = nchw if info.preprocessing.layout == "NCHW" else np.ascontiguousarray(nchw.transpose(0, 2, 3, 1))
    return _run(model_format(fmt, precision).backend, info.model_path(info_path), info, inputs)
