"""Install a pinned Python library into a CK_TOOLS folder: `pip install --target`, or a venv.

`--target` with the library's own dependencies gives a folder that goes first on PYTHONPATH;
`--no-deps` reuses ck-request's own (numpy, onnx, ...); a venv isolates a library whose
dependencies cannot live beside ours (MXNet 1.9 imports only with numpy 1.23.5).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import atomic, places
from ..errors import RequestError
from ..progress import step


@dataclass(frozen=True)
class PipLibrary:
    requirements: tuple[str, ...]  # may hold "{version}"
    no_deps_requirements: tuple[str, ...] = ()  # installed after, without their dependencies
    with_deps: bool = False
    venv: bool = False

    def pinned(self, version: str) -> PipLibrary:
        def fill(reqs: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(r.replace("{version}", version) for r in reqs)

        return PipLibrary(fill(self.requirements), fill(self.no_deps_requirements), self.with_deps, self.venv)


PIP_PROGRESS = ("Collecting", "Downloading", "Installing collected", "Successfully installed")


def _pip(python: str, args: list[str], what: str) -> None:
    """pip, its progress lines passed on (a framework takes minutes), its last error kept for the message."""
    cmd = [python, "-m", "pip", "install", "--no-input", "--disable-pip-version-check", "--only-binary=:all:",
           "--progress-bar=off", *args]
    lines: list[str] = []
    with step(f"pip install {what}"):
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                stdin=subprocess.DEVNULL)
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.lstrip().startswith(PIP_PROGRESS):
                print(f"  pip: {line.strip()}", file=sys.stderr, flush=True)
        status = proc.wait()
    if status != 0:
        raise RequestError(f"pip install {what}", _last_pip_error("".join(lines)),
                           "check the version exists for this Python and that PyPI is reachable")


def _last_pip_error(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["pip failed without output"])[-1]


def install_into_target(library: PipLibrary, target: Path, python: str = sys.executable) -> Path:
    """Everything in a staging folder that becomes ``target`` only when complete."""
    with atomic.staged_dir(target) as staging:
        if library.requirements:
            deps = [] if library.with_deps else ["--no-deps"]
            _pip(python, [*deps, "--target", str(staging), *library.requirements], " ".join(library.requirements))
        if library.no_deps_requirements:
            _pip(python, ["--no-deps", "--target", str(staging), *library.no_deps_requirements],
                 " ".join(library.no_deps_requirements))
    return target


def install_into_venv(library: PipLibrary, venv: Path, python: str = sys.executable) -> Path:
    """A venv (it cannot be moved once made, so it is built in place and removed on failure)."""
    if venv.exists():
        shutil.rmtree(venv)
    try:
        proc = subprocess.run([python, "-m", "venv", str(venv)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RequestError(f"python -m venv {venv}", _last_pip_error(proc.stderr), "install python3-venv")
        venv_python = str(venv / "bin" / "python")
        _pip(venv_python, list(library.requirements), " ".join(library.requirements))
        if library.no_deps_requirements:
            _pip(venv_python, ["--no-deps", *library.no_deps_requirements], " ".join(library.no_deps_requirements))
        site = subprocess.run([venv_python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip()
        # a venv reaches our code through a .pth file
        atomic.write_text(Path(site) / "ckrequest-checkout.pth", f"{places.CHECKOUT}\n")
        link = venv.parent / "site-packages"  # a path detectors can name whatever the Python version
        link.unlink(missing_ok=True)
        link.symlink_to(Path(site).relative_to(venv.parent))
    except BaseException:
        shutil.rmtree(venv, ignore_errors=True)
        raise
    return venv


def install_library(library: PipLibrary, install_dir: Path, python: str = sys.executable) -> Path:
    if library.venv:
        return install_into_venv(library, install_dir / "venv", python)
    return install_into_target(library, install_dir / "python", python)

