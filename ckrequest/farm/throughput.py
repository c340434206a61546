"""A model of a farm's throughput: the slowest stage sets the pace of a pipeline.

Each image passes every stage; stage i needs its compute time t_i, plus the time to receive its
input (b_i bytes over a link of B bytes/s) and a fixed cost o per call (Ray's scheduling and
(de)serialisation); o and B are measured between two nodes (farm/link.py). A Ray actor fetches a
call's input before it runs it, so a stage's transfer adds to its own time. Stages work on different
images at once, so

    throughput(N) = 1 / max_i (t_i + o + b_i / B)

The last stage's b_i includes the outputs it sends back. docs/FARM.md checks this against local
measurements (`python -m ckrequest.tools.bench farm`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class StageCost:
    compute_s: float  # per image
    bytes_moved: int  # per image: what the stage receives (and, for the last one, sends back)


def stage_period_s(stage: StageCost, overhead_s: float, bandwidth_bps: float) -> float:
    """Seconds per image the stage needs: compute, its transfer, one call's overhead."""
    transfer = stage.bytes_moved / bandwidth_bps if math.isfinite(bandwidth_bps) else 0.0
    return stage.compute_s + overhead_s + transfer


def pipeline_throughput(stages: Sequence[StageCost], overhead_s: float, bandwidth_bps: float = math.inf) -> float:
    """Images/s of a pipeline of ``stages``, each on a node of its own."""
    return 1.0 / max(stage_period_s(s, overhead_s, bandwidth_bps) for s in stages)


def implied_device_rate(stage_macs: Sequence[int], stage_bytes: Sequence[int], throughput: float,
                        overhead_s: float, bandwidth_bps: float) -> float:
    """MACs/s each device must sustain for the pipeline to reach ``throughput``; inf when the transfers alone
    at ``bandwidth_bps`` already take longer than an image may."""
    period = 1.0 / throughput
    needed = 0.0
    for macs, moved in zip(stage_macs, stage_bytes):
        spare = period - overhead_s - moved / bandwidth_bps
        if spare <= 0:
            return math.inf
        needed = max(needed, macs / spare)
    return needed


def needed_bandwidth(stage_bytes: Sequence[int], throughput: float, overhead_s: float) -> float:
    """Bytes/s a link must carry for ``throughput`` even with infinitely fast devices."""
    spare = 1.0 / throughput - overhead_s
    return math.inf if spare <= 0 else max(stage_bytes) / spare
