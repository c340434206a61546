"""MLPerf LoadGen scenarios through the real `ck`: recorded points with LoadGen's verdict and logs (ONNX Runtime
and TFLite), the scoreboard's scenario filter, validate's like-with-like, and LoadGen's accuracy log scored
exactly as our own accuracy run (the real EfficientNet-Lite0, the sample photos and an ImageNet-format folder)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from ckrequest.run.config import config_from_env
from ckrequest.run.harness import RunInputs, run_benchmark

from builders import make_imagenet_dir, record_synthetic_mobilenet

SMALL = "--dep_add_tags.model=mobilenet-v1,multiplier-0.25,resolution-128,synthetic"
# short runs: LoadGen's checks against these minimums (Server: a bound a busy 2-core machine meets)
SHORT = ("--env.CK_REQUEST_MIN_DURATION_S=0.2", "--env.CK_REQUEST_MIN_QUERIES=100", "--repetitions=1", "--quiet")
SCENARIO_FLAGS = {"SingleStream": (), "Offline": ("--env.CK_REQUEST_BATCH_SIZE=4",),
                  "Server": ("--env.CK_REQUEST_TARGET_QPS=200", "--env.CK_REQUEST_TARGET_LATENCY_MS=1000")}


def the_point(world, name: str) -> tuple[Path, dict]:
    entry = world.repos / "local" / "experiment" / name
    (flat,) = entry.glob("ckp-*.flat.json")
    return entry, json.loads(flat.read_text())


def record(world, framework: str, scenario: str, name: str, *flags: str) -> tuple[Path, dict, str]:
    proc = world.ck("benchmark", f"program:request-{framework}-classification", SMALL, *SHORT,
                    f"--env.CK_REQUEST_SCENARIO={scenario}", *SCENARIO_FLAGS[scenario], *flags,
                    "--record", f"--record_uoa={name}")
    return (*the_point(world, name), proc.stdout)


def assert_loadgen_point(entry: Path, flat: dict, stdout: str, scenario: str) -> None:
    """VALID, or INVALID with LoadGen's reason; LoadGen's own logs kept in the entry, saying the same."""
    valid = flat["##characteristics#run#loadgen_valid#min"]
    assert flat["##features#scenario#min"] == scenario and valid in (0, 1)
    assert flat["##features#meta#loadgen_version#min"].startswith("6.")
    (summary,) = entry.glob("ckp-*.loadgen-summary-0001.txt")
    (detail,) = entry.glob("ckp-*.loadgen-detail-0001.txt.gz")
    text = summary.read_text()
    assert f"Scenario : {scenario}" in text and f"Result is : {'VALID' if valid else 'INVALID'}" in text
    assert '"key": "result_validity"' in gzip.decompress(detail.read_bytes()).decode()
    assert f"loadgen    {scenario} {'VALID' if valid else 'INVALID'}" in stdout
    if not valid:
        assert "INVALID because" in stdout and " not met" in stdout
    throughput = flat["##characteristics#run#inference_throughput#min"]
    assert throughput > 0 and flat["##characteristics#run#loadgen_target_qps#min"] > 0
    assert ("##characteristics#run#latency_p90_s#min" in flat) == (scenario != "Offline")


@pytest.fixture(scope="module")
def onnxruntime_points(ck_world):
    return {scenario: record(ck_world, "onnxruntime", scenario, f"loadgen-ort-{scenario.lower()}")
            for scenario in SCENARIO_FLAGS}


@pytest.mark.parametrize("scenario", list(SCENARIO_FLAGS))
def test_onnxruntime_records_loadgens_verdict_and_logs(onnxruntime_points, scenario):
    assert_loadgen_point(*onnxruntime_points[scenario], scenario)


def test_the_scoreboard_filters_by_scenario_and_validate_compares_like_with_like(ck_world, onnxruntime_points):
    board = json.loads(ck_world.ck("scoreboard", "request.asplos18", "--scenario=server", "--format=json").stdout)
    assert {p["entry"] for p in board} == {"loadgen-ort-server"}
    (server,) = board
    assert server["invalid"] == (server["loadgen_valid"] == 0) and (not server["invalid"] or not server["pareto"])
    table = ck_world.ck("scoreboard", "request.asplos18", "--x=latency_p90_s", "--y=inference_throughput").stdout
    row = next(line for line in table.splitlines() if line.startswith("loadgen-ort-singlestream "))
    assert "SingleStream" in row
    bad = ck_world.ck("scoreboard", "request.asplos18", "--scenario=Streaming", check=False)
    assert bad.returncode != 0 and "--scenario=Streaming: is not one of native, SingleStream" in bad.stdout + bad.stderr

    native = record_synthetic_mobilenet(ck_world, "board-mobilenet-synthetic").name  # shared with the board tests
    proc = ck_world.ck("validate", "request.asplos18", f"--experiment=local:{native}",
                       "--reproduced=loadgen-ort-singlestream", check=False)
    assert "stack differs: scenario 'native' vs 'SingleStream'" in proc.stdout


def test_tflite_records_singlestream_offline_and_server(zoo_world):
    for scenario in SCENARIO_FLAGS:
        assert_loadgen_point(*record(zoo_world, "tflite", scenario, f"loadgen-tflite-{scenario.lower()}"), scenario)
        assert the_point(zoo_world, f"loadgen-tflite-{scenario.lower()}")[1][
            "##features#meta#library_name#min"].startswith("ai-edge-litert ")


# ---------------------------------------------------------------- LoadGen's accuracy log, scored by ours


def predictions(entry: Path) -> list[dict]:
    (path,) = entry.glob("ckp-*.predictions-0001.json")
    return json.loads(path.read_text())["images"]


def test_loadgen_accuracy_equals_ours_on_the_sample_photos(ck_world):
    """The bare command (the real EfficientNet-Lite0 on the sample photos) in accuracy mode, three ways."""
    ck_world.install("model-onnx-efficientnet-lite0-imagenet")  # installed, it is the bare command's choice
    found = {}
    for scenario, batch in (("native", 1), ("SingleStream", 1), ("Offline", 2)):
        name = f"loadgen-accuracy-{scenario.lower()}"
        ck_world.ck("benchmark", "program:request-onnxruntime-classification", "--env.CK_REQUEST_MODE=accuracy",
                    f"--env.CK_REQUEST_SCENARIO={scenario}", f"--env.CK_REQUEST_BATCH_SIZE={batch}",
                    "--repetitions=1", "--record", f"--record_uoa={name}", "--quiet")
        entry, flat = the_point(ck_world, name)
        found[scenario] = (flat, predictions(entry), entry)
    native, _, _ = found["native"]
    assert native["##features#meta#model_design_name#min"].startswith("EfficientNet-Lite0")
    assert native["##characteristics#run#accuracy_top1_correct#min"] == 4  # the photos: a smoke test that bites
    for scenario in ("SingleStream", "Offline"):
        flat, images, entry = found[scenario]
        for key in ("accuracy_top1_correct", "accuracy_top5_correct", "accuracy_images"):
            assert flat[f"##characteristics#run#{key}#min"] == native[f"##characteristics#run#{key}#min"], key
        assert [(i["file"], i["top5"]) for i in images] == [(i["file"], i["top5"]) for i in found["native"][1]]
        (log,) = entry.glob("ckp-*.loadgen-accuracy-0001.json.gz")
        assert len(json.loads(gzip.decompress(log.read_bytes()))) == 4  # every image once, in LoadGen's log


def test_loadgen_accuracy_equals_ours_on_an_imagenet_format_folder(ck_world, tmp_path, monkeypatch):
    """The real EfficientNet-Lite0 on a folder in ImageNet's layout, every scenario's AccuracyOnly run."""
    ck_world.install("model-onnx-efficientnet-lite0-imagenet")
    info = ck_world.model_info("model,onnx,efficientnet-lite0,imagenet")
    val = make_imagenet_dir(tmp_path / "imagenet-val", count=10)
    monkeypatch.setenv("CK_REQUEST_CACHE_DIR", str(tmp_path / "cache"))
    inputs = RunInputs(info, val.parent, val, val.parent / "synset_words.txt", "imagenet-val")
    runs = {}
    for scenario, batch in (("native", 1), ("SingleStream", 1), ("MultiStream", 4), ("Server", 2), ("Offline", 4)):
        config = config_from_env({"CK_REQUEST_MODE": "accuracy", "CK_REQUEST_SCENARIO": scenario,
                                  "CK_REQUEST_BATCH_SIZE": str(batch)})
        runs[scenario] = run_benchmark("onnxruntime", config, inputs, tmp_path / f"logs-{scenario}").accuracy
    native = runs.pop("native")
    assert native.images == 10
    for scenario, accuracy in runs.items():
        assert (accuracy.top1_correct, accuracy.top5_correct, accuracy.images) == \
               (native.top1_correct, native.top5_correct, native.images), scenario
        assert [(p.file, p.top5) for p in accuracy.predictions] == [(p.file, p.top5) for p in native.predictions]
