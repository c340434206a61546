"""CK's run scripts a killed `ck benchmark` left in a program folder are removed by the next run there, never the
script of a run still going (ckrequest/ck/run_scripts.py): real processes, real files."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from ckrequest.ck.run_scripts import remove_stale_run_scripts

NEXT_RUN = ("from pathlib import Path; import sys; from ckrequest.ck.run_scripts import remove_stale_run_scripts; "
            "print(','.join(remove_stale_run_scripts(Path(sys.argv[1]))))")


def next_run_removes(folder: Path) -> list[str]:
    """What a run started now in ``folder`` removes (a process of its own, as each `ck benchmark` is)."""
    out = subprocess.run([sys.executable, "-c", NEXT_RUN, str(folder)], cwd=folder, capture_output=True, text=True,
                         check=True, stdin=subprocess.DEVNULL).stdout.strip()
    return [name for name in out.split(",") if name]


def test_a_killed_runs_script_goes_and_a_running_ones_stays(tmp_path):
    running = subprocess.Popen(["sleep", "60"], cwd=tmp_path)  # a run still going in that folder
    try:
        time.sleep(0.2)
        script = tmp_path / "tmp-Ab3_x9zQ.sh"  # written by the running one (after it started)
        script.write_text("#!/bin/sh\n")
        other = tmp_path / "tmp-notes.txt"  # not CK's script: never touched
        other.write_text("mine")
        time.sleep(0.1)
        assert next_run_removes(tmp_path) == []
        assert script.exists()
    finally:
        running.kill()
        running.wait()
    assert next_run_removes(tmp_path) == ["tmp-Ab3_x9zQ.sh"]  # its writer is gone: what a SIGKILL leaves
    assert not script.exists() and other.exists()


def test_this_processes_own_script_stays(tmp_path):
    script = tmp_path / "tmp-Zz000000.sh"
    script.write_text("#!/bin/sh\n")  # written after this process started: it may be this run's own
    assert remove_stale_run_scripts(tmp_path) == [] and script.exists()
    old = time.time() - 10 * 24 * 3600
    os.utime(script, (old, old))  # written long before this process started, by a process now gone
    assert remove_stale_run_scripts(tmp_path) == ["tmp-Zz000000.sh"] and not script.exists()
