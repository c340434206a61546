"""`ck check request.asplos18 --experiment=X`: is a recorded entry fit to contribute?

One problem per line. The checks: the unified keys (DESIGN.md §4) are present, each point has at
least three statistical repetitions, the platform is described, dependency versions and the
model's checksum are recorded, the weights say whether they are real or synthetic (and synthetic
ones give no accuracy), the pipeline replays on another machine, and no absolute path of this
machine or of a user's home, nor this machine's name, leaked into any file of the entry (its JSON,
and every text file: exploration logs, the Optuna journal, LoadGen's logs, gzipped or not, named
by file and line). A point a kill left half-written and an unreadable ``.cm/meta.json`` are named
with the one fix (``--fix`` removes the point, rebuilds the meta); an entry without a point is
removed by ``--fix`` only when it holds nothing but CK's bookkeeping, never an exploration's data.
"""

from __future__ import annotations

import gzip
import json
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from .. import atomic, places
from ..digest import cached_tree_sha256
from ..errors import RequestError
from ..models.model_info import ModelInfo
from ..results import schema
from ..results.entry import (
    META_FILE,
    PIPELINE_FILE,
    RecordedEntry,
    RecordedPoint,
    data_files,
    point_files,
    read_json,
    some_of,
    unreadable_json,
)
from ..run.config import NATIVE
from .portable import (
    MachineRoot,
    hostname_pattern,
    is_portable,
    leaked_paths,
    point_presets_deps,
    portable_pipeline,
    portable_point_file,
    scrub,
)
from .verdict_stats import MIN_REPETITIONS

PLATFORM_TEXT = ("cpu_name", "plat_name", "os_name")
PLATFORM_COUNTS = ("cpu_cores", "cpu_threads", "memory_bytes")
# these have checks of their own, with their own words
OWN_CHECKS = ("weights", "model_sha256", "statistical_repetitions", "library_name", *PLATFORM_TEXT, *PLATFORM_COUNTS)
SHA256 = re.compile(r"^[0-9a-f]{64}$")
VERSIONED_LIBRARY = re.compile(r"^\S+ \d")


@dataclass(frozen=True)
class Problem:
    where: str
    what: str
    fix: str = ""

    def line(self) -> str:
        return f"{self.where}: {self.what}" + (f" ({self.fix})" if self.fix else "")


@dataclass(frozen=True)
class CheckOptions:
    roots: tuple[MachineRoot, ...] = ()
    hostnames: tuple[str, ...] = ()
    allow_home_paths: bool = False
    allow_hostname: bool = False
    fix_command: str = "ck check request.asplos18 --experiment=<entry> --fix"
    # the model-info.json of a recorded model env entry, when this machine has it (re-hashed by the check)
    model_info_of: Callable[[str], Path | None] = lambda env_uid: None


def this_hostnames() -> tuple[str, ...]:
    """This machine's name (its domain name starts with it; no DNS lookup, which can hang offline)."""
    name = socket.gethostname().split(".")[0]
    return (name,) if name and name.lower() != "localhost" else ()


def run_kinds(point: RecordedPoint) -> set[str]:
    """What kind of run recorded the point, as results/schema.py names the runs that must record a key."""
    kinds = {schema.EVERY}
    scenario = point.stack_feature("scenario")
    if point.feature("mode") != "accuracy":
        if scenario != "Offline":  # Offline's one query has no latency of its own
            kinds.add(schema.PERFORMANCE)
        if point.feature("batch_size") == 1 and scenario in (NATIVE, "SingleStream"):
            kinds.add(schema.BATCH1)
        if scenario != NATIVE:
            kinds.add(schema.LOADGEN)
    if point.feature("weights") not in (None, "", "synthetic"):
        kinds.add(schema.REAL_ACCURACY)
    return kinds


def _missing(point: RecordedPoint, where: str) -> list[Problem]:
    """The keys the schema says this kind of run records."""
    fix = "record with ck-request's harness"
    problems = []
    for key in schema.required_for(run_kinds(point)):
        if key.name in OWN_CHECKS:
            continue
        if key.section == schema.CHARACTERISTIC:
            missing = not point.values(key.name)
        else:
            missing = (point.feature if key.section == schema.FEATURE else point.meta)(key.name) in (None, "")
        if missing:
            problems.append(Problem(where, f"{key.section} {key.name} missing", fix))
    return problems


def _repetitions(point: RecordedPoint, where: str) -> list[Problem]:
    fix = f"record again with --repetitions={MIN_REPETITIONS}"
    if point.repetitions < MIN_REPETITIONS:
        what = f"{point.repetitions} statistical repetition(s), at least {MIN_REPETITIONS} needed"
        return [Problem(where, what, fix)]
    short = [key for key in ("inference_latency", "latency_p50_s", "accuracy_top1_correct")
             if 0 < len(point.values(key)) < MIN_REPETITIONS]
    return [Problem(where, f"{key} has fewer than {MIN_REPETITIONS} values", fix) for key in short]


def _platform(point: RecordedPoint, where: str) -> list[Problem]:
    fix = "record on a machine ck-request can describe (cpu_name, os_name, cores, memory)"
    problems = [Problem(where, f"platform {key} not described", fix)
                for key in PLATFORM_TEXT if not str(point.meta(key) or "").strip()]
    for key in PLATFORM_COUNTS:
        value = point.meta(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            problems.append(Problem(where, f"platform {key} not described", fix))
    return problems


def _model_and_weights(point: RecordedPoint, where: str) -> list[Problem]:
    problems = []
    if not SHA256.match(str(point.feature("model_sha256") or "")):
        problems.append(Problem(where, "model checksum (model_sha256) not recorded", "reinstall the model package"))
    weights = point.feature("weights")
    if weights in (None, ""):
        problems.append(Problem(where, "weights not stated (real or synthetic)", "record with ck-request's harness"))
    elif weights == "synthetic" and any(point.values(k) for k in ("accuracy_top1", "accuracy_top5")):
        problems.append(Problem(where, "synthetic weights report an accuracy", "drop the accuracy figures"))
    if not VERSIONED_LIBRARY.match(str(point.meta("library_name") or "")):
        problems.append(Problem(where, "library version not recorded in library_name", "record with ck-request"))
    return problems


def _model_unchanged(entry: RecordedEntry, options: CheckOptions) -> list[Problem]:
    """The model the points recorded, re-hashed where this machine still has its files."""
    dep = entry.dependencies().get("model")
    info_path = options.model_info_of(dep.env_uid) if dep is not None else None
    if info_path is None or not info_path.is_file():
        return []
    try:
        info = ModelInfo.load(info_path)
        actual = cached_tree_sha256([info_path.parent / name for name in info.files], places.cache("digest-cache"))
    except (RequestError, OSError):
        return []
    return [Problem(f"experiment:{entry.name} point {point.uid}",
                    f"the model {info_path.parent / info.file} changed since this point was recorded "
                    f"(sha256 now {actual[:16]}..., recorded {str(recorded)[:16]}...)",
                    f"reinstall it (ck install package --tags={info.install_tags()} --reinstall --quiet) "
                    "and record again")
            for point in entry.points()
            if (recorded := point.feature("model_sha256")) and recorded != actual]


def _dependencies(entry: RecordedEntry, options: CheckOptions) -> list[Problem]:
    where = f"experiment:{entry.name} pipeline.json"
    if _pipeline_half_written(entry):
        return []  # half-written: named with the record's state
    pipeline = entry.pipeline()
    if not pipeline:
        return [Problem(where, "missing: no dependency versions, nothing to replay",
                        "record with ck benchmark --record")]
    deps = entry.dependencies()
    problems = [Problem(where, "no dependencies recorded", "record with ck benchmark --record")] if not deps else []
    problems += [Problem(where, f"dependency {d.key} has no version", "record again") for d in deps.values()
                 if not d.version]
    if not is_portable(pipeline) or _points_preset_deps(entry):
        problems.append(Problem(where, "dependencies bound to this machine's env entries: a replay elsewhere "
                                       "would stop to ask on stdin", f"run: {options.fix_command}"))
    return problems


def _pipeline_half_written(entry: RecordedEntry) -> str:
    """Why pipeline.json is not a readable JSON object ('' when it is, or is absent: the first record writes it)."""
    pipeline = entry.path / PIPELINE_FILE
    return unreadable_json(pipeline) if pipeline.exists() else ""


def _points_preset_deps(entry: RecordedEntry) -> bool:
    """Does a whole point pin env UIDs? Each of its files read once (a partial point is named by the record's state)."""
    for files in point_files(entry.path).values():
        if files.partial_because():
            continue
        try:
            data = [read_json(entry.path / name) for name in files.names()]
        except (OSError, ValueError):
            continue
        if all(isinstance(d, dict) for d in data) and any(point_presets_deps(d) for d in data):
            return True
    return False


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)


def entry_files(entry: RecordedEntry) -> list[Path]:
    """The entry's files, without the temporary files of writes a kill cut short."""
    return sorted(p for p in entry.path.rglob("*") if p.is_file() and not atomic.is_temporary(p.name))


def unfinished_writes(entry: RecordedEntry) -> list[Path]:
    return sorted(p for p in entry.path.rglob("*") if p.is_file() and atomic.is_temporary(p.name))


def read_text_file(path: Path) -> str | None:
    """A file's text (gunzipped); None for a binary file or one that cannot be read."""
    try:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile):
        return None
    return None if b"\0" in data else data.decode("utf-8", errors="replace")


def _parsed(path: Path, text: str) -> tuple[bool, Any]:
    """(True, the data) for a .json file that parses, else (False, the text)."""
    if path.name.endswith(".json"):
        try:
            return True, json.loads(text)
        except ValueError:  # not JSON after all (a partial file, named elsewhere): read as text
            pass
    return False, text


def _leaks(entry: RecordedEntry, options: CheckOptions) -> list[Problem]:
    problems = []
    hostnames = [] if options.allow_hostname else [(h, hostname_pattern(h)) for h in options.hostnames]
    fix = f"run: {options.fix_command}"
    for path in entry_files(entry):
        text = read_text_file(path)
        if text is None:
            continue
        where = f"experiment:{entry.name} {path.relative_to(entry.path)}"
        is_json, data = _parsed(path, text)
        if is_json:  # a JSON file: its strings, as they will read once parsed
            strings = list(_strings(data))
            paths = [] if options.allow_home_paths else sorted({p for s in strings
                                                                for p in leaked_paths(s, options.roots)})
            if paths:
                problems.append(Problem(where, f"{len(paths)} machine-specific path(s) leaked, e.g. {paths[0]}", fix))
            problems += [Problem(where, f"host name {name!r} leaked", fix)
                         for name, pattern in hostnames if any(pattern.search(s) for s in strings)]
            continue
        lines = text.splitlines()
        if not options.allow_home_paths:
            found = [(n, leaked_paths(line, options.roots)) for n, line in enumerate(lines, 1)]
            found = [(n, paths) for n, paths in found if paths]
            if found:
                count = len({p for _, paths in found for p in paths})
                problems.append(Problem(f"{where} line {found[0][0]}", f"{count} machine-specific path(s) leaked "
                                        f"in {len(found)} line(s), e.g. {found[0][1][0]}", fix))
        for name, pattern in hostnames:
            at = next((n for n, line in enumerate(lines, 1) if pattern.search(line)), 0)
            if at:
                problems.append(Problem(f"{where} line {at}", f"host name {name!r} leaked", fix))
    return problems


def _record_state(entry: RecordedEntry, options: CheckOptions) -> list[Problem]:
    """What a kill may leave: an unreadable meta, half-written points, a meta counting other points."""
    problems = []
    why = unreadable_json(entry.path / META_FILE)
    if why:
        problems.append(Problem(f"experiment:{entry.name} .cm/meta.json",
                                f"unreadable: it {why}; CK cannot load the entry",
                                f"run: {options.fix_command} (rebuilds it from the points on disk)"))
    why_pipeline = _pipeline_half_written(entry)
    if why_pipeline:
        problems.append(Problem(f"experiment:{entry.name} {PIPELINE_FILE}", f"{why_pipeline}: half-written by a kill",
                                f"run: {options.fix_command} (removes it; the next record writes it again)"))
    cut = unfinished_writes(entry)
    if cut:
        problems.append(Problem(f"experiment:{entry.name} {cut[0].relative_to(entry.path)}",
                                f"{len(cut)} temporary file(s) of writes a kill cut short",
                                f"run: {options.fix_command} (removes them)"))
    for uid, reason in entry.partial_points().items():
        problems.append(Problem(f"experiment:{entry.name} point {uid}", reason, f"run: {options.fix_command} "
                                "(removes it)"))
    counted = None if why else entry.description().get("points")
    on_disk = len(entry.point_uids())
    if counted is not None and str(counted) != str(on_disk) and not problems:
        problems.append(Problem(f"experiment:{entry.name} .cm/meta.json", f"counts {counted} point(s), "
                                f"{on_disk} on disk", f"run: {options.fix_command}"))
    return problems


def check_entry(entry: RecordedEntry, options: CheckOptions) -> list[Problem]:
    problems = _record_state(entry, options)
    points = entry.points()
    if not points:
        kept = data_files(entry.path)
        if kept:
            return problems + [Problem(f"experiment:{entry.name}", f"has no measured point; it keeps {some_of(kept)}",
                                       f"an exploration: continue it with ck explore request.asplos18 "
                                       f"--record_uoa={entry.alias} ... --resume; or remove it yourself: "
                                       f"ck rm experiment:{entry.name} --force")]
        return problems + [Problem(f"experiment:{entry.name}", "has no recorded point (an interrupted record?)",
                                   f"record one with ck benchmark --record, or remove it: {options.fix_command}")]
    for point in points:
        where = f"experiment:{entry.name} point {point.uid}"
        for check in (_missing, _repetitions, _platform, _model_and_weights):
            problems += check(point, where)
    problems += _dependencies(entry, options)
    problems += _model_unchanged(entry, options)
    problems += _leaks(entry, options)
    return problems


def remove_partial_points(entry: RecordedEntry) -> list[str]:
    """The `--fix` for what a kill left: the files of half-written points and of cut writes; the UIDs of the points."""
    for path in unfinished_writes(entry):
        path.unlink(missing_ok=True)
    partial = list(entry.partial_points())
    for uid in partial:
        entry.remove_point(uid)
    return partial


def repair_meta(entry: RecordedEntry) -> str:
    """An unreadable meta rebuilt from the files on disk, or its count of points made true; what was done."""
    if _pipeline_half_written(entry):
        (entry.path / PIPELINE_FILE).unlink()  # CK writes it only when absent: the next record writes it whole
    why = entry.rebuild_description()
    if why:
        return f".cm/meta.json rebuilt from the points on disk (it {why})"
    description = entry.description()
    count = str(len(entry.point_uids()))
    if description.get("points") == count:
        return ""
    atomic.write_json(entry.path / META_FILE, {**description, "points": count})
    return f"point count repaired ({count})"


def make_portable(entry: RecordedEntry, options: CheckOptions) -> list[Path]:
    """The `--fix`: portable pipeline.json, machine paths and host names replaced in every file; the files changed."""
    changed = []
    hostnames: Sequence[str] = () if options.allow_hostname else options.hostnames
    roots = None if options.allow_home_paths else list(options.roots)
    for path in entry_files(entry):
        text = read_text_file(path)
        if text is None:
            continue
        _, data = _parsed(path, text)
        if path == entry.path / PIPELINE_FILE and isinstance(data, dict):
            fixed = portable_pipeline(data)
        elif path.name.startswith("ckp-") and isinstance(data, dict):
            fixed = portable_point_file(data)
        else:
            fixed = data
        fixed = scrub(fixed, roots, hostnames)
        if fixed == data:
            continue
        new_text = fixed if isinstance(fixed, str) else json.dumps(fixed, indent=2, sort_keys=True) + "\n"
        if path.suffix == ".gz":
            atomic.write_bytes(path, gzip.compress(new_text.encode(), mtime=0))
        else:
            atomic.write_text(path, new_text)
        changed.append(path)
    return changed
