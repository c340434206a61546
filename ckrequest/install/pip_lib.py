"""Install a pinned Python library with `pip install --target` into a CK_TOOLS folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .. import atomic
from ..errors import RequestError


def install_pip_library(requirement: str, target: Path, python: str = sys.executable) -> Path:
    """``pip install --no-deps --target <target>`` (staged); the library's own dependencies are
    the interpreter's (ck-request's pinned ones), so one numpy serves every library version."""
    with atomic.staged_dir(target) as staging:
        cmd = [python, "-m", "pip", "install", "--no-deps", "--no-input", "--disable-pip-version-check",
               "--only-binary=:all:", "--target", str(staging), requirement]
        proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            reason = _last_pip_error(proc.stderr + proc.stdout)
            raise RequestError(f"pip install {requirement}", reason,
                               "check the version exists for this Python and that PyPI is reachable")
    return target


def _last_pip_error(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["pip failed without output"])[-1]
