"""`python -m ckrequest.tools.bench loadgen`: MLPerf LoadGen against our own harness, side by side.

One ONNX Runtime session (one backend object), the sample photos preprocessed once, and in each
round, in alternating order so machine noise hits both alike:

- SingleStream: LoadGen's 90th-percentile latency over our harness's (native, batch 1);
- Offline: LoadGen's samples per second over our harness's throughput at the same batch size.

LoadGen times a query from its issue to its completion: besides the framework's run that holds the
call into our SUT from LoadGen's thread, the top-5 of the output and the response; our harness
times ``backend.run`` alone. The ratios say what that costs (target: SingleStream p90 within 5 %).
"""

from __future__ import annotations

import os
import statistics
import tempfile
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import places
from ..backends import backend_class
from ..backends.base import BackendOptions
from ..datasets import load_dataset
from ..datasets.cache import iter_chunks
from ..datasets.sample_photos import install_sample_photos
from ..models.model_info import ModelInfo
from ..run.config import RunConfig
from ..run.harness import measure_queries, query_batches
from ..run.loadgen import run_loadgen

TARGET_P90_RATIO = 1.05


def _native(backend, pool: np.ndarray, config: RunConfig) -> tuple[float, float]:
    """Our harness: p90 (s) and throughput (images/s) at the config's batch size."""
    prepared = [backend.prepare(batch) for batch in query_batches(pool, config.batch_size)]
    measurement, _ = measure_queries(backend, prepared, config)
    return measurement.latency.p90_s, measurement.throughput_ips


def _loadgen(backend, dataset, info: ModelInfo, config: RunConfig, logs: Path) -> tuple[float, float, str]:
    """LoadGen: p90 (s; SingleStream), samples/s, and its verdict."""
    run = run_loadgen(backend, dataset.images, dataset.root, info, config, logs).result
    return run.latency_s.get("p90", float("nan")), run.samples_per_second or float("nan"), run.verdict


def _alternated(native_first: bool, native: Callable[[], Any], loadgen: Callable[[], Any]) -> tuple[Any, Any]:
    """Both measurements, in the given order (rounds alternate it: a machine slowing down hits both alike)."""
    if native_first:
        ours = native()
        return ours, loadgen()
    theirs = loadgen()
    return native(), theirs


def run(info_path: Path, rounds: int, seconds: float, batch: int, threads: int) -> dict[str, float]:
    info = ModelInfo.load(info_path)
    with tempfile.TemporaryDirectory(prefix="ck-request-bench-loadgen-") as tmp:
        os.environ["CK_REQUEST_CACHE_DIR"] = str(Path(tmp) / "cache")  # the photos' cache: here, not in CK_TOOLS
        photos = install_sample_photos(places.CHECKOUT / "dataset" / "sample-photos" / "val.txt", Path(tmp) / "photos")
        dataset = load_dataset(photos.parent, name="sample-photos")
        _, pool = next(iter_chunks(dataset.images, info.preprocessing))
        backend = backend_class("onnxruntime")(info.model_path(info_path), info, BackendOptions(threads))
        base = RunConfig(warmup=20, min_queries=200, min_duration_s=seconds, threads=threads)
        single = replace(base, scenario="SingleStream")
        offline = replace(base, scenario="Offline", batch_size=batch)
        print(f"model {info.design_name} ({info.arch}, {info.precision}), ONNX Runtime, "
              f"threads={threads or 'default'}, {rounds} rounds of {seconds:g} s per run, "
              f"{len(dataset.images)} sample photos")
        print(f"{'round':>5}  {'native p90 ms':>13}  {'LoadGen SS p90 ms':>17}  {'ratio':>6}  "
              f"{'native b' + str(batch) + ' img/s':>17}  {'LoadGen Offline':>15}  {'ratio':>6}")
        p90_ratios, rate_ratios, verdicts = [], [], set()
        for r in range(rounds):
            logs = Path(tmp) / f"round-{r}"
            (native_p90, _), (lg_p90, _, verdict_ss) = _alternated(
                r % 2 == 0, partial(_native, backend, pool, base),
                partial(_loadgen, backend, dataset, info, single, logs / "single"))
            (_, native_rate), (_, lg_rate, verdict_off) = _alternated(
                r % 2 == 0, partial(_native, backend, pool, offline),
                partial(_loadgen, backend, dataset, info, offline, logs / "offline"))
            verdicts.update({f"SingleStream {verdict_ss}", f"Offline {verdict_off}"})
            p90_ratios.append(lg_p90 / native_p90)
            rate_ratios.append(lg_rate / native_rate)
            print(f"{r + 1:>5}  {native_p90 * 1e3:>13.4f}  {lg_p90 * 1e3:>17.4f}  {p90_ratios[-1]:>6.3f}  "
                  f"{native_rate:>17.1f}  {lg_rate:>15.1f}  {rate_ratios[-1]:>6.3f}")
        p90, rate = statistics.median(p90_ratios), statistics.median(rate_ratios)
        verdict = "meets" if p90 <= TARGET_P90_RATIO else "misses"
        print(f"SingleStream p90, LoadGen / native: {p90:.3f} (median of {rounds} rounds; {verdict} the target "
              f"<= {TARGET_P90_RATIO})")
        print(f"Offline samples/s over native batch-{batch} throughput: {rate:.3f} (median of {rounds} rounds)")
        print(f"LoadGen's verdicts: {', '.join(sorted(verdicts))}")
        return {"single_stream_p90_ratio": p90, "offline_throughput_ratio": rate}
