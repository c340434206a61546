"""Hooks CK calls inside a program pipeline (pre_process_via_ck, post_process_via_ck)."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..errors import ERROR_PREFIX, RequestError, ck_failure
from ..reproduce import replay_summary
from ..reproduce.recorded_choices import check_entry
from ..results.entry import RecordedEntry, RecordedPoint
from ..results.writer import REQUEST_FILE, RUN_DIR_VAR, TIMER_FILE
from ..run.run_vars import check_run_env
from . import flags as ck_flags
from . import pauses, run_scripts
from . import recording as ck_recording

FAILED_RUN_EXIT = 2
# what the pre-process hook sets for one run; CK reads the timer file XOPENME_TIME_FILE names, if set, when
# the run ends (it took the name before the run), and the post-process hook takes both out again
RUN_ENV = (RUN_DIR_VAR, "XOPENME_TIME_FILE")


def ck_preprocess(i: dict[str, Any]) -> dict[str, Any]:
    """Give the run a folder of its own and point CK at the timer file in it.

    CK reads the fine-grain timer file named by XOPENME_TIME_FILE when it is set, so two runs of
    the same program at the same time each read their own results.
    """
    pauses.skip_in_this_process()
    kernel = i.get("ck_kernel")
    if kernel is not None and not ck_recording.installed(kernel):  # once per process
        ck_recording.install(kernel)
        _watch_replay()
    refused = _refused(i.get("env") if isinstance(i.get("env"), dict) else {})
    if refused is not None:
        return refused
    run_scripts.remove_stale_run_scripts(Path.cwd())  # CK runs a program of ours in its folder
    run_dir = Path(tempfile.mkdtemp(prefix="ck-request-run-"))
    return {"return": 0, "new_env": dict(zip(RUN_ENV, (str(run_dir), str(run_dir / TIMER_FILE))))}


def _refused(env: dict[str, Any]) -> dict[str, Any] | None:
    """CK has written every run variable into the run script, not yet run it: one it may not have stops it here
    (and, typed as `ck replay experiment:X`, anything else of the recorded entry that is not what it may be)."""
    try:
        target = replay_summary.replay_target(ck_flags.typed_command_line())
        if target is not None:
            from . import kernel as ck_kernel

            location = ck_kernel.find_entry("experiment", target.entry)
            check_entry(location.path, location.name, target.point.split("-")[0])
        check_run_env(env)
    except RequestError as err:
        print(ERROR_PREFIX + err.line(), file=sys.stderr)
        if ck_recording.searching():  # a trial of an exploration: the trial is skipped, the search goes on
            return ck_failure(err)
        raise SystemExit(FAILED_RUN_EXIT) from None
    return None


def _open_point(target: replay_summary.ReplayTarget) -> RecordedPoint:
    from . import kernel as ck_kernel

    location = ck_kernel.find_entry("experiment", target.entry)
    return RecordedEntry(location.path, location.name).point(target.point)


def _watch_replay() -> None:
    """Typed as `ck replay experiment:X`: end with the summary of the replayed metrics."""
    target = replay_summary.replay_target(ck_flags.typed_command_line())
    if target is not None:
        replay_summary.register(target, _open_point, ck_recording.measured)


def ck_postprocess(i: dict[str, Any]) -> dict[str, Any]:
    """Put the harness's features (and, nested under `meta`, its names) into the experiment point.

    CK records `misc['add_to_features']` as the point's features (##features#<key>). When the
    harness failed it wrote no file: CK 2.6.4 would then carry on and exit 0, so we stop the
    whole `ck` command here with a non-zero status, before anything is recorded.
    """
    env = i.get("env") if isinstance(i.get("env"), dict) else {}
    run_dir = Path(env.get(RUN_DIR_VAR) or Path.cwd())
    for name in RUN_ENV:  # CK records its env as the point's choices: a folder of this run is not one of them
        env.pop(name, None)
    ck_recording.add_run(run_dir)
    path = run_dir / REQUEST_FILE
    try:
        data = json.loads(path.read_text())
        path.unlink()  # consumed: a later failed run cannot pick up this run's file
    except (OSError, ValueError):
        print("ck-request: the benchmark failed (its error is above); no experiment point recorded",
              file=sys.stderr)
        ck_recording.forget_runs()
        if ck_recording.searching():  # a trial of an exploration: CK records nothing, the search goes on
            return {"return": 1, "error": "the benchmark failed (its error is above)"}
        raise SystemExit(FAILED_RUN_EXIT) from None
    features = dict(data.get("features", {}))
    features["meta"] = data.get("meta", {})
    return {"return": 0, "misc": {"add_to_features": features}}
