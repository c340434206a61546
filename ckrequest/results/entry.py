"""One CK experiment entry as validate and check see it: points, recorded dependencies, entry meta.

An entry is a folder ``<repo>/experiment/<alias>/`` with ``.cm/meta.json`` (CK keeps the entry's
own description under its ``meta`` key), ``pipeline.json`` (the pipeline CK replays, with the
dependencies it resolved) and per point ``ckp-<uid>.flat.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from .. import atomic
from ..errors import RequestError

CHAR = "##characteristics#run#"
FEAT = "##features#"
META_FILE = Path(".cm") / "meta.json"
PIPELINE_FILE = "pipeline.json"
PLATFORM_KEYS = ("cpu_name", "plat_name", "os_name", "cpu_cores", "cpu_threads", "memory_bytes")


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RequestError(f"{path}", "does not exist", "record the entry again") from None
    except (OSError, ValueError) as err:
        raise RequestError(f"{path}", f"is not readable JSON ({err})", "record the entry again") from None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN is no number


@dataclass(frozen=True)
class RecordedDependency:
    """A dependency as CK resolved it when the point was recorded (pipeline.json)."""

    key: str
    env_uid: str
    version: str
    tags: str


@dataclass(frozen=True)
class RecordedPoint:
    entry: str  # repo:alias, for messages
    uid: str
    flat: Mapping[str, Any]

    def values(self, key: str) -> tuple[float, ...]:
        """One value per statistical repetition of ``##characteristics#run#<key>``."""
        raw = self.flat.get(f"{CHAR}{key}#all")
        if not isinstance(raw, list):
            single = _number(self.flat.get(f"{CHAR}{key}#min"))
            return () if single is None else (single,)
        return tuple(n for n in (_number(v) for v in raw) if n is not None)

    def feature(self, key: str) -> Any:
        return self.flat.get(f"{FEAT}{key}#min")

    def meta(self, key: str) -> Any:
        return self.flat.get(f"{FEAT}meta#{key}#min")

    def platform(self) -> dict[str, Any]:
        return {key: self.meta(key) for key in PLATFORM_KEYS}

    @property
    def repetitions(self) -> int:
        reps = _number(self.feature("statistical_repetitions"))
        return int(reps) if reps is not None else 0


@dataclass(frozen=True)
class RecordedEntry:
    path: Path
    name: str  # repo:alias

    @property
    def alias(self) -> str:
        return self.path.name

    def point_uids(self) -> list[str]:
        return sorted(p.name[len("ckp-"):-len(".flat.json")] for p in self.path.glob("ckp-*.flat.json"))

    def point(self, uid: str = "") -> RecordedPoint:
        uids = self.point_uids()
        if not uids:
            raise RequestError(f"experiment:{self.name}", "has no recorded point (an interrupted record?)",
                               f"record one: ck benchmark ... --record --record_uoa={self.alias}, or "
                               f"remove it: ck check request.asplos18 --experiment={self.name} --fix")
        if not uid:
            if len(uids) > 1:
                raise RequestError(f"experiment:{self.name}", f"has {len(uids)} points",
                                   f"name one with --point=<uid>, one of {', '.join(uids)}")
            uid = uids[0]
        if uid not in uids:
            raise RequestError(f"point {uid} of experiment:{self.name}", "does not exist",
                               f"name one of {', '.join(uids)}")
        flat = read_json(self.path / f"ckp-{uid}.flat.json")
        if not isinstance(flat, dict):
            raise RequestError(f"point {uid} of experiment:{self.name}", "is not a JSON object", "record it again")
        return RecordedPoint(self.name, uid, flat)

    def pipeline(self) -> dict[str, Any]:
        path = self.path / PIPELINE_FILE
        if not path.is_file():
            return {}
        data = read_json(path)
        return data if isinstance(data, dict) else {}

    def dependencies(self) -> dict[str, RecordedDependency]:
        deps = self.pipeline().get("dependencies", {})
        if not isinstance(deps, dict):
            return {}
        return {key: RecordedDependency(key, str(dep.get("uoa", "")), str(dep.get("ver", "")),
                                        str(dep.get("tags", "")))
                for key, dep in sorted(deps.items()) if isinstance(dep, dict)}

    def description(self) -> dict[str, Any]:
        """The whole of .cm/meta.json (CK's own keys and, under ``meta``, the entry's)."""
        data = read_json(self.path / META_FILE)
        if not isinstance(data, dict):
            raise RequestError(f"{self.path / META_FILE}", "is not a JSON object", "record the entry again")
        return data

    def meta(self) -> dict[str, Any]:
        meta = self.description().get("meta", {})
        return meta if isinstance(meta, dict) else {}

    def update_meta(self, values: Mapping[str, Any]) -> None:
        """Merge ``values`` into the entry's meta, atomically (a reader sees old or new, never half)."""
        data = self.description()
        meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
        data["meta"] = {**meta, **values}
        atomic.write_json(self.path / META_FILE, data)

    def json_files(self) -> Iterator[Path]:
        for path in sorted(self.path.rglob("*.json")):
            if path.is_file():
                yield path
