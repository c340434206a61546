"""Top-k predictions and their scoring against accepted labels."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .datasets import LabelledImage
from .results import AccuracyResult


def top_k(logits: np.ndarray, k: int, label_offset: int) -> np.ndarray:
    """Indices (ImageNet classes) of the k largest logits per row, best first."""
    scores = np.asarray(logits, dtype=np.float32).reshape(len(logits), -1)[:, label_offset:]
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(scores, part, axis=1).argsort(axis=1)[:, ::-1]
    return np.take_along_axis(part, order, axis=1)


def score(images: Sequence[LabelledImage], predictions: np.ndarray) -> AccuracyResult:
    top1 = top5 = label_top1 = 0
    for image, best in zip(images, predictions):
        accepted = set(image.labels)
        top1 += int(best[0]) in accepted
        top5 += bool(accepted.intersection(int(c) for c in best[:5]))
        label_top1 += int(best[0]) == image.label
    return AccuracyResult(len(images), top1, top5, label_top1)
