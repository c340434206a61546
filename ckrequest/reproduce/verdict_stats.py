"""The noise-aware test behind `ck validate`: is a reproduced metric the same as the recorded one?

The test takes a 95 % confidence interval of the ratio of medians (reproduced / original) from
scipy's bootstrap (``scipy.stats.bootstrap``, percentile method, seeded): over every timed query
of every repetition when both sides kept their per-query latencies (ckp-*.latencies-*.json.gz),
else over the per-repetition values (each already a statistic over hundreds of queries). It reads
the interval against two bands around 1:

- REPRODUCED when the whole interval lies within the tolerance (5 % by default);
- NOT REPRODUCED when the whole interval lies beyond the noise margin: x2 (how far identical runs
  of two sessions were seen to move on a shared 2-vCPU VM), or twice the run-to-run spread of the
  repetitions on either side, or twice the interference seen inside the runs, or the CPU load of
  other processes during the reproduction, or what the two sides' differences allow (another CPU:
  x4), whichever is largest;
- INCONCLUSIVE otherwise: the data cannot tell a change from noise.

The query-level interval says how precisely each side's median is known; the margin says how far
identical runs move apart, which queries of one run cannot tell. So a change is only called when
it stands out of everything that moved while nothing changed. A Mann-Whitney U test of the two
query samples (scipy.stats.mannwhitneyu) is recorded beside the verdict, as asv reports it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..errors import RequestError

REPRODUCED = "REPRODUCED"
NOT_REPRODUCED = "NOT REPRODUCED"
INCONCLUSIVE = "INCONCLUSIVE"
MIN_REPETITIONS = 3
BOOTSTRAP_RESAMPLES = 4000
CONFIDENCE = 0.95
DEFAULT_TOLERANCE = 0.05
NOISE_FACTOR = 2.0  # a change must exceed twice what moved between identical runs
# Identical runs recorded in two sessions (the original, the replay) moved apart by up to 1.84x on a
# 2-vCPU cloud VM with nothing else running (both sides tight within themselves: the host's state, not
# the stack): below x2 a difference between sessions is never called a change.
SESSION_MARGIN = 1.0


@dataclass(frozen=True)
class RatioInterval:
    ratio: float  # median(reproduced) / median(original)
    low: float
    high: float
    samples: str = "repetitions"  # what was resampled: "repetitions" or "queries"
    mann_whitney_p: float | None = None  # two-sided, on the query samples


@dataclass(frozen=True)
class MetricVerdict:
    verdict: str
    reason: str
    interval: RatioInterval | None = None
    margin: float = 0.0  # beyond 1 +/- margin (in ratio) a difference is called a change


MAX_QUERIES = 4000  # per side: beyond this the interval is no tighter, only slower to resample


def _subsample(values: np.ndarray, seed: int) -> np.ndarray:
    if values.size <= MAX_QUERIES:
        return values
    return np.random.default_rng(seed).choice(values, MAX_QUERIES, replace=False)


def bootstrap_ratio_of_medians(original: Sequence[float], reproduced: Sequence[float],
                               resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0,
                               samples: str = "repetitions") -> RatioInterval:
    """scipy's percentile bootstrap of median(reproduced)/median(original), each side resampled on its own."""
    from scipy import stats

    a = _subsample(np.asarray(original, dtype=float), seed)
    b = _subsample(np.asarray(reproduced, dtype=float), seed + 1)
    if a.size == 0 or b.size == 0 or np.any(a <= 0) or np.any(b <= 0):
        raise ValueError("a ratio needs positive values on both sides")
    ratio = float(np.median(b) / np.median(a))
    if np.ptp(a) == 0 and np.ptp(b) == 0:  # no spread at all: the interval is the ratio itself
        return RatioInterval(ratio, ratio, ratio, samples)

    def ratio_of_medians(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.median(y, axis=axis) / np.median(x, axis=axis)

    result = stats.bootstrap((a, b), ratio_of_medians, n_resamples=resamples, confidence_level=CONFIDENCE,
                             method="percentile", vectorized=True, batch=200, random_state=seed)
    low, high = result.confidence_interval
    p_value = float(stats.mannwhitneyu(a, b).pvalue) if samples == "queries" else None
    return RatioInterval(ratio, float(low), float(high), samples, p_value)


def relative_spread(values: Sequence[float]) -> float:
    """(max - min) / median of the repetitions: how far identical runs moved apart."""
    if len(values) < 2:
        return 0.0
    median = float(np.median(values))
    return (max(values) - min(values)) / median if median > 0 else math.inf


def noise_margin(original: Sequence[float], reproduced: Sequence[float], tolerance: float,
                 interference: float = 0.0, foreign_load_cores: float | None = None, floor: float = 0.0) -> float:
    return max(tolerance, floor, SESSION_MARGIN,
               NOISE_FACTOR * max(relative_spread(original), relative_spread(reproduced)),
               NOISE_FACTOR * interference,
               foreign_load_cores or 0.0)


def judge_ratio(original: Sequence[float], reproduced: Sequence[float], tolerance: float,
                interference: float = 0.0, foreign_load_cores: float | None = None,
                floor: float = 0.0, queries: tuple[Sequence[float], Sequence[float]] | None = None) -> MetricVerdict:
    """``original``/``reproduced``: one value per repetition; ``queries``: every query of each side, when
    kept; ``floor``: a margin the two sides' differences allow anyway (another CPU, another version)."""
    if len(original) < MIN_REPETITIONS or len(reproduced) < MIN_REPETITIONS:
        return MetricVerdict(INCONCLUSIVE, f"{MIN_REPETITIONS} repetitions per side are needed to tell noise "
                             f"from change (original {len(original)}, reproduced {len(reproduced)})")
    try:
        interval = (bootstrap_ratio_of_medians(*queries, samples="queries") if queries and all(queries)
                    else bootstrap_ratio_of_medians(original, reproduced))
    except ValueError as err:
        return MetricVerdict(INCONCLUSIVE, str(err))
    margin = noise_margin(original, reproduced, tolerance, interference, foreign_load_cores, floor)
    if interval.low >= 1 / (1 + tolerance) and interval.high <= 1 + tolerance:
        return MetricVerdict(REPRODUCED, f"95% CI within +/-{tolerance:.0%}", interval, margin)
    if interval.low > 1 + margin or interval.high < 1 / (1 + margin):
        return MetricVerdict(NOT_REPRODUCED, f"95% CI beyond the noise margin x{1 + margin:.2f}", interval, margin)
    return MetricVerdict(INCONCLUSIVE, f"95% CI not within +/-{tolerance:.0%} nor beyond the noise margin "
                         f"x{1 + margin:.2f}", interval, margin)


def judge_counts(original: Sequence[float], reproduced: Sequence[float]) -> MetricVerdict:
    """Exact counts (correct predictions on the same images with the same weights): equal or not."""
    if not original or not reproduced:
        return MetricVerdict(INCONCLUSIVE, "not measured on both sides")
    if len(set(original)) > 1 or len(set(reproduced)) > 1:
        return MetricVerdict(INCONCLUSIVE, "the counts differ between repetitions of one side")
    if original[0] == reproduced[0]:
        return MetricVerdict(REPRODUCED, "same count")
    return MetricVerdict(NOT_REPRODUCED, f"{int(original[0])} vs {int(reproduced[0])}")


def overall(verdicts: Sequence[str]) -> str:
    if not verdicts:
        return INCONCLUSIVE
    if NOT_REPRODUCED in verdicts:
        return NOT_REPRODUCED
    return REPRODUCED if all(v == REPRODUCED for v in verdicts) else INCONCLUSIVE


def tolerance_fraction(text: Any) -> float:
    """``--tolerance=5`` or ``--tolerance=5%``: percent, more than 0 and less than 100."""
    raw = str(text).strip().rstrip("%").strip()
    try:
        percent = float(raw)
    except ValueError:
        percent = float("nan")
    if not 0 < percent < 100:
        raise RequestError(f"--tolerance={text}", "is not a percentage between 0 and 100",
                           "give it in percent, e.g. --tolerance=5")
    return percent / 100
