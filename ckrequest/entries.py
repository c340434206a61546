"""Read CK experiment entries from disk and normalise each point to the unified keys.

An entry is ``experiment/<name>/`` with ``.cm/meta.json`` and, per point,
``ckp-<uid>.flat.json`` holding ``##characteristics#run#<key>#<stat>`` and
``##features#<key>#<stat>``. Points recorded by ck-request carry their names (precision,
library, ...) as ``##features#meta#<key>``; other entries carry them in the entry meta.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

CHAR = "##characteristics#run#"
FEAT = "##features#"


@dataclass(frozen=True)
class ResultPoint:
    repo: str
    entry: str
    point: str
    model: str
    arch: str
    precision: str
    library: str
    weights: str
    batch_size: int | None
    latency_p50_s: float | None
    latency_p90_s: float | None
    throughput_ips: float | None
    accuracy_top1: float | None
    accuracy_top5: float | None
    model_size_bytes: int | None
    repetitions: int | None


@dataclass(frozen=True)
class SkippedEntry:
    path: Path
    reason: str


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN is no number


def characteristic(flat: Mapping[str, Any], key: str) -> float | None:
    """Median over the repetitions of one run characteristic."""
    values = flat.get(f"{CHAR}{key}#all")
    numbers = [n for n in (_number(v) for v in values or []) if n is not None] if isinstance(values, list) else []
    if numbers:
        return statistics.median(numbers)
    return _number(flat.get(f"{CHAR}{key}#min"))


def feature(flat: Mapping[str, Any], key: str) -> Any:
    return flat.get(f"{FEAT}{key}#min")


def point_from_flat(repo: str, entry: str, point: str, flat: Mapping[str, Any],
                    entry_meta: Mapping[str, Any]) -> ResultPoint:
    def name(key: str) -> str:
        value = feature(flat, f"meta#{key}")
        return str(value if value not in (None, "") else entry_meta.get(key, ""))

    batch = _number(feature(flat, "batch_size"))
    size = _number(feature(flat, "model_size"))
    reps = _number(feature(flat, "statistical_repetitions"))
    latency = characteristic(flat, "latency_p50_s")
    if latency is None and batch in (None, 1.0):
        latency = characteristic(flat, "inference_latency")
    return ResultPoint(
        repo=repo, entry=entry, point=point,
        model=name("model_design_name"), arch=name("model_arch"),
        precision=name("model_precision"), library=name("library_name"),
        weights=str(feature(flat, "weights") or ""),
        batch_size=int(batch) if batch is not None else None,
        latency_p50_s=latency, latency_p90_s=characteristic(flat, "latency_p90_s"),
        throughput_ips=characteristic(flat, "inference_throughput"),
        accuracy_top1=characteristic(flat, "accuracy_top1"), accuracy_top5=characteristic(flat, "accuracy_top5"),
        model_size_bytes=int(size) if size is not None else None,
        repetitions=int(reps) if reps is not None else None,
    )


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def iter_points(repo_path: Path, repo_name: str = "") -> Iterator[ResultPoint | SkippedEntry]:
    """Every point of every experiment entry of one repository folder; bad entries are reported."""
    root = Path(repo_path) / "experiment"
    if not root.is_dir():
        return
    for entry_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        meta_path = entry_dir / ".cm" / "meta.json"
        try:
            meta = read_json(meta_path).get("meta", {}) if meta_path.is_file() else {}
        except (OSError, ValueError, AttributeError) as err:
            yield SkippedEntry(entry_dir, f"unreadable .cm/meta.json ({err})")
            continue
        for flat_path in sorted(entry_dir.glob("ckp-*.flat.json")):
            point = flat_path.name[len("ckp-"):-len(".flat.json")]
            try:
                flat = read_json(flat_path)
                if not isinstance(flat, dict):
                    raise ValueError("not a JSON object")
            except (OSError, ValueError) as err:
                yield SkippedEntry(flat_path, f"unreadable point ({err})")
                continue
            yield point_from_flat(repo_name or Path(repo_path).name, entry_dir.name, point, flat, meta)
