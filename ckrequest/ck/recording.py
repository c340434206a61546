"""What ck-request adds to CK's recording of a point, from inside the `ck` process.

The programs' pre-process hook installs, once per process, a guard around the kernel's ``access``
(CK's modules call every action through it):

- before CK locks or updates an experiment entry, a lock left by a process that is gone is
  removed with a message: CK would wait up to 120 s for it to expire. CK's update that creates a
  new entry runs one process at a time (two records into one new entry race on its alias files); CK's lock file names no
  process, so the guard writes the PID of the process holding each lock next to it
  (``.cm/ck_lock.pid``) and removes it when CK unlocks;
- CK's statistics fit a density (scipy's gaussian_kde) to every key over the repetitions; for a key
  that is 0 in every repetition scipy 1.10+ fails with a message CK prints as a warning, key by key.
  The guard answers those as CK does when the fit fails (no peaks), without the message;
- when CK records a point (``experiment add``), the entry's meta names the scenario module (so
  ``ck replay`` compares the keys module request.asplos18 declares, as for the original ReQuEST
  entries), and afterwards the runs' sidecar files are written next to the point:
  ``ckp-<point>.predictions-<subpoint>.json`` (each image's expected and top-5 classes),
  ``ckp-<point>.latencies-<subpoint>.json.gz`` (every timed query of every repetition) and, for runs
  driven by MLPerf LoadGen, its logs: ``ckp-<point>.loadgen-summary-<subpoint>.txt`` and
  ``...loadgen-detail-<subpoint>.txt.gz`` (every repetition's, one after the other),
  ``...loadgen-accuracy-<subpoint>.json.gz`` (the last repetition's accuracy log, in accuracy mode).
"""

from __future__ import annotations

import atexit
import fcntl
import gzip
import json
import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from .. import SCENARIO_MODULE_UID, atomic, places
from ..results.entry import RecordedEntry, sidecar_path
from ..results.writer import LATENCIES_FILE, LOADGEN_DIR, PREDICTIONS_FILE, TIMER_FILE
from ..run.loadgen_log import ACCURACY_LOG, DETAIL_LOG, SUMMARY_LOG

EXPERIMENT_MODULE = ("experiment", "bc0409fb61f0aa82")  # CK's modules, by alias and UID
VARIATION_MODULE = ("math.variation", "d3b13388e6152da7")
NO_PEAKS = {"return": 0, "xlist": [], "ylist": [], "xlist2": [], "ylist2": [], "xlist2s": [], "ylist2s": []}
LOCK_FILE = Path(".cm") / "ck_lock.txt"
REPETITION_MARK = "# ck-request: LoadGen's log of repetition {k} of {n}"  # between the repetitions' logs
OWNER_FILE = Path(".cm") / "ck_lock.pid"
WRITTEN_ONCE = ("pipeline.json", "desc.json")  # an entry's files CK's experiment add writes only when absent
_GUARD = "_ckrequest_guard"

_search = {"active": False}  # an exploration runs trials inside this process: a failed run must not end it
_runs: list[Path] = []  # run folders of this process whose results are not recorded yet
_measured: list[dict[str, Any]] = []  # the characteristics of every run of this process, in order


def pid_alive(pid: int, since: float) -> bool:
    """Is process ``pid`` running and the same one as at ``since`` (a PID can be reused)?"""
    import psutil

    try:
        return psutil.Process(pid).create_time() <= since + 1.0
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False


def lock_owner(entry: Path) -> int | None:
    try:
        return int((entry / OWNER_FILE).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def clear_stale_lock(entry: Path, say: Callable[[str], None]) -> bool:
    """Remove ``entry``'s CK lock when the process that took it is gone; True if removed."""
    lock = entry / LOCK_FILE
    try:
        taken = lock.stat().st_mtime
    except FileNotFoundError:
        return False
    owner = lock_owner(entry)
    if owner is None or owner == os.getpid() or pid_alive(owner, taken):
        return False  # not ours to judge (CK's own expiry applies), or held by a live process
    lock.unlink(missing_ok=True)
    (entry / OWNER_FILE).unlink(missing_ok=True)
    say(f"ck-request: removed a stale CK lock on {entry.parent.name}:{entry.name} "
        f"(taken by process {owner}, which is gone)")
    for name in WRITTEN_ONCE:  # CK writes these only when absent: half a file would stay for good
        if _half_written(entry / name):
            (entry / name).unlink()
            say(f"ck-request: removed {name} of {entry.parent.name}:{entry.name}, half-written by process {owner} "
                "(CK writes it again with the next point)")
    return True


def _rebuild_meta(entry: Path, say: Callable[[str], None]) -> None:
    """CK cannot load an entry whose .cm/meta.json is unreadable (an older kill): rebuilt from its points."""
    why = RecordedEntry(entry, entry.name).rebuild_description()
    if why:
        say(f"ck-request: rebuilt .cm/meta.json of {entry.parent.name}:{entry.name}, which {why}")


def _half_written(path: Path) -> bool:
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        return True
    return False


@contextmanager
def one_at_a_time(lock_path: Path) -> Iterator[None]:
    """An exclusive lock between processes (flock: released by the kernel if the process dies)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_owner(entry: Path) -> None:
    atomic.write_text(entry / OWNER_FILE, f"{os.getpid()}\n")


def searching() -> bool:
    return _search["active"]


@contextmanager
def trials_in_this_process() -> Iterator[None]:
    """While an exploration runs its trials in this `ck` process, a failed run fails the trial, not the process;
    each trial starts with nothing of an earlier one (a run it left unrecorded is not this trial's)."""
    forget_runs()
    _measured.clear()
    _search["active"] = True
    try:
        yield
    finally:
        _search["active"] = False


def add_run(run_dir: Path) -> None:
    """A run of this process finished: its sidecar files go with the next recorded point."""
    _runs.append(run_dir)
    timer = _load(run_dir / TIMER_FILE)
    if isinstance(timer, dict):
        _measured.append(timer)


def measured() -> list[dict[str, Any]]:
    """The characteristics of the runs this process made so far (one dict per repetition)."""
    return list(_measured)


def forget_runs() -> None:
    for run_dir in _runs:
        shutil.rmtree(run_dir, ignore_errors=True)
    _runs.clear()


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def write_sidecars(entry: Path, point: str, sub_point: int) -> list[Path]:
    """What the runs behind the point just recorded kept besides CK's keys, next to the point:
    the per-image predictions (of the last run) and every run's per-query latencies."""
    written = []
    predictions = [p for p in (_load(run / PREDICTIONS_FILE) for run in _runs) if p]
    if predictions and point:
        last = predictions[-1]
        data = {**last, "repetitions": len(predictions),
                "same_in_every_repetition": all(p.get("images") == last.get("images") for p in predictions)}
        path = sidecar_path(entry, point, "predictions", sub_point)
        atomic.write_text(path, json.dumps(data, indent=1) + "\n")
        written.append(path)
    latencies = [p for p in (_load(run / LATENCIES_FILE) for run in _runs) if p]
    if latencies and point:
        data = {"version": 1, "unit": "ns", "batch_size": latencies[-1].get("batch_size"),
                "repetitions": [p.get("latencies", []) for p in latencies]}
        path = sidecar_path(entry, point, "latencies", sub_point)
        atomic.write_bytes(path, gzip.compress(json.dumps(data, separators=(",", ":")).encode(), mtime=0))
        written.append(path)
    if point:
        written += _write_loadgen_logs(entry, point, sub_point)
    forget_runs()
    return written


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _write_loadgen_logs(entry: Path, point: str, sub_point: int) -> list[Path]:
    """LoadGen's logs of the runs behind the point: the summaries and detail logs of every repetition (as
    LoadGen wrote them when there is one), the accuracy log of the last when it holds responses."""
    logs = [run / LOADGEN_DIR for run in _runs if (run / LOADGEN_DIR / SUMMARY_LOG).is_file()]
    if not logs:
        return []

    def joined(name: str) -> str:
        texts = [_read_text(log / name) for log in logs]
        if len(texts) == 1:
            return texts[0]
        return "".join(REPETITION_MARK.format(k=k, n=len(texts)) + "\n" + text for k, text in enumerate(texts, 1))

    written = [sidecar_path(entry, point, "loadgen-summary", sub_point),
               sidecar_path(entry, point, "loadgen-detail", sub_point)]
    atomic.write_text(written[0], joined(SUMMARY_LOG))
    atomic.write_bytes(written[1], gzip.compress(joined(DETAIL_LOG).encode(), mtime=0))
    accuracy = _read_text(logs[-1] / ACCURACY_LOG)
    if accuracy.strip().strip("[]").strip():  # LoadGen writes an empty list when it logged no response
        written.append(sidecar_path(entry, point, "loadgen-accuracy", sub_point))
        atomic.write_bytes(written[-1], gzip.compress(accuracy.encode(), mtime=0))
    return written


def _is_experiment(request: dict[str, Any]) -> bool:
    return request.get("module_uoa") in EXPERIMENT_MODULE


def _all_zero(request: dict[str, Any]) -> bool:
    table = request.get("characteristics_table")
    return isinstance(table, list) and len(table) > 1 and all(v == 0 for v in table)


def _one_peak(request: dict[str, Any]) -> dict[str, Any] | None:
    """CK's analyze of a table of one number (one repetition), which needs no density fit: CK's own answer."""
    table = request.get("characteristics_table")
    if not (isinstance(table, list) and len(table) == 1 and type(table[0]) in (int, float)):
        return None
    return {"return": 0, **{key: [float(table[0])] for key in ("xlist", "xlist2", "xlist2s")},
            **{key: [100.0] for key in ("ylist", "ylist2", "ylist2s")}}


def _entry_path(plain_access: Callable[[dict], dict], request: dict[str, Any]) -> Path | None:
    found = plain_access({"action": "find", "module_uoa": request.get("module_uoa", ""),
                          "data_uoa": request.get("data_uoa", ""), "repo_uoa": request.get("repo_uoa", "")})
    return Path(found["path"]) if found.get("return", 1) == 0 and found.get("path") else None


def guard(plain_access: Callable[[dict], dict], say: Callable[[str], None]) -> Callable[[Any], dict]:
    def access(request: Any) -> dict:
        if not isinstance(request, dict):
            return plain_access(request)
        action = request.get("action")
        if action == "analyze" and request.get("module_uoa") in VARIATION_MODULE and _all_zero(request):
            return dict(NO_PEAKS)  # what CK's analyze returns when the fit fails, minus its warning
        if action == "analyze" and request.get("module_uoa") in VARIATION_MODULE and (peak := _one_peak(request)):
            return peak  # as CK answers, without importing scipy.stats for it (about 1 s)
        locking = action == "load" and request.get("get_lock") == "yes"
        creating = action == "update" and _is_experiment(request) and not request.get("unlock_uid")
        if locking or creating:
            entry = _entry_path(plain_access, request)  # CK waits on a locked entry here, up to 120 s
            if entry is not None:
                clear_stale_lock(entry, say)
                if _is_experiment(request):
                    _rebuild_meta(entry, say)
        if creating:  # two records into one new entry: CK's own creation races (alias files), one at a time
            with one_at_a_time(places.ck_repos() / "ck-request-record.lock"):
                return plain_access(request)
        if locking:
            result = plain_access(request)
            if result.get("return", 1) == 0 and result.get("lock_uid") and result.get("path"):
                _write_owner(Path(result["path"]))
            return result
        recording = action == "add" and not request.get("common_func")  # the experiment module's add: a point
        if recording and _is_experiment(request) and isinstance(request.get("dict"), dict):
            point = dict(request["dict"])
            point["meta"] = {"scenario_module_uoa": SCENARIO_MODULE_UID, **(point.get("meta") or {})}
            result = plain_access({**request, "dict": point})
            if result.get("return", 1) == 0:
                entry = _entry_path(plain_access, {"module_uoa": request["module_uoa"],
                                                   "data_uoa": result.get("recorded_uid", ""),
                                                   "repo_uoa": request.get("repo_uoa", "")})
                if entry is not None:
                    write_sidecars(entry, str(result.get("point", "")), int(result.get("sub_point") or 0))
            return result
        result = plain_access(request)
        if request.get("unlock_uid") and result.get("return", 1) == 0 and result.get("path"):
            (Path(result["path"]) / OWNER_FILE).unlink(missing_ok=True)
        return result

    setattr(access, _GUARD, True)
    return access


def installed(kernel: Any) -> bool:
    return getattr(kernel.access, _GUARD, False)


def install(kernel: Any) -> None:
    """Guard the kernel's ``access``, once per process."""
    if installed(kernel):
        return
    from .kernel import make_saves_atomic

    make_saves_atomic()
    kernel.access = guard(kernel.access, lambda line: print(line, file=sys.stderr, flush=True))
    atexit.register(forget_runs)
