"""Kills what we started once the process that started it is gone, even by SIGKILL.

A local Ray node is a `ray start` leading a session of its own; the kernel kills it when its starter dies
(PR_SET_PDEATHSIG), but not what it started: Ray's agents outlive a dead raylet. The starter lists the
leaders in a file; this watcher, in a session of its own, kills every process of their sessions when
the starter dies, and ends by itself when the file is removed (a normal stop):

    python -m ckrequest.farm.reaper <starter pid> <starter creation time> <sessions file> [<folder to remove>]
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable

import psutil

from .. import atomic

PERIOD_S = 0.25  # how often the watcher looks at its starter


def session_members(leaders: Iterable[int]) -> list[psutil.Process]:
    """The live processes of the sessions or process groups these processes lead: everything a session's leader
    started stays in it, Ray's workers too (they lead process groups of their own), also after the leader died."""
    wanted, members = set(leaders), []
    for process in psutil.process_iter():
        try:
            if process.pid != os.getpid() and (os.getsid(process.pid) in wanted or os.getpgid(process.pid) in wanted):
                members.append(process)
        except (ProcessLookupError, PermissionError):
            continue
    return members


def kill_sessions(leaders: Iterable[int], sig: int = signal.SIGKILL) -> None:
    for member in session_members(leaders):
        try:
            member.send_signal(sig)
        except psutil.Error:  # gone meanwhile
            pass


def read_sessions(path: Path) -> list[int]:
    try:
        return [int(word) for word in path.read_text().split() if word.isdigit()]
    except OSError:
        return []


class Reaper:
    """The watcher of one starter (this process): ``add(pid)`` each session leader, ``close()`` at a normal stop."""

    def __init__(self, sessions_file: Path, folder: Path | None = None) -> None:
        self.path = sessions_file
        self.sessions: list[int] = []
        atomic.write_text(self.path, "")
        me = psutil.Process()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ckrequest.farm.reaper", str(me.pid), repr(me.create_time()), str(self.path),
             *([str(folder)] if folder else [])],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def add(self, leader: int) -> None:
        self.sessions.append(leader)
        self._write()

    def remove(self, leader: int) -> None:
        """A leader whose processes are all gone (its PID may soon be another process's)."""
        self.sessions.remove(leader)
        self._write()

    def _write(self) -> None:
        atomic.write_text(self.path, "".join(f"{pid}\n" for pid in self.sessions))

    def close(self) -> None:
        """No more watching (the caller stopped the sessions itself)."""
        self.path.unlink(missing_ok=True)
        self.process.kill()
        self.process.wait()


def _alive(pid: int, created: float) -> bool:
    try:
        process = psutil.Process(pid)
        return abs(process.create_time() - created) < 0.01 and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def watch(pid: int, created: float, sessions_file: Path, folder: Path | None = None) -> None:
    while sessions_file.exists():
        if not _alive(pid, created):
            # twice: a process forked while the first round ran is killed by the second
            for _ in range(2):
                kill_sessions(read_sessions(sessions_file))
                time.sleep(PERIOD_S)
            sessions_file.unlink(missing_ok=True)
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
            return
        time.sleep(PERIOD_S)


def main(argv: list[str]) -> int:
    pid, created, path = int(argv[0]), float(argv[1]), Path(argv[2])
    watch(pid, created, path, Path(argv[3]) if len(argv) > 3 else None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
