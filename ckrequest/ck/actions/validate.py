"""ck validate request.asplos18 --experiment=X [--reproduced=Y] [--tolerance=5] [--point=UID] [--record_repo=R]

Without --reproduced, replays X with CK's own replay (stdin closed) and records the reproduction
in the repository `local` (or --record_repo); then compares the two metric by metric, prints the
table and records the verdict, the platform of each side and the date in the reproduction's meta
(``validations``: the history of what it was compared with). X itself is never written: the
reference results of this repository stay as they are. Exit status 1 for NOT REPRODUCED.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from ... import places
from ...errors import RequestError
from ...reproduce.check import CheckOptions, make_portable, this_hostnames
from ...reproduce.portable import machine_roots, replay_update
from ...reproduce.recorded_choices import check_entry
from ...reproduce.replay import ReplayRequest, run_replay
from ...reproduce.validate import Validation, validate_points
from ...reproduce.verdict_report import render
from ...reproduce.verdict_stats import DEFAULT_TOLERANCE, NOT_REPRODUCED, tolerance_fraction
from ...results.entry import RecordedEntry
from .. import flags as ck_flags
from .. import kernel as ck_kernel
from .check import open_experiment


@dataclass(frozen=True)
class ValidateOptions:
    experiment: str
    reproduced: str = ""
    point: str = ""
    tolerance: float = DEFAULT_TOLERANCE
    record_repo: str = ""  # where a reproduction and its verdict are recorded (default: local)
    verbose: bool = False

    @classmethod
    def from_ck(cls, i: Mapping[str, Any]) -> ValidateOptions:
        tolerance = ck_flags.text(i, "tolerance")
        return cls(experiment=ck_flags.required(i, "experiment", "ck validate request.asplos18"),
                   reproduced=ck_flags.text(i, "reproduced"), point=ck_flags.text(i, "point"),
                   tolerance=tolerance_fraction(tolerance) if tolerance else DEFAULT_TOLERANCE,
                   record_repo=ck_flags.text(i, "record_repo"), verbose=ck_flags.flag(i, "verbose"))


def reproduce(location: ck_kernel.EntryLocation, original: RecordedEntry, point_uid: str,
              options: ValidateOptions) -> tuple[RecordedEntry, float | None]:
    pipeline = original.pipeline()
    if not pipeline:
        raise RequestError(f"experiment:{original.name}", "has no pipeline.json: there is nothing to replay",
                           "compare with a reproduction recorded by hand: --reproduced=<entry>")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    name = f"{location.data_uoa}-reproduced-{stamp}"
    repo = options.record_repo or "local"
    log = Path(tempfile.gettempdir()) / f"ck-request-{name}.log"
    print(f"reproducing experiment:{original.name} with ck replay into experiment:{repo}:{name} ...")
    request = ReplayRequest(location.repo_uid, location.data_uid, point_uid, name, repo, replay_update(pipeline))
    load = run_replay(request, log, echo=sys.stdout, verbose=options.verbose)
    _, reproduced = open_experiment(f"{repo}:{name}")
    reproduced.update_meta({"reproduction_of": original.name, "foreign_cpu_load_cores": load})
    make_portable(reproduced, CheckOptions(roots=tuple(machine_roots(ck_kernel.repo_paths())),
                                           hostnames=this_hostnames()))
    log.unlink(missing_ok=True)  # kept only when the replay failed
    return reproduced, load


def run(i: dict[str, Any]) -> int:
    options = ValidateOptions.from_ck(i)
    location, original = open_experiment(options.experiment)
    point = original.point(options.point)
    if options.reproduced:
        _, reproduced = open_experiment(options.reproduced)
        load = None
    else:
        check_entry(original.path, original.name, point.uid)  # a stranger's pipeline: before anything runs
        reproduced, load = reproduce(location, original, point.uid, options)
    again = reproduced.point()
    queries = (point.query_latencies(original.path), again.query_latencies(reproduced.path))
    validation = validate_points(point, again, original.dependencies(), reproduced.dependencies(),
                                 options.tolerance, load, queries)
    print(render(validation))
    print(record_verdict(reproduced, validation))
    return 1 if validation.verdict == NOT_REPRODUCED else 0


def record_verdict(reproduced: RecordedEntry, validation: Validation) -> str:
    """Append the verdict to the reproduction's history, unless it is one of this repository's files."""
    if reproduced.path.resolve().is_relative_to(places.CHECKOUT):
        return (f"verdict not recorded: experiment:{reproduced.name} is a file of the ck-request checkout "
                "(record the reproduction in local to keep the verdict)")
    history = reproduced.meta().get("validations", [])
    history = history if isinstance(history, list) else []
    reproduced.update_meta({"validations": [*history, validation.as_meta()]})
    return f"verdict recorded in the meta of experiment:{reproduced.name} (validations)"
