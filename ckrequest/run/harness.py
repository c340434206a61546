"""The benchmark harness a program's run script calls: load, prepare, measure, report.

Timing covers the framework's inference call only: images are decoded and preprocessed before
(and cached on disk), warm-up queries are not counted, and each timed query is bracketed by
``time.perf_counter_ns`` around ``backend.run`` alone.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .. import places
from ..backends import backend_class
from ..backends.base import Backend
from ..datasets import Dataset, load_dataset
from ..datasets.cache import CHUNK_IMAGES, iter_chunks
from ..digest import cached_tree_sha256
from ..errors import RequestError
from ..models.model_info import ModelInfo
from ..progress import bar
from .accuracy import TopK, score, top_k
from .config import RunConfig
from .host import describe_host
from .measurement import AccuracyResult, BenchmarkResult, Measurement
from .stats import summarize

PERFORMANCE_POOL_IMAGES = 256  # images kept in memory for performance queries


@dataclass(frozen=True)
class RunInputs:
    """The dependencies CK resolved for this run, as paths."""

    model_info: Path
    dataset_dir: Path
    val_txt: Path | None
    synsets: Path | None
    dataset_name: str


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
        logits = np.concatenate([backend.logits(output) for output in first_pass])
        predictions = top_k(logits[:len(pool_images)], 5, info.label_offset)
        accuracy = score(pool_images[:len(predictions)], predictions, dataset.root)
    per_image = measurement.latency.total_s / (measurement.latency.count * config.batch_size)
    return measurement, accuracy, per_image


def run_accuracy(backend: Backend, dataset: Dataset, info: ModelInfo,
                 config: RunConfig) -> tuple[AccuracyResult | None, float]:
    """Each selected image exactly once, in batches of batch_size (the last one may be smaller)."""
    predictions, seconds = [], 0.0
    chunks = iter_chunks(dataset.images, info.preprocessing)
    count = len(dataset.images)
    for images, chunk in bar(chunks, -(-count // CHUNK_IMAGES), f"accuracy over {count} images",
                             unit=f"x{CHUNK_IMAGES} images", show=count > 2 * CHUNK_IMAGES):
        for start in range(0, len(images), config.batch_size):
            query = backend.prepare(chunk[start:start + config.batch_size])
            t0 = time.perf_counter_ns()
            output = backend.run(query)
            seconds += (time.perf_counter_ns() - t0) / 1e9
            predictions.append(top_k(backend.logits(output), 5, info.label_offset))
    per_image = seconds / len(dataset.images)
    if info.is_synthetic:
        return None, per_image
    return score(dataset.images, TopK.concat(predictions), dataset.root), per_image


def verified_model_sha256(info: ModelInfo, info_path: Path) -> str:
    """The sha256 of the model files as they are now; a model changed since its install stops the run."""
    actual = cached_tree_sha256([info_path.parent / name for name in info.files], places.cache("digest-cache"))
    if info.sha256 and actual != info.sha256:
        raise RequestError(f"model {info_path.parent / info.file}",
                           f"changed since it was installed (sha256 {actual[:16]}..., "
                           f"{info_path.name} records {info.sha256[:16]}...)",
                           f"reinstall it: ck install package --tags={info.install_tags()} --reinstall --quiet")
    return actual


def run_benchmark(backend_name: str, config: RunConfig, inputs: RunInputs,
                  loadgen_logs: Path | None = None) -> BenchmarkResult:
    """``loadgen_logs``: where MLPerf LoadGen writes its logs (LoadGen scenarios; default: a folder of its own)."""
    t0 = time.perf_counter()
    info = ModelInfo.load(inputs.model_info)
    model_path = info.model_path(inputs.model_info)
    if not model_path.exists():
        raise RequestError(f"model file not found: {model_path}", f"{inputs.model_info} names it",
                           "reinstall the model package: ck install package --tags=model --quiet")
    model_sha256 = verified_model_sha256(info, inputs.model_info)
    dataset = load_dataset(inputs.dataset_dir, inputs.val_txt, inputs.synsets, inputs.dataset_name)
    dataset = dataset.select(config.max_images)
    t1 = time.perf_counter()
    for _ in iter_chunks(dataset.images[:PERFORMANCE_POOL_IMAGES] if config.mode == "performance"
                         else dataset.images, info.preprocessing):
        pass  # preprocess (or load from cache) before the model is even loaded
    t2 = time.perf_counter()
    backend = backend_class(backend_name)(model_path, info, config.backend_options())
    t3 = time.perf_counter()
    measurement = loadgen = None
    if config.loadgen:
        from .loadgen import run_loadgen  # LoadGen is needed only here

        images = dataset.images[:PERFORMANCE_POOL_IMAGES] if config.mode == "performance" else dataset.images
        logs = loadgen_logs or Path(tempfile.mkdtemp(prefix="ck-request-loadgen-"))
        driven = run_loadgen(backend, images, dataset.root, info, config, logs)
        loadgen, accuracy, per_image = driven.result, driven.accuracy, driven.per_image_s
    elif config.mode == "performance":
        measurement, accuracy, per_image = run_performance(backend, dataset, info, config)
    else:
        accuracy, per_image = run_accuracy(backend, dataset, info, config)
    return BenchmarkResult(
        config=config, model=info, model_sha256=model_sha256, model_size_bytes=info.size_bytes(inputs.model_info),
        dataset=dataset,
        backend=backend.describe(), platform=describe_host(), measurement=measurement, accuracy=accuracy,
        prediction_time_avg_s=per_image, peak_memory_bytes=_peak_memory_bytes(),
        setup_seconds={"dataset_load_s": t1 - t0, "preprocess_s": t2 - t1, "model_load_s": t3 - t2},
        loadgen=loadgen,
    )
