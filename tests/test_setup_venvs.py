"""`ckrequest setup` from a second virtualenv in an existing CK world (a venv made anew is the commonest case)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import make_world


def venv_python(folder) -> str:
    """A real venv that sees this Python's packages (ckrequest, ck and the run extras among them)."""
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(folder)], check=True)
    return str(folder / "bin" / "python")


def registered_python_files(world) -> list[str]:
    entries = json.loads(world.ck("search", "env", "--tags=compiler,python", "--out=json").stdout)["lst"]
    return [json.loads((world.repos / "local" / "env" / e["data_uid"] / ".cm" / "meta.json").read_text())
            ["env"]["CK_ENV_COMPILER_PYTHON_FILE"] for e in entries]


@pytest.mark.ck
def test_setup_from_two_venvs_in_one_world_then_a_run_works(tmp_path):
    (tmp_path / "world").mkdir()
    world = make_world(tmp_path / "world")
    first, second = venv_python(tmp_path / "venv-a"), venv_python(tmp_path / "venv-b")
    for python in (first, second):
        proc = subprocess.run([python, "-m", "ckrequest.cli", "setup"], env=world.env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"Python {python} registered as soft:compiler.python" in proc.stdout
        assert registered_python_files(world) == [python]  # re-pointed in place: one Python of this version
    again = subprocess.run([second, "-m", "ckrequest.cli", "setup"], env=world.env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, check=True)
    assert f"Python {second} already registered" in again.stdout
    run = world.ck("run", "program:request-onnxruntime-classification", "--env.CK_REQUEST_MIN_DURATION_S=0.1",
                   "--quiet")
    assert "latency    batch 1:" in run.stdout
