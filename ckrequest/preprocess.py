"""Decode an image file and turn it into a model input, as a ``Preprocessing`` record says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import RequestError
from .records import Preprocessing

_RESAMPLE = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC}


def decode_rgb(path: str | Path) -> Image.Image:
    """Open an image file as 8-bit RGB, or raise a one-line error naming the file."""
    path = Path(path)
    try:
        with Image.open(path) as image:
            image.load()
            return image.convert("RGB")
    except FileNotFoundError:
        raise RequestError(f"image not found: {path}", "the data set lists a file that does not exist",
                           "reinstall the data set package or fix its val.txt") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise RequestError(f"unreadable image: {path}", f"it cannot be decoded ({err})",
                           "replace the file or remove it from the data set's val.txt") from None


def resize_and_crop(image: Image.Image, spec: Preprocessing) -> Image.Image:
    """Resize the short side to resolution/crop_fraction, then cut the centre square."""
    side = spec.resolution
    scaled_short = max(side, int(round(side / spec.crop_fraction)))
    width, height = image.size
    if width <= height:
        new_size = (scaled_short, max(side, int(round(height * scaled_short / width))))
    else:
        new_size = (max(side, int(round(width * scaled_short / height))), scaled_short)
    image = image.resize(new_size, _RESAMPLE[spec.interpolation])
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
