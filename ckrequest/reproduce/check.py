"""`ck check request.asplos18 --experiment=X`: is a recorded entry fit to contribute?

One problem per line. The checks: the unified keys (DESIGN.md §4) are present, each point has at
least three statistical repetitions, the platform is described, dependency versions and the
model's checksum are recorded, the weights say whether they are real or synthetic (and synthetic
ones give no accuracy), the pipeline replays on another machine, and no absolute path of this
machine or of a user's home, nor this machine's name, leaked into the entry.
"""

from __future__ import annotations

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
from ..results.entry import META_FILE, PIPELINE_FILE, RecordedEntry, RecordedPoint, read_json
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
    return [Problem(f"experiment:{entry.name} point {uid}",
                    f"the model {info_path.parent / info.file} changed since this point was recorded "
                    f"(sha256 now {actual[:16]}..., recorded {str(recorded)[:16]}...)",
                    f"reinstall it (ck install package --tags={info.install_tags()} --reinstall --quiet) "
                    "and record again")
            for uid in entry.point_uids()
            if (recorded := entry.point(uid).feature("model_sha256")) and recorded != actual]


def _dependencies(entry: RecordedEntry, options: CheckOptions) -> list[Problem]:
    where = f"experiment:{entry.name} pipeline.json"
    pipeline = entry.pipeline()
    if not pipeline:
        return [Problem(where, "missing: no dependency versions, nothing to replay",
                        "record with ck benchmark --record")]
    deps = entry.dependencies()
    problems = [Problem(where, "no dependencies recorded", "record with ck benchmark --record")] if not deps else []
    problems += [Problem(where, f"dependency {d.key} has no version", "record again") for d in deps.values()
                 if not d.version]
    points_bound = any(point_presets_deps(read_json(p)) for p in entry.path.glob("ckp-*.json"))
    if not is_portable(pipeline) or points_bound:
        problems.append(Problem(where, "dependencies bound to this machine's env entries: a replay elsewhere "
                                       "would stop to ask on stdin", f"run: {options.fix_command}"))
    return problems


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


def _leaks(entry: RecordedEntry, options: CheckOptions) -> list[Problem]:
    problems = []
    hostnames = [] if options.allow_hostname else [(h, hostname_pattern(h)) for h in options.hostnames]
    for path in entry.json_files():
        where = f"experiment:{entry.name} {path.relative_to(entry.path)}"
        strings = list(_strings(read_json(path)))
        paths = [] if options.allow_home_paths else sorted({p for s in strings for p in leaked_paths(s, options.roots)})
        if paths:
            problems.append(Problem(where, f"{len(paths)} machine-specific path(s) leaked, e.g. {paths[0]}",
                                    f"run: {options.fix_command}"))
        problems += [Problem(where, f"host name {name!r} leaked", f"run: {options.fix_command}")
                     for name, pattern in hostnames if any(pattern.search(s) for s in strings)]
    return problems


def check_entry(entry: RecordedEntry, options: CheckOptions) -> list[Problem]:
    uids = entry.point_uids()
    if not uids:
        return [Problem(f"experiment:{entry.name}", "has no recorded point (an interrupted record?)",
                        f"record one with ck benchmark --record, or remove it: {options.fix_command}")]
    problems: list[Problem] = []
    for uid in uids:
        point = entry.point(uid)
        where = f"experiment:{entry.name} point {uid}"
        for check in (_missing, _repetitions, _platform, _model_and_weights):
            problems += check(point, where)
    problems += _dependencies(entry, options)
    problems += _model_unchanged(entry, options)
    problems += _leaks(entry, options)
    return problems


def repair_points_count(entry: RecordedEntry) -> bool:
    """A record killed before CK updated the entry leaves a meta counting fewer points than there are."""
    try:
        description = entry.description()
    except RequestError:
        description = {}
    count = str(len(entry.point_uids()))
    if description.get("points") == count:
        return False
    atomic.write_json(entry.path / META_FILE, {**description, "points": count})
    return True


def make_portable(entry: RecordedEntry, options: CheckOptions) -> list[Path]:
    """The `--fix`: portable pipeline.json, machine paths and host names replaced; returns the files changed."""
    changed = []
    hostnames: Sequence[str] = () if options.allow_hostname else options.hostnames
    roots = None if options.allow_home_paths else list(options.roots)
    for path in entry.json_files():
        try:
            data = read_json(path)
        except RequestError:
            continue
        if path == entry.path / PIPELINE_FILE and isinstance(data, dict):
            fixed = portable_pipeline(data)
        elif path.name.startswith("ckp-") and isinstance(data, dict):
            fixed = portable_point_file(data)
        else:
            fixed = data
        fixed = scrub(fixed, roots, hostnames)
        if fixed != data:
            atomic.write_text(path, json.dumps(fixed, indent=2, sort_keys=True) + "\n")
            changed.append(path)
    return changed
