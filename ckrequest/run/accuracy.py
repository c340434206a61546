"""Top-k predictions and their scoring against accepted labels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..datasets import LabelledImage
from .measurement import AccuracyResult, ImagePrediction


@dataclass(frozen=True)
class TopK:
    """The k best classes of each image, best first, with the model's output for each."""

    classes: np.ndarray  # (images, k) ImageNet class indices
    scores: np.ndarray  # (images, k) the model's outputs (logits or probabilities, as the model gives them)

    def __len__(self) -> int:
        return len(self.classes)

    def head(self, count: int) -> TopK:
        return TopK(self.classes[:count], self.scores[:count])

    @staticmethod
    def concat(parts: Sequence[TopK]) -> TopK:
        return TopK(np.concatenate([p.classes for p in parts]), np.concatenate([p.scores for p in parts]))


def top_k(logits: np.ndarray, k: int, label_offset: int) -> TopK:
    """The k largest outputs per row, best first; class = output index - label_offset."""
    scores = np.asarray(logits, dtype=np.float32).reshape(len(logits), -1)[:, label_offset:]
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(scores, part, axis=1).argsort(axis=1, kind="stable")[:, ::-1]
    classes = np.take_along_axis(part, order, axis=1)
    return TopK(classes, np.take_along_axis(scores, classes, axis=1))


def _file_name(image: LabelledImage, root: Path | None) -> str:
    if image.path is None:
        return ""
    path = Path(image.path)
    try:
        return str(path.relative_to(root)) if root is not None else path.name
    except ValueError:
        return path.name


def score(images: Sequence[LabelledImage], best: TopK, root: Path | None = None) -> AccuracyResult:
    """Top-1/top-5 against each image's accepted labels, and each image's prediction."""
    top1 = top5 = label_top1 = 0
    predictions = []
    for image, classes, scores in zip(images, best.classes, best.scores):
        accepted = set(image.labels)
        top1 += int(classes[0]) in accepted
        top5 += bool(accepted.intersection(int(c) for c in classes[:5]))
        label_top1 += int(classes[0]) == image.label
        predictions.append(ImagePrediction(_file_name(image, root), tuple(image.labels),
                                           tuple(int(c) for c in classes[:5]),
                                           tuple(round(float(s), 6) for s in scores[:5])))
    return AccuracyResult(len(predictions), top1, top5, label_top1, tuple(predictions))
