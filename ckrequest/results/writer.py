"""What a benchmark run reports: CK characteristics, features and meta (every key declared in
results/schema.py, checked on the way out), its sidecar files, and a human summary."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

from .. import SCENARIO_MODULE_UID, atomic
from ..run.config import NATIVE
from ..run.loadgen_settings import reads
from ..run.measurement import BenchmarkResult, LoadGenResult
from ..run.stats import LatencySummary, tail_percentiles
from . import schema

TIMER_FILE = "tmp-ck-timer.json"  # CK's fine-grain timer file: keys become characteristics
REQUEST_FILE = "tmp-ck-request.json"  # our features and meta, read by the CK post-process hook
PREDICTIONS_FILE = "predictions.json"  # each image's expected and top-5 classes (accuracy runs)
LATENCIES_FILE = "latencies.json"  # every timed query's latency, in ns (performance runs)
LOADGEN_DIR = "loadgen"  # where MLPerf LoadGen writes its logs in the run's folder (LoadGen scenarios)
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
            "inference_throughput": m.throughput_ips, **latency_characteristics(lat),
            "measured_duration_s": m.wall_duration_s,
            "warmup_queries": m.warmup_queries, "execution_time": m.wall_duration_s,
        })
        if m.batch_size == 1:
            out["inference_latency"] = lat.median_s  # seconds per batch-1 query
    if result.loadgen is not None:
        out.update(loadgen_characteristics(result.loadgen, result.config.warmup))
    a = result.accuracy
    if a is not None:
        out.update({
            "accuracy_top1": a.top1, "accuracy_top5": a.top5, "accuracy_images": a.images,
            "accuracy_top1_correct": a.top1_correct, "accuracy_top5_correct": a.top5_correct,
            "accuracy_top1_label_correct": a.top1_label_correct,
        })
    return schema.checked(schema.CHARACTERISTIC, out)


def latency_characteristics(lat: LatencySummary) -> dict[str, Any]:
    """A latency sample under our keys, each tail percentile only from as many queries as it needs."""
    return {"latency_min_s": lat.min_s, "latency_mean_s": lat.mean_s, "latency_max_s": lat.max_s,
            "latency_p50_s": lat.median_s, "latency_stdev_s": lat.stdev_s, "query_count": lat.count,
            **{f"latency_p{q}_s": value for q, value in lat.tails_s().items()}}


def _latency_keys(latency: Mapping[str, float], count: int) -> dict[str, float]:
    """LoadGen's latencies under our keys, each percentile only from as many queries as ours needs."""
    out = {"latency_min_s": latency.get("min"), "latency_mean_s": latency.get("mean"),
           "latency_max_s": latency.get("max"), "latency_p50_s": latency.get("p50"),
           **{f"latency_p{q}_s": latency.get(f"p{q}") for q in tail_percentiles(count)}}
    return {k: v for k, v in out.items() if v is not None}


def loadgen_characteristics(run: LoadGenResult, warmup: int) -> dict[str, Any]:
    """What LoadGen measured and decided. Its latencies are our latency keys where they are a query's own
    (SingleStream, MultiStream: per query; Server: with its wait in the queue); Offline's one query has none."""
    if run.valid is None:  # AccuracyOnly: LoadGen judges nothing
        return {}
    out: dict[str, Any] = {"loadgen_valid": int(run.valid), "query_count": run.query_count,
                           "warmup_queries": warmup, "loadgen_target_qps": run.target_qps,
                           "loadgen_min_duration_s": run.min_duration_s}
    out.update({f"loadgen_{name}_met": int(met) for name, met in run.checks.items()})
    out.update({f"early_stopping_{name}_s": value for name, value in run.early_stopping_s.items()
                if name in ("p90", "p99")})
    if run.scenario != "Offline":
        out.update(_latency_keys(run.latency_s, run.query_count))
    if run.scenario == "SingleStream" and "p50" in run.latency_s:
        out["inference_latency"] = run.latency_s["p50"]  # seconds per batch-1 query, as ours
    if run.scenario == "Server":
        out["loadgen_target_latency_s"] = run.target_latency_s
        out["loadgen_overlatency_queries"] = run.overlatency_queries
    optional = {"inference_throughput": run.images_per_second, "loadgen_samples_per_second": run.samples_per_second,
                "measured_duration_s": run.duration_s, "execution_time": run.duration_s}
    out.update({k: v for k, v in optional.items() if v is not None})
    return {k: v for k, v in out.items() if v is not None}


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
        "measuring_latency": (result.config.mode == "performance" and result.config.batch_size == 1
                              and result.config.scenario in (NATIVE, "SingleStream")),
        "mode": result.config.mode,
        "scenario": result.config.scenario,
        **{name: getattr(result.config, name) for name in reads(result.config.scenario)},
        "loadgen_conf_sha256": result.loadgen.conf_sha256 if result.loadgen is not None else None,
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
        "loadgen_version": result.loadgen.version if result.loadgen is not None else None,
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
            "meta": schema.checked(schema.META, {k: v for k, v in meta.items() if v is not None})}


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
    if result.loadgen is not None:
        lines += loadgen_lines(result.loadgen)
    if result.accuracy is not None:
        a = result.accuracy
        lines.append(f"accuracy   top-1 {a.top1:.1%} ({a.top1_correct}/{a.images}), "
                     f"top-5 {a.top5:.1%} ({a.top5_correct}/{a.images})")
    elif info.is_synthetic:
        lines.append("accuracy   not reported: synthetic weights")
    return lines


def loadgen_lines(run: LoadGenResult) -> list[str]:
    """LoadGen's result in a few lines: the verdict and why, the figure MLPerf reports, where the logs are."""
    if run.valid is None:
        return [f"loadgen    {run.scenario}, {run.test_mode} (LoadGen {run.version}): every image once"]
    lat = run.latency_s
    figures = {"SingleStream": f"p90 {lat.get('p90', 0) * 1e3:.3f} ms",
               "MultiStream": f"p99 per query {lat.get('p99', 0) * 1e3:.3f} ms",
               "Server": f"{run.samples_per_second or 0:.1f} samples/s completed at a target of "
                         f"{run.target_qps:.4g} QPS, p99 {lat.get('p99', 0) * 1e3:.3f} ms "
                         f"(bound {run.target_latency_s * 1e3:g} ms)",
               "Offline": f"{run.samples_per_second or 0:.1f} samples/s"}
    early = ", ".join(f"{k} {v * 1e3:.3f} ms" for k, v in run.early_stopping_s.items())
    lines = [f"loadgen    {run.scenario} {run.verdict}: {figures[run.scenario]}"
             + (f" (early-stopping {early})" if early else "") + f" over {run.query_count} queries"]
    if not run.valid:
        lines.append(f"           INVALID because {run.reason()}")
    lines.append(f"           LoadGen {run.version}'s logs: {run.log_dir}")
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
