"""Typed records of one benchmark run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
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


LOADGEN_CHECKS = ("min_duration", "min_queries", "early_stopping", "perf_constraints")  # what VALID needs


@dataclass(frozen=True)
class LoadGenResult:
    """What MLPerf LoadGen measured and decided in one run (its detail log, read by run/loadgen_log.py)."""

    scenario: str  # SingleStream | MultiStream | Server | Offline
    test_mode: str  # LoadGen's: PerformanceOnly | AccuracyOnly
    version: str  # of LoadGen
    log_dir: Path  # where LoadGen wrote its logs
    valid: bool | None = None  # None in AccuracyOnly mode: LoadGen judges performance runs only
    checks: Mapping[str, bool] = field(default_factory=dict)  # LOADGEN_CHECKS the scenario has -> met
    advice: str = ""  # LoadGen's own words about an INVALID run
    query_count: int = 0
    samples_per_query: int = 1
    samples_per_second: float | None = None  # LoadGen's headline rate, where it reports one
    images_per_second: float | None = None  # the rate of the framework's work (ours: inference_throughput)
    latency_s: Mapping[str, float] = field(default_factory=dict)  # min, mean, max, p50 ... p99.9; MultiStream per query
    early_stopping_s: Mapping[str, float] = field(default_factory=dict)  # p90 / p99 estimates
    overlatency_queries: int | None = None  # Server: queries over the latency bound
    target_qps: float = 0.0  # effective
    target_latency_s: float = 0.0  # effective (Server's bound)
    min_duration_s: float = 0.0  # effective
    min_query_count: int = 0  # effective
    duration_s: float | None = None  # LoadGen's timed window
    errors: tuple[str, ...] = ()  # LoadGen's error messages
    conf_sha256: str | None = None  # of the mlperf.conf and user.conf LoadGen read, if any

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(name for name in LOADGEN_CHECKS if self.checks.get(name) is False)

    @property
    def verdict(self) -> str:
        return "" if self.valid is None else "VALID" if self.valid else "INVALID"

    def reason(self) -> str:
        """Why an INVALID run is invalid: the checks LoadGen found unmet, then its advice."""
        unmet = "; ".join(f"{name.replace('_', ' ')} not met" for name in self.failed)
        return ": ".join(part for part in (unmet, self.advice) if part)


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
    loadgen: LoadGenResult | None = None  # a run driven by MLPerf LoadGen (CK_REQUEST_SCENARIO other than native)
