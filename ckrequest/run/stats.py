"""Statistics of a latency sample (seconds): one definition used everywhere."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method) of an already sorted sample."""
    if not sorted_values:
        raise ValueError("percentile of an empty sample")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0..100")
    position = (len(sorted_values) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    weight = position - low
    a, b = sorted_values[low], sorted_values[high]
    # numpy's lerp: exact at the ends, so equal neighbours give that value and percentiles stay ordered
    value = a + (b - a) * weight if weight < 0.5 else b - (b - a) * (1 - weight)
    return min(max(value, a), b)


def queries_for_percentile(q: float) -> int:
    """Fewest samples for which the q-th percentile is not simply the maximum (p99 -> 100)."""
    return max(1, math.ceil(100.0 / (100.0 - q))) if q < 100 else 1


TAIL_PERCENTILES = (90, 99)  # reported as latency_p<q>_s, each only from queries_for_percentile(q) queries or more


def tail_percentiles(count: int) -> tuple[int, ...]:
    """The tail percentiles a sample of ``count`` queries reports (p90 from 10 queries, p99 from 100)."""
    return tuple(q for q in TAIL_PERCENTILES if count >= queries_for_percentile(q))


@dataclass(frozen=True)
class LatencySummary:
    count: int
    min_s: float
    max_s: float
    mean_s: float
    median_s: float
    p90_s: float
    p99_s: float
    stdev_s: float
    total_s: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def tails_s(self) -> dict[int, float]:
        """The tail percentiles this sample reports (tail_percentiles), in seconds."""
        return {q: getattr(self, f"p{q}_s") for q in tail_percentiles(self.count)}


def summarize(latencies_s: Sequence[float]) -> LatencySummary:
    if not latencies_s:
        raise ValueError("no latencies to summarize")
    ordered = sorted(latencies_s)
    count = len(ordered)
    total = math.fsum(ordered)
    mean = total / count
    variance = math.fsum((v - mean) ** 2 for v in ordered) / (count - 1) if count > 1 else 0.0
    return LatencySummary(
        count=count, min_s=ordered[0], max_s=ordered[-1], mean_s=mean,
        median_s=percentile(ordered, 50), p90_s=percentile(ordered, 90), p99_s=percentile(ordered, 99),
        stdev_s=math.sqrt(variance), total_s=total,
    )
