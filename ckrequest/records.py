"""Typed records shared by the library: what a model is and how its input is prepared.

JSON appears only at the storage boundary (``to_json``/``from_json``); inside, these are
immutable dataclasses validated on creation.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import RequestError

PRECISIONS = ("fp32", "fp16", "int8")
WEIGHTS = ("imagenet", "synthetic")
LAYOUTS = ("NCHW", "NHWC")
INTERPOLATIONS = ("bilinear", "bicubic")
CHANNEL_ORDERS = ("RGB", "BGR")
MODEL_INFO_FILE = "model-info.json"
MODEL_INFO_VERSION = 1


@dataclass(frozen=True)
class Preprocessing:
    """How a decoded RGB image becomes a model input.

    The short side is resized to ``round(resolution / crop_fraction)``, the centre
    ``resolution`` x ``resolution`` square is cut out, then ``(pixel - mean) / std`` is applied
    per channel on the 0..255 scale, in ``channel_order``, laid out as ``layout``.
    """

    resolution: int
    crop_fraction: float = 0.875
    interpolation: str = "bilinear"
    mean: tuple[float, float, float] = (127.5, 127.5, 127.5)
    std: tuple[float, float, float] = (127.5, 127.5, 127.5)
    channel_order: str = "RGB"
    layout: str = "NCHW"

    def __post_init__(self) -> None:
        object.__setattr__(self, "mean", tuple(float(v) for v in self.mean))
        object.__setattr__(self, "std", tuple(float(v) for v in self.std))
        problems = []
        if not isinstance(self.resolution, int) or not 8 <= self.resolution <= 4096:
            problems.append(f"resolution {self.resolution!r} is not an integer in 8..4096")
        if not 0.1 <= float(self.crop_fraction) <= 1.0:
            problems.append(f"crop_fraction {self.crop_fraction!r} is not in 0.1..1.0")
        if self.interpolation not in INTERPOLATIONS:
            problems.append(f"interpolation {self.interpolation!r} is not one of {INTERPOLATIONS}")
        if self.channel_order not in CHANNEL_ORDERS:
            problems.append(f"channel_order {self.channel_order!r} is not one of {CHANNEL_ORDERS}")
        if self.layout not in LAYOUTS:
            problems.append(f"layout {self.layout!r} is not one of {LAYOUTS}")
        if len(self.mean) != 3 or len(self.std) != 3 or any(s == 0 for s in self.std):
            problems.append("mean and std need 3 values each, std non-zero")
        if problems:
            raise RequestError("preprocessing description", "; ".join(problems),
                               "fix the model's model-info.json or reinstall the model package")

    def cache_key(self) -> str:
        """A stable digest of everything that changes the preprocessed pixels."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def input_shape(self, batch: int | None = None) -> tuple:
        r = self.resolution
        return (batch, 3, r, r) if self.layout == "NCHW" else (batch, r, r, 3)


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
