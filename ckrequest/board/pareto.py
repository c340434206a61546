"""Pareto frontier over N metrics, each minimised or maximised.

Rule for ties: a point is dominated only if another point is at least as good in every metric and
strictly better in at least one. So points equal in every metric are all on the frontier together,
and a point equal to a frontier point in one metric but worse in another is not.

One metric: the points with the best value. Two: a sort and one sweep, O(n log n). More: the
sort-filter skyline, each point checked against the frontier found so far (correct because in a
best-first lexicographic order every dominating point comes earlier, and domination is transitive).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

DIRECTIONS = ("min", "max")


def _oriented(rows: Sequence[Sequence[float]], directions: Sequence[str]) -> np.ndarray:
    """The values turned so that larger is better in every column."""
    bad = [d for d in directions if d not in DIRECTIONS]
    if bad:
        raise ValueError(f"direction {bad[0]!r} is neither 'min' nor 'max'")
    data = np.asarray(rows, dtype=float).reshape(len(rows), len(directions))
    if np.isnan(data).any():
        raise ValueError("values must not be NaN: leave points without a value out")
    signs = np.array([1.0 if d == "max" else -1.0 for d in directions])
    return data * signs


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[str]) -> bool:
    """True when a is at least as good as b in every metric and strictly better in one."""
    sa, sb = _oriented([a, b], directions)
    return bool((sa >= sb).all() and (sa > sb).any())


def _front_2d(data: np.ndarray) -> list[bool]:
    order = np.lexsort((-data[:, 1], -data[:, 0])).tolist()  # best x first; within one x, best y first
    xs, ys = data[:, 0].tolist(), data[:, 1].tolist()
    mask = [False] * len(xs)
    best_y_before = -np.inf  # best y among points with a strictly better x
    k = 0
    while k < len(order):
        x, top_y = xs[order[k]], ys[order[k]]
        end = k
        while end < len(order) and xs[order[end]] == x:
            if ys[order[end]] == top_y and top_y > best_y_before:
                mask[order[end]] = True
            end += 1
        best_y_before = max(best_y_before, top_y)
        k = end
    return mask


def _front_nd(data: np.ndarray) -> list[bool]:
    order = np.lexsort(tuple(-data[:, c] for c in reversed(range(data.shape[1])))).tolist()
    mask = [False] * len(data)
    front = np.empty_like(data)
    size = 0
    for index in order:
        row, found = data[index], front[:size]
        if not ((found >= row).all(axis=1) & (found > row).any(axis=1)).any():
            mask[index] = True
            front[size] = row
            size += 1
    return mask


def pareto_mask(rows: Sequence[Sequence[float]], directions: Sequence[str]) -> list[bool]:
    """For each row of metric values, whether it is on the Pareto frontier."""
    if not directions:
        raise ValueError("at least one metric is needed")
    if len(rows) == 0:
        return []
    data = _oriented(rows, directions)
    if data.shape[1] == 1:
        return (data[:, 0] == data[:, 0].max()).tolist()
    if data.shape[1] == 2:
        return _front_2d(data)
    return _front_nd(data)


def brute_force_mask(rows: Sequence[Sequence[float]], directions: Sequence[str]) -> list[bool]:
    """The definition itself, O(n^2): the oracle the fast paths are tested against."""
    return [not any(dominates(other, row, directions) for other in rows) for row in rows]
