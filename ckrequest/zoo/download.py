"""Download weights and unpack archives: atomic, verified before use, nothing left on failure.

``fetch`` streams a URL into a temporary file next to its destination, checks the size the
server announced, the expected size and the checksum, and only then renames it into place.
``extract`` unpacks a .zip or .tar(.gz) into a staging folder that becomes the destination only
when every member was found safe (no absolute path, no ``..``, no link leaving the folder).

``CK_REQUEST_WEIGHTS_BASE_URL`` replaces the scheme and host of the official URLs (a mirror, or
a local server in the tests); the path below it stays the official one.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import stat
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..atomic import staged_dir, staged_file
from ..errors import RequestError

BASE_URL_ENV = "CK_REQUEST_WEIGHTS_BASE_URL"
WEIGHTS_FILE_ENV = "CK_REQUEST_WEIGHTS_FILE"
# Connecting and every read wait at most this long: offline installs fail fast.
TIMEOUT_SECONDS = 10.0
CHUNK = 1 << 20
ALGORITHMS = ("sha256", "sha1", "md5")
USER_AGENT = "ck-request (weights download)"


@dataclass(frozen=True)
class Checksum:
    """A digest a file must have (``algorithm`` is one of ALGORITHMS), and its size when known."""

    algorithm: str
    digest: str
    size: int | None = None

    def __post_init__(self) -> None:
        digest = self.digest.strip().lower()
        object.__setattr__(self, "digest", digest)
        if self.algorithm not in ALGORITHMS:
            raise RequestError(f"checksum {self}", f"algorithm {self.algorithm!r} is not one of {ALGORITHMS}",
                               "fix the checksum")
        length = hashlib.new(self.algorithm).digest_size * 2
        if not re.fullmatch(f"[0-9a-f]{{{length}}}", digest):
            raise RequestError(f"checksum {self}", f"a {self.algorithm} digest has {length} hex digits",
                               "fix the checksum")
        if self.size is not None and self.size < 0:
            raise RequestError(f"checksum {self}", "the expected size is negative", "fix the checksum")

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.digest}"


def file_digest(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: str | os.PathLike[str], checksum: Checksum, what: str) -> None:
    """RequestError unless the file at ``path`` has the checksum's size and digest."""
    path = Path(path)
    size = path.stat().st_size
    if checksum.size is not None and size != checksum.size:
        raise RequestError(what, f"{path.name} has {size} bytes, expected {checksum.size}",
                           "the file is truncated or not the published one: get it again")
    actual = file_digest(path, checksum.algorithm)
    if actual != checksum.digest:
        raise RequestError(what, f"{path.name} has {checksum.algorithm} {actual}, expected {checksum.digest}",
                           "the file is corrupt or not the published one: get it again from the official source")


def mirrored(url: str, base: str | None = None) -> str:
    """``url`` with its scheme and host replaced by ``base`` (default: $CK_REQUEST_WEIGHTS_BASE_URL)."""
    base = os.environ.get(BASE_URL_ENV, "") if base is None else base
    if not base:
        return url
    mirror = urllib.parse.urlsplit(base)
    if mirror.scheme not in ("http", "https") or not mirror.netloc:
        raise RequestError(f"{BASE_URL_ENV}={base}", "is not an http(s) URL with a host",
                           "set it like https://mirror.example.org/ or unset it")
    official = urllib.parse.urlsplit(url)
    path = mirror.path.rstrip("/") + official.path
    return urllib.parse.urlunsplit((mirror.scheme, mirror.netloc, path, official.query, ""))


def _offline_fix() -> str:
    return (f"check the network or set {BASE_URL_ENV} to a mirror, or install from a file you already have: "
            f"--env.{WEIGHTS_FILE_ENV}=<path of a file you already have>")


def _reason(err: BaseException) -> str:
    if isinstance(err, urllib.error.HTTPError):
        return f"the server answered HTTP {err.code} {err.reason}"
    if isinstance(err, urllib.error.URLError):
        err = err.reason if isinstance(err.reason, BaseException) else OSError(str(err.reason))
    if isinstance(err, TimeoutError):
        return f"no answer within {TIMEOUT_SECONDS:g} s"
    text = getattr(err, "strerror", None) or str(err) or type(err).__name__
    return f"it is unreachable ({text})"


def _stream(url: str, target: Path) -> tuple[int, int | None]:
    """Write the body at ``url`` to ``target``; the bytes received and the announced length."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response, open(target, "wb") as out:
        announced = response.headers.get("Content-Length")
        received = 0
        while chunk := response.read(CHUNK):
            out.write(chunk)
            received += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return received, int(announced) if announced and announced.isdigit() else None


def fetch(url: str, dest: str | os.PathLike[str], checksum: Checksum | None, what: str) -> Path:
    """Download ``url`` (or its mirror) to ``dest``, verified against ``checksum``, atomically.

    ``checksum`` None means the source publishes none: the caller verifies the file some other way.
    On any failure ``dest`` is untouched and no partial file is left.
    """
    dest = Path(dest)
    source = mirrored(url)
    if urllib.parse.urlsplit(source).scheme not in ("http", "https"):
        raise RequestError(f"cannot download {what} from {source}", "only http and https URLs are fetched",
                           _offline_fix())
    with staged_file(dest) as staged:
        try:
            received, announced = _stream(source, staged)
        except (urllib.error.URLError, OSError, ValueError) as err:
            raise RequestError(f"cannot download {what} from {source}", _reason(err), _offline_fix()) from None
        if announced is not None and received != announced:
            raise RequestError(f"cannot download {what} from {source}",
                               f"the transfer stopped after {received} of {announced} bytes",
                               "retry; nothing was kept")
        if checksum is not None:
            verify_file(staged, checksum, f"downloaded {what} from {source}")
    return dest


def _member_problem(name: str, link: str | None = None, hard_link: bool = False) -> str | None:
    """Why a member (and the target of a link member) would land outside the folder, or None."""
    path = name.replace("\\", "/")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        return "has an absolute path"
    if ".." in path.split("/"):
        return "has '..' in its path"
    if link is None:
        return None
    target = link.replace("\\", "/")
    if target.startswith("/") or re.match(r"^[A-Za-z]:", target):
        return f"is a link to the absolute path {link!r}"
    resolved = posixpath.normpath(target if hard_link else posixpath.join(posixpath.dirname(path), target))
    if resolved == ".." or resolved.startswith("../"):
        return f"is a link to {link!r}, outside the folder"
    return None


def _refuse(archive: Path, member: str, problem: str) -> RequestError:
    return RequestError(f"unsafe archive {archive}", f"member {member!r} {problem}",
                        "do not use this archive; get it again from the official source")


def _zip_link(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str | None:
    if stat.S_ISLNK(info.external_attr >> 16):
        return archive.read(info).decode("utf-8", "replace")
    return None


def _extract_zip(path: Path, into: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        members = [(info, _zip_link(archive, info)) for info in archive.infolist()]
        for info, link in members:
            if problem := _member_problem(info.filename, link):
                raise _refuse(path, info.filename, problem)
        for info, link in members:
            if link is None:
                archive.extract(info, into)
            else:
                target = into / info.filename
                target.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(link, target)


def _extract_tar(path: Path, into: Path) -> None:
    with tarfile.open(path, "r:*") as archive:
        members = archive.getmembers()
        for member in members:
            if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
                raise _refuse(path, member.name, "is a device, fifo or other special file")
            link = member.linkname if member.issym() or member.islnk() else None
            if problem := _member_problem(member.name, link, hard_link=member.islnk()):
                raise _refuse(path, member.name, problem)
        if hasattr(tarfile, "data_filter"):
            archive.extractall(into, members=members, filter="data")
        else:
            archive.extractall(into, members=members)


def _escapes(root: Path) -> str | None:
    """The first extracted path whose real location is outside ``root`` (a second line of defence)."""
    real_root = os.path.realpath(root)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            real = os.path.realpath(os.path.join(folder, name))
            if os.path.commonpath([real_root, real]) != real_root:
                return os.path.relpath(os.path.join(folder, name), root)
    return None


def extract(archive: str | os.PathLike[str], dest: str | os.PathLike[str]) -> Path:
    """Unpack a .zip, .tar, .tar.gz or .tgz into ``dest`` (replaced whole, only on success)."""
    archive, dest = Path(archive), Path(dest)
    name = archive.name.lower()
    if name.endswith(".zip"):
        unpack = _extract_zip
    elif name.endswith((".tar", ".tar.gz", ".tgz")):
        unpack = _extract_tar
    else:
        raise RequestError(f"archive {archive}", "is not a .zip, .tar, .tar.gz or .tgz file",
                           "give the weights file itself or an archive of a known kind")
    try:
        with staged_dir(dest) as staging:
            unpack(archive, staging)
            if escaped := _escapes(staging):
                raise _refuse(archive, escaped, "resolves to a path outside the folder")
    except FileNotFoundError:
        raise RequestError(f"archive not found: {archive}", "the file does not exist", "check the path") from None
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as err:
        raise RequestError(f"unreadable archive {archive}", f"it is damaged or not an archive ({err})",
                           "get it again from the official source") from None
    return dest

