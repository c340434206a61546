"""The one reader of CK experiment entries on disk: files, numbers and repetitions, by one set of rules.

An entry is a folder ``<repo>/experiment/<alias>/`` with ``.cm/meta.json`` (CK keeps the entry's
own description under its ``meta`` key), ``pipeline.json`` (the pipeline CK replays, with the
dependencies it resolved) and per point ``ckp-<uid>.flat.json`` (every key, flattened) plus our
sidecars (``ckp-<uid>.predictions-<sub>.json``, ``ckp-<uid>.latencies-<sub>.json.gz``, and for a run
driven by MLPerf LoadGen ``ckp-<uid>.loadgen-summary-<sub>.txt``, ``...loadgen-detail-<sub>.txt.gz``,
``...loadgen-accuracy-<sub>.json.gz``).

CK's experiment module writes a point as four files, one after the other: ``ckp-<uid>.flat.json``,
``ckp-<uid>.0001.json`` (a subpoint), ``ckp-<uid>.features.json``, ``ckp-<uid>.features_flat.json``,
then updates ``.cm/meta.json``. A point is whole when all four are there (and, read by ``ck check``,
readable); a point a kill left half-written is *partial*: every reader ignores it, ``ck check`` names
it and its ``--fix`` removes it. An unreadable ``.cm/meta.json`` is read around and can be rebuilt from
the files on disk (``rebuilt_description``).

The rules, used by the scoreboard, the dashboard, validate, check and replay alike:

- a number is a finite int/float or a string holding one; ``None`` and ``""`` mean "not recorded";
  anything else (a bool, "n/a", NaN) makes the point malformed (``MalformedPoint``);
- the repetitions of a characteristic are the values of its ``#all`` list. When that list is k
  copies of its first ``statistical_repetitions`` values, it is one set of repetitions (the
  original ReQuEST results' re-runs appended such copies); otherwise every value is a repetition
  (a point recorded twice by CK 2.6.4 holds both runs).
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import orjson

from .. import SCENARIO_MODULE_UID, atomic
from ..errors import RequestError
from ..run.config import NATIVE

META_FILE = Path(".cm") / "meta.json"
INFO_FILE = Path(".cm") / "info.json"
PIPELINE_FILE = "pipeline.json"
POINT_SUFFIX = ".flat.json"
# CK's own files of a point (a subpoint is .NNNN.json); a point is whole with one of each part
POINT_FILE = re.compile(r"^ckp-(?P<uid>[^.]+)\.(?P<part>flat|features|features_flat|\d{4})\.json$")
POINT_PARTS = ("flat", "subpoint", "features", "features_flat")  # in the order CK writes them
KILLED = "a record killed while CK wrote it"
CK_BOOKKEEPING = (PIPELINE_FILE, "desc.json")  # what CK writes into an entry besides points (and .cm/)
# our files next to CK's, per point and subpoint (CK takes any ckp-<point>.<4 characters>.* for a subpoint
# of its own, so ours are named <kind>-<subpoint>)
SIDECARS = {"predictions": ".json", "latencies": ".json.gz",
            # MLPerf LoadGen's logs: every repetition's summary and detail, the last accuracy log
            "loadgen-summary": ".txt", "loadgen-detail": ".txt.gz", "loadgen-accuracy": ".json.gz"}


def sidecar_path(entry_dir: Path, point: str, kind: str, sub_point: int) -> Path:
    return entry_dir / f"ckp-{point}.{kind}-{sub_point:04d}{SIDECARS[kind]}"


def sidecar_paths(entry_dir: Path, point: str, kind: str) -> list[Path]:
    """A point's sidecars of one kind, oldest subpoint first ("*" for every point)."""
    return sorted(entry_dir.glob(f"ckp-{point}.{kind}-[0-9][0-9][0-9][0-9]{SIDECARS[kind]}"))


@dataclass(frozen=True)
class PointFiles:
    """CK's files of one point on disk: part ("flat", "subpoint", ...) -> [(file name, size)]."""

    uid: str
    parts: dict[str, list[tuple[str, int]]]

    def names(self) -> list[str]:
        return sorted(name for files in self.parts.values() for name, _ in files)

    def partial_because(self, entry_dir: Path | None = None) -> str:
        """Why the point is not whole ('' when it is): a part missing or empty; with ``entry_dir``, also a
        part that is not a JSON object (``ck check`` reads them all; the board trusts atomic writes)."""
        missing = [part for part in POINT_PARTS if part not in self.parts]
        if missing:
            return f"partial point: no {', '.join(missing)} file ({KILLED})"
        for name, size in sorted(f for files in self.parts.values() for f in files):
            if size == 0:
                return f"partial point: {name} is empty ({KILLED})"
            if entry_dir is not None:
                why = unreadable_json(entry_dir / name)
                if why:
                    return f"partial point: {name} {why} ({KILLED})"
        return ""


def point_files(entry_dir: Path, sizes: bool = True) -> dict[str, PointFiles]:
    """CK's point files in ``entry_dir``, by point UID (one directory listing); without ``sizes`` (the
    board: atomic saves never leave an empty file) a size is -1 and only presence counts."""
    found: dict[str, PointFiles] = {}
    with os.scandir(entry_dir) as items:
        for item in items:
            if not item.name.startswith("ckp-"):
                continue
            match = POINT_FILE.match(item.name)
            if match is None:
                continue
            part = "subpoint" if match["part"].isdigit() else match["part"]
            try:
                size = item.stat().st_size if sizes else -1
            except FileNotFoundError:  # removed while listed
                continue
            point = found.setdefault(match["uid"], PointFiles(match["uid"], {}))
            point.parts.setdefault(part, []).append((item.name, size))
    return dict(sorted(found.items()))


def data_files(entry_dir: Path) -> list[str]:
    """What an entry holds besides CK's own files (.cm/, pipeline.json, desc.json, point files): an
    exploration's log and journal, sidecars... (relative paths)."""
    kept = []
    for path in sorted(entry_dir.rglob("*")):
        relative = path.relative_to(entry_dir)
        ck_own = (relative.parts[0] == ".cm" or str(relative) in CK_BOOKKEEPING or POINT_FILE.match(path.name)
                  or atomic.is_temporary(path.name))  # a write a kill cut short is no data
        if path.is_file() and not ck_own:
            kept.append(str(relative))
    return kept


def some_of(names: list[str]) -> str:
    """The first three names, and ' ...' when there are more (for a message)."""
    return f"{', '.join(names[:3])}{' ...' if len(names) > 3 else ''}"


def unreadable_json(path: Path) -> str:
    """Why ``path`` is not a readable JSON object ('' when it is)."""
    try:
        if path.stat().st_size == 0:
            return "is empty"
        data = read_json(path)
    except FileNotFoundError:
        return "is missing"
    except (OSError, ValueError) as err:
        return f"is not readable JSON ({str(err).splitlines()[0][:80]})"
    return "" if isinstance(data, dict) else "is not a JSON object"


class MalformedPoint(ValueError):
    """A point that cannot be read as a result; the message says why."""


def read_json(path: Path) -> Any:
    """orjson (3x faster on 10,000 points), falling back to json for what it refuses (NaN, as CK may write)."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def read_json_or_fail(path: Path) -> Any:
    """``read_json`` with a one-line error naming the file (for commands about one entry)."""
    try:
        return read_json(path)
    except FileNotFoundError:
        raise RequestError(f"{path}", "does not exist", "record the entry again") from None
    except (OSError, ValueError) as err:
        raise RequestError(f"{path}", f"is not readable JSON ({err})", "record the entry again") from None


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


def flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("yes", "no", "true", "false"):
        return value.lower() in ("yes", "true")
    return None


def repetition_count(flat: Mapping[str, Any]) -> int:
    """``statistical_repetitions`` as recorded (0 when not)."""
    reps = number(flat.get("##features#statistical_repetitions#min"), "statistical_repetitions")
    return int(reps) if reps is not None and reps >= 1 else 0


def _numbers_of(values: list, name: str) -> list[float]:
    if all(type(v) is float or type(v) is int for v in values) and all(map(math.isfinite, values)):
        return [float(v) for v in values]  # the usual case, first
    return [n for n in (number(v, name) for v in values) if n is not None]


def repetition_values(flat: Mapping[str, Any], name: str, count: int | None = None) -> list[float]:
    """The repetitions of characteristic ``name`` (see the module's rules); ``count``: repetition_count(flat)."""
    values = flat.get(f"##characteristics#run#{name}#all")
    if not isinstance(values, list):
        if f"##characteristics#run#{name}#min" not in flat:  # CK writes #min beside every #all
            return []
        for stat in ("center", "mean", "min"):
            single = number(flat.get(f"##characteristics#run#{name}#{stat}"), name)
            if single is not None:
                return [single]
        return []
    count = repetition_count(flat) if count is None else count
    if count and len(values) > count and len(values) % count == 0 and values == values[:count] * (len(values) // count):
        values = values[:count]
    return _numbers_of(values, name)


@dataclass(frozen=True)
class RecordedDependency:
    """A dependency as CK resolved it when the point was recorded (pipeline.json)."""

    key: str
    env_uid: str
    version: str
    tags: str
    name: str = ""


@dataclass(frozen=True)
class RecordedPoint:
    """One point's flat file, read by the rules above."""

    entry: str  # repo:alias, for messages
    uid: str
    flat: Mapping[str, Any]

    def values(self, name: str) -> tuple[float, ...]:
        """One value per statistical repetition of ``##characteristics#run#<name>``."""
        try:
            return tuple(repetition_values(self.flat, name))
        except MalformedPoint as err:
            raise RequestError(f"point {self.uid} of experiment:{self.entry}", str(err), "record it again") from None

    def feature(self, name: str) -> Any:
        return self.flat.get(f"##features#{name}#min")

    def meta(self, name: str) -> Any:
        return self.flat.get(f"##features#meta#{name}#min")

    def stack_feature(self, name: str) -> Any:
        """A feature as a stack compares it: a point recorded before LoadGen scenarios ran our harness."""
        value = self.feature(name)
        return NATIVE if name == "scenario" and value in (None, "") else value

    def platform(self) -> dict[str, Any]:
        return {key: self.meta(key) for key in ("cpu_name", "plat_name", "os_name", "cpu_cores", "cpu_threads",
                                                "memory_bytes")}

    def query_latencies(self, entry_dir: Path) -> list[list[float]]:
        """Every timed query's latency (s) per repetition, from the point's latencies sidecars; [] if none."""
        repetitions: list[list[float]] = []
        for path in sidecar_paths(entry_dir, self.uid, "latencies"):
            try:
                with gzip.open(path, "rt", encoding="utf-8") as handle:
                    data = json.load(handle)
                repetitions += [[ns / 1e9 for ns in rep] for rep in data["repetitions"]]
            except (OSError, ValueError, KeyError, TypeError) as err:
                raise RequestError(f"{path}", f"unreadable ({err})", "record the point again") from None
        return repetitions

    @property
    def repetitions(self) -> int:
        """How many repetitions the point holds (its latency's, else its throughput's, else recorded)."""
        for name in ("latency_p50_s", "inference_throughput", "accuracy_top1_correct"):
            values = self.values(name)
            if values:
                return len(values)
        reps = number(self.feature("statistical_repetitions"), "statistical_repetitions")
        return int(reps) if reps is not None else 0


@dataclass(frozen=True)
class RecordedEntry:
    path: Path
    name: str  # repo:alias

    @property
    def alias(self) -> str:
        return self.path.name

    def point_uids(self) -> list[str]:
        """The whole points (a partial one is not a point: see the module's description)."""
        return [uid for uid, files in point_files(self.path).items() if not files.partial_because()]

    def partial_points(self) -> dict[str, str]:
        """Points a kill left half-written, every file read: UID -> why."""
        found = {uid: files.partial_because(self.path) for uid, files in point_files(self.path).items()}
        return {uid: why for uid, why in found.items() if why}

    def remove_point(self, uid: str) -> list[str]:
        """Remove a point's files (CK's and our sidecars); the names removed."""
        names = sorted(p.name for p in self.path.glob(f"ckp-{uid}.*") if p.is_file())
        for name in names:
            (self.path / name).unlink(missing_ok=True)
        return names

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
        return self._read_point(uid)

    def points(self) -> list[RecordedPoint]:
        """Every whole point, from one listing of the entry (``point`` per UID lists it again each time)."""
        return [self._read_point(uid) for uid in self.point_uids()]

    def _read_point(self, uid: str) -> RecordedPoint:
        flat = read_json_or_fail(self.path / f"ckp-{uid}{POINT_SUFFIX}")
        if not isinstance(flat, dict):
            raise RequestError(f"point {uid} of experiment:{self.name}", "is not a JSON object", "record it again")
        return RecordedPoint(self.name, uid, flat)

    def pipeline(self) -> dict[str, Any]:
        path = self.path / PIPELINE_FILE
        if not path.is_file():
            return {}
        data = read_json_or_fail(path)
        return data if isinstance(data, dict) else {}

    def dependencies(self) -> dict[str, RecordedDependency]:
        return dependencies_of(self.pipeline())

    def description(self) -> dict[str, Any]:
        """The whole of .cm/meta.json (CK's own keys and, under ``meta``, the entry's)."""
        data = read_json_or_fail(self.path / META_FILE)
        if not isinstance(data, dict):
            raise RequestError(f"{self.path / META_FILE}", "is not a JSON object", "record the entry again")
        return data

    def rebuilt_description(self) -> dict[str, Any]:
        """.cm/meta.json as CK keeps it for an entry of recorded points, from the files on disk: when it was
        added (.cm/info.json), the scenario module, the pipeline's UID (pipeline.json, else a point), the count."""
        rebuilt: dict[str, Any] = {}
        info = _json_object(self.path / INFO_FILE)
        if isinstance(info.get("control"), dict):
            rebuilt["added"] = info["control"]
        rebuilt["meta"] = {"scenario_module_uoa": SCENARIO_MODULE_UID}
        uids = self.point_uids()
        choices = _json_object(self.path / PIPELINE_FILE).get("choices")
        pipeline_uid = choices.get("module_uoa") if isinstance(choices, dict) else None
        for uid in uids if not pipeline_uid else ():
            pipeline_uid = _json_object(self.path / f"ckp-{uid}{POINT_SUFFIX}").get("##choices#module_uoa")
            if pipeline_uid:
                break
        if pipeline_uid:
            rebuilt["pipeline_uid"] = rebuilt["pipeline_uoa"] = str(pipeline_uid)
        rebuilt["points"] = str(len(uids))
        return rebuilt

    def rebuild_description(self) -> str:
        """Rewrite an unreadable .cm/meta.json from the files on disk; why it was unreadable ('' if it was not)."""
        why = unreadable_json(self.path / META_FILE)
        if why:
            atomic.write_json(self.path / META_FILE, self.rebuilt_description())
        return why

    def meta(self) -> dict[str, Any]:
        meta = self.description().get("meta", {})
        return meta if isinstance(meta, dict) else {}

    def update_meta(self, values: Mapping[str, Any]) -> None:
        """Merge ``values`` into the entry's meta, atomically (a reader sees old or new, never half)."""
        data = self.description()
        meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
        data["meta"] = {**meta, **values}
        atomic.write_json(self.path / META_FILE, data)


def _json_object(path: Path) -> dict[str, Any]:
    try:
        data = read_json(path)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def dependencies_of(pipeline: Mapping[str, Any]) -> dict[str, RecordedDependency]:
    deps = pipeline.get("dependencies", {})
    if not isinstance(deps, dict):
        return {}
    return {key: RecordedDependency(key, str(dep.get("uoa", "")), str(dep.get("ver", "")), str(dep.get("tags", "")),
                                    clean_text(dep.get("name") or key))
            for key, dep in sorted(deps.items()) if isinstance(dep, dict)}
