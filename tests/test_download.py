"""Weights downloads and archive extraction against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from ckrequest.errors import RequestError
from ckrequest.zoo.download import (
    BASE_URL_ENV,
    TIMEOUT_SECONDS,
    Checksum,
    extract,
    fetch,
    mirrored,
)

WEIGHTS = bytes(range(256)) * 4096  # 1 MiB: more than one read chunk


def _checksum(data: bytes, algorithm: str = "sha256", size: bool = True) -> Checksum:
    return Checksum(algorithm, hashlib.new(algorithm, data).hexdigest(), len(data) if size else None)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("algorithm", ["sha256", "sha1", "md5"])
def test_fetch_streams_verifies_and_moves_the_file_into_place(weights_server, tmp_path, algorithm):
    url = weights_server.put("models/net.h5", WEIGHTS)
    dest = tmp_path / "out" / "net.h5"

    assert fetch(url, dest, _checksum(WEIGHTS, algorithm), "test weights") == dest

    assert dest.read_bytes() == WEIGHTS
    assert _leftovers(dest.parent) == ["net.h5"]


def test_fetch_without_a_published_checksum_keeps_the_file_for_the_caller_to_check(weights_server, tmp_path):
    url = weights_server.put("net.h5", WEIGHTS)
    assert fetch(url, tmp_path / "net.h5", None, "test weights").read_bytes() == WEIGHTS


def test_wrong_checksum_is_refused_and_nothing_is_left(weights_server, tmp_path):
    url = weights_server.put("net.h5", WEIGHTS)
    wrong = Checksum("md5", hashlib.md5(b"another file").hexdigest())

    with pytest.raises(RequestError) as err:
        fetch(url, tmp_path / "out" / "net.h5", wrong, "test weights")

    assert f"expected {wrong.digest}" in str(err.value) and url in str(err.value)
    assert "\n" not in str(err.value)
    assert _leftovers(tmp_path / "out") == []


def test_an_existing_file_survives_a_failed_download(weights_server, tmp_path):
    dest = tmp_path / "net.h5"
    dest.write_bytes(b"the good old file")
    url = weights_server.put("net.h5", WEIGHTS)

    with pytest.raises(RequestError):
        fetch(url, dest, _checksum(b"something else"), "test weights")

    assert dest.read_bytes() == b"the good old file"
    assert _leftovers(tmp_path) == ["net.h5", "served"]


def test_truncated_transfer_is_refused_even_without_a_checksum(weights_server, tmp_path):
    url = weights_server.put("net.h5", WEIGHTS, truncated=True)

    with pytest.raises(RequestError, match=f"stopped after {len(WEIGHTS) // 2} of {len(WEIGHTS)} bytes"):
        fetch(url, tmp_path / "out" / "net.h5", None, "test weights")

    assert _leftovers(tmp_path / "out") == []


def test_wrong_size_is_refused(weights_server, tmp_path):
    url = weights_server.put("net.h5", WEIGHTS[:-1])
    expected = Checksum("sha256", hashlib.sha256(WEIGHTS).hexdigest(), len(WEIGHTS))

    with pytest.raises(RequestError, match=f"{len(WEIGHTS) - 1} bytes, expected {len(WEIGHTS)}"):
        fetch(url, tmp_path / "out" / "net.h5", expected, "test weights")

    assert _leftovers(tmp_path / "out") == []


def test_missing_file_names_the_url_and_the_local_file_alternative(weights_server, tmp_path):
    url = weights_server.base_url + "/no/such/file.h5"

    with pytest.raises(RequestError, match="HTTP 404") as err:
        fetch(url, tmp_path / "file.h5", None, "test weights")

    assert url in str(err.value) and "--env.CK_REQUEST_WEIGHTS_FILE=" in str(err.value)


def test_unreachable_server_fails_fast_in_one_line(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/tensorflow/keras-applications/mobilenet/mobilenet_1_0_224_tf.h5"
    start = time.monotonic()

    with pytest.raises(RequestError) as err:
        fetch(url, tmp_path / "w.h5", None, "MobileNet weights")

    assert time.monotonic() - start < TIMEOUT_SECONDS  # refused at once, not waited out
    line = str(err.value)
    assert "\n" not in line
    assert url in line and "--env.CK_REQUEST_WEIGHTS_FILE=<path of a file you already have>" in line
    assert _leftovers(tmp_path) == []


def test_base_url_replaces_the_host_of_official_urls(weights_server, tmp_path, monkeypatch):
    official = "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/vgg16.h5"
    weights_server.put("mirror/tensorflow/keras-applications/vgg16/vgg16.h5", WEIGHTS)
    monkeypatch.setenv(BASE_URL_ENV, weights_server.base_url + "/mirror/")

    assert mirrored(official) == weights_server.base_url + "/mirror/tensorflow/keras-applications/vgg16/vgg16.h5"
    fetch(official, tmp_path / "vgg16.h5", _checksum(WEIGHTS), "VGG16 weights")

    assert weights_server.requested == ["/mirror/tensorflow/keras-applications/vgg16/vgg16.h5"]


def test_base_url_must_be_http(monkeypatch):
    monkeypatch.setenv(BASE_URL_ENV, "ftp://mirror.example.org/")
    with pytest.raises(RequestError, match=f"{BASE_URL_ENV}=ftp://mirror.example.org/: is not an http"):
        mirrored("https://storage.googleapis.com/x.h5")


def test_checksum_must_be_a_digest_of_its_algorithm():
    with pytest.raises(RequestError, match="a sha1 digest has 40 hex digits"):
        Checksum("sha1", "abc")
    with pytest.raises(RequestError, match="is not one of"):
        Checksum("crc32", "0" * 8)


def _zip(path: Path, members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)
            archive.writestr(info, target)
    return path


def _tar(path: Path, members: dict[str, bytes], links: dict[str, tuple[bytes, str]] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, (kind, target) in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            archive.addfile(info)
    return path


def test_extract_zip_and_tar_gz(tmp_path):
    zipped = _zip(tmp_path / "w.zip", {"squeezenet1.1-33ba0f93.params": WEIGHTS, "docs/README": b"hi"})
    tarred = _tar(tmp_path / "w.tar.gz", {"mobilenet_v1_1.0_224/model.ckpt": WEIGHTS},
                  {"mobilenet_v1_1.0_224/latest": (tarfile.SYMTYPE, "model.ckpt")})

    out = extract(zipped, tmp_path / "z")
    assert (out / "squeezenet1.1-33ba0f93.params").read_bytes() == WEIGHTS
    assert (out / "docs" / "README").read_bytes() == b"hi"
    out = extract(tarred, tmp_path / "t")
    assert (out / "mobilenet_v1_1.0_224" / "latest").read_bytes() == WEIGHTS
    assert _leftovers(tmp_path) == ["t", "w.tar.gz", "w.zip", "z"]


@pytest.mark.parametrize("make, problem", [
    (lambda p: _zip(p / "a.zip", {"ok.params": b"x", "../evil": b"x"}), "has '..' in its path"),
    (lambda p: _zip(p / "a.zip", {"ok.params": b"x", "/tmp/evil": b"x"}), "has an absolute path"),
    (lambda p: _zip(p / "a.zip", {"ok.params": b"x"}, {"link": "../../evil"}), "outside the folder"),
    (lambda p: _tar(p / "a.tar.gz", {"ok.params": b"x", "sub/../../evil": b"x"}), "has '..' in its path"),
    (lambda p: _tar(p / "a.tar.gz", {"ok.params": b"x", "/tmp/evil": b"x"}), "has an absolute path"),
    (lambda p: _tar(p / "a.tar.gz", {"ok.params": b"x"}, {"sub/link": (tarfile.SYMTYPE, "../../evil")}),
     "outside the folder"),
    (lambda p: _tar(p / "a.tar.gz", {"ok.params": b"x"}, {"link": (tarfile.SYMTYPE, "/etc/passwd")}),
     "link to the absolute path"),
    (lambda p: _tar(p / "a.tar.gz", {"ok.params": b"x"}, {"hard": (tarfile.LNKTYPE, "../evil")}),
     "outside the folder"),
], ids=["zip-dotdot", "zip-absolute", "zip-symlink", "tar-dotdot", "tar-absolute", "tar-symlink",
        "tar-symlink-absolute", "tar-hardlink"])
def test_extract_refuses_members_leaving_the_folder_and_extracts_nothing(tmp_path, make, problem):
    archive = make(tmp_path)
    dest = tmp_path / "deep" / "dest"

    with pytest.raises(RequestError, match=problem) as err:
        extract(archive, dest)

    assert str(err.value).startswith(f"unsafe archive {archive}")
    assert not dest.exists() and _leftovers(dest.parent) == []
    assert not (tmp_path / "evil").exists() and not (tmp_path / "deep" / "evil").exists()


def test_extract_refuses_a_damaged_archive(tmp_path):
    damaged = tmp_path / "w.zip"
    damaged.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(RequestError, match="it is damaged or not an archive"):
        extract(damaged, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_extract_keeps_the_previous_folder_when_refusing(tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "old.params").write_bytes(b"old")

    with pytest.raises(RequestError):
        extract(_zip(tmp_path / "a.zip", {"../evil": b"x"}), dest)

    assert os.listdir(dest) == ["old.params"]
