"""A library from Debian's packages unpacked into a CK_TOOLS folder, without root.

`apt-get download` fetches the requested packages and those of their dependencies this system
lacks (the ones named in ``skip`` are provided otherwise, e.g. our own Python and numpy); `dpkg
-x` unpacks each into the folder, which keeps Debian's layout (usr/lib/...). A manifest records
the package versions. The detector half (soft:lib.armnn) is here too: it knows that layout.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import atomic
from ..errors import RequestError

MANIFEST = "debian-packages.json"
SITE = Path("usr/lib/python3/dist-packages")


@dataclass(frozen=True)
class DebianLibrary:
    packages: tuple[str, ...]  # what to install; their missing dependencies come along
    version: str = ""  # upstream version the packages must have (e.g. "20.08"), or any
    skip: tuple[str, ...] = ()  # dependencies provided otherwise (our Python, numpy)


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise RequestError(cmd[0], "is not installed", "this installer needs Debian's apt and dpkg") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or ["no output"])[-1]
        raise RequestError(" ".join(cmd[:3]), last, "run `apt-get update` once, then install again")
    return proc.stdout


def candidate_version(package: str) -> str:
    """The version apt would install, or a clear error if Debian has no such package here."""
    for line in _run(["apt-cache", "policy", package]).splitlines():
        if line.strip().startswith("Candidate:"):
            version = line.split(":", 1)[1].strip()
            if version and version != "(none)":
                return version
    raise RequestError(f"Debian package {package}", "is not known to apt on this system",
                       "run `apt-get update` once (or use a Debian release that has it)")


def is_installed(package: str) -> bool:
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return proc.returncode == 0 and proc.stdout.split()[-1:] == ["installed"]


def direct_dependencies(package: str) -> list[str]:
    """The Depends and Pre-Depends of a package (first of each alternative; virtual ones skipped)."""
    found = []
    for line in _run(["apt-cache", "depends", "--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks",
                      "--no-replaces", "--no-enhances", package]).splitlines():
        match = re.match(r"^\s+\|?(?:Pre)?Depends:\s+(\S+)$", line)
        if match and not line.lstrip().startswith("|") and not match.group(1).startswith("<"):
            found.append(match.group(1).split(":")[0])
    return found


def packages_to_fetch(library: DebianLibrary) -> list[str]:
    """The requested packages plus every dependency, transitively, that is neither installed nor skipped."""
    wanted: list[str] = []
    queue = list(library.packages)
    while queue:
        package = queue.pop(0)
        if package in wanted or package in library.skip:
            continue
        if package not in library.packages and is_installed(package):
            continue
        wanted.append(package)
        queue.extend(direct_dependencies(package))
    return wanted


def _check_version(library: DebianLibrary, versions: dict[str, str]) -> None:
    for package in library.packages:
        upstream = versions[package].split(":")[-1].rsplit("-", 1)[0]
        if library.version and upstream != library.version:
            raise RequestError(f"Debian package {package}", f"has version {versions[package]}, not {library.version}",
                               f"install its version: --env.CK_REQUEST_LIB_VERSION={upstream}")


def install_debian_library(library: DebianLibrary, dest: Path) -> Path:
    """Download and unpack into ``dest``; the Python package folder (what detectors find) appears last."""
    _check_version(library, {p: candidate_version(p) for p in library.packages})
    versions = {p: candidate_version(p) for p in packages_to_fetch(library)}
    with tempfile.TemporaryDirectory(prefix="request-debs-") as downloads:
        os.chmod(downloads, 0o777)  # apt-get download hands the files to its _apt user
        _run(["apt-get", "download", "-q", *[f"{p}={v}" for p, v in versions.items()]], cwd=Path(downloads))
        with atomic.publishing(dest, last="usr") as staging:
            for deb in sorted(Path(downloads).glob("*.deb")):
                _run(["dpkg", "-x", str(deb), str(staging)])
            atomic.write_json(staging / MANIFEST, versions)
    return dest


# ---------------------------------------------------------------- the detector (soft:lib.armnn)

_PROBE = ("import logging, sys\n"
          "logging.disable(logging.WARNING)\n"  # pyarmnn warns for each parser Debian did not build
          "sys.path.insert(0, sys.argv[1])\n"
          "import pyarmnn\n"
          "print(pyarmnn.__version__)\n")


@dataclass(frozen=True)
class UnpackedLibrary:
    """Where an unpacked Debian library keeps its Python package, shared libraries and plugins."""

    root: Path

    @classmethod
    def from_python_file(cls, path: str | Path, module: str) -> UnpackedLibrary:
        """.../<root>/usr/lib/python3/dist-packages/<module>/__init__.py -> <root>."""
        return cls(Path(path).parents[len(module.split(".")) + len(SITE.parts)])

    @property
    def site(self) -> Path:
        return self.root / SITE

    @property
    def lib(self) -> Path:
        """usr/lib/<multiarch triplet>, e.g. usr/lib/x86_64-linux-gnu."""
        triplets = sorted(p for p in (self.root / "usr" / "lib").glob("*-linux-*") if p.is_dir())
        return triplets[0] if triplets else self.root / "usr" / "lib"

    def plugin_dir(self, prefix: str) -> Path:
        """e.g. usr/lib/<triplet>/armnn22, where Arm NN's backends (Arm_CpuRef_backend.so) are."""
        folders = sorted(p for p in self.lib.glob(f"{prefix}*") if p.is_dir())
        return folders[-1] if folders else self.lib / prefix

    def version(self, package: str) -> str:
        """The upstream version of one of its Debian packages, from the manifest."""
        manifest = self.root / MANIFEST
        versions = json.loads(manifest.read_text()) if manifest.is_file() else {}
        return versions.get(package, "").split(":")[-1].rsplit("-", 1)[0]

    def environment(self) -> dict[str, str]:
        return {**os.environ, "LD_LIBRARY_PATH": f"{self.lib}:{os.environ.get('LD_LIBRARY_PATH', '')}"}


def probe_pyarmnn(python: str, library: UnpackedLibrary) -> str:
    """Import pyarmnn from the folder with its shared libraries on LD_LIBRARY_PATH: its API version."""
    proc = subprocess.run([python, "-c", _PROBE, str(library.site)], capture_output=True, text=True,
                          env=library.environment(), stdin=subprocess.DEVNULL, timeout=120)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RequestError(f"pyarmnn in {library.site}", f"not importable by {python}: {last}",
                           "reinstall it: ck install package:lib-armnn --quiet")
    return proc.stdout.strip().splitlines()[-1]
