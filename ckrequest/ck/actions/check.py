"""ck check request.asplos18 --experiment=X [--fix] [--allow_home_paths] [--allow_hostname]: fit to contribute?"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...errors import RequestError
from ...reproduce.check import (
    CheckOptions,
    check_entry,
    make_portable,
    remove_partial_points,
    repair_meta,
    this_hostnames,
)
from ...reproduce.portable import machine_roots
from ...results.entry import RecordedEntry, data_files, some_of
from ...safe_text import for_terminal
from .. import kernel as ck_kernel
from ..flags import flag, required
from ..recording import LOCK_FILE, clear_stale_lock, lock_owner


def find_experiment(name: str) -> ck_kernel.EntryLocation:
    try:
        return ck_kernel.find_entry("experiment", name)
    except RequestError:
        raise RequestError(f"experiment:{name}", "not found in any CK repository",
                           "list them: ck list experiment; name one as <repo>:<entry> if it is ambiguous") from None


def open_experiment(name: str) -> tuple[ck_kernel.EntryLocation, RecordedEntry]:
    location = find_experiment(name)
    return location, RecordedEntry(location.path, location.name)


def model_info_of(env_uid: str) -> Path | None:
    path = ck_kernel.env_variables(env_uid).get("CK_ENV_MODEL_INFO", "")
    return Path(path) if path else None


def fix(location: ck_kernel.EntryLocation, entry: RecordedEntry, options: CheckOptions) -> bool:
    """The one fix for each problem a record's kill or a machine leaves; an exploration's data is never removed.
    True when the entry was removed (it held nothing)."""
    clear_stale_lock(entry.path, print)
    if (entry.path / LOCK_FILE).exists():  # a live record: its point is being written, not half-written
        owner = lock_owner(entry.path)
        raise RequestError(f"experiment:{entry.name}", f"is being recorded (locked by process {owner})",
                           "run the fix again when that record ends")
    for uid in remove_partial_points(entry):
        print(f"experiment:{entry.name}: removed partial point {uid} (a record killed while CK wrote it)")
    if not entry.point_uids():
        kept = data_files(entry.path)
        if not kept:
            ck_kernel.remove_entry("experiment", location)
            print(f"experiment:{entry.name}: removed (it had no point: an interrupted record)")
            return True
        print(f"experiment:{entry.name}: kept, without a point: it holds {some_of(kept)}")
    repaired = repair_meta(entry)
    if repaired:
        print(f"experiment:{entry.name}: {repaired}")
    changed = make_portable(entry, options)
    print(f"experiment:{entry.name}: made portable ({len(changed)} file(s) rewritten)")
    return False


def run(i: dict[str, Any]) -> int:
    name = required(i, "experiment", "ck check request.asplos18")
    location, entry = open_experiment(name)
    options = CheckOptions(roots=tuple(machine_roots(ck_kernel.repo_paths())), hostnames=this_hostnames(),
                           allow_home_paths=flag(i, "allow_home_paths"), allow_hostname=flag(i, "allow_hostname"),
                           fix_command=f"ck check request.asplos18 --experiment={name} --fix",
                           model_info_of=model_info_of)
    if flag(i, "fix") and fix(location, entry, options):
        return 0
    problems = check_entry(entry, options)
    for problem in problems:
        print(for_terminal(problem.line()))
    if problems:
        return 1
    print(f"experiment:{entry.name}: fit to contribute ({len(entry.point_uids())} point(s))")
    return 0
