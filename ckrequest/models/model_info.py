"""What an installed model is (model-info.json), as a typed record.

JSON appears only at the storage boundary (``to_json``/``from_json``); inside, these are
immutable dataclasses validated on creation.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..datasets.preprocess import Preprocessing
from ..errors import RequestError

PRECISIONS = ("fp32", "fp16", "int8")
SYNTHETIC = "synthetic"  # weights drawn from a seed: real timings, no accuracy
WEIGHTS = ("imagenet", SYNTHETIC)
MODEL_INFO_FILE = "model-info.json"
MODEL_INFO_VERSION = 1


@dataclass(frozen=True)
class ModelInfo:
    """What an installed model is: written as model-info.json next to the model file."""

    arch: str
    format: str
    precision: str
    weights: str
    design_name: str
    file: str
    input_name: str
    output_name: str
    preprocessing: Preprocessing
    num_classes: int = 1000
    label_offset: int = 0  # output index minus label_offset is the ImageNet class index
    parameters: int = 0
    sha256: str = ""
    seed: int | None = None
    source: Mapping[str, Any] = field(default_factory=dict)
    version: int = MODEL_INFO_VERSION
    files: tuple[str, ...] = ()  # everything the model is made of, when more than `file` (IR .bin, params)
    macs: int = 0  # multiply-accumulates of one image, counted from the graph
    converted_from: Mapping[str, Any] = field(default_factory=dict)  # the canonical ONNX it came from
    quantization: Mapping[str, Any] = field(default_factory=dict)  # calibration set, agreement with fp32

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", tuple(self.files) or (self.file,))
        problems = []
        if self.precision not in PRECISIONS:
            problems.append(f"precision {self.precision!r} is not one of {PRECISIONS}")
        if self.weights not in WEIGHTS:
            problems.append(f"weights {self.weights!r} is not one of {WEIGHTS}")
        if self.weights == "synthetic" and self.seed is None:
            problems.append("synthetic weights need the seed they were made from")
        if self.num_classes < 2 or self.label_offset < 0:
            problems.append("num_classes must be >= 2 and label_offset >= 0")
        if problems:
            raise RequestError("model description", "; ".join(problems),
                               "reinstall the model package")

    @property
    def is_synthetic(self) -> bool:
        return self.weights == "synthetic"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["preprocessing"]["mean"] = list(self.preprocessing.mean)
        data["preprocessing"]["std"] = list(self.preprocessing.std)
        data["source"] = dict(self.source)
        data["files"] = list(self.files)
        data["converted_from"] = dict(self.converted_from)
        data["quantization"] = dict(self.quantization)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any], origin: str = "model-info.json") -> ModelInfo:
        try:
            values = dict(data)
            version = values.get("version", MODEL_INFO_VERSION)
            if version != MODEL_INFO_VERSION:
                raise RequestError(origin, f"format version {version} is not {MODEL_INFO_VERSION}",
                                   "reinstall the model package with this ck-request")
            values["preprocessing"] = Preprocessing(**values["preprocessing"])
            return cls(**values)
        except RequestError:
            raise
        except (KeyError, TypeError, ValueError) as err:
            raise RequestError(origin, f"not a valid model description ({err})",
                               "reinstall the model package") from None

    @classmethod
    def load(cls, path: str | Path) -> ModelInfo:
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise RequestError(f"model description not found: {path}", "the file does not exist",
                               "reinstall the model package: ck install package --tags=model") from None
        except (OSError, ValueError) as err:
            raise RequestError(f"model description {path}", f"unreadable ({err})",
                               "reinstall the model package") from None
        return cls.from_json(data, origin=str(path))

    def install_tags(self) -> str:
        """The tags that install this model again: ck install package --tags=<these> --reinstall."""
        tags = ["model", self.format, self.arch, self.weights, self.precision]
        if self.arch == "mobilenet-v1" and self.source.get("multiplier") and self.source.get("resolution"):
            tags += [f"multiplier-{self.source['multiplier']}", f"resolution-{self.source['resolution']}"]
        return ",".join(tags)

    def model_path(self, info_path: str | Path) -> Path:
        return Path(info_path).parent / self.file

    def size_bytes(self, info_path: str | Path) -> int:
        """Bytes on disk of every file (or folder) the model is made of."""
        total = 0
        for name in self.files:
            path = Path(info_path).parent / name
            paths = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
            total += sum(p.stat().st_size for p in paths if p.exists())
        return total
