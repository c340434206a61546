"""Compare a reproduction with the recorded original, metric by metric (`ck validate request.asplos18`).

What the two sides ran decides what can be judged:

- a different platform (CPU, cores) or a dependency at another version (library, Python, data
  set) means the reproduction was not a re-run of the same thing: performance within the margin
  such a difference allows (x4 for another platform, x2 for other versions) is INCONCLUSIVE, never
  REPRODUCED; beyond it, a change is still a change (NOT REPRODUCED): another CPU may widen the
  tolerance, never hide a 40x difference;
- a different stack chosen on purpose (model, precision, threads, batch size, the scenario: our
  harness or an MLPerf LoadGen scenario, and LoadGen's targets) is listed and judged: its numbers
  are expected to differ, and do;
- accuracy is compared by exact counts, and only on the same images with the same weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence

from ..results import schema
from ..results.entry import RecordedDependency, RecordedPoint
from .verdict_stats import INCONCLUSIVE, NOT_REPRODUCED, MetricVerdict, judge_counts, judge_ratio, overall

PLATFORM_IDENTITY = ("cpu_name", "plat_name", "cpu_cores", "cpu_threads")
# what a stack is: the model, the settings, and every knob of the backend's effective configuration
STACK_FEATURES = ("model_sha256", "batch_size", "threads", "mode", "weights",
                  # how the queries came: our harness or MLPerf LoadGen's scenario, at the targets asked
                  "scenario", "target_qps", "target_latency_ms", "loadgen_conf_sha256",
                  *(k.name for k in schema.of(schema.FEATURE) if k.name.startswith(("backend_", "tvm_", "armnn_"))))
STACK_META = ("model_design_name", "model_precision", "dataset_species")
WORKLOAD_DEPENDENCIES = ("model",)  # judged by the model's checksum, not by its package version
PLATFORM_MARGIN = 3.0  # another CPU: within x4 (either way) the same stack cannot be told from a change
ENVIRONMENT_MARGIN = 1.0  # another library/Python/data set version: within x2


@dataclass(frozen=True)
class Metric:
    name: str  # characteristic key
    kind: str  # median | mean | tail | count
    unit: str


@dataclass(frozen=True)
class MetricResult:
    metric: Metric
    original: tuple[float, ...]
    reproduced: tuple[float, ...]
    verdict: MetricVerdict


@dataclass(frozen=True)
class Sides:
    """What differs between the two sides, in words."""

    platform: tuple[str, ...] = ()
    environment: tuple[str, ...] = ()
    stack: tuple[str, ...] = ()
    resolved_differently: tuple[str, ...] = ()


@dataclass(frozen=True)
class Validation:
    original: str
    reproduced: str
    tolerance: float
    metrics: tuple[MetricResult, ...]
    sides: Sides
    platform_original: Mapping[str, Any]
    platform_reproduced: Mapping[str, Any]
    foreign_load_cores: float | None = None
    date: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def verdict(self) -> str:
        return overall([m.verdict.verdict for m in self.metrics])

    def as_meta(self) -> dict[str, Any]:
        """What the original entry's meta keeps of this validation."""
        return {
            "date": self.date, "verdict": self.verdict, "original": self.original, "reproduced": self.reproduced,
            "tolerance": self.tolerance,
            "metrics": {m.metric.name: _metric_meta(m) for m in self.metrics},
            "platform_original": dict(self.platform_original),
            "platform_reproduced": dict(self.platform_reproduced),
            "platform_differences": list(self.sides.platform),
            "environment_differences": list(self.sides.environment),
            "stack_differences": list(self.sides.stack),
            "dependencies_resolved_differently": list(self.sides.resolved_differently),
            "foreign_cpu_load_cores": self.foreign_load_cores,
        }


def _metric_meta(result: MetricResult) -> dict[str, Any]:
    interval = result.verdict.interval
    out: dict[str, Any] = {"verdict": result.verdict.verdict, "reason": result.verdict.reason,
                           "original": list(result.original), "reproduced": list(result.reproduced)}
    if interval is not None:
        out.update(ratio=interval.ratio, ci95=[interval.low, interval.high], noise_margin=result.verdict.margin,
                   resampled=interval.samples, mann_whitney_p=interval.mann_whitney_p)
    return out


def _differences(keys: Sequence[str], get_a: Callable[[str], Any], get_b: Callable[[str], Any]) -> list[str]:
    return [f"{key} {get_a(key)!r} vs {get_b(key)!r}" for key in keys if get_a(key) != get_b(key)]


def _library(point: RecordedPoint) -> tuple[str, str]:
    name, _, version = str(point.meta("library_name") or "").partition(" ")
    return name, version


def compare_sides(original: RecordedPoint, reproduced: RecordedPoint,
                  deps_original: Mapping[str, RecordedDependency],
                  deps_reproduced: Mapping[str, RecordedDependency]) -> Sides:
    platform = _differences(PLATFORM_IDENTITY, original.meta, reproduced.meta)
    stack = _differences(STACK_FEATURES, original.stack_feature, reproduced.stack_feature)
    stack += _differences(STACK_META, original.meta, reproduced.meta)
    environment = _differences(("loadgen_version",), original.meta, reproduced.meta)
    (lib_a, ver_a), (lib_b, ver_b) = _library(original), _library(reproduced)
    if lib_a != lib_b:
        stack.append(f"library {lib_a or '?'} vs {lib_b or '?'}")
    elif ver_a != ver_b:
        environment.append(f"{lib_a} version {ver_a or '?'} vs {ver_b or '?'}")
    resolved = []
    for key in sorted(set(deps_original) | set(deps_reproduced)):
        a, b = deps_original.get(key), deps_reproduced.get(key)
        if a is None or b is None:
            resolved.append(f"{key}: a dependency of the {'reproduction' if a is None else 'original'} only")
            continue
        if a.env_uid != b.env_uid:
            resolved.append(f"{key}: original env {a.env_uid or '?'} (version {a.version or '?'}), "
                            f"reproduction env {b.env_uid or '?'} (version {b.version or '?'})")
        if a.version != b.version and key not in WORKLOAD_DEPENDENCIES:
            environment.append(f"dependency {key} version {a.version or '?'} vs {b.version or '?'}")
    return Sides(tuple(platform), tuple(dict.fromkeys(environment)), tuple(stack), tuple(resolved))


def _metric(name: str, kind: str) -> Metric:
    return Metric(name, kind, schema.BY_NAME[name].unit)


def performance_metrics(original: RecordedPoint, reproduced: RecordedPoint) -> list[Metric]:
    """The schema's judged performance keys; batch-1 latency stands in for the per-query median when both
    sides have it (beyond batch 1, the median query's latency)."""
    metrics = []
    for key in schema.KEYS:
        if key.judged == "ratio" and key.name == "inference_latency":
            candidates = ("inference_latency", "latency_p50_s")
            both = [m for m in candidates if original.values(m) and reproduced.values(m)]
            either = [m for m in candidates if original.values(m) or reproduced.values(m)]
            metrics.append(_metric((both or either or ["inference_latency"])[0], "median"))
        elif key.judged == "ratio":
            metrics.append(_metric(key.name, "mean"))
        elif key.judged == "tail":
            metrics.append(_metric(key.name, "tail"))
    return metrics


ACCURACY_METRICS = tuple(_metric(k.name, "count") for k in schema.KEYS if k.judged == "count")


def interference(point: RecordedPoint, kind: str) -> float:
    """How much the slow queries pulled a run's mean (or its p90) away from its median."""
    median = point.values("latency_p50_s")
    other = point.values("latency_mean_s" if kind == "mean" else "latency_p90_s")
    ratios = [o / m - 1 for o, m in zip(other, median) if m > 0]
    return max(ratios, default=0.0) if kind in ("mean", "tail") else 0.0


def judge_performance(metric: Metric, original: RecordedPoint, reproduced: RecordedPoint, sides: Sides,
                      tolerance: float, foreign_load_cores: float | None,
                      queries: tuple[Sequence[float], Sequence[float]] | None = None) -> MetricVerdict:
    noise = max(interference(original, metric.kind), interference(reproduced, metric.kind))
    differs = []
    floor = 0.0
    if sides.platform:
        differs.append("platform differs: " + "; ".join(sides.platform))
        floor = PLATFORM_MARGIN
    if sides.environment:
        differs.append("dependency mismatch: " + "; ".join(sides.environment))
        floor = max(floor, ENVIRONMENT_MARGIN)
    verdict = judge_ratio(original.values(metric.name), reproduced.values(metric.name), tolerance, noise,
                          foreign_load_cores, floor, queries if metric.kind == "median" else None)
    if not differs or verdict.verdict == NOT_REPRODUCED:
        return verdict
    return MetricVerdict(INCONCLUSIVE, f"{'; '.join(differs)} (within the x{1 + floor:g} that allows)",
                         verdict.interval, verdict.margin)


def judge_accuracy(metric: Metric, original: RecordedPoint, reproduced: RecordedPoint, sides: Sides) -> MetricVerdict:
    if original.feature("model_sha256") != reproduced.feature("model_sha256"):
        return MetricVerdict(INCONCLUSIVE, "not the same weights (model_sha256 differs)")
    images_a, images_b = original.values("accuracy_images"), reproduced.values("accuracy_images")
    same_images = (set(images_a) == set(images_b) and
                   original.meta("dataset_species") == reproduced.meta("dataset_species"))
    if not same_images:
        return MetricVerdict(INCONCLUSIVE, "not the same images (data set or image count differs)")
    verdict = judge_counts(original.values(metric.name), reproduced.values(metric.name))
    if verdict.verdict == NOT_REPRODUCED and (sides.platform or sides.environment):
        reasons = "; ".join(sides.platform + sides.environment)
        return MetricVerdict(INCONCLUSIVE, f"{verdict.reason}, but numerics may differ: {reasons}")
    return verdict


def validate_points(original: RecordedPoint, reproduced: RecordedPoint,
                    deps_original: Mapping[str, RecordedDependency], deps_reproduced: Mapping[str, RecordedDependency],
                    tolerance: float, foreign_load_cores: float | None = None,
                    queries: tuple[Sequence[Sequence[float]], Sequence[Sequence[float]]] = ((), ())) -> Validation:
    """``queries``: each side's per-query latencies, per repetition, where the entries kept them."""
    sides = compare_sides(original, reproduced, deps_original, deps_reproduced)
    pooled = tuple([v for rep in side for v in rep] for side in queries)
    both_queries = (pooled[0], pooled[1]) if pooled[0] and pooled[1] else None
    results = []
    for metric in performance_metrics(original, reproduced):
        a, b = original.values(metric.name), reproduced.values(metric.name)
        if not a and not b:
            continue
        verdict = (judge_performance(metric, original, reproduced, sides, tolerance, foreign_load_cores, both_queries)
                   if a and b else MetricVerdict(INCONCLUSIVE, "measured on one side only"))
        results.append(MetricResult(metric, a, b, verdict))
    for metric in ACCURACY_METRICS:
        a, b = original.values(metric.name), reproduced.values(metric.name)
        if a or b:
            results.append(MetricResult(metric, a, b, judge_accuracy(metric, original, reproduced, sides)))
    return Validation(original=original.entry, reproduced=reproduced.entry, tolerance=tolerance,
                      metrics=tuple(results), sides=sides, platform_original=original.platform(),
                      platform_reproduced=reproduced.platform(), foreign_load_cores=foreign_load_cores)
