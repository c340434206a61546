"""The normalised-points cache: the same board as a fresh read, never a stale point."""

from __future__ import annotations

import json
import os
import shutil

from ckrequest.results.cache import read_repos

from builders import our_point, write_experiment, write_point


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
