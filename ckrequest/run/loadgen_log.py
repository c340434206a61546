"""What MLPerf LoadGen writes, read: its detail log (the result), its accuracy log (our responses).

LoadGen writes ``mlperf_log_summary.txt`` (for people), ``mlperf_log_detail.txt`` (one
``:::MLLOG {json}`` line per fact, the result among them) and ``mlperf_log_accuracy.json`` (every
response it was told to log, as hex). A response of ours is an image's five best classes (int32)
then the model's output for each (float32), little-endian: what our top-1/top-5 scoring needs.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..errors import RequestError
from .accuracy import TopK
from .measurement import LoadGenResult

SUMMARY_LOG = "mlperf_log_summary.txt"
DETAIL_LOG = "mlperf_log_detail.txt"
ACCURACY_LOG = "mlperf_log_accuracy.json"
MLLOG = ":::MLLOG"
TOP = 5  # classes per response
_CLASSES, _SCORES = np.dtype("<i4"), np.dtype("<f4")
# LoadGen's percentiles, as its keys spell them, and ours
PERCENTILES = {"50.00": "p50", "90.00": "p90", "95.00": "p95", "97.00": "p97", "99.00": "p99", "99.90": "p99.9"}


def encode_response(classes: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """One image's response: its classes, then its scores (bytes LoadGen copies into its accuracy log)."""
    return np.concatenate([np.asarray(classes, _CLASSES).view(np.uint8), np.asarray(scores, _SCORES).view(np.uint8)])


def decode_response(hex_text: str) -> tuple[np.ndarray, np.ndarray]:
    data = bytes.fromhex(hex_text)
    half = len(data) // 2
    if not data or len(data) % (2 * _CLASSES.itemsize):
        raise ValueError(f"a response of {len(data)} bytes is not k classes and k scores")
    return np.frombuffer(data[:half], _CLASSES).astype(np.int64), np.frombuffer(data[half:], _SCORES)


def read_detail(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The detail log's facts (the last value of each key) and its error messages."""
    values: dict[str, Any] = {}
    errors: list[str] = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as err:
        raise RequestError(f"LoadGen's log {path}", f"unreadable ({err.strerror or err})",
                           "run again; LoadGen writes it at the end of every test") from None
    for line in lines:
        if not line.startswith(MLLOG):
            continue
        try:
            fact = json.loads(line[len(MLLOG):])
        except ValueError:
            continue  # a line cut short: LoadGen writes the result facts last, whole
        values[fact.get("key", "")] = fact.get("value")
        if (fact.get("metadata") or {}).get("is_error"):
            errors.append(f"{fact.get('key')}: {fact.get('value')}")
    return values, errors


def _number(values: Mapping[str, Any], key: str) -> float | None:
    value = values.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _seconds(values: Mapping[str, Any], key: str) -> float | None:
    ns = _number(values, key)
    return ns / 1e9 if ns is not None else None


def _latencies(values: Mapping[str, Any], multi_stream: bool) -> dict[str, float]:
    """Per sample; MultiStream's per query (all of a query's samples done), as LoadGen ranks it."""
    kind = "query_" if multi_stream else ""
    found = {"min": _seconds(values, f"result_min_{kind}latency_ns"),
             "mean": _seconds(values, f"result_mean_{kind}latency_ns"),
             "max": _seconds(values, f"result_max_{kind}latency_ns")}
    per = "per_query_" if multi_stream else ""
    for theirs, ours in PERCENTILES.items():
        found[ours] = _seconds(values, f"result_{theirs}_percentile_{per}latency_ns")
    return {k: v for k, v in found.items() if v is not None}


def _early_stopping(values: Mapping[str, Any], scenario: str) -> dict[str, float]:
    """LoadGen's early-stopping estimates (0 = not enough queries to estimate)."""
    out = {}
    target = _number(values, "effective_target_latency_percentile") or 0.0
    single = _seconds(values, "early_stopping_latency_ss")
    if scenario == "SingleStream" and single:
        out[f"p{target * 100:g}"] = single
    multi = _seconds(values, "early_stopping_latency_ms")  # SingleStream's p99, MultiStream's target (p99)
    if scenario in ("SingleStream", "MultiStream") and multi:
        out["p99"] = multi
    return out


def _duration(values: Mapping[str, Any]) -> float | None:
    """LoadGen's timed window (its power_begin .. power_end marks, to the millisecond)."""
    try:
        begin, end = (datetime.strptime(str(values[k]), "%m-%d-%Y %H:%M:%S.%f") for k in ("power_begin", "power_end"))
    except (KeyError, ValueError):
        return None
    return (end - begin).total_seconds()


def _checks(values: Mapping[str, Any]) -> dict[str, bool]:
    keys = {"min_duration": "result_min_duration_met", "min_queries": "result_min_queries_met",
            "early_stopping": "early_stopping_met", "perf_constraints": "result_perf_constraints_met"}
    return {name: bool(values[key]) for name, key in keys.items() if isinstance(values.get(key), bool)}


def _advice(values: Mapping[str, Any], checks: Mapping[str, bool]) -> str:
    parts = [str(values.get("result_invalid_reason") or "")]
    if checks.get("early_stopping") is False:
        parts.append(str(values.get("early_stopping_result") or ""))
    return " ".join(" ".join(parts).split())


def _rates(values: Mapping[str, Any], scenario: str, samples_per_query: int,
           latency: Mapping[str, float]) -> tuple[float | None, float | None]:
    """LoadGen's headline rate, and the rate of the framework's work (images/s) as our harness counts it."""
    if scenario == "SingleStream":
        return (_number(values, "result_qps_with_loadgen_overhead"),
                _number(values, "result_qps_without_loadgen_overhead"))
    if scenario == "Offline":
        rate = _number(values, "result_samples_per_second")
        return rate, rate
    if scenario == "Server":
        rate = _number(values, "result_completed_samples_per_sec")
        return rate, rate
    mean = latency.get("mean")
    return None, (samples_per_query / mean if mean else None)


def result_from_detail(log_dir: Path, scenario: str) -> LoadGenResult:
    """LoadGen's result of one test, from the detail log it wrote into ``log_dir``."""
    values, errors = read_detail(log_dir / DETAIL_LOG)
    test_mode = str(values.get("effective_test_mode", ""))
    samples_per_query = int(_number(values, "effective_samples_per_query") or 1)
    latency = _latencies(values, scenario == "MultiStream")
    checks = _checks(values)
    validity = values.get("result_validity")
    headline, images = _rates(values, scenario, samples_per_query, latency)
    overlatency = _number(values, "result_overlatency_query_count")
    return LoadGenResult(
        scenario=scenario, test_mode=test_mode, version=str(values.get("loadgen_version", "")).split(" ")[0],
        log_dir=log_dir, valid=None if validity is None else validity == "VALID", checks=checks,
        advice=_advice(values, checks) if validity == "INVALID" else "",
        query_count=int(_number(values, "result_query_count") or 0), samples_per_query=samples_per_query,
        samples_per_second=headline, images_per_second=images, latency_s=latency,
        early_stopping_s=_early_stopping(values, scenario),
        overlatency_queries=None if overlatency is None else int(overlatency),
        target_qps=_number(values, "effective_target_qps") or 0.0,
        target_latency_s=_seconds(values, "effective_target_latency_ns") or 0.0,
        min_duration_s=(_number(values, "effective_min_duration_ms") or 0.0) / 1e3,
        min_query_count=int(_number(values, "effective_min_query_count") or 0),
        duration_s=_duration(values), errors=tuple(errors))


def read_accuracy_log(path: Path, count: int) -> TopK:
    """The responses LoadGen logged, one per sample ``0..count-1`` in sample order (the first, if repeated)."""
    fix = "run again with CK_REQUEST_MODE=accuracy, which logs every response"
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise RequestError(f"LoadGen's accuracy log {path}", f"unreadable ({err})", fix) from None
    found: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for entry in entries:
        index = int(entry["qsl_idx"])
        if index not in found:
            found[index] = decode_response(entry["data"])
    missing = [k for k in range(count) if k not in found]
    if missing:
        raise RequestError(f"LoadGen's accuracy log {path}", f"has no response for {len(missing)} of {count} "
                           f"images (the first: sample {missing[0]})", fix)
    return TopK(np.stack([found[k][0] for k in range(count)]), np.stack([found[k][1] for k in range(count)]))
