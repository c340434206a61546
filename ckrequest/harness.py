"""The benchmark harness a program's run script calls: load, prepare, measure, report.

Timing covers the framework's inference call only: images are decoded and preprocessed before
(and cached on disk), warm-up queries are not counted, and each timed query is bracketed by
``time.perf_counter_ns`` around ``backend.run`` alone.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from . import SCENARIO_MODULE_UID, atomic
from .backends import backend_class
from .backends.base import Backend, BackendDescription
from .config import RunConfig, config_from_env
from .datasets import Dataset, LabelledImage, load_dataset
from .errors import RequestError
from .image_cache import iter_chunks
from .platform_info import PlatformInfo, describe_host
from .records import ModelInfo
from .stats import LatencySummary, summarize

TIMER_FILE = "tmp-ck-timer.json"  # CK's fine-grain timer file: keys become characteristics
REQUEST_FILE = "tmp-ck-request.json"  # our features and meta, read by the CK post-process hook
PERFORMANCE_POOL_IMAGES = 256  # images kept in memory for performance queries


@dataclass(frozen=True)
class RunInputs:
    """The dependencies CK resolved for this run, as paths."""

    model_info: Path
    dataset_dir: Path
    val_txt: Path | None
    synsets: Path | None
    dataset_name: str


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
class AccuracyResult:
    images: int
    top1_correct: int
    top5_correct: int
    top1_label_correct: int  # top-1 equal to the image's own label (no alternative labels)

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
    model_size_bytes: int
    dataset: Dataset
    backend: BackendDescription
    platform: PlatformInfo
    measurement: Measurement | None
    accuracy: AccuracyResult | None
    prediction_time_avg_s: float
    peak_memory_bytes: int
    setup_seconds: Mapping[str, float]


def _env_path(env: Mapping[str, str], name: str, what: str, fix: str) -> Path:
    value = env.get(name, "").strip()
    if not value:
        raise RequestError(f"{what} not given", f"{name} is not set", fix)
    return Path(value)


def inputs_from_env(env: Mapping[str, str] | None = None) -> RunInputs:
    env = os.environ if env is None else env
    model_fix = ("run through ck benchmark program:request-<framework>-classification, "
                 "which resolves the model dependency")
    data_fix = ("run through ck benchmark, which resolves the dataset dependency "
                "(ck install package:dataset-sample-photos)")
    optional = {name: Path(env[name]) for name in ("CK_ENV_DATASET_VAL_TXT", "CK_ENV_DATASET_SYNSETS")
                if env.get(name, "").strip()}
    dataset_dir = _env_path(env, "CK_ENV_DATASET", "data set", data_fix)
    return RunInputs(
        model_info=_env_path(env, "CK_ENV_MODEL_INFO", "model", model_fix),
        dataset_dir=dataset_dir,
        val_txt=optional.get("CK_ENV_DATASET_VAL_TXT"),
        synsets=optional.get("CK_ENV_DATASET_SYNSETS"),
        dataset_name=env.get("CK_ENV_DATASET_NAME", "") or dataset_dir.name,
    )


def model_size_bytes(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def query_batches(pool: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Consecutive batches over the pool, wrapping around, until every image is in one."""
    count = len(pool)
    batches = []
    for start in range(0, max(count, 1), batch_size):
        indices = (start + np.arange(batch_size)) % count
        batches.append(pool[indices])
    return batches


def measure_queries(backend: Backend, prepared: Sequence[Any],
                    config: RunConfig) -> tuple[Measurement, list[np.ndarray]]:
    """Warm up, then time queries until both min_queries and min_duration_s are reached.

    Returns the measurement and the outputs of the first pass over ``prepared`` (for accuracy).
    """
    for k in range(config.warmup):
        backend.run(prepared[k % len(prepared)])
    run = backend.run
    clock = time.perf_counter_ns
    first_pass: list[np.ndarray] = []
    latencies_ns: list[int] = []
    count = len(prepared)
    start = clock()
    deadline = start + int(config.min_duration_s * 1e9)
    k = 0
    while k < config.min_queries or clock() < deadline:
        query = prepared[k % count]
        t0 = clock()
        output = run(query)
        t1 = clock()
        latencies_ns.append(t1 - t0)
        if k < count:
            first_pass.append(output)
        k += 1
    wall = (clock() - start) / 1e9
    samples = tuple(v / 1e9 for v in latencies_ns)
    return Measurement(summarize(samples), config.batch_size, config.warmup, wall, samples), first_pass


def top_k(logits: np.ndarray, k: int, label_offset: int) -> np.ndarray:
    """Indices (ImageNet classes) of the k largest logits per row, best first."""
    scores = np.asarray(logits, dtype=np.float32).reshape(len(logits), -1)[:, label_offset:]
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(scores, part, axis=1).argsort(axis=1)[:, ::-1]
    return np.take_along_axis(part, order, axis=1)


def score(images: Sequence[LabelledImage], predictions: np.ndarray) -> AccuracyResult:
    top1 = top5 = label_top1 = 0
    for image, best in zip(images, predictions):
        accepted = set(image.labels)
        top1 += int(best[0]) in accepted
        top5 += bool(accepted.intersection(int(c) for c in best[:5]))
        label_top1 += int(best[0]) == image.label
    return AccuracyResult(len(images), top1, top5, label_top1)


def _peak_memory_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def run_performance(backend: Backend, dataset: Dataset, info: ModelInfo,
                    config: RunConfig) -> tuple[Measurement, AccuracyResult | None, float]:
    pool_images = dataset.images[:PERFORMANCE_POOL_IMAGES]
    _, pool = next(iter_chunks(pool_images, info.preprocessing, chunk_images=PERFORMANCE_POOL_IMAGES))
    prepared = [backend.prepare(batch) for batch in query_batches(pool, config.batch_size)]
    measurement, first_pass = measure_queries(backend, prepared, config)
    accuracy = None
    if not info.is_synthetic and first_pass:
        predictions = top_k(np.concatenate(first_pass)[:len(pool_images)], 5, info.label_offset)
        accuracy = score(pool_images[:len(predictions)], predictions)
    per_image = measurement.latency.total_s / (measurement.latency.count * config.batch_size)
    return measurement, accuracy, per_image


def run_accuracy(backend: Backend, dataset: Dataset, info: ModelInfo,
                 config: RunConfig) -> tuple[AccuracyResult | None, float]:
    """Each selected image exactly once, in batches of batch_size (the last one may be smaller)."""
    predictions, seconds = [], 0.0
    for images, chunk in iter_chunks(dataset.images, info.preprocessing):
        for start in range(0, len(images), config.batch_size):
            query = backend.prepare(chunk[start:start + config.batch_size])
            t0 = time.perf_counter_ns()
            output = backend.run(query)
            seconds += (time.perf_counter_ns() - t0) / 1e9
            predictions.append(top_k(output, 5, info.label_offset))
    per_image = seconds / len(dataset.images)
    if info.is_synthetic:
        return None, per_image
    return score(dataset.images, np.concatenate(predictions)), per_image


def run_benchmark(backend_name: str, config: RunConfig, inputs: RunInputs) -> BenchmarkResult:
    t0 = time.perf_counter()
    info = ModelInfo.load(inputs.model_info)
    model_path = info.model_path(inputs.model_info)
    if not model_path.exists():
        raise RequestError(f"model file not found: {model_path}", f"{inputs.model_info} names it",
                           "reinstall the model package: ck install package --tags=model --quiet")
    dataset = load_dataset(inputs.dataset_dir, inputs.val_txt, inputs.synsets, inputs.dataset_name)
    dataset = dataset.select(config.max_images)
    t1 = time.perf_counter()
    for _ in iter_chunks(dataset.images[:PERFORMANCE_POOL_IMAGES] if config.mode == "performance"
                         else dataset.images, info.preprocessing):
        pass  # preprocess (or load from cache) before the model is even loaded
    t2 = time.perf_counter()
    backend = backend_class(backend_name)(model_path, info, config.threads)
    t3 = time.perf_counter()
    measurement = None
    if config.mode == "performance":
        measurement, accuracy, per_image = run_performance(backend, dataset, info, config)
    else:
        accuracy, per_image = run_accuracy(backend, dataset, info, config)
    return BenchmarkResult(
        config=config, model=info, model_size_bytes=model_size_bytes(model_path), dataset=dataset,
        backend=backend.describe(), platform=describe_host(), measurement=measurement, accuracy=accuracy,
        prediction_time_avg_s=per_image, peak_memory_bytes=_peak_memory_bytes(),
        setup_seconds={"dataset_load_s": t1 - t0, "preprocess_s": t2 - t1, "model_load_s": t3 - t2},
    )


def characteristics(result: BenchmarkResult) -> dict[str, Any]:
    """The unified characteristics keys (DESIGN.md §4): CK records them as ##characteristics#run#<key>."""
    out: dict[str, Any] = {
        "prediction_time_avg_s": result.prediction_time_avg_s,
        "peak_memory_bytes": result.peak_memory_bytes,
        "dataset_images": len(result.dataset.images),
        **{key: round(value, 6) for key, value in result.setup_seconds.items()},
    }
    m = result.measurement
    if m is not None:
        lat = m.latency
        out.update({
            "inference_throughput": m.throughput_ips,
            "latency_min_s": lat.min_s, "latency_mean_s": lat.mean_s, "latency_max_s": lat.max_s,
            "latency_p50_s": lat.median_s, "latency_stdev_s": lat.stdev_s,
            "query_count": lat.count, "measured_duration_s": m.wall_duration_s,
            "warmup_queries": m.warmup_queries, "execution_time": m.wall_duration_s,
        })
        if lat.count >= 10:
            out["latency_p90_s"] = lat.p90_s
        if lat.count >= 100:
            out["latency_p99_s"] = lat.p99_s
        if m.batch_size == 1:
            out["inference_latency"] = lat.median_s  # seconds per batch-1 query
    a = result.accuracy
    if a is not None:
        out.update({
            "accuracy_top1": a.top1, "accuracy_top5": a.top5, "accuracy_images": a.images,
            "accuracy_top1_correct": a.top1_correct, "accuracy_top5_correct": a.top5_correct,
            "accuracy_top1_label_correct": a.top1_label_correct,
        })
    return out


def features_and_meta(result: BenchmarkResult) -> dict[str, Any]:
    """Features (what was measured, under which settings) and meta (names), DESIGN.md §4."""
    info = result.model
    features = {
        "model_size": result.model_size_bytes,
        "batch_size": result.config.batch_size,
        "threads": result.config.threads,
        "weights": info.weights,
        "measuring_latency": result.config.mode == "performance" and result.config.batch_size == 1,
        "mode": result.config.mode,
        "dataset_size": len(result.dataset.images),
        "model_parameters": info.parameters,
        "model_sha256": info.sha256,
    }
    meta = {
        "model_precision": info.precision,
        "model_design_name": info.design_name,
        "model_arch": info.arch,
        "model_format": info.format,
        "library_name": result.backend.library_name,
        "library_device": result.backend.device,
        "cpu_name": result.platform.cpu_name,
        "plat_name": result.platform.plat_name,
        "os_name": result.platform.os_name,
        "dataset_species": result.dataset.name,
        "scenario_module_uoa": SCENARIO_MODULE_UID,
    }
    return {"features": features, "meta": meta}


def summary_lines(result: BenchmarkResult) -> list[str]:
    info = result.model
    lines = [f"model      {info.design_name} [{info.arch}, {info.format}, {info.precision}, {info.weights} weights]",
             f"framework  {result.backend.library_name} ({result.backend.device}), "
             f"threads={result.config.threads or 'default'}",
             f"data set   {result.dataset.name}: {len(result.dataset.images)} images"]
    m = result.measurement
    if m is not None:
        lat = m.latency
        lines.append(f"latency    batch {m.batch_size}: p50 {lat.median_s * 1e3:.3f} ms, p90 {lat.p90_s * 1e3:.3f} ms, "
                     f"min {lat.min_s * 1e3:.3f} ms over {lat.count} queries ({m.wall_duration_s:.2f} s, "
                     f"{m.warmup_queries} warm-up)")
        lines.append(f"throughput {m.throughput_ips:.1f} images/s")
    if result.accuracy is not None:
        a = result.accuracy
        lines.append(f"accuracy   top-1 {a.top1:.1%} ({a.top1_correct}/{a.images}), "
                     f"top-5 {a.top5:.1%} ({a.top5_correct}/{a.images})")
    elif info.is_synthetic:
        lines.append("accuracy   not reported: synthetic weights")
    return lines


def write_outputs(result: BenchmarkResult, folder: Path) -> None:
    atomic.write_json(folder / REQUEST_FILE, features_and_meta(result))
    atomic.write_json(folder / TIMER_FILE, characteristics(result))  # last: CK reads it as success


def main(argv: Sequence[str] | None = None) -> int:
    """``python run.py <backend> [performance|accuracy]`` from a program's tmp folder."""
    args = list(sys.argv[1:] if argv is None else argv)
    folder = Path.cwd()
    for stale in (TIMER_FILE, REQUEST_FILE):
        (folder / stale).unlink(missing_ok=True)
    try:
        if not args:
            raise RequestError("harness", "no framework backend given", "call main(['onnxruntime', 'performance'])")
        config = config_from_env(args[1] if len(args) > 1 else "performance")
        result = run_benchmark(args[0], config, inputs_from_env())
        write_outputs(result, folder)
    except RequestError as err:
        print(f"ckrequest: error: {err.line()}", file=sys.stderr)
        return 2
    for line in summary_lines(result):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
