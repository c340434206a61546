"""The whole workflow through the real `ck` command line, stdin closed, in a private CK world."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from builders import make_imagenet_dir, make_tiny_onnx_model
from conftest import REPO_ROOT

BENCH = ("benchmark", "program:request-onnxruntime-classification", "--quiet",
         "--env.CK_REQUEST_MIN_DURATION_S=0.2", "--env.CK_REQUEST_MIN_QUERIES=100")


def experiment_dir(world, name: str) -> Path:
    return world.repos / "local" / "experiment" / name


def flat_point(world, name: str) -> dict:
    points = sorted(experiment_dir(world, name).glob("ckp-*.flat.json"))
    assert len(points) == 1, points
    return json.loads(points[0].read_text())


def error_lines(proc) -> list[str]:
    return [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("ckrequest: error:")]


def env_entries(world, tags: str) -> list[dict]:
    return json.loads(world.ck("search", "env", f"--tags={tags}", "--out=json").stdout)["lst"]


def test_setup_is_idempotent(ck_world):
    again = ck_world.ckrequest("setup")
    assert "already registered" in again.stdout
    assert len(env_entries(ck_world, "compiler,python")) == 1
    assert "ck-request" in ck_world.ck("list", "repo").stdout


def test_setup_moves_only_when_asked_and_replaces_a_stale_registration(fresh_ck_world, tmp_path):
    world = fresh_ck_world
    other = tmp_path / "other-checkout"
    other.mkdir()
    shutil.copy(REPO_ROOT / ".ckr.json", other / ".ckr.json")
    world.ck("rm", "repo:ck-request", "--force")
    world.ck("import", "repo", f"--path={other}", "--quiet")

    refused = world.ckrequest("setup", check=False)
    assert refused.returncode == 2
    [line] = error_lines(refused)
    assert "setup --move" in line and str(other) in line

    moved = world.ckrequest("setup", "--move")
    assert f"was {other}" in moved.stdout and (other / ".ckr.json").is_file()  # files kept
    assert str(REPO_ROOT) in world.ck("where", "repo:ck-request").stdout

    world.ck("rm", "repo:ck-request", "--force")
    world.ck("import", "repo", f"--path={other}", "--quiet")
    shutil.rmtree(other)  # the registered checkout is deleted: its registration is stale
    healed = world.ckrequest("setup")
    assert "no longer exists" in healed.stdout
    assert str(REPO_ROOT) in world.ck("where", "repo:ck-request").stdout


def test_efficientnet_benchmark_records_unified_keys_replays_and_shows(ck_world):
    ck_world.ck("install", "package:model-onnx-efficientnet-lite0-imagenet", "--quiet")
    run = ck_world.ck(*BENCH, "--dep_add_tags.model=efficientnet-lite0,imagenet",
                      "--repetitions=3", "--record", "--record_uoa=effnet-perf")
    assert "accuracy   top-1" in run.stdout
    flat = flat_point(ck_world, "effnet-perf")
    for key in ("##characteristics#run#inference_latency#min", "##characteristics#run#accuracy_top1#mean",
                "##characteristics#run#latency_p99_s#min", "##characteristics#run#peak_memory_bytes#max",
                "##features#model_size#min", "##features#batch_size#min", "##features#statistical_repetitions#min"):
        assert key in flat, key
    assert flat["##features#statistical_repetitions#min"] == 3
    assert len(flat["##characteristics#run#inference_latency#all"]) == 3
    assert flat["##features#weights#min"] == "imagenet"
    assert flat["##features#meta#model_precision#min"] == "fp32"
    assert flat["##features#meta#library_name#min"].startswith("onnxruntime ")
    assert flat["##characteristics#run#accuracy_top5#mean"] == 1.0  # the 4 sample photos
    assert 0 < flat["##characteristics#run#inference_latency#min"] < 1.0

    replay = ck_world.ck("replay", "experiment:effnet-perf", "--quiet")
    assert "accuracy   top-1" in replay.stdout
    assert "top-1 accuracy (fraction):  1.0 vs 1.0" in replay.stdout  # CK, on the scenario's replay keys
    assert "ck-request: replay of experiment:local:effnet-perf" in replay.stdout

    board = ck_world.ck("scoreboard", "request.asplos18").stdout
    line = next(row for row in board.splitlines() if row.startswith("effnet-perf "))
    assert "efficientnet-lite0" in line and "onnxruntime" in line and "imagenet" in line and "%" in line


def test_synthetic_mobilenet_variation_reports_no_accuracy(ck_world):
    ck_world.ck(*BENCH, "--dep_add_tags.model=mobilenet-v1,multiplier-0.25,resolution-128,synthetic",
                "--repetitions=1", "--record", "--record_uoa=mobilenet-synthetic")
    flat = flat_point(ck_world, "mobilenet-synthetic")
    assert flat["##features#weights#min"] == "synthetic"
    assert not [k for k in flat if "accuracy" in k]
    assert flat["##features#meta#model_design_name#min"].startswith("MobileNet-v1 0.25/128")
    board = ck_world.ck("scoreboard", "request.asplos18").stdout
    assert "synthetic weights" in board


def test_imagenet_format_folder_detects_and_runs_accuracy(ck_world, tmp_path):
    val = make_imagenet_dir(tmp_path / "imagenet-val", count=6)
    ck_world.ck("detect", "soft:dataset.imagenet.val", f"--full_path={val}", "--quiet")
    (env,) = env_entries(ck_world, "dataset,imagenet")
    ck_world.ck(*BENCH, "--env.CK_REQUEST_MODE=accuracy", "--dep_add_tags.model=efficientnet-lite0,imagenet",
                "--dep_add_tags.dataset=imagenet", "--env.CK_REQUEST_BATCH_SIZE=4",
                "--repetitions=1", "--record", "--record_uoa=effnet-imagenet-accuracy")
    flat = flat_point(ck_world, "effnet-imagenet-accuracy")
    assert flat["##characteristics#run#accuracy_images#min"] == 6
    assert flat["##features#dataset_size#min"] == 6
    assert flat["##characteristics#run#accuracy_top5_correct#min"] <= 6


def test_wrong_data_set_path_is_refused(ck_world, tmp_path):
    proc = ck_world.ck("detect", "soft:dataset.imagenet.val", f"--full_path={tmp_path / 'nowhere' / 'val.txt'}",
                       "--quiet", check=False)
    assert proc.returncode != 0
    assert "data set ground truth not found" in proc.stdout + proc.stderr


@pytest.mark.parametrize("flag, words", [
    ("--env.CK_REQUEST_BATCH_SIZE=one", "CK_REQUEST_BATCH_SIZE='one': is not a whole number"),
    ("--env.CK_REQUEST_MIN_DURATION_S=-3", "CK_REQUEST_MIN_DURATION_S='-3': is outside"),
    ("--env.CK_REQUEST_SCENARIO=Fastest", "CK_REQUEST_SCENARIO='Fastest': is not one of native, SingleStream"),
])
def test_bad_run_variable_exits_non_zero_without_a_point(ck_world, flag, words):
    proc = ck_world.ck(*BENCH, "--dep_add_tags.model=efficientnet-lite0,imagenet", flag,
                       "--repetitions=1", "--record", "--record_uoa=bad-run-var", check=False)
    assert proc.returncode != 0
    (line,) = error_lines(proc)
    assert words in line
    assert not experiment_dir(ck_world, "bad-run-var").exists()


def test_corrupt_model_and_unreadable_image_exit_non_zero(fresh_ck_world, tmp_path):
    world = fresh_ck_world
    info = make_tiny_onnx_model(tmp_path / "tiny")
    world.ck("detect", "soft:model.onnx", f"--full_path={info}", "--quiet")
    val = make_imagenet_dir(tmp_path / "val", count=3)
    world.ck("detect", "soft:dataset.imagenet.val", f"--full_path={val}", "--quiet")
    common = (*BENCH, "--dep_add_tags.dataset=imagenet", "--repetitions=1", "--record")
    world.ck(*common, "--record_uoa=tiny-ok")  # the same stack works before it is broken

    (val.parent / "ILSVRC2012_val_00000002.JPEG").write_bytes(b"truncated")
    world.env["CK_REQUEST_CACHE_DIR"] = str(tmp_path / "fresh-cache")
    proc = world.ck(*common, "--record_uoa=bad-image", check=False)
    assert proc.returncode != 0
    (line,) = error_lines(proc)
    assert "unreadable image:" in line and "ILSVRC2012_val_00000002.JPEG" in line
    assert not experiment_dir(world, "bad-image").exists()

    make_imagenet_dir(tmp_path / "val", count=3)
    (info.parent / "model.onnx").write_bytes(b"\x08\x01garbage")
    described = json.loads(info.read_text())  # installed broken (the checksum agrees): the framework says why
    info.write_text(json.dumps({**described, "sha256": hashlib.sha256(b"\x08\x01garbage").hexdigest()}))
    proc = world.ck(*common, "--record_uoa=bad-model", check=False)
    assert proc.returncode != 0
    (line,) = error_lines(proc)
    assert "ONNX Runtime cannot load it" in line and "model.onnx" in line
    assert not experiment_dir(world, "bad-model").exists()


def test_unsafe_pickle_install_fails_and_registers_nothing(fresh_ck_world, tmp_path):
    import pickle

    class Exploit:
        def __reduce__(self):
            return (print, ("pwned",))

    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps(Exploit(), protocol=2))
    proc = fresh_ck_world.ck("install", "package:model-onnx-efficientnet-lite0-imagenet", "--quiet",
                             f"--env.CK_REQUEST_WEIGHTS_FILE={evil}", check=False)
    assert proc.returncode != 0
    (line,) = error_lines(proc)
    assert "unsafe pickle" in line and "builtins.print" in line
    assert "pwned" not in proc.stdout
    assert env_entries(fresh_ck_world, "model,efficientnet-lite0") == []
    assert not list(fresh_ck_world.tools.glob("model-onnx-efficientnet-lite0-imagenet*"))


def test_library_installs_pinned_into_ck_tools(fresh_ck_world):
    world = fresh_ck_world
    world.ck("install", "package:lib-onnxruntime", "--quiet")
    (entry,) = env_entries(world, "lib,onnxruntime")
    env_script = (world.repos / "local" / "env" / entry["data_uid"] / "env.sh").read_text()
    target = world.tools / "lib-onnxruntime-1.32.0-linux-64" / "python"
    assert (target / "onnxruntime" / "__init__.py").is_file()
    assert f'export PYTHONPATH="{target}:' in env_script
    bad = world.ck("install", "package:lib-onnxruntime", "--force_version=0.0.1", "--quiet", check=False)
    assert bad.returncode != 0
    assert "No matching distribution found for onnxruntime==0.0.1" in bad.stdout + bad.stderr
    assert not (world.tools / "lib-onnxruntime-0.0.1-linux-64").exists()
    assert len(env_entries(world, "lib,onnxruntime")) == 1


def test_two_library_versions_side_by_side_are_chosen_at_benchmark_time(fresh_ck_world):
    world = fresh_ck_world
    world.ck("install", "package:lib-onnxruntime", "--quiet")
    world.ck("install", "package:lib-onnxruntime", "--env.CK_REQUEST_LIB_VERSION=1.31.0", "--quiet")
    versions = sorted(e["meta"]["setup"]["version"] for e in json.loads(world.ck(
        "search", "env", "--tags=lib,onnxruntime", "--add_meta", "--out=json").stdout)["lst"])
    assert versions == ["1.31.0", "1.32.0"]
    assert (world.tools / "lib-onnxruntime-1.31.0-linux-64" / "python" / "onnxruntime").is_dir()
    for version in versions:
        world.ck(*BENCH, f"--dep_add_tags.lib=v{version}",
                 "--dep_add_tags.model=mobilenet-v1,multiplier-0.25,resolution-128,synthetic",
                 "--repetitions=1", "--record", f"--record_uoa=ort-{version}")
        assert flat_point(world, f"ort-{version}")["##features#meta#library_name#min"] == f"onnxruntime {version}"
    board = world.ck("scoreboard", "request.asplos18", "--format=csv").stdout
    assert "onnxruntime 1.31.0" in board and "onnxruntime 1.32.0" in board
