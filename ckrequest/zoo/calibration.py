"""Images for post-training quantization and for checking converted models, deterministic.

Default set: the colour photos of scikit-image's data folder, each cut four ways (crops and a
mirror), so nothing needs downloading. `CK_REQUEST_CALIBRATION_DIR=<ImageNet-format folder>`
calibrates on real validation images instead (the first `CK_REQUEST_CALIBRATION_IMAGES`, 100).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..datasets import load_dataset
from ..datasets.preprocess import Preprocessing, decode_rgb, normalize, resize_and_crop
from ..errors import RequestError

PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
          "motorcycle_right.png", "retina.jpg", "ihc.png", "hubble_deep_field.jpg")
_CUTS = ((1.0, 0.5, 0.5, False), (0.7, 0.3, 0.3, False), (0.7, 0.7, 0.6, False), (0.85, 0.5, 0.5, True))


@dataclass(frozen=True)
class CalibrationSet:
    name: str
    inputs: np.ndarray  # (n, ...) in the model's layout, float32
    files: tuple[str, ...] = field(default=())

    def describe(self) -> dict[str, object]:
        return {"set": self.name, "images": int(len(self.inputs)), "files": list(self.files)}


def _cut(image: Image.Image, scale: float, cx: float, cy: float, mirror: bool) -> Image.Image:
    width, height = image.size
    side = int(min(width, height) * scale)
    left = int((width - side) * cx)
    top = int((height - side) * cy)
    piece = image.crop((left, top, left + side, top + side))
    return piece.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if mirror else piece


def photo_set(spec: Preprocessing) -> CalibrationSet:
    from ..datasets.sample_photos import skimage_data_dir

    folder = skimage_data_dir()
    inputs, names = [], []
    for name in PHOTOS:
        image = decode_rgb(folder / name)
        for k, cut in enumerate(_CUTS):
            inputs.append(normalize(np.asarray(resize_and_crop(_cut(image, *cut), spec)), spec))
            names.append(f"{name}#{k}")
    return CalibrationSet("skimage-photos-x4", np.stack(inputs), tuple(names))


def folder_set(folder: Path, count: int, spec: Preprocessing) -> CalibrationSet:
    from ..datasets.preprocess import preprocess_file

    data = load_dataset(folder).select(count)
    inputs = np.stack([preprocess_file(image.path, spec) for image in data.images])
    return CalibrationSet(f"{data.name} (first {len(inputs)})", inputs,
                          tuple(image.path.name for image in data.images))


def calibration_set(spec: Preprocessing) -> CalibrationSet:
    """The configured calibration images, preprocessed for one model."""
    folder = os.environ.get("CK_REQUEST_CALIBRATION_DIR", "").strip()
    if not folder:
        return photo_set(spec)
    text = os.environ.get("CK_REQUEST_CALIBRATION_IMAGES", "100").strip()
    if not text.isdigit() or int(text) < 1:
        raise RequestError(f"CK_REQUEST_CALIBRATION_IMAGES={text!r}", "is not a positive whole number",
                           "pass e.g. --env.CK_REQUEST_CALIBRATION_IMAGES=100")
    return folder_set(Path(folder), int(text), spec)


def pattern_set(spec: Preprocessing, count: int = 64, seed: int = 0) -> np.ndarray:
    """Seeded smooth random images (not photos) for comparing a converted model with its source."""
    rng = np.random.default_rng(seed)
    side = spec.resolution
    images = []
    for _ in range(count):
        coarse = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
        pixels = np.asarray(Image.fromarray(coarse).resize((side, side), Image.Resampling.BICUBIC))
        noise = rng.integers(-20, 21, size=pixels.shape)
        images.append(normalize(np.clip(pixels.astype(int) + noise, 0, 255).astype(np.uint8), spec))
    return np.stack(images)
