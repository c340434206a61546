"""MLPerf LoadGen scenarios (CK_REQUEST_SCENARIO): the run variables, the real LoadGen driving the tiny
test network outside CK, LoadGen's result under the unified keys, and what the boards, validate and check
make of it. The same through the real `ck` is in test_loadgen_ck.py."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ckrequest.board.filters import Filters
from ckrequest.board.scoreboard import board_json, build_board, render_table
from ckrequest.errors import RequestError
from ckrequest.reproduce.check import run_kinds
from ckrequest.reproduce.validate import compare_sides
from ckrequest.results import schema
from ckrequest.results.entry import RecordedPoint
from ckrequest.results.schema import parse_axis
from ckrequest.results.writer import TIMER_FILE, characteristics, features_and_meta
from ckrequest.run.config import RunConfig, config_from_env
from ckrequest.run.harness import RunInputs, run_benchmark
from ckrequest.run.loadgen_log import SUMMARY_LOG, decode_response, encode_response
from ckrequest.run.loadgen_settings import requested_settings

from builders import make_imagenet_dir, make_tiny_onnx_model, our_point, run_harness_without_ck, write_experiment
from conftest import REPO_ROOT

SHORT = {"CK_REQUEST_MIN_DURATION_S": "0.2", "CK_REQUEST_MIN_QUERIES": "100"}


# ---------------------------------------------------------------- the run variables


def test_scenario_is_a_run_variable_in_any_letter_case_native_by_default():
    assert config_from_env({}).scenario == "native" and not config_from_env({}).loadgen
    config = config_from_env({"CK_REQUEST_SCENARIO": "offline", "CK_REQUEST_TARGET_QPS": "250",
                              "CK_REQUEST_TARGET_LATENCY_MS": "15"})
    assert (config.scenario, config.target_qps, config.target_latency_ms, config.loadgen) == ("Offline", 250, 15, True)


@pytest.mark.parametrize("env, words", [
    ({"CK_REQUEST_SCENARIO": "Fastest"}, "CK_REQUEST_SCENARIO='Fastest': is not one of native, SingleStream"),
    ({"CK_REQUEST_TARGET_QPS": "many"}, "CK_REQUEST_TARGET_QPS='many': is not a number"),
    ({"CK_REQUEST_TARGET_LATENCY_MS": "-1"}, "CK_REQUEST_TARGET_LATENCY_MS='-1': is outside"),
    ({"CK_REQUEST_USER_CONF": "/nowhere/user.conf"}, "CK_REQUEST_USER_CONF='/nowhere/user.conf': is not a file"),
    ({"CK_REQUEST_SCENARIO": "SingleStream", "CK_REQUEST_BATCH_SIZE": "8"}, "SingleStream sends one image per query"),
])
def test_a_bad_loadgen_variable_is_one_clear_line(env, words):
    with pytest.raises(RequestError) as caught:
        config_from_env(env)
    assert words in str(caught.value) and "\n" not in str(caught.value) and "(" in str(caught.value)


def test_each_variable_becomes_the_loadgen_setting_of_its_scenario():
    def settings(scenario: str, per_query: float | None = 0.004, **config) -> dict:
        return requested_settings(RunConfig(scenario=scenario, min_queries=300, min_duration_s=1.5, **config),
                                  per_query)

    assert settings("SingleStream") == {"min_query_count": 300, "min_duration_ms": 1500,
                                        "single_stream_expected_latency_ns": 4_000_000}
    assert settings("SingleStream", target_latency_ms=2)["single_stream_expected_latency_ns"] == 2_000_000
    assert settings("MultiStream", batch_size=4)["multi_stream_expected_latency_ns"] == 8_000_000  # 8 images: 2 batches
    assert settings("Offline", batch_size=4)["offline_expected_qps"] == pytest.approx(1000)  # 4 images per 4 ms
    assert settings("Offline", target_qps=50)["offline_expected_qps"] == 50
    server = settings("Server", target_latency_ms=15)
    assert server["server_target_qps"] == pytest.approx(125) and server["server_target_latency_ns"] == 15_000_000
    assert "server_target_qps" not in settings("Server", per_query=None)  # no warm-up: LoadGen's default


def test_a_response_is_the_top5_classes_then_their_scores():
    data = encode_response(np.array([281, 282, 7, 0, 999]), np.array([9.5, 9.25, 1.0, -2.0, 0.5], np.float32))
    assert data.dtype == np.uint8 and data.nbytes == 40
    classes, scores = decode_response(data.tobytes().hex().upper())  # LoadGen logs upper-case hex
    assert classes.tolist() == [281, 282, 7, 0, 999] and scores.tolist() == [9.5, 9.25, 1.0, -2.0, 0.5]
    with pytest.raises(ValueError):
        decode_response("00" * 7)


# ---------------------------------------------------------------- the real LoadGen, outside CK


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("loadgen")
    val = make_imagenet_dir(root / "val", count=3)
    return RunInputs(make_tiny_onnx_model(root / "model"), val.parent, val, None, "imagenet-val"), root


def loadgen_run(tiny, monkeypatch, **env):
    inputs, root = tiny
    monkeypatch.setenv("CK_REQUEST_CACHE_DIR", str(root / "cache"))
    config = config_from_env({**SHORT, **env})
    logs = root / f"logs-{len(list(root.glob('logs-*')))}"
    return run_benchmark("onnxruntime", config, inputs, logs), logs


@pytest.mark.parametrize("scenario, batch", [("SingleStream", 1), ("MultiStream", 2), ("Server", 1), ("Offline", 4)])
def test_loadgen_drives_the_backend_and_its_result_is_read_back(tiny, monkeypatch, scenario, batch):
    extra = {"Server": {"CK_REQUEST_TARGET_QPS": "300", "CK_REQUEST_TARGET_LATENCY_MS": "2000"},
             # Offline's one query is sized by the warm-up's rate x the minimum duration: keep it small
             "Offline": {"CK_REQUEST_MIN_DURATION_S": "0.05"}}.get(scenario, {})
    result, logs = loadgen_run(tiny, monkeypatch, CK_REQUEST_SCENARIO=scenario, CK_REQUEST_BATCH_SIZE=str(batch),
                               **extra)
    run = result.loadgen
    assert run.scenario == scenario and run.test_mode == "PerformanceOnly" and run.version.startswith("6.")
    assert f"Scenario : {scenario}" in (logs / SUMMARY_LOG).read_text()
    assert run.valid is (run.failed == ()) and run.min_duration_s > 0 and result.measurement is None
    assert run.query_count >= (1 if scenario == "Offline" else 100) and run.images_per_second > 0
    assert result.prediction_time_avg_s > 0  # inside the framework's run call, per image
    written = characteristics(result)
    assert written["loadgen_valid"] == int(run.valid) and written["inference_throughput"] == run.images_per_second
    assert ("latency_p50_s" in written) == (scenario != "Offline")  # Offline's one query has no latency of its own
    assert ("inference_latency" in written) == (scenario == "SingleStream")
    features = features_and_meta(result)
    assert features["features"]["scenario"] == scenario and features["meta"]["loadgen_version"] == run.version
    if scenario == "Server":
        assert written["loadgen_target_qps"] == 300 and written["loadgen_target_latency_s"] == 2.0
        assert features["features"]["target_qps"] == 300 and "loadgen_overlatency_queries" in written
    if scenario == "SingleStream":
        assert written["early_stopping_p90_s"] >= written["latency_p50_s"] and written["query_count"] >= 64


def test_an_invalid_run_says_why_in_loadgens_words(tiny, monkeypatch):
    # expecting 1 image/s, LoadGen's one Offline query holds 100 images: done long before the 0.5 s minimum
    result, _ = loadgen_run(tiny, monkeypatch, CK_REQUEST_SCENARIO="Offline", CK_REQUEST_TARGET_QPS="1",
                            CK_REQUEST_MIN_DURATION_S="0.5")
    run = result.loadgen
    assert run.valid is False and run.failed == ("min_duration",)
    assert run.reason().startswith("min duration not met: Increase expected QPS")
    written = characteristics(result)
    assert written["loadgen_valid"] == 0 and written["loadgen_min_duration_met"] == 0


def test_user_conf_is_read_by_loadgen_over_the_run_variables(tmp_path):
    conf = tmp_path / "user.conf"
    # LoadGen reads MLPerf's own mlperf.conf first (10-minute runs): a user.conf says otherwise, as in MLPerf
    conf.write_text("*.SingleStream.min_duration = 300\n*.SingleStream.min_query_count = 150\n"
                    "*.SingleStream.target_latency = 1\n")
    proc = run_harness_without_ck("onnxruntime", make_tiny_onnx_model(tmp_path / "model"), tmp_path,
                                  {"CK_REQUEST_SCENARIO": "SingleStream", "CK_REQUEST_USER_CONF": str(conf),
                                   "PYTHONPATH": str(REPO_ROOT)})  # this checkout's harness
    assert proc.returncode == 0, proc.stderr
    timer = json.loads((tmp_path / TIMER_FILE).read_text())
    assert timer["loadgen_min_duration_s"] == 0.3 and timer["query_count"] >= 150
    detail = (tmp_path / "loadgen" / "mlperf_log_detail.txt").read_text()
    assert '"key": "effective_min_query_count", "value": 150' in detail
    assert "loadgen    SingleStream" in proc.stdout


# ---------------------------------------------------------------- boards, validate, check


def loadgen_point(scenario: str, valid: bool, latency_s: float, **unmet) -> dict:
    flat = our_point(latency_s=latency_s, top1=None, weights="synthetic", **{
        "##features#scenario#min": scenario, "##characteristics#run#loadgen_valid#all": [1, int(valid), 1]})
    del flat["##characteristics#run#inference_latency#all"]  # as the writer does for all but SingleStream
    for check in unmet:
        flat[f"##characteristics#run#loadgen_{check}_met#all"] = [1, 0, 1]
    return flat


def test_boards_filter_by_scenario_mark_invalid_points_and_never_rank_them(tmp_path):
    write_experiment(tmp_path, "native-slow", {"p": our_point(latency_s=0.008, top1=None, weights="synthetic")})
    write_experiment(tmp_path, "server-invalid", {"p": loadgen_point("Server", False, 0.001, early_stopping=True)})
    write_experiment(tmp_path, "offline-valid", {"p": loadgen_point("Offline", True, 0.002)})
    x, y = parse_axis("latency_p50_s", "x"), parse_axis("inference_throughput", "y")
    board = build_board([("test", tmp_path)], Filters(), x, y)
    points = {p["entry"]: p for p in board_json(board)}
    assert points["native-slow"]["scenario"] == "native"  # recorded before scenarios: our harness
    server = points["server-invalid"]
    assert server["invalid"] and server["invalid_because"] == "early stopping not met" and not server["pareto"]
    assert server["inference_latency"] is None  # a Server latency holds its queueing: never a batch-1 latency
    assert server["latency_p50_s"] < points["offline-valid"]["latency_p50_s"]  # better, yet off the frontier
    assert points["offline-valid"]["pareto"] and not points["offline-valid"]["invalid"]
    table = render_table(board)
    assert "Server ✗" in table and "server-invalid: INVALID under MLPerf LoadGen's rules (early stopping not met)" \
        in table
    only = build_board([("test", tmp_path)], Filters(scenario="offline"), x, y)
    assert [p.entry for p in only.points] == ["offline-valid"]
    assert [p.entry for p in build_board([("test", tmp_path)], Filters(scenario="native"), x, y).points] == \
        ["native-slow"]


def test_validate_names_another_scenario_as_a_stack_difference():
    def point(**features) -> RecordedPoint:
        return RecordedPoint("x", "0123456789abcdef", {f"##features#{k}#min": v for k, v in features.items()})

    sides = compare_sides(point(batch_size=1), point(batch_size=1, scenario="SingleStream"), {}, {})
    assert "scenario 'native' vs 'SingleStream'" in sides.stack
    assert compare_sides(point(batch_size=1), point(batch_size=1, scenario="native"), {}, {}).stack == ()
    asked = compare_sides(point(scenario="Server", target_qps=100.0), point(scenario="Server", target_qps=200.0),
                          {}, {})
    assert asked.stack == ("target_qps 100.0 vs 200.0",)


def test_check_asks_loadgen_runs_for_their_verdict_and_offline_for_no_latency():
    def kinds(scenario: str) -> set:
        return run_kinds(RecordedPoint("x", "u", {"##features#scenario#min": scenario, "##features#batch_size#min": 1,
                                                  "##features#mode#min": "performance"}))

    assert kinds("native") == {schema.EVERY, schema.PERFORMANCE, schema.BATCH1}
    assert kinds("SingleStream") == {schema.EVERY, schema.PERFORMANCE, schema.BATCH1, schema.LOADGEN}
    assert kinds("Offline") == {schema.EVERY, schema.LOADGEN}
    assert "loadgen_valid" in {k.name for k in schema.required_for(kinds("Server"))}

