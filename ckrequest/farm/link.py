"""What one hop between two farm nodes costs: a fixed overhead per call and a bandwidth, measured.

Two actors stand in for two stages: one makes an array per call, the other takes it, streamed as
the farm streams images. Small arrays give the per-call overhead o; large ones add their bytes over
the link's bandwidth B (the model of farm/throughput.py: t_i + o + b_i / B).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from .cluster import Connection, FarmNode

SMALL_BYTES, LARGE_BYTES = 4_000, 2_000_000


class Relay:
    """One end of the link: makes arrays or takes them."""

    def make(self, nbytes: int) -> np.ndarray:
        return np.ones(nbytes, dtype=np.uint8)

    def take(self, array: np.ndarray) -> int:
        return int(array.nbytes)


@dataclass(frozen=True)
class Link:
    overhead_s: float  # per call, with a small array
    bandwidth_bps: float  # bytes per second beyond that

    def hop_s(self, nbytes: int) -> float:
        return self.overhead_s + nbytes / self.bandwidth_bps


def _period(connection: Connection, sender, receiver, nbytes: int, count: int) -> float:
    """Seconds per array once the stream runs (a few in flight, as the farm streams images)."""
    pending: deque = deque()
    for _ in range(4):  # warm-up
        connection.result(receiver.take.remote(sender.make.remote(nbytes)), "the link probe", 120)
    start = time.perf_counter()
    for _ in range(count):
        pending.append(receiver.take.remote(sender.make.remote(nbytes)))
        if len(pending) >= 4:
            connection.result(pending.popleft(), "the link probe", 120)
    connection.results(list(pending), "the link probe", 120)
    return (time.perf_counter() - start) / count


def measure_link(connection: Connection, sender: FarmNode, receiver: FarmNode, count: int = 40) -> Link:
    """The link from ``sender`` to ``receiver`` (each actor holds its node's measuring slot meanwhile)."""
    ends = [connection.actor_on(Relay, node) for node in (sender, receiver)]
    try:
        small = _period(connection, *ends, SMALL_BYTES, count)
        large = _period(connection, *ends, LARGE_BYTES, count)
    finally:
        for actor in ends:
            connection.ray.kill(actor)
    return Link(overhead_s=small, bandwidth_bps=(LARGE_BYTES - SMALL_BYTES) / max(large - small, 1e-9))
