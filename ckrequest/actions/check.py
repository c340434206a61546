"""ck check request.asplos18 --experiment=X [--fix] [--allow_home_paths] [--allow_hostname]: fit to contribute?"""

from __future__ import annotations

from typing import Any

from .. import ck_kernel
from ..checker import CheckOptions, check_entry, make_portable, this_hostnames
from ..errors import RequestError
from ..replay_entry import RecordedEntry
from ..replay_pipeline import machine_roots
from ..validate_options import flag, required


def open_experiment(name: str) -> tuple[ck_kernel.EntryLocation, RecordedEntry]:
    try:
        location = ck_kernel.find_entry("experiment", name)
    except RequestError:
        raise RequestError(f"experiment:{name}", "not found in any CK repository",
                           "list them: ck list experiment; name one as <repo>:<entry> if it is ambiguous") from None
    return location, RecordedEntry(location.path, location.name)


def run(i: dict[str, Any]) -> int:
    name = required(i, "experiment", "check")
    _, entry = open_experiment(name)
    options = CheckOptions(roots=tuple(machine_roots(ck_kernel.repo_paths())), hostnames=this_hostnames(),
                           allow_home_paths=flag(i, "allow_home_paths"), allow_hostname=flag(i, "allow_hostname"),
                           fix_command=f"ck check request.asplos18 --experiment={name} --fix")
    if flag(i, "fix"):
        changed = make_portable(entry, options)
        print(f"experiment:{entry.name}: made portable ({len(changed)} file(s) rewritten)")
    problems = check_entry(entry, options)
    for problem in problems:
        print(problem.line())
    if problems:
        return 1
    print(f"experiment:{entry.name}: fit to contribute ({len(entry.point_uids())} point(s))")
    return 0
