"""The normalised-points cache: the same board as a fresh read, never a stale point."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from PIL import Image

import ckrequest
from ckrequest.digest import cached_tree_sha256, tree_sha256
from ckrequest.results.cache import read_repos

from builders import make_imagenet_dir, our_point, write_experiment, write_point, write_results_repo
from conftest import CkWorld


def board(tmp_path, cache) -> dict[str, float]:
    points, _, _ = read_repos([("test", tmp_path / "repo")], cache)
    return {f"{p.entry}:{p.point}": p.inference_latency for p in points}


def test_a_warm_read_gives_what_a_fresh_read_gives(tmp_path):
    for k in range(3):
        write_experiment(tmp_path / "repo", f"e{k}", {"p": our_point(latency_s=0.001 * (k + 1))})
    cache = tmp_path / "points.sqlite3"
    cold = board(tmp_path, cache)
    assert cache.is_file()
    assert board(tmp_path, cache) == cold == board(tmp_path, None)


def test_a_changed_point_a_new_one_and_a_removed_entry_are_never_served_stale(tmp_path):
    write_experiment(tmp_path / "repo", "kept", {"p": our_point(latency_s=0.002)})
    write_experiment(tmp_path / "repo", "gone", {"p": our_point(latency_s=0.003)})
    cache = tmp_path / "points.sqlite3"
    assert board(tmp_path, cache) == {"kept:p": 0.002, "gone:p": 0.003}

    flat_path = tmp_path / "repo" / "experiment" / "kept" / "ckp-p.flat.json"
    flat = json.loads(flat_path.read_text())
    flat["##characteristics#run#inference_latency#all"] = [0.005] * 3  # the same size: only the time differs
    flat_path.write_text(json.dumps(flat))
    os.utime(flat_path, ns=(flat_path.stat().st_atime_ns, flat_path.stat().st_mtime_ns + 1_000_000))
    write_point(flat_path.parent, "q", our_point(latency_s=0.007))  # a point more
    shutil.rmtree(tmp_path / "repo" / "experiment" / "gone")
    assert board(tmp_path, cache) == {"kept:p": 0.005, "kept:q": 0.007} == board(tmp_path, None)


def test_an_unwritable_cache_costs_time_not_correctness(tmp_path):
    write_experiment(tmp_path / "repo", "e", {"p": our_point(latency_s=0.002)})
    (tmp_path / "blocked").write_text("a file where the cache folder would be")
    assert board(tmp_path, tmp_path / "blocked" / "points.sqlite3") == {"e:p": 0.002}


def restore_size_and_mtime(path, new_bytes: bytes) -> None:
    """Rewrite ``path`` with other bytes of the same length, then set its mtime back (what `touch -d` does)."""
    before = path.stat()
    assert len(new_bytes) == before.st_size
    path.write_bytes(new_bytes)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_a_point_rewritten_with_its_size_and_mtime_restored_is_read_again(tmp_path):
    write_experiment(tmp_path / "repo", "e", {"p": our_point(latency_s=0.002)})
    cache = tmp_path / "points.sqlite3"
    assert board(tmp_path, cache) == {"e:p": 0.002}
    flat_path = tmp_path / "repo" / "experiment" / "e" / "ckp-p.flat.json"
    restore_size_and_mtime(flat_path, flat_path.read_bytes().replace(b"0.002", b"0.009"))
    assert board(tmp_path, cache) == {"e:p": 0.009}  # ctime moved: file_identity sees the rewrite


def test_the_digest_cache_sees_a_rewrite_with_size_and_mtime_restored(tmp_path):
    model = tmp_path / "model.bin"
    model.write_bytes(b"a" * 64)
    first = cached_tree_sha256([model], tmp_path / "digests")
    restore_size_and_mtime(model, b"b" * 64)
    assert cached_tree_sha256([model], tmp_path / "digests") == tree_sha256([model]) != first


def modified_copy(tmp_path: Path, module: str, appended: str) -> Path:
    """A copy of the ckrequest package with ``appended`` added to one module: the code a cache was filled by,
    changed as a developer would change it."""
    root = tmp_path / "changed-code"
    shutil.copytree(Path(ckrequest.__file__).parent, root / "ckrequest", ignore=shutil.ignore_patterns("__pycache__"))
    path = root / "ckrequest" / module
    path.write_text(path.read_text() + "\n" + textwrap.dedent(appended))
    return root


NEW_READER_RULE = """
_measured = point_from_flat


def point_from_flat(entry, point, flat):  # a new rule of the reader: every latency reads as 42 s
    found = _measured(entry, point, flat)
    return replace(found, numbers={**found.numbers, "inference_latency": 42.0})
"""


def test_a_change_to_the_reader_is_never_served_stale_by_ck_scoreboard(ck_world, tmp_path):
    repo = write_results_repo(tmp_path / "results", "code-change-results")
    write_experiment(repo, "read-by-two-readers", {"p": our_point(latency_s=0.002)}, tags=("code-change",))

    def latency(world) -> float:
        proc = world.ck("scoreboard", "request.asplos18", f"--results_repo={repo}", "--format=json",
                        "--tags=code-change")
        (point,) = json.loads(proc.stdout)
        return point["inference_latency"]

    assert latency(ck_world) == latency(ck_world) == 0.002  # the second from the cache
    changed = CkWorld(ck_world.root, {**ck_world.env,
                                      "PYTHONPATH": str(modified_copy(tmp_path, "results/reader.py", NEW_READER_RULE))})
    assert latency(changed) == 42.0
    assert latency(ck_world) == 0.002  # and back


NEW_PREPROCESSING = """
_before = preprocess_file


def preprocess_file(path, spec):  # a new preprocessing rule: every input value is 7
    return _before(path, spec) * 0 + 7
"""
CHUNK_MEAN = """
import sys
from pathlib import Path
from ckrequest.datasets import LabelledImage
from ckrequest.datasets.cache import load_chunk
from ckrequest.datasets.preprocess import Preprocessing
images = [LabelledImage(p, (0,)) for p in sorted(Path(sys.argv[1]).glob("*.JPEG"))]
print(float(load_chunk(images, Preprocessing(16), Path(sys.argv[2])).mean()))
"""


def test_a_change_to_preprocessing_or_an_image_is_never_served_stale_by_the_image_cache(tmp_path):
    make_imagenet_dir(tmp_path / "images", count=3)
    cache = tmp_path / "preprocessed"

    def mean(pythonpath: Path) -> float:
        proc = subprocess.run([sys.executable, "-c", CHUNK_MEAN, str(tmp_path / "images"), str(cache)], check=True,
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(pythonpath)},
                              cwd=tmp_path)  # not the checkout, whose ckrequest would come first
        return float(proc.stdout)

    ours = Path(ckrequest.__file__).parent.parent
    first = mean(ours)
    assert mean(ours) == first != 7.0 and len(list(cache.rglob("*.npy"))) == 1
    assert mean(modified_copy(tmp_path, "datasets/preprocess.py", NEW_PREPROCESSING)) == 7.0
    image = sorted((tmp_path / "images").glob("*.JPEG"))[0]
    restore_size_and_mtime(image, _same_size_jpeg(image))  # another picture, the same size and mtime
    assert mean(ours) != first


def _same_size_jpeg(image: Path) -> bytes:
    """Another picture in a JPEG file of exactly the same length (padded after its end marker)."""
    size = image.stat().st_size
    for quality in range(95, 5, -5):
        out = io.BytesIO()
        Image.new("RGB", (41, 60), (255, 255, 255)).save(out, format="JPEG", quality=quality)
        data = out.getvalue()
        if len(data) <= size:
            return data + b"\0" * (size - len(data))
    raise AssertionError("no smaller JPEG")
