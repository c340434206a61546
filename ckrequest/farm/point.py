"""A farm run as one experiment point: characteristics per repetition, features and meta (results/schema.py).

The names say what ran where: ``farm`` ("Ray farm: 3 nodes (pipeline)", beside the originals'
"RPi farm: 5 devices (Avro)"), the nodes' CPUs and platforms, the library with Ray's version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import SCENARIO_MODULE_UID
from ..results import schema
from ..results.writer import latency_characteristics
from ..run.stats import summarize
from .pipeline import FarmResult

TAGS = ("request", "request-asplos18", "farm", "ray")


@dataclass(frozen=True)
class FarmPoint:
    characteristics: tuple[dict[str, Any], ...]  # one per repetition
    features: dict[str, Any]
    meta: dict[str, Any]
    tags: tuple[str, ...]


def _joined(values: list[Any]) -> str:
    """One name when every node has it, else each distinct one (in node order) joined by ' + '."""
    distinct = list(dict.fromkeys(str(v) for v in values))
    return " + ".join(distinct)


def _repetition(result: FarmResult, k: int) -> dict[str, Any]:
    rep = result.repetitions[k]
    latency = summarize(rep.latencies_s)  # the images sent alone: batch-1 queries
    out: dict[str, Any] = {
        **latency_characteristics(latency), "inference_latency": latency.median_s,
        "inference_throughput": rep.throughput_ips,
        "prediction_time_avg_s": 1.0 / rep.throughput_ips, "measured_duration_s": rep.stream_s,
        "farm_bytes_between_stages": result.bytes_between_stages, "farm_network_bytes": result.network_bytes,
        "farm_slowest_stage_s": max(rep.stage_compute_s), "farm_softmax_max_diff": result.softmax_max_diff,
    }
    return schema.checked(schema.CHARACTERISTIC, out)


def farm_point(result: FarmResult) -> FarmPoint:
    canonical, request = result.canonical, result.request
    hosts = [s.host for s in result.stages]
    features = {
        "model_size": canonical.path.stat().st_size, "model_macs": canonical.macs,
        "model_parameters": canonical.parameters, "model_sha256": canonical.sha256, "batch_size": 1,
        "threads": result.stages[0].threads, "weights": canonical.spec.weights, "measuring_latency": True,
        "mode": "performance", "dataset_size": result.dataset_size,
        "statistical_repetitions": len(result.repetitions), "farm_nodes": len(result.stages),
        "farm_hosts": result.hosts, "farm_mode": request.mode,
    }
    meta = {
        "model_precision": "fp32", "model_design_name": canonical.design_name, "model_arch": canonical.spec.arch,
        "model_format": "onnx", "library_name": result.library, "library_device": "CPU",
        "cpu_name": _joined([h["cpu_name"] for h in hosts]), "plat_name": _joined([h["plat_name"] for h in hosts]),
        "os_name": _joined([h["os_name"] for h in hosts]),
        "cpu_threads": sum(s.node.threads for s in result.stages),  # what the farm's nodes offered
        "farm": result.farm_name, "dataset_species": result.dataset, "scenario_module_uoa": SCENARIO_MODULE_UID,
    }
    return FarmPoint(characteristics=tuple(_repetition(result, k) for k in range(len(result.repetitions))),
                     features=schema.checked(schema.FEATURE, features), meta=schema.checked(schema.META, meta),
                     tags=(*TAGS, request.mode))
