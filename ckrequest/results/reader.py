"""Read CK experiment entries from disk and normalise each point to the unified keys (DESIGN.md §4).

An entry is ``experiment/<name>/`` with ``.cm/meta.json`` and, per point, ``ckp-<uid>.flat.json``
holding ``##characteristics#run#<key>#<stat>`` and ``##features#<key>#<stat>``. Points recorded by
ck-request carry their names (precision, library, ...) as ``##features#meta#<key>``; the original
ReQuEST entries carry them in the entry meta. Quirks of the originals handled here:

- ``#all`` lists duplicated by re-runs: only the first ``##features#statistical_repetitions#min``
  values count;
- latency only at batch 1: ``inference_latency`` of a point at another batch size is dropped;
- accuracy missing or recorded as 0 (IoT farm): no accuracy;
- ``usage_cost`` only on cloud points (others get one from their platform, see platforms.py);
- names with NUL bytes (``HiKey960\\x00``), numbers as strings, empty strings for "unknown".

A point with synthetic weights never carries an accuracy. A malformed entry or point (bad JSON,
no result keys, non-numeric values) is returned as a ``SkippedEntry`` naming it, never raised.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from ..models.names import arch_of

CHAR = "##characteristics#run#"
FEAT = "##features#"

NAME_KEYS = ("model_design_name", "model_arch", "model_precision", "library_name", "compiler_name", "plat_name",
             "cpu_name", "os_name", "farm", "dataset_species", "platform_species", "platform_price_date",
             "scenario_module_uoa")
CHARACTERISTIC_KEYS = ("inference_latency", "inference_throughput", "prediction_time_avg_s", "accuracy_top1",
                       "accuracy_top5", "usage_cost", "usage_cost_per_hour", "latency_p50_s", "latency_p90_s",
                       "latency_p99_s", "peak_memory_bytes", "energy_per_image_j", "percent_of_peak")
FEATURE_KEYS = ("model_size", "freq", "cpu_freq", "gpu_freq", "batch_size", "statistical_repetitions", "threads",
                "model_macs", "dataset_size")
META_NUMBER_KEYS = ("platform_price", "platform_peak_power", "dataset_size", "cpu_threads")
RESULT_KEYS = ("inference_latency", "inference_throughput", "prediction_time_avg_s", "accuracy_top1")


class MalformedPoint(ValueError):
    """A point that cannot be read as a result; the message says why."""


@dataclass(frozen=True)
class Dependency:
    name: str
    version: str


@dataclass(frozen=True)
class ResultPoint:
    """One experiment point under the unified keys; numbers are None when not recorded."""

    repo: str
    entry: str
    point: str
    model_design_name: str = ""
    model_arch: str = ""
    model_precision: str = ""
    library_name: str = ""
    compiler_name: str = ""
    plat_name: str = ""
    cpu_name: str = ""
    os_name: str = ""
    farm: str = ""
    dataset_species: str = ""
    platform_species: str = ""
    platform_price_date: str = ""
    scenario_module_uoa: str = ""
    platform: str = ""  # alias of the request.platform entry this point ran on, if one matched
    platform_name: str = ""
    weights: str = ""  # imagenet / synthetic / '' when not recorded
    synthetic: bool = False
    validated: bool = False
    measuring_latency: bool | None = None
    tags: tuple[str, ...] = ()
    deps: tuple[Dependency, ...] = ()
    nominal: tuple[str, ...] = ()  # keys whose values are nominal (platform specifications), not measured
    notes: tuple[str, ...] = ()
    cpu_threads: float | None = None
    inference_latency: float | None = None
    inference_throughput: float | None = None
    prediction_time_avg_s: float | None = None
    accuracy_top1: float | None = None
    accuracy_top5: float | None = None
    usage_cost: float | None = None
    usage_cost_per_hour: float | None = None
    latency_p50_s: float | None = None
    latency_p90_s: float | None = None
    latency_p99_s: float | None = None
    peak_memory_bytes: float | None = None
    energy_per_image_j: float | None = None
    percent_of_peak: float | None = None
    platform_price: float | None = None
    platform_peak_power: float | None = None
    model_size: float | None = None
    model_macs: float | None = None
    freq: float | None = None
    cpu_freq: float | None = None
    gpu_freq: float | None = None
    batch_size: float | None = None
    threads: float | None = None
    statistical_repetitions: float | None = None
    dataset_size: float | None = None

    @property
    def id(self) -> str:
        return f"{self.repo}:{self.entry}:{self.point}"

    def value(self, key: str) -> float | None:
        return getattr(self, key)

    def as_json(self) -> dict[str, Any]:
        """The point as plain JSON values (the unified keys, plus its id)."""
        data: dict[str, Any] = {"id": self.id}
        for name in POINT_FIELDS:
            value = getattr(self, name)
            data[name] = list(value) if isinstance(value, tuple) else value
        data["deps"] = [{"name": d.name, "version": d.version} for d in self.deps]
        return data


POINT_FIELDS = tuple(f.name for f in fields(ResultPoint))


@dataclass(frozen=True)
class SkippedEntry:
    path: Path
    reason: str


@dataclass(frozen=True)
class EntryInfo:
    """What an experiment entry says about all of its points."""

    repo: str
    name: str
    meta: Mapping[str, Any]
    tags: tuple[str, ...]
    deps: tuple[Dependency, ...]
    validated: bool


def number(value: Any, what: str) -> float | None:
    """A finite number, None for 'not recorded' (None or ''), MalformedPoint for anything else."""
    if type(value) in (int, float) and math.isfinite(value):  # the usual case, first
        return float(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise MalformedPoint(f"{what} is not a number: {value!r}")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise MalformedPoint(f"{what} is not a number: {str(value)[:40]!r}") from None
    if not math.isfinite(result):
        raise MalformedPoint(f"{what} is not a finite number: {value!r}")
    return result


def clean_text(value: Any) -> str:
    """Names as recorded, without NUL bytes or surrounding blanks (the originals hold 'HiKey960\\x00')."""
    if type(value) is str and "\x00" not in value and "  " not in value and value.strip() == value:
        return value  # the usual case, first
    if value is None or isinstance(value, (dict, list)):
        return ""
    return " ".join(str(value).replace("\x00", "").split())


def repetitions(flat: Mapping[str, Any]) -> int | None:
    reps = number(flat.get(f"{FEAT}statistical_repetitions#min"), "statistical_repetitions")
    return int(reps) if reps is not None and reps >= 1 else None


def _stat_keys(key: str) -> tuple[str, tuple[str, ...]]:
    return f"{CHAR}{key}#all", tuple(f"{CHAR}{key}#{stat}" for stat in ("center", "mean", "min"))


_STAT_KEYS = {key: _stat_keys(key) for key in CHARACTERISTIC_KEYS}


def samples(flat: Mapping[str, Any], key: str, reps: int | None) -> list[float]:
    """The recorded repetitions of one characteristic; values beyond `reps` are re-run duplicates."""
    all_key, single_keys = _STAT_KEYS.get(key) or _stat_keys(key)
    values = flat.get(all_key)
    if not isinstance(values, list):
        for single_key in single_keys:
            raw = flat.get(single_key)
            single = None if raw is None else number(raw, key)
            if single is not None:
                return [single]
        return []
    if reps is not None and len(values) > reps:
        values = values[:reps]
    return [n for n in (number(v, key) for v in values) if n is not None]


def characteristic(flat: Mapping[str, Any], key: str, reps: int | None) -> float | None:
    """Median over the repetitions (the maximum for peak memory)."""
    values = samples(flat, key, reps)
    if not values:
        return None
    return max(values) if key == "peak_memory_bytes" else statistics.median(values)


_FEATURE_KEYS: dict[str, str] = {}


def feature(flat: Mapping[str, Any], key: str) -> Any:
    flat_key = _FEATURE_KEYS.get(key)
    if flat_key is None:
        flat_key = _FEATURE_KEYS[key] = f"{FEAT}{key}#min"
    return flat.get(flat_key)


_OUR_META_KEYS = {key: f"meta#{key}" for key in (*NAME_KEYS, *META_NUMBER_KEYS)}


def _name(flat: Mapping[str, Any], meta: Mapping[str, Any], key: str) -> str:
    ours = feature(flat, _OUR_META_KEYS[key])
    if ours:
        return clean_text(ours)
    theirs = meta.get(key)
    return clean_text(theirs) if theirs else ""


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("yes", "no", "true", "false"):
        return value.lower() in ("yes", "true")
    return None


def _numbers(flat: Mapping[str, Any], meta: Mapping[str, Any], reps: int | None) -> dict[str, float | None]:
    values: dict[str, float | None] = {key: characteristic(flat, key, reps) for key in CHARACTERISTIC_KEYS}
    for key in FEATURE_KEYS:
        values[key] = number(feature(flat, key), key)
    for key in META_NUMBER_KEYS:
        if values.get(key) is None:
            ours = number(feature(flat, _OUR_META_KEYS[key]), key)
            values[key] = ours if ours is not None else number(meta.get(key), key)
    return values


def _apply_quirks(values: dict[str, float | None], synthetic: bool, accuracy_images: float | None) -> list[str]:
    """The original entries' quirks and the synthetic-weights rule; returns notes on what was dropped."""
    notes = []
    batch = values["batch_size"]
    if values["inference_latency"] is None and batch in (None, 1.0):
        values["inference_latency"] = values["latency_p50_s"]
    if values["inference_latency"] is not None and batch not in (None, 1.0):
        values["inference_latency"] = None
        notes.append(f"latency recorded at batch {batch:g}: not a batch-1 latency")
    if synthetic:
        if values["accuracy_top1"] is not None or values["accuracy_top5"] is not None:
            notes.append("synthetic weights: accuracy not reported")
        values["accuracy_top1"] = values["accuracy_top5"] = None
    for key in ("accuracy_top1", "accuracy_top5"):
        if values[key] == 0.0 and not accuracy_images:  # the originals' "not measured"; ours count the images
            values[key] = None
            notes.append(f"{key} recorded as 0: not measured")
    return notes


def point_from_flat(entry: EntryInfo, point: str, flat: Mapping[str, Any]) -> ResultPoint:
    """Normalise one point; MalformedPoint when it is not a usable result."""
    meta = entry.meta
    reps = repetitions(flat)
    values = _numbers(flat, meta, reps)
    if all(values[key] is None for key in RESULT_KEYS):
        raise MalformedPoint(f"no result keys (none of {', '.join(RESULT_KEYS)})")
    names = {key: _name(flat, meta, key) for key in NAME_KEYS}
    names["model_arch"] = names["model_arch"] or arch_of(names["model_design_name"])
    weights = clean_text(feature(flat, "weights"))
    synthetic = weights == "synthetic"
    notes = _apply_quirks(values, synthetic, characteristic(flat, "accuracy_images", reps))
    return ResultPoint(
        repo=entry.repo, entry=entry.name, point=point, **names, weights=weights, synthetic=synthetic,
        validated=entry.validated, measuring_latency=_flag(feature(flat, "measuring_latency")),
        tags=entry.tags, deps=entry.deps, notes=tuple(notes), **values)


def read_json(path: Path) -> Any:
    with open(path, "rb") as handle:  # json decodes UTF-8 bytes itself
        return json.loads(handle.read())


def _deps(entry_dir: Path, meta: Mapping[str, Any]) -> tuple[Dependency, ...]:
    """Dependency versions: the originals' meta deps_summary, or the pipeline CK stored with ours."""
    summary = meta.get("deps_summary")
    if isinstance(summary, dict):
        return tuple(Dependency(clean_text(d.get("data_name") or d.get("name") or key), clean_text(d.get("version")))
                     for key, d in sorted(summary.items()) if isinstance(d, dict))
    try:
        pipeline = read_json(entry_dir / "pipeline.json")
        deps = pipeline.get("dependencies", {})
    except (OSError, ValueError, AttributeError):
        return ()
    if not isinstance(deps, dict):
        return ()
    return tuple(Dependency(clean_text(d.get("name") or key), clean_text(d.get("ver")))
                 for key, d in sorted(deps.items()) if isinstance(d, dict))


def latest_verdicts(repo_paths: Iterable[tuple[str, Path]]) -> dict[str, str]:
    """``repo:entry`` of each validated original -> the latest verdict of `ck validate` about it.

    Verdicts live with the reproductions (``meta.validations``, each naming its ``original``), never
    in the original entry."""
    latest: dict[str, tuple[str, str]] = {}
    for _, path in repo_paths:
        for meta_path in sorted((Path(path) / "experiment").glob("*/.cm/meta.json")):
            try:
                history = read_json(meta_path).get("meta", {}).get("validations", [])
            except (OSError, ValueError, AttributeError):
                continue
            for record in history if isinstance(history, list) else []:
                if isinstance(record, dict) and record.get("original"):
                    when = str(record.get("date", ""))
                    if when >= latest.get(record["original"], ("", ""))[0]:
                        latest[record["original"]] = (when, str(record.get("verdict", "")))
    return {original: verdict for original, (_, verdict) in latest.items()}


def _validated(name: str, meta: Mapping[str, Any]) -> bool:
    """ReQuEST's artifact-evaluated entries are named validated-*; ours are validated when the latest
    `ck validate request.asplos18` verdict kept in their meta (`validations`, oldest first) is REPRODUCED."""
    history = meta.get("validations")
    latest = history[-1] if isinstance(history, list) and history else None
    return name.startswith("validated-") or (isinstance(latest, dict) and latest.get("verdict") == "REPRODUCED")


def read_entry_info(entry_dir: Path, repo: str) -> EntryInfo:
    meta_path = entry_dir / ".cm" / "meta.json"
    whole = read_json(meta_path) if meta_path.is_file() else {}
    if not isinstance(whole, dict):
        raise ValueError(".cm/meta.json is not a JSON object")
    meta = whole.get("meta") or {}
    if not isinstance(meta, dict):
        raise ValueError(".cm/meta.json: 'meta' is not a JSON object")
    tags = whole.get("tags") or []
    tags = tuple(str(t) for t in tags) if isinstance(tags, list) else ()
    return EntryInfo(repo=repo, name=entry_dir.name, meta=meta, tags=tags, deps=_deps(entry_dir, meta),
                     validated=_validated(entry_dir.name, meta))


def interrupted_fix(name: str) -> str:
    return f"ck check request.asplos18 --experiment={name} --fix removes it"


def iter_entry(entry_dir: Path, repo: str) -> Iterator[ResultPoint | SkippedEntry]:
    try:
        info = read_entry_info(entry_dir, repo)
    except (OSError, ValueError) as err:
        yield SkippedEntry(entry_dir, f"unreadable .cm/meta.json ({err})")
        return
    names = sorted(n for n in os.listdir(entry_dir) if n.startswith("ckp-") and n.endswith(".flat.json"))
    if not names:
        yield SkippedEntry(entry_dir, f"no points: an interrupted record? ({interrupted_fix(entry_dir.name)})")
        return
    for name in names:
        flat_path = entry_dir / name
        point = name[len("ckp-"):-len(".flat.json")]
        try:
            flat = read_json(flat_path)
            if not isinstance(flat, dict):
                raise MalformedPoint("not a JSON object")
            yield point_from_flat(info, point, flat)
        except (OSError, ValueError) as err:  # MalformedPoint and JSON errors are ValueErrors
            yield SkippedEntry(flat_path, str(err))


def iter_points(repo_path: Path, repo_name: str = "") -> Iterator[ResultPoint | SkippedEntry]:
    """Every point of every experiment entry of one repository folder; bad ones are reported, not raised."""
    root = Path(repo_path) / "experiment"
    if not root.is_dir():
        return
    for entry_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        yield from iter_entry(entry_dir, repo_name or Path(repo_path).name)
