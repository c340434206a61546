"""The README's `ck` commands exactly as a user types them, in CK worlds of their own, stdin closed;
and what happens to a record when runs overlap, a model changes or a run is killed."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from conftest import make_world

BARE_RUN = ("run", "program:request-onnxruntime-classification", "--quiet")
SMALL = "--dep_add_tags.model=mobilenet-v1,multiplier-0.25,resolution-128,synthetic"  # where the model is not the point


def bare_benchmark(name: str) -> tuple[str, ...]:
    return ("benchmark", "program:request-onnxruntime-classification", "--record", f"--record_uoa={name}", "--quiet")


def points(world, name: str) -> list[dict]:
    folder = world.repos / "local" / "experiment" / name
    return [json.loads(p.read_text()) for p in sorted(folder.glob("ckp-*.flat.json"))]


def test_bare_run_and_benchmark_install_the_real_model_and_record_latency_and_accuracy(fresh_ck_world):
    world = fresh_ck_world
    run = world.ck(*BARE_RUN)
    assert "latency    batch 1:" in run.stdout and "accuracy   top-1" in run.stdout
    assert "Select command line" not in run.stdout
    models = world.env_entries("model")
    assert len(models) == 1
    tags = set(json.loads((world.repos / "local" / "env" / models[0]["data_uid"] / ".cm" / "meta.json")
                          .read_text())["tags"])
    assert {"efficientnet-lite0", "imagenet", "onnx", "fp32"} <= tags

    world.ck(*bare_benchmark("bare"))
    [flat] = points(world, "bare")
    for key in ("inference_latency", "inference_throughput", "accuracy_top1", "accuracy_top5"):
        assert flat[f"##characteristics#run#{key}#all"], key
    assert flat["##features#weights#min"] == "imagenet" and flat["##features#mode#min"] == "performance"
    assert flat["##characteristics#run#accuracy_top1#min"] > 0.5  # the real weights know the sample photos
    assert len(world.env_entries("model")) == 1  # the benchmark used what the run installed

    world.ck("benchmark", "program:request-onnxruntime-classification", "--env.CK_REQUEST_MODE=accuracy",
             "--record", "--record_uoa=bare-accuracy", "--quiet")
    folder = world.repos / "local" / "experiment" / "bare-accuracy"
    [log_path] = folder.glob("ckp-*.predictions-0001.json")
    files = {image["file"]: image for image in json.loads(log_path.read_text())["images"]}
    assert set(files) == {"chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png"}
    cat = files["chelsea.png"]
    assert cat["expected"][0] == 281 and len(cat["top5"]) == 5 and len(cat["scores"]) == 5
    assert cat["scores"] == sorted(cat["scores"], reverse=True)
    shown = world.ck("scoreboard", "request.asplos18", "--predictions=bare-accuracy").stdout
    assert "chelsea.png  expected: 281 tabby" in shown and "top-5: " in shown


def test_concurrent_benchmarks_recording_into_one_entry_give_one_point_each(ck_world):
    started = [ck_world.ck_started(*bare_benchmark("bare-concurrent"), SMALL, f"--env.CK_REQUEST_BATCH_SIZE={batch}",
                                   "--repetitions=3") for batch in (1, 2)]
    outputs = [proc.communicate(timeout=900)[0] for proc in started]
    assert [proc.returncode for proc in started] == [0, 0], outputs
    by_batch = {p["##features#batch_size#min"]: p for p in points(ck_world, "bare-concurrent")}
    assert sorted(by_batch) == [1, 2]
    for flat in by_batch.values():
        assert len(flat["##characteristics#run#inference_throughput#all"]) == 3
        assert len(flat["##characteristics#run#query_count#all"]) == 3
        assert flat["##characteristics#run#query_count#min"] >= 100
    assert by_batch[1]["##characteristics#run#inference_latency#all"]  # batch 1 only
    assert "##characteristics#run#inference_latency#all" not in by_batch[2]


def test_a_model_changed_in_place_stops_the_run_and_check_sees_it(fresh_ck_world):
    world = fresh_ck_world
    world.ck(*bare_benchmark("before-change"), "--repetitions=1", "--env.CK_REQUEST_MIN_DURATION_S=0.1")
    info = world.model_info("model")
    model = info.parent / json.loads(info.read_text())["file"]
    size = model.stat().st_size
    with open(model, "r+b") as handle:  # same size, 400 bytes overwritten
        handle.seek(size // 2)
        handle.write(bytes(400))
    assert model.stat().st_size == size

    proc = world.ck(*bare_benchmark("after-change"), "--repetitions=1", check=False)
    assert proc.returncode != 0
    [line] = [x for x in (proc.stdout + proc.stderr).splitlines() if x.startswith("ckrequest: error:")]
    assert str(model) in line and "changed since it was installed" in line and "--reinstall" in line
    assert not points(world, "after-change")

    check = world.ck("check", "request.asplos18", "--experiment=before-change", check=False)
    assert check.returncode != 0 and "changed since this point was recorded" in check.stdout


def kill_while_recording(world, name: str, attempts: int = 5) -> str:
    """Start a record and kill -9 the `ck` process while it holds the entry's lock; the entry's name.

    The lock is held for a second or so: on a busy machine the poll can miss it, so try again."""
    for attempt in range(attempts):
        entry = world.repos / "local" / "experiment" / f"{name}-{attempt}"
        proc = world.ck_started(*bare_benchmark(entry.name), SMALL, "--repetitions=1",
                                "--env.CK_REQUEST_MIN_DURATION_S=0.1")
        while proc.poll() is None and not (entry / ".cm" / "ck_lock.pid").exists():
            time.sleep(0.002)
        proc.kill()
        proc.communicate()
        if (entry / ".cm" / "ck_lock.txt").exists():
            assert not list(entry.glob("ckp-*.flat.json"))
            return entry.name
    raise AssertionError(f"no run was caught holding its lock in {attempts} attempts")


def test_a_record_killed_midway_is_named_repaired_and_its_lock_cleared(ck_world):
    killed = kill_while_recording(ck_world, "killed-once")
    board = ck_world.ck("scoreboard", "request.asplos18")
    assert f"{killed}: no points: an interrupted record?" in board.stderr
    fixed = ck_world.ck("check", "request.asplos18", f"--experiment={killed}", "--fix")
    assert "removed (it had no point" in fixed.stdout
    assert not (ck_world.repos / "local" / "experiment" / killed).exists()

    killed = kill_while_recording(ck_world, "killed-then-recorded")
    pipeline = ck_world.repos / "local" / "experiment" / killed / "pipeline.json"
    text = pipeline.read_text() if pipeline.exists() else '{"choices": {"data_uoa": "request-onnx-classification"}}'
    pipeline.write_text(text[: len(text) // 2])  # as a kill in the middle of CK writing it leaves it
    again = ck_world.ck(*bare_benchmark(killed), SMALL, "--repetitions=1", "--env.CK_REQUEST_MIN_DURATION_S=0.1")
    assert f"removed a stale CK lock on experiment:{killed}" in again.stderr + again.stdout
    assert "locked - waiting" not in again.stdout  # CK alone waits 120 s for the dead process's lock
    assert f"removed pipeline.json of experiment:{killed}, half-written" in again.stderr + again.stdout
    assert len(points(ck_world, killed)) == 1
    replay = ck_world.ck("replay", f"experiment:{killed}", "--quiet")
    assert "ck-request: replay of experiment:" in replay.stdout and "ratio" in replay.stdout


@pytest.mark.ck
def test_runs_leave_no_folder_behind(tmp_path):
    """Each run works in a folder of its own (in the temporary folder), removed when the ck process ends."""
    world = make_world(tmp_path)
    world.env["TMPDIR"] = str(tmp_path / "tmp")
    (tmp_path / "tmp").mkdir()
    world.ck(*BARE_RUN, "--env.CK_REQUEST_MIN_DURATION_S=0.1")
    assert not list((tmp_path / "tmp").glob("ck-request-run-*"))
    assert not list((Path(__file__).resolve().parents[1] / "program" / "request-onnxruntime-classification")
                    .glob("tmp*"))


def test_the_bare_benchmark_records_efficientnet_whatever_other_models_are_installed(fresh_ck_world):
    """Two other ONNX models installed first (as the README's examples do): the bare command still
    benchmarks the real EfficientNet-Lite0, never whichever model happens to be installed."""
    world = fresh_ck_world
    for variant in ("multiplier-0.25,resolution-128", "multiplier-0.5,resolution-160"):
        world.ck("install", "package", f"--tags=model,onnx,mobilenet-v1,{variant},synthetic", "--quiet")
    world.ck(*bare_benchmark("bare-default"), "--repetitions=1", "--env.CK_REQUEST_MIN_DURATION_S=0.1")
    [flat] = points(world, "bare-default")
    assert flat["##features#weights#min"] == "imagenet"
    assert flat["##features#meta#model_design_name#min"].startswith("EfficientNet-Lite0")
