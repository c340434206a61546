"""What a benchmark run reports: CK characteristics, features and meta (every key declared in
results/schema.py, checked on the way out), its sidecar files, and a human summary."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

from .. import SCENARIO_MODULE_UID, atomic
from ..run.measurement import BenchmarkResult
from . import schema

TIMER_FILE = "tmp-ck-timer.json"  # CK's fine-grain timer file: keys become characteristics
REQUEST_FILE = "tmp-ck-request.json"  # our features and meta, read by the CK post-process hook
PREDICTIONS_FILE = "predictions.json"  # each image's expected and top-5 classes (accuracy runs)
LATENCIES_FILE = "latencies.json"  # every timed query's latency, in ns (performance runs)
RUN_DIR_VAR = "CK_REQUEST_RUN_DIR"  # the run's own folder (set by the programs' CK pre-process hook)


def output_folder(env: Mapping[str, str] | None = None) -> Path:
    """Where a run writes its result files: a folder of its own, so concurrent runs never mix."""
    env = os.environ if env is None else env
    return Path(env.get(RUN_DIR_VAR, "").strip() or Path.cwd())


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
    return schema.checked(schema.CHARACTERISTIC, out)


def backend_features(details: Mapping[str, Any]) -> dict[str, Any]:
    """The backend's effective configuration, under the schema's names; lists and mappings as JSON text.
    Details the schema does not declare (paths of this machine, notes) are shown, not recorded."""
    recorded = {}
    for name, value in details.items():
        key = schema.BY_NAME.get(name)
        if key is None or key.section != schema.FEATURE:
            continue
        recorded[name] = json.dumps(value, sort_keys=True) if isinstance(value, (dict, list, tuple)) else value
    return recorded


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
        "model_sha256": result.model_sha256,
        "model_macs": info.macs or None,
        **backend_features(result.backend.details),
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
        "cpu_cores": result.platform.physical_cpus,
        "cpu_threads": result.platform.logical_cpus,
        "memory_bytes": result.platform.memory_bytes,
        "dataset_species": result.dataset.name,
        "scenario_module_uoa": SCENARIO_MODULE_UID,
    }
    return {"features": schema.checked(schema.FEATURE, {k: v for k, v in features.items() if v is not None}),
            "meta": schema.checked(schema.META, meta)}


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


def predictions_log(result: BenchmarkResult) -> dict[str, Any] | None:
    """Each image's prediction, like MLPerf's accuracy log; None when no accuracy was measured."""
    if result.accuracy is None or not result.accuracy.predictions:
        return None
    return {"version": 1, "dataset": result.dataset.name, "model": result.model.design_name,
            "scores": "the model's outputs for the top-5 classes (logits or probabilities, as the model gives them)",
            "images": [p.as_json() for p in result.accuracy.predictions]}


def latencies_log(result: BenchmarkResult) -> dict[str, Any] | None:
    """Every timed query's latency (ns, in order): what validate compares distributions on."""
    m = result.measurement
    if m is None or not m.samples_s:
        return None
    return {"version": 1, "unit": "ns", "batch_size": m.batch_size,
            "latencies": [round(v * 1e9) for v in m.samples_s]}


def write_outputs(result: BenchmarkResult, folder: Path) -> None:
    for name, log in ((PREDICTIONS_FILE, predictions_log(result)), (LATENCIES_FILE, latencies_log(result))):
        if log is not None:
            atomic.write_text(folder / name, json.dumps(log, separators=(",", ":")) + "\n")
    atomic.write_json(folder / REQUEST_FILE, features_and_meta(result))
    atomic.write_json(folder / TIMER_FILE, characteristics(result))  # last: CK reads it as success
