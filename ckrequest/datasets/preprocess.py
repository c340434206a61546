"""How a decoded image becomes a model input (the ``Preprocessing`` record), and doing it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RequestError

LAYOUTS = ("NCHW", "NHWC")
INTERPOLATIONS = ("bilinear", "bicubic")
CHANNEL_ORDERS = ("RGB", "BGR")


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


def _pil() -> Any:
    """Pillow, imported when an image is decoded (the boards read model descriptions without it)."""
    from PIL import Image

    return Image


def decode_rgb(path: str | Path) -> Any:
    """Open an image file as 8-bit RGB, or raise a one-line error naming the file."""
    path = Path(path)
    try:
        with _pil().open(path) as image:
            image.load()
            return image.convert("RGB")
    except FileNotFoundError:
        raise RequestError(f"image not found: {path}", "the data set lists a file that does not exist",
                           "reinstall the data set package or fix its val.txt") from None
    except (OSError, SyntaxError, ValueError) as err:  # PIL's UnidentifiedImageError is an OSError
        raise RequestError(f"unreadable image: {path}", f"it cannot be decoded ({err})",
                           "replace the file or remove it from the data set's val.txt") from None


def resize_and_crop(image: Any, spec: Preprocessing) -> Any:
    """Resize the short side to resolution/crop_fraction, then cut the centre square."""
    side = spec.resolution
    scaled_short = max(side, int(round(side / spec.crop_fraction)))
    width, height = image.size
    if width <= height:
        new_size = (scaled_short, max(side, int(round(height * scaled_short / width))))
    else:
        new_size = (max(side, int(round(width * scaled_short / height))), scaled_short)
    resample = {"bilinear": _pil().Resampling.BILINEAR, "bicubic": _pil().Resampling.BICUBIC}[spec.interpolation]
    image = image.resize(new_size, resample)
    left = (new_size[0] - side) // 2
    top = (new_size[1] - side) // 2
    return image.crop((left, top, left + side, top + side))


def normalize(pixels: np.ndarray, spec: Preprocessing) -> np.ndarray:
    """HxWx3 uint8 RGB -> float32 tensor in the model's channel order and layout (no batch axis)."""
    data = pixels.astype(np.float32)
    if spec.channel_order == "BGR":
        data = data[:, :, ::-1]
        mean = np.array(spec.mean[::-1], dtype=np.float32)
        std = np.array(spec.std[::-1], dtype=np.float32)
    else:
        mean = np.array(spec.mean, dtype=np.float32)
        std = np.array(spec.std, dtype=np.float32)
    data = (data - mean) / std
    if spec.layout == "NCHW":
        data = data.transpose(2, 0, 1)
    return np.ascontiguousarray(data, dtype=np.float32)


def preprocess_file(path: str | Path, spec: Preprocessing) -> np.ndarray:
    """One image file -> one model input (no batch axis)."""
    return normalize(np.asarray(resize_and_crop(decode_rgb(path), spec)), spec)
