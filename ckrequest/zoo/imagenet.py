"""Real ImageNet weights of the official sources -> the canonical ONNX graph, checked before use.

``imagenet_onnx`` fetches the official file (or takes one the user has), verifies it, converts it
in the framework's own interpreter (a subprocess: TensorFlow for Keras, MXNet's venv for Gluon),
brings the graph to the canonical contract (NCHW float32 "input" with a dynamic "batch", raw
"logits" [batch, 1000], opset 17) and checks it against the framework's own outputs before
writing ``<dest_dir>/model.onnx``.

Environment: ``CK_REQUEST_WEIGHTS_FILE`` (a weights file you already have, instead of a
download), ``CK_REQUEST_WEIGHTS_SHA256`` (the sha256 the weights file must have, instead of the
published checksum), ``CK_REQUEST_WEIGHTS_BASE_URL`` (a mirror), ``CK_ENV_LIB_MXNET_PYTHON``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field, replace
from importlib.machinery import PathFinder
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import onnx
from onnx import numpy_helper, version_converter

from .. import places
from ..atomic import staged_file
from ..datasets.preprocess import Preprocessing, normalize
from ..errors import ERROR_PREFIX, RequestError
from .download import WEIGHTS_FILE_ENV, Checksum, extract, fetch, file_digest, mirrored, verify_file
from .sources import GLUON, KERAS, WeightsSource, source_for

ONNX_FILE = "model.onnx"
PIN_ENV = "CK_REQUEST_WEIGHTS_SHA256"
MXNET_PYTHON_ENV = "CK_ENV_LIB_MXNET_PYTHON"
INPUT_NAME = "input"
OUTPUT_NAME = "logits"
OPSET = 17
IR_VERSION = 8
NUM_CLASSES = 1000
CHECK_IMAGES = 4
MAX_SOFTMAX_DIFF = 1e-4
CONVERT_TIMEOUT_SECONDS = 3600
CONVERTERS = {KERAS: "ckrequest.zoo.keras_source", GLUON: "ckrequest.zoo.gluon_source"}
CK_PACKAGES = {KERAS: "lib-tensorflow", GLUON: "lib-mxnet"}
_LOG_LINE = re.compile(r"^[IWEF]\d{4} |^WARNING: All log messages")  # TensorFlow's C++ log lines


@dataclass(frozen=True)
class ImagenetModel:
    """The canonical ONNX made from real weights, how its input is prepared and where it came from."""

    onnx_path: Path
    preprocessing: Preprocessing
    provenance: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Converter:
    """The command that runs a framework's converter module, and its environment."""

    command: tuple[str, ...]
    env: Mapping[str, str]


def _importable(module: str, env: Mapping[str, str]) -> bool:
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p] + sys.path
    return PathFinder.find_spec(module, paths) is not None


def converter_for(source: WeightsSource) -> Converter:
    """How to run the converter of ``source``'s framework; RequestError naming the CK package if absent."""
    fix = f"ck install package:{CK_PACKAGES[source.framework]} --quiet, then install the model with it"
    what = f"cannot convert {source.source_name} weights of {source.arch}"
    env = dict(os.environ)
    if source.framework == KERAS:
        if not _importable("tensorflow", env):
            raise RequestError(what, "TensorFlow is not importable here (no lib-tensorflow on PYTHONPATH)", fix)
        python = sys.executable
        env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH", ""), str(places.CHECKOUT)) if p)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    else:
        python = env.get(MXNET_PYTHON_ENV, "")
        if not python:
            raise RequestError(what, f"MXNet's python is not known ({MXNET_PYTHON_ENV} is not set)", fix)
        if not os.access(python, os.X_OK):
            raise RequestError(what, f"MXNet's python {python} does not exist", fix)
        env["PYTHONPATH"] = str(places.CHECKOUT)  # never the TensorFlow folder: its numpy 2 breaks MXNet
    return Converter((python, "-m", CONVERTERS[source.framework]), env)


def pinned_checksum() -> Checksum | None:
    value = os.environ.get(PIN_ENV, "").strip()
    if not value:
        return None
    try:
        return Checksum("sha256", value)
    except RequestError:
        raise RequestError(f"{PIN_ENV}={value}", "is not a sha256 (64 hex digits)",
                           "set it to the sha256sum of the weights file, or unset it") from None


def _describe_check(source: WeightsSource, pin: Checksum | None) -> str:
    if pin is not None:
        return f"sha256 pinned by {PIN_ENV}"
    if source.checksum is not None:
        return f"{source.checksum.algorithm} published by {source.source_name}"
    return (f"no checksum published: loaded into {source.framework} {source.model} (every layer and weight "
            "shape must fit); sha256 recorded")


def _unpack_gluon(archive: Path, work: Path, source: WeightsSource) -> Path:
    params = extract(archive, work / "unpacked") / source.member
    if not params.is_file():
        raise RequestError(f"archive {archive}", f"holds no {source.member}",
                           f"use the model zoo's {source.file_name}, or give the .params file itself")
    return params


def _local_weights(path: Path, work: Path, source: WeightsSource) -> Path:
    if not path.is_file():
        raise RequestError(f"weights file not found: {path}", "it does not exist or is not a file",
                           f"check the path given with --env.{WEIGHTS_FILE_ENV}")
    if source.framework == GLUON and path.suffix.lower() == ".zip":
        return _unpack_gluon(path, work, source)
    return path


def obtain_weights(source: WeightsSource, work: Path, weights_file: Path | None) -> tuple[Path, dict[str, Any]]:
    """The verified file the framework will load, and the record of where it came from."""
    pin = pinned_checksum()
    expected = pin or source.checksum
    what = f"{source.source_name} weights of {source.arch}"
    verified = False
    if weights_file is not None:
        path = _local_weights(Path(weights_file).absolute(), work, source)
    elif source.framework == KERAS:
        path = fetch(source.url, work / source.file_name, expected, what)
        verified = True
    else:
        path = _unpack_gluon(fetch(source.url, work / source.file_name, None, what), work, source)
    if expected is not None and not verified:
        verify_file(path, expected, f"{what} ({path})")
    return path, {
        "source": source.source_name, "model": source.model, "url": source.url,
        "fetched_from": "" if weights_file else mirrored(source.url),
        "weights_file": str(weights_file or ""), "file": path.name,
        "published_checksum": str(source.checksum) if source.checksum else None,
        "checksum_of": source.weights_name, "pinned_sha256": pin.digest if pin else None,
        "verified": _describe_check(source, pin), "sha256": file_digest(path), "size": path.stat().st_size,
    }


def check_inputs(preprocessing: Preprocessing, count: int = CHECK_IMAGES, seed: int = 0) -> np.ndarray:
    """``count`` smooth random images, prepared as the model expects (NCHW float32)."""
    rng = np.random.default_rng(seed)
    side = preprocessing.resolution
    cells = -(-side // 8)
    images = []
    for _ in range(count):
        blocks = rng.integers(0, 256, size=(cells, cells, 3))
        pixels = np.kron(blocks, np.ones((8, 8, 1)))[:side, :side].astype(np.uint8)
        images.append(normalize(pixels, replace(preprocessing, layout="NCHW")))
    return np.stack(images).astype(np.float32)


def _child_error(proc: subprocess.CompletedProcess, command: list[str]) -> RequestError:
    lines = [line.strip() for line in (proc.stderr or "").splitlines() if line.strip()]
    ours = [line for line in lines if line.startswith(ERROR_PREFIX)]
    if ours:
        return RequestError("weights conversion failed", ours[-1].removeprefix(ERROR_PREFIX))
    fix = f"run it by hand to see the whole output: {' '.join(command)}"
    if proc.returncode < 0:
        return RequestError("weights conversion failed", f"the converter was killed by signal {-proc.returncode} "
                            "(out of memory?)", fix)
    messages = [line for line in lines if not _LOG_LINE.match(line)]
    last = messages[-1] if messages else f"exit status {proc.returncode} without a message"
    return RequestError(f"weights conversion failed (exit status {proc.returncode})", last, fix)


@dataclass(frozen=True)
class Converted:
    """What a converter subprocess made: the raw ONNX, tensors to make initializers of, its outputs."""

    onnx_path: Path
    constants: Mapping[str, np.ndarray]  # graph inputs that are weights (Keras Dense kernels)
    reference: np.ndarray  # the framework's own logits on the check inputs
    report: Mapping[str, Any]  # framework versions, seconds


def run_converter(converter: Converter, source: WeightsSource, weights: Path, work: Path,
                  inputs: np.ndarray) -> Converted:
    """Run the framework's converter module on ``weights`` and collect what it wrote."""
    np.savez(work / "inputs.npz", inputs=inputs)
    outputs = [("out", ".onnx"), ("reference", ".npz"), ("report", ".json")]
    if source.framework == KERAS:
        outputs.append(("kernels", ".npz"))
    paths = {name: work / f"{name}{suffix}" for name, suffix in outputs}
    command = [*converter.command, "--model", source.model, "--weights", str(weights),
               "--resolution", str(source.resolution), "--inputs", str(work / "inputs.npz"),
               *(f"--{name}={path}" for name, path in paths.items())]
    if source.multiplier is not None:
        command += ["--alpha", str(source.multiplier)]
    try:
        proc = subprocess.run(command, env=dict(converter.env), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=CONVERT_TIMEOUT_SECONDS, cwd=work)
    except subprocess.TimeoutExpired:
        raise RequestError("weights conversion", f"did not finish within {CONVERT_TIMEOUT_SECONDS} s",
                           f"run it by hand to see where it stops: {' '.join(command)}") from None
    if proc.returncode != 0:
        raise _child_error(proc, command)
    constants = dict(np.load(paths["kernels"])) if "kernels" in paths else {}
    return Converted(paths["out"], constants, np.load(paths["reference"])["logits"],
                     json.loads(paths["report"].read_text()))


def _rename(graph: onnx.GraphProto, old: str, new: str) -> None:
    if old == new:
        return
    taken = {name for node in graph.node for name in (*node.input, *node.output)}
    taken |= {t.name for t in graph.initializer}
    if new in taken:
        raise RequestError("converted graph", f"already has a tensor named {new!r}", "report this converter output")
    for node in graph.node:
        node.input[:] = [new if name == old else name for name in node.input]
        node.output[:] = [new if name == old else name for name in node.output]
    for value in (*graph.input, *graph.output):
        if value.name == old:
            value.name = new


def _set_shape(value: onnx.ValueInfoProto, dims: tuple) -> None:
    shape = value.type.tensor_type.shape
    del shape.dim[:]
    for size in dims:
        dim = shape.dim.add()
        if isinstance(size, str):
            dim.dim_param = size
        else:
            dim.dim_value = size


def canonical_form(model: onnx.ModelProto, resolution: int,
                   constants: Mapping[str, np.ndarray] | None = None) -> onnx.ModelProto:
    """One input "input" [batch, 3, r, r], one output "logits" [batch, 1000], opset 17;
    graph inputs named in ``constants`` become initializers with those values."""
    graph = model.graph
    for name, value in (constants or {}).items():
        graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
    weights = {t.name for t in graph.initializer}
    inputs = [v for v in graph.input if v.name not in weights]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise RequestError("converted graph", f"has {len(inputs)} inputs and {len(graph.output)} outputs, not 1 and 1",
                           "report this converter output")
    kept = onnx.ValueInfoProto()
    kept.CopyFrom(inputs[0])
    del graph.input[:]
    graph.input.append(kept)
    _rename(graph, kept.name, INPUT_NAME)
    _rename(graph, graph.output[0].name, OUTPUT_NAME)
    _set_shape(graph.input[0], ("batch", 3, resolution, resolution))
    _set_shape(graph.output[0], ("batch", NUM_CLASSES))
    del graph.value_info[:]
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if opset != OPSET:
        model = version_converter.convert_version(model, OPSET)
    used = {node.domain for node in model.graph.node} | {""}
    kept_opsets = [o for o in model.opset_import if o.domain in used]
    del model.opset_import[:]
    model.opset_import.extend(kept_opsets)
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits.astype(np.float64) - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def check_agreement(model_bytes: bytes, inputs: np.ndarray, reference: np.ndarray, framework: str) -> dict[str, Any]:
    """RequestError unless onnxruntime's logits match the framework's (softmax within 1e-4, same top-1)."""
    import onnxruntime as ort

    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    logits = session.run([OUTPUT_NAME], {INPUT_NAME: inputs})[0]
    single = session.run([OUTPUT_NAME], {INPUT_NAME: inputs[:1]})[0]
    if logits.shape != (len(inputs), NUM_CLASSES) or reference.shape != logits.shape:
        raise RequestError("converted model", f"gives logits of shape {logits.shape}, {framework} {reference.shape}",
                           "report this converter output; nothing was installed")
    diff = float(np.abs(_softmax(logits) - _softmax(reference)).max())
    batch_diff = float(np.abs(_softmax(single) - _softmax(logits[:1])).max())
    same_top1 = int((logits.argmax(axis=1) == reference.argmax(axis=1)).sum())
    if diff > MAX_SOFTMAX_DIFF or batch_diff > MAX_SOFTMAX_DIFF or same_top1 != len(inputs):
        raise RequestError("converted model", f"disagrees with {framework}: max softmax difference {diff:.2e} "
                           f"(batch of 1: {batch_diff:.2e}; limit {MAX_SOFTMAX_DIFF:g}), same top-1 on {same_top1} "
                           f"of {len(inputs)} inputs", "report this converter output; nothing was installed")
    return {"inputs": len(inputs), "max_softmax_diff": diff, "same_top1": same_top1,
            "max_logit_diff": float(np.abs(logits - reference).max()), "onnxruntime": ort.__version__}


def _convert(source: WeightsSource, converter: Converter, weights: Path, work: Path,
             dest: Path) -> dict[str, Any]:
    inputs = check_inputs(source.preprocessing)
    converted = run_converter(converter, source, weights, work, inputs)
    model = canonical_form(onnx.load(str(converted.onnx_path)), source.resolution, converted.constants)
    data = model.SerializeToString(deterministic=True)
    check = check_agreement(data, inputs, converted.reference, source.framework)
    with staged_file(dest) as staged:
        staged.write_bytes(data)
    return {"framework": {**converted.report["framework"], "onnx": onnx.__version__},
            "conversion": {"seconds": converted.report["convert_seconds"], "check": check}}


def imagenet_onnx(arch: str, dest_dir: str | os.PathLike[str], *, multiplier: float | None = None,
                  resolution: int | None = None, weights_file: str | os.PathLike[str] | None = None) -> ImagenetModel:
    """``<dest_dir>/model.onnx`` from the official ImageNet weights of ``arch`` (or ``weights_file``,
    default $CK_REQUEST_WEIGHTS_FILE), verified and checked against the framework; nothing on failure."""
    return onnx_from_source(source_for(arch, multiplier, resolution), dest_dir, weights_file)


def onnx_from_source(source: WeightsSource, dest_dir: str | os.PathLike[str],
                     weights_file: str | os.PathLike[str] | None = None) -> ImagenetModel:
    """``imagenet_onnx`` for a source given in full (also one outside the catalog)."""
    converter = converter_for(source)
    weights_file = weights_file or os.environ.get(WEIGHTS_FILE_ENV) or None
    dest_dir = Path(dest_dir).absolute()
    created = not dest_dir.exists()
    dest_dir.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix=".ck-imagenet-", dir=dest_dir) as tmp:
            weights, provenance = obtain_weights(source, Path(tmp), Path(weights_file) if weights_file else None)
            provenance.update(_convert(source, converter, weights, Path(tmp), dest_dir / ONNX_FILE))
    except BaseException:
        if created and not any(dest_dir.iterdir()):
            dest_dir.rmdir()
        raise
    if source.multiplier is not None:
        provenance["multiplier"] = source.multiplier
    provenance["resolution"] = source.resolution
    return ImagenetModel(dest_dir / ONNX_FILE, source.preprocessing, provenance)
