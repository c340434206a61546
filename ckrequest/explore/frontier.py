"""The frontier of an exploration and its hypervolume (moocore's exact hypervolume, any dimension).

Objectives come as minimised vectors (a maximised objective negated). The hypervolume is taken on
objectives normalised to [0, 1] between the best and the worst value measured (``bounds``), against
the reference point 1.1 in every objective, and given as a fraction of the largest possible
(1.1^d): 1.0 when one stack is best in every objective. Comparable between two searches of one space
when they are given the same bounds (the search-quality benchmark gives the whole grid's).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..board.pareto import pareto_mask

REFERENCE = 1.1


def pareto_flags(vectors: Sequence[Sequence[float]]) -> list[bool]:
    if not vectors:
        return []
    return pareto_mask([list(v) for v in vectors], ["min"] * len(vectors[0]))


def bounds(vectors: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
    array = np.asarray(vectors, dtype=float)
    return array.min(axis=0), array.max(axis=0)


def hypervolume(front: Sequence[Sequence[float]], measured: Sequence[Sequence[float]],
                limits: tuple[np.ndarray, np.ndarray] | None = None) -> float:
    """The normalised hypervolume of ``front``, 0..1 (0 for an empty front)."""
    import moocore

    if not front:
        return 0.0
    low, high = limits if limits is not None else bounds(measured)
    span = np.where(high > low, high - low, 1.0)
    normalised = (np.asarray(front, dtype=float) - low) / span
    reference = np.full(normalised.shape[1], REFERENCE)
    return float(moocore.hypervolume(normalised, ref=reference)) / float(np.prod(reference))
