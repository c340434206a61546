"""Run CK's own replay as a subprocess (stdin closed) and measure how busy the machine was meanwhile.

The replay gets the portable pipeline as a ``pipeline_update`` (see replay_pipeline), so it runs
unattended even for an entry recorded on another machine and not yet made portable. While it
runs, the CPU time the whole machine spent is compared with the time the replay itself (and its
children) spent: the difference is other processes' load, which a noise-aware verdict needs.

``python -m ckrequest.ck.replay <request.json>`` is the subprocess (CK's kernel is the CK adapter's).
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from ..errors import ERROR_PREFIX, RequestError
from .recorded_choices import check_pipeline

REPLAY_MODULE = "ckrequest.ck.replay"  # the subprocess: it alone talks to CK
PROGRESS = re.compile(r"^(model|framework|data set|latency|throughput|accuracy) |^" + re.escape(ERROR_PREFIX))


@dataclass(frozen=True)
class CpuSample:
    wall_s: float
    machine_busy_s: float  # every process on the machine
    own_s: float  # this process and its finished children


def _machine_busy_s(stat_text: str) -> float:
    """Busy CPU seconds from the first line of /proc/stat (user nice system idle iowait irq softirq steal)."""
    fields = [int(v) for v in stat_text.splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def sample_cpu() -> CpuSample | None:
    try:
        busy = _machine_busy_s(Path("/proc/stat").read_text())
    except (OSError, ValueError, IndexError):
        return None  # not Linux: the load of other processes stays unknown
    own = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
              for f in ("ru_utime", "ru_stime"))
    return CpuSample(time.monotonic(), busy, own)


def foreign_load_cores(before: CpuSample | None, after: CpuSample | None) -> float | None:
    """Average number of cores other processes kept busy between two samples."""
    if before is None or after is None or after.wall_s <= before.wall_s:
        return None
    others = (after.machine_busy_s - before.machine_busy_s) - (after.own_s - before.own_s)
    return max(0.0, others / (after.wall_s - before.wall_s))


@dataclass(frozen=True)
class ReplayRequest:
    repo_uid: str
    data_uid: str
    point: str
    record_uoa: str
    record_repo: str
    pipeline_update: dict[str, Any]

    def ck_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"record_uoa": self.record_uoa, "record_repo": self.record_repo,
                                   "pipeline_update": self.pipeline_update, "quiet": "yes"}
        if self.point:
            options["point"] = self.point
        return options


def _last_error(lines: list[str]) -> str:
    errors = [line.strip() for line in lines if "error" in line.lower() and line.strip()]
    return (errors or [line.strip() for line in lines if line.strip()] or ["no output"])[-1]


def run_replay(request: ReplayRequest, log_path: Path, echo: TextIO | None = None,
               verbose: bool = False) -> float | None:
    """Run the replay, keeping CK's whole output in ``log_path``; return the other processes' load."""
    check_pipeline(request.pipeline_update, f"ck replay experiment:{request.data_uid} (pipeline update)")
    with tempfile.TemporaryDirectory(prefix="ck-request-replay-") as tmp:
        request_file = Path(tmp) / "request.json"
        request_file.write_text(json.dumps(asdict(request)))
        before = sample_cpu()
        lines: list[str] = []
        with open(log_path, "w", encoding="utf-8") as log:
            proc = subprocess.Popen([sys.executable, "-m", REPLAY_MODULE, str(request_file)], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                lines.append(line)
                if echo is not None and (verbose or PROGRESS.match(line)):
                    echo.write(line)
            status = proc.wait()
        after = sample_cpu()
    if status != 0:
        raise RequestError(f"ck replay {request.repo_uid}:experiment:{request.data_uid}",
                           f"failed (exit {status}): {_last_error(lines)}", f"see CK's output in {log_path}")
    return foreign_load_cores(before, after)
