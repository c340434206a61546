"""Shared fixtures: a real CK kernel in a temporary CK_REPOS/CK_TOOLS, stdin closed."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SKIMAGE_DATA = Path(__import__("skimage").__file__).parent / "data"


@dataclass
class CkWorld:
    """A private CK installation: its own repos, tools and local repo; our repository registered."""

    root: Path
    env: dict

    @property
    def tools(self) -> Path:
        return Path(self.env["CK_TOOLS"])

    @property
    def repos(self) -> Path:
        return Path(self.env["CK_REPOS"])

    def ck(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
        """Run the real `ck` command line (`python -m ck` is the `ck` script) with stdin closed."""
        return self._run([sys.executable, "-m", "ck", *args], check, timeout)

    def ckrequest(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
        return self._run([sys.executable, "-m", "ckrequest.cli", *args], check, timeout)

    def _run(self, cmd: list[str], check: bool, timeout: float) -> subprocess.CompletedProcess:
        proc = subprocess.run(cmd, env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout, cwd=self.root)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}\n--- stdout\n"
                                 f"{proc.stdout[-6000:]}\n--- stderr\n{proc.stderr[-4000:]}")
        return proc


def make_world(root: Path) -> CkWorld:
    env = dict(os.environ)
    env.update({
        "CK_REPOS": str(root / "repos"),
        "CK_TOOLS": str(root / "tools"),
        "CK_REQUEST_CACHE_DIR": str(root / "cache"),
    })
    env.pop("CK_LOCAL_REPO", None)
    world = CkWorld(root=root, env=env)
    world.ckrequest("setup")
    return world


@pytest.fixture(scope="session")
def ck_world(tmp_path_factory: pytest.TempPathFactory) -> CkWorld:
    """One CK world shared by the tests of a session (installs are cached in its CK_TOOLS)."""
    return make_world(tmp_path_factory.mktemp("ck"))


@pytest.fixture
def fresh_ck_world(tmp_path: Path) -> CkWorld:
    """A CK world of this test's own."""
    return make_world(tmp_path)
