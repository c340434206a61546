"""Preprocessed images, computed once per (images, preprocessing) and kept on disk.

Images are handled in chunks so a 50,000-image set never has to fit in memory; each chunk is
one `.npy` file named by a digest of its files (``digest.file_identity``), of the preprocessing's
settings and of the code that made it: the package's version, the source of the preprocessor and
of every module of ours it imports (``digest.code_digest``), and the image decoder's (Pillow) version.
Writes are atomic: a crash leaves either no chunk or a whole one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from .. import atomic, places
from ..datasets.preprocess import Preprocessing
from ..digest import code_digest, file_identity
from . import LabelledImage
from .preprocess import preprocess_file

CHUNK_IMAGES = 256


def default_cache_dir() -> Path:
    return places.cache("preprocessed-cache", "CK_REQUEST_CACHE_DIR")


PREPROCESSOR_MODULES = (__name__, "ckrequest.datasets.preprocess")  # the code whose output a chunk holds


def code_format() -> str:
    from PIL import __version__ as pillow

    return f"{code_digest(*PREPROCESSOR_MODULES)} pillow {pillow}"


def chunk_digest(images: Sequence[LabelledImage], spec: Preprocessing) -> str:
    digest = hashlib.sha256(f"{spec.cache_key()}\0{code_format()}\n".encode())
    for image in images:
        digest.update(file_identity(image.path.resolve()).encode())
    return digest.hexdigest()[:24]


def chunk_path(images: Sequence[LabelledImage], spec: Preprocessing, cache_dir: Path) -> Path:
    return cache_dir / f"{spec.cache_key()}" / f"{chunk_digest(images, spec)}.npy"


def load_chunk(images: Sequence[LabelledImage], spec: Preprocessing, cache_dir: Path) -> np.ndarray:
    """The preprocessed inputs of ``images`` stacked on a batch axis (from cache when possible)."""
    path = chunk_path(images, spec, cache_dir)
    expected = (len(images), *spec.input_shape()[1:])
    if path.is_file():
        try:
            cached = np.load(path, allow_pickle=False)
            if cached.shape == expected and cached.dtype == np.float32:
                return cached
        except (OSError, ValueError):
            pass  # a damaged cache file is recomputed below
    batch = np.stack([preprocess_file(image.path, spec) for image in images])
    with atomic.staged_file(path) as staging:
        with open(staging, "wb") as handle:
            np.save(handle, batch, allow_pickle=False)
    return batch


def iter_chunks(images: Sequence[LabelledImage], spec: Preprocessing, cache_dir: Path | None = None,
                chunk_images: int = CHUNK_IMAGES) -> Iterator[tuple[Sequence[LabelledImage], np.ndarray]]:
    cache_dir = cache_dir or default_cache_dir()
    for start in range(0, len(images), chunk_images):
        part = images[start:start + chunk_images]
        yield part, load_chunk(part, spec, cache_dir)


def _mapped(path: Path, shape: tuple[int, ...]) -> np.ndarray | None:
    try:
        chunk = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        return None
    return chunk if chunk.shape == shape and chunk.dtype == np.float32 else None


def mapped_chunks(images: Sequence[LabelledImage], spec: Preprocessing, cache_dir: Path | None = None,
                  chunk_images: int = CHUNK_IMAGES) -> list[np.ndarray]:
    """Every chunk of ``images`` memory-mapped from the cache (made first where missing): a row is read from
    disk when it is used, so any image of a 50,000-image set is at hand without the set in memory."""
    cache_dir = cache_dir or default_cache_dir()
    mapped = []
    for start in range(0, len(images), chunk_images):
        part = images[start:start + chunk_images]
        path, shape = chunk_path(part, spec, cache_dir), (len(part), *spec.input_shape()[1:])
        chunk = _mapped(path, shape)
        if chunk is None:
            made = load_chunk(part, spec, cache_dir)  # computed and cached
            chunk = _mapped(path, shape)
            chunk = made if chunk is None else chunk
        mapped.append(chunk)
    return mapped
