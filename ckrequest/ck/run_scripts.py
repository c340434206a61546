"""CK's run scripts left behind by a killed `ck benchmark`, removed by the next run in the same program folder.

A program of ours runs in its own folder (``process_in_tmp: no``), where CK writes each run's script as
``tmp-<8 random characters>.sh`` (``ck.gen_tmp_file``) and removes it when the run ends; a SIGKILL leaves it there,
in the checkout. A script is stale when no live process that could have written it (one working in that folder, or
this one) had started before it was written.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import psutil

CK_RUN_SCRIPT = re.compile(r"^tmp-[A-Za-z0-9_]{8}\.(sh|bat)$")  # what tempfile.mkstemp(prefix='tmp-') names


def _started_here(folder: Path) -> list[float]:
    """The start times of the other live processes working in ``folder``."""
    starts = []
    for proc in psutil.process_iter(["pid", "cwd", "create_time"]):
        if proc.info["pid"] != os.getpid() and proc.info.get("cwd") and Path(proc.info["cwd"]) == folder:
            starts.append(proc.info["create_time"])
    return starts


def stale_run_scripts(folder: Path) -> list[Path]:
    scripts = [p for p in folder.iterdir() if CK_RUN_SCRIPT.match(p.name)] if folder.is_dir() else []
    if not scripts:
        return []
    cutoff = min(min(_started_here(folder), default=math.inf), psutil.Process().create_time())
    stale = []
    for path in scripts:
        try:
            if path.stat().st_mtime < cutoff:
                stale.append(path)
        except FileNotFoundError:  # its run ended while we looked
            continue
    return stale


def remove_stale_run_scripts(folder: Path) -> list[str]:
    """Remove what ``stale_run_scripts`` finds; the names removed."""
    removed = []
    for path in stale_run_scripts(folder):
        path.unlink(missing_ok=True)
        removed.append(path.name)
    return removed
