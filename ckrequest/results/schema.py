"""The unified numeric result keys (DESIGN.md §4), declared once: everything that ranks, prints or plots
results reads this list."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import RequestError


@dataclass(frozen=True)
class Metric:
    key: str  # the unified key, as in ##characteristics#run#<key> or ##features#<key>
    label: str
    unit: str  # the unit shown (after multiplying by `scale`)
    better: str  # "min" or "max": the direction the Pareto frontier prefers
    log: bool  # plotted on a log scale by default
    scale: float = 1.0  # stored value x scale = shown value


METRICS: tuple[Metric, ...] = (
    Metric("inference_latency", "latency (batch 1)", "ms", "min", True, 1e3),
    Metric("latency_p50_s", "latency p50", "ms", "min", True, 1e3),
    Metric("latency_p90_s", "latency p90", "ms", "min", True, 1e3),
    Metric("latency_p99_s", "latency p99", "ms", "min", True, 1e3),
    Metric("prediction_time_avg_s", "time per image", "ms", "min", True, 1e3),
    Metric("inference_throughput", "throughput", "images/s", "max", True),
    Metric("accuracy_top1", "top-1 accuracy", "%", "max", False, 100.0),
    Metric("accuracy_top5", "top-5 accuracy", "%", "max", False, 100.0),
    Metric("usage_cost", "cloud cost", "$ per 1000 images", "min", True, 1e3),
    Metric("usage_cost_per_hour", "cloud price", "$/hour", "min", True),
    Metric("platform_price", "platform price", "$", "min", True),
    Metric("platform_peak_power", "platform peak power", "W", "min", True),
    Metric("energy_per_image_j", "energy per image", "J", "min", True),
    Metric("percent_of_peak", "share of peak FLOP/s", "%", "max", True, 100.0),
    Metric("peak_memory_bytes", "peak memory", "MB", "min", True, 1e-6),
    Metric("model_size", "model size", "MB", "min", True, 1e-6),
    Metric("model_macs", "model multiply-adds", "M", "min", True, 1e-6),
    Metric("freq", "frequency", "MHz", "min", False),
    Metric("cpu_freq", "CPU frequency", "MHz", "min", False),
    Metric("gpu_freq", "GPU frequency", "MHz", "min", False),
    Metric("batch_size", "batch size", "images", "min", True),
    Metric("threads", "threads", "", "min", False),
    Metric("statistical_repetitions", "repetitions", "", "max", False),
    Metric("dataset_size", "data set size", "images", "max", True),
)

BY_KEY = {m.key: m for m in METRICS}
DEFAULT_X = "inference_latency"
DEFAULT_Y = "accuracy_top1"


@dataclass(frozen=True)
class Axis:
    """A metric chosen for a scoreboard axis, with the direction the frontier prefers."""

    metric: Metric
    better: str

    @property
    def key(self) -> str:
        return self.metric.key


def parse_axis(text: str, flag: str) -> Axis:
    """``inference_latency`` or ``inference_latency:max`` (overrides the metric's usual direction)."""
    key, _, better = text.strip().partition(":")
    if key not in BY_KEY:
        raise RequestError(f"--{flag}={text}", "is not a unified result key",
                           f"use one of: {', '.join(BY_KEY)}")
    metric = BY_KEY[key]
    better = better or metric.better
    if better not in ("min", "max"):
        raise RequestError(f"--{flag}={text}", f"direction {better!r} is neither min nor max",
                           f"write --{flag}={key}:min or --{flag}={key}:max")
    return Axis(metric, better)


def shown(metric: Metric, value: float | None) -> str:
    """A value in the metric's display unit, 4 significant digits; '-' when missing."""
    if value is None:
        return "-"
    return f"{value * metric.scale:.4g}"
