"""One search at a time per exploration entry.

``ck explore ... --record_uoa=X`` (or ``--resume``) holds ``.cm/explore-lock.json`` in X for as long as it
runs: the process's PID and its start time. A second search of X while it runs stops in one line naming
that process; a lock whose process is gone (killed) is taken over. Two starters decide one at a time
(flock on the entry's folder, released by the kernel if a process dies).
"""

from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import psutil

from .. import atomic
from ..errors import RequestError
from .recording import pid_alive

LOCK_FILE = Path(".cm") / "explore-lock.json"


def _started(pid: int) -> float:
    return psutil.Process(pid).create_time()


def holder(entry: Path) -> dict[str, Any] | None:
    """The process the lock names, while it is alive and the same process (a PID can be reused)."""
    try:
        held = json.loads((entry / LOCK_FILE).read_text())
        pid, since = int(held["pid"]), float(held["create_time"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return held if pid_alive(pid, since) else None


@contextmanager
def _one_starter(entry: Path) -> Iterator[None]:
    fd = os.open(entry, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the flock


@contextmanager
def searching(entry: Path, name: str) -> Iterator[None]:
    """Hold exploration ``name``'s lock (its entry folder ``entry``) while the block runs."""
    me = {"pid": os.getpid(), "create_time": _started(os.getpid())}
    with _one_starter(entry):
        held = holder(entry)
        if held is not None and held["pid"] != me["pid"]:
            raise RequestError(f"exploration {name}", f"is being searched by process {held['pid']} right now",
                               f"wait for it to end, or stop it (kill {held['pid']}) and continue with --resume")
        atomic.write_json(entry / LOCK_FILE, me)
    try:
        yield
    finally:
        with _one_starter(entry):
            if holder(entry) == me:
                (entry / LOCK_FILE).unlink(missing_ok=True)
