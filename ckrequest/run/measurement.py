"""Typed records of one benchmark run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from ..backends.base import BackendDescription
from ..datasets import Dataset
from ..models.model_info import ModelInfo
from .config import RunConfig
from .host import PlatformInfo
from .stats import LatencySummary


@dataclass(frozen=True)
class Measurement:
    latency: LatencySummary  # per query (one batch)
    batch_size: int
    warmup_queries: int
    wall_duration_s: float  # the whole timed loop, loop overhead included
    samples_s: tuple[float, ...] = ()  # every timed query, in order

    @property
    def throughput_ips(self) -> float:
        return self.batch_size * self.latency.count / self.latency.total_s


@dataclass(frozen=True)
class ImagePrediction:
    """One image of an accuracy run, as MLPerf's accuracy log keeps it (plus the accepted labels)."""

    file: str  # relative to the data set's folder
    expected: tuple[int, ...]  # accepted classes, the image's own label first
    top5: tuple[int, ...]  # best first
    scores: tuple[float, ...]  # the model's output for each of top5

    def as_json(self) -> dict:
        return {"file": self.file, "expected": list(self.expected), "top5": list(self.top5),
                "scores": list(self.scores)}


@dataclass(frozen=True)
class AccuracyResult:
    images: int
    top1_correct: int
    top5_correct: int
    top1_label_correct: int  # top-1 equal to the image's own label (no alternative labels)
    predictions: tuple[ImagePrediction, ...] = ()

    @property
    def top1(self) -> float:
        return self.top1_correct / self.images

    @property
    def top5(self) -> float:
        return self.top5_correct / self.images


@dataclass(frozen=True)
class BenchmarkResult:
    config: RunConfig
    model: ModelInfo
    model_sha256: str  # of the files actually loaded
    model_size_bytes: int
    dataset: Dataset
    backend: BackendDescription
    platform: PlatformInfo
    measurement: Measurement | None
    accuracy: AccuracyResult | None
    prediction_time_avg_s: float
    peak_memory_bytes: int
    setup_seconds: Mapping[str, float]
