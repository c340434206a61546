"""What a kill leaves in an experiment entry, through the real `ck` commands: a half-written point is
ignored by the board, named by `ck check` and removed by its --fix; an unreadable meta.json is read
around and rebuilt; --fix never deletes an exploration; every text file of an entry is scanned."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import REPO_ROOT

SMALL = "mobilenet-v1,multiplier-0.25,resolution-128,synthetic"
REFERENCE = next(p.name for p in sorted((REPO_ROOT / "experiment").iterdir()) if "mobilenet-v1-0.25" in p.name)


def copied_reference(world, name: str) -> Path:
    """A copy of a one-point reference entry in the world's local repository."""
    world.ck("cp", f"ck-request:experiment:{REFERENCE}", f"local:experiment:{name}")
    return world.repos / "local" / "experiment" / name


def board_points(world, name: str) -> tuple[list[dict], str]:
    proc = world.ck("scoreboard", "request.asplos18", f"--entry={name}", "--format=json")
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout), proc.stderr


def check(world, name: str, *flags: str):
    proc = world.ck("check", "request.asplos18", f"--experiment={name}", *flags, check=False)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return proc


def test_a_point_a_kill_left_half_written_is_ignored_named_and_removed_by_fix(ck_world):
    entry = copied_reference(ck_world, "half-written-point")
    [whole] = [p.name[len("ckp-"):-len(".flat.json")] for p in entry.glob("ckp-*.flat.json")]
    flat_only, empty_flat = "0123456789abcdef", "fedcba9876543210"
    shutil.copy(entry / f"ckp-{whole}.flat.json", entry / f"ckp-{flat_only}.flat.json")  # killed after CK's 1st file
    shutil.copy(entry / f"ckp-{whole}.0001.json", entry / f"ckp-{empty_flat}.0001.json")
    (entry / f"ckp-{empty_flat}.flat.json").write_bytes(b"")  # killed while CK wrote the flat file
    cut = entry / f".ckp-{empty_flat}.features.json.k1lled00.tmp"
    cut.write_text('{"half')  # killed while an atomic save wrote its temporary file

    points, stderr = board_points(ck_world, "half-written-point")
    assert [p["point"] for p in points] == [whole]
    assert f"ckp-{flat_only}" in stderr and "partial point" in stderr

    found = check(ck_world, "half-written-point")
    assert found.returncode == 1
    named = [line for line in found.stdout.splitlines() if "partial point" in line]
    assert len(named) == 2 and all("--fix" in line for line in named), found.stdout
    assert any(flat_only in line for line in named) and any(empty_flat in line for line in named)
    assert any(cut.name in line and "writes a kill cut short" in line and "--fix" in line
               for line in found.stdout.splitlines()), found.stdout

    fixed = check(ck_world, "half-written-point", "--fix")
    assert fixed.returncode == 0, fixed.stdout
    assert "fit to contribute (1 point(s))" in fixed.stdout
    assert sorted({p.name.split(".")[0] for p in entry.glob("ckp-*")}) == [f"ckp-{whole}"]
    assert not cut.exists()
    assert check(ck_world, "half-written-point").returncode == 0


def test_an_unreadable_meta_json_is_read_around_and_rebuilt_with_the_keys_ck_keeps(ck_world):
    entry = copied_reference(ck_world, "zero-byte-meta")
    before = json.loads((entry / ".cm" / "meta.json").read_text())
    (entry / ".cm" / "meta.json").write_bytes(b"")  # as a kill while CK rewrote it left it

    points, stderr = board_points(ck_world, "zero-byte-meta")
    assert len(points) == 1 and points[0]["inference_latency"]  # the points are not dropped with the meta
    assert "meta.json" in stderr

    found = check(ck_world, "zero-byte-meta")
    assert found.returncode == 1
    [line] = [x for x in found.stdout.splitlines() if "meta.json" in x]
    assert "unreadable" in line and "--fix" in line

    fixed = check(ck_world, "zero-byte-meta", "--fix")
    assert fixed.returncode == 0, fixed.stdout
    after = json.loads((entry / ".cm" / "meta.json").read_text())
    for key in ("pipeline_uid", "pipeline_uoa", "points", "meta"):
        assert after[key] == before[key], key
    assert after["meta"]["scenario_module_uoa"] == "a555738be4b65860"
    assert after["added"]["engine"] == "CK"


def test_a_record_into_an_entry_whose_meta_a_kill_emptied_rebuilds_it_and_records(ck_world):
    record = ("benchmark", "program:request-onnxruntime-classification", f"--dep_add_tags.model={SMALL}", "--record",
              "--record_uoa=meta-emptied", "--quiet", "--repetitions=1", "--env.CK_REQUEST_MIN_DURATION_S=0.05")
    ck_world.ck(*record)
    meta = ck_world.repos / "local" / "experiment" / "meta-emptied" / ".cm" / "meta.json"
    before = json.loads(meta.read_text())
    meta.write_bytes(b"")
    again = ck_world.ck(*record)
    assert "rebuilt .cm/meta.json of experiment:meta-emptied, which is empty" in again.stderr
    after = json.loads(meta.read_text())
    assert after["points"] == "2" and len(list(meta.parent.parent.glob("ckp-*.flat.json"))) == 2
    for key in ("pipeline_uid", "pipeline_uoa", "meta"):
        assert after[key] == before[key], key


def test_check_fix_keeps_an_exploration_whose_trials_were_all_skipped(ck_world):
    ck_world.ck("add", "experiment:all-skipped", "--common_func", "--quiet")  # an empty entry, as explore makes it
    entry = ck_world.repos / "local" / "experiment" / "all-skipped"
    (entry / "explore.json").write_text(json.dumps({"trials": [{"number": 1, "status": "skipped"}]}))
    (entry / "explore-study.journal").write_text('{"op_code": 0, "worker_id": "w"}\n')
    (entry / "explore-logs").mkdir()
    (entry / "explore-logs" / "trial-0001.log").write_text("no such package\n")

    fixed = check(ck_world, "all-skipped", "--fix")
    assert fixed.returncode == 1
    assert "removed" not in fixed.stdout
    assert "explore.json" in fixed.stdout  # says what it keeps
    for name in ("explore.json", "explore-study.journal", "explore-logs/trial-0001.log"):
        assert (entry / name).is_file(), name


def test_check_names_a_home_path_and_the_host_name_in_an_explore_log_by_file_and_line(ck_world):
    from ckrequest.reproduce.check import this_hostnames

    entry = copied_reference(ck_world, "leaky-log")
    (entry / "explore-logs").mkdir()
    hosts = this_hostnames()
    (entry / "explore-logs" / "trial-0001.log").write_text(
        f"trial 1\nloading /home/alice/models/m.onnx\nmeasured on {hosts[0] if hosts else 'localhost'}\n")
    (entry / "explore-study.journal").write_text('{"op_code": 0, "note": "/Users/bob/x"}\n')

    found = check(ck_world, "leaky-log")
    assert found.returncode == 1
    lines = found.stdout.splitlines()
    assert any("explore-logs/trial-0001.log line 2" in x and "/home/alice/models/m.onnx" in x for x in lines), lines
    assert any("explore-study.journal line 1" in x and "/Users/bob/x" in x for x in lines), lines
    if hosts:
        assert any("explore-logs/trial-0001.log line 3" in x and f"host name {hosts[0]!r}" in x for x in lines), lines

    fixed = check(ck_world, "leaky-log", "--fix")
    assert fixed.returncode == 0, fixed.stdout
    log = (entry / "explore-logs" / "trial-0001.log").read_text()
    assert "/home/alice" not in log and (not hosts or hosts[0] not in log)
    assert json.loads((entry / "explore-study.journal").read_text())["note"] == "~/x"


def test_a_kill_storm_corrupts_loses_and_duplicates_no_point(fresh_ck_world):
    """`python -m ckrequest.tools.bench killstorm --kills=6`: three SIGKILLs of `ck benchmark --record`, three of
    `ck explore` (then --resume), four of them the moment a point file appears; checked after every kill."""
    from ckrequest.tools.bench_killstorm import KillStorm, prepare

    world = fresh_ck_world
    prepare(world.env, world.root)
    said: list[str] = []
    report = KillStorm(world.env, world.root, trials=4, seed=3, say=said.append).storm(6)
    assert (report.kills, report.at_point_files) == (6, 4), said
    assert report.failures == []
    assert (report.corrupt, report.lost, report.duplicates) == (0, 0, 0), report.lines()
    assert report.explorations and all(line.endswith("4 trials (4 measured), 4 points on the board")
                                       for line in report.explorations), report.explorations


def test_a_point_seen_partial_is_read_once_whole_never_served_stale_from_the_cache(tmp_path):
    from ckrequest.results.cache import read_repos

    from builders import our_point, write_experiment, write_point

    entry = write_experiment(tmp_path / "repo", "growing", {"p": our_point(latency_s=0.002)})
    (entry / "ckp-q.flat.json").write_text(json.dumps(our_point(latency_s=0.004)))  # CK's first file of point q
    cache = tmp_path / "points.sqlite3"
    points, skipped, _ = read_repos([("repo", tmp_path / "repo")], cache)
    assert [p.point for p in points] == ["p"] and "partial point" in skipped[0].reason
    write_point(entry, "q", our_point(latency_s=0.004))  # the record ends
    points, skipped, _ = read_repos([("repo", tmp_path / "repo")], cache)
    assert [p.point for p in points] == ["p", "q"] and not skipped
