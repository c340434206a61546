"""One schema: every key the writer writes comes back, with its value, through an entry, the reader and
the scoreboard's JSON; nothing undeclared gets written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ckrequest.backends.base import BackendDescription
from ckrequest.board.filters import Filters
from ckrequest.board.scoreboard import board_json, build_board
from ckrequest.datasets import Dataset, LabelledImage
from ckrequest.datasets.preprocess import Preprocessing
from ckrequest.models.model_info import ModelInfo
from ckrequest.results import schema
from ckrequest.results.schema import DEFAULT_X, DEFAULT_Y, parse_axis
from ckrequest.results.writer import characteristics, features_and_meta
from ckrequest.run.config import RunConfig
from ckrequest.run.host import PlatformInfo
from ckrequest.run.measurement import AccuracyResult, BenchmarkResult, Measurement
from ckrequest.run.stats import summarize

from builders import write_experiment
from conftest import REPO_ROOT

EVERY_BACKEND_DETAIL = {k.name: ("ORT_ENABLE_ALL" if k.kind == schema.TEXT else True if k.kind == schema.FLAG else 3)
                        for k in schema.of(schema.FEATURE) if k.name.startswith(("backend_", "tvm_", "armnn_"))}


def a_result(**config) -> BenchmarkResult:
    info = ModelInfo(arch="resnet-50", format="onnx", precision="int8", weights="imagenet", design_name="ResNet-50",
                     file="model.onnx", input_name="input", output_name="logits", preprocessing=Preprocessing(224),
                     parameters=25_557_032, sha256="a" * 64, macs=4_089_184_256)
    images = tuple(LabelledImage(Path(f"/data/{k}.jpg"), (k,)) for k in range(600))
    samples = tuple(0.010 + k * 1e-5 for k in range(150))
    return BenchmarkResult(
        config=RunConfig(**config), model=info, model_sha256="b" * 64, model_size_bytes=25_000_000,
        dataset=Dataset("imagenet-val", Path("/data"), images, ()),
        backend=BackendDescription("onnxruntime", "1.32.0", "CPUExecutionProvider", 2, dict(EVERY_BACKEND_DETAIL)),
        platform=PlatformInfo("AMD EPYC", "a cloud VM", "Linux 6", "x86_64", 2, 1, 24 * 2**30),
        measurement=Measurement(summarize(samples), 1, 5, 1.6, samples),
        accuracy=AccuracyResult(600, 450, 550, 440), prediction_time_avg_s=0.0101, peak_memory_bytes=300 * 2**20,
        setup_seconds={"dataset_load_s": 0.1, "preprocess_s": 0.2, "model_load_s": 0.3})


def as_ck_records(result: BenchmarkResult, repetitions: int = 3) -> dict:
    """The flat point CK makes of what the harness wrote (characteristics as #all lists, features #min)."""
    written = features_and_meta(result)
    flat = {f"##characteristics#run#{k}#all": [v] * repetitions for k, v in characteristics(result).items()}
    flat.update({f"##features#{k}#min": v for k, v in written["features"].items()})
    flat.update({f"##features#meta#{k}#min": v for k, v in written["meta"].items()})
    flat["##features#statistical_repetitions#min"] = repetitions
    return flat


def test_every_key_written_comes_back_through_entry_reader_and_board(tmp_path):
    result = a_result()
    write_experiment(tmp_path, "round-trip", {"p": as_ck_records(result)})
    board = build_board([("test", tmp_path)], Filters(), parse_axis(DEFAULT_X, "x"), parse_axis(DEFAULT_Y, "y"))
    (point,) = board_json(board)
    written = features_and_meta(result)
    expected = {**characteristics(result), **written["features"], **written["meta"]}
    expected["statistical_repetitions"] = 3
    for name, value in expected.items():
        key = schema.BY_NAME[name]
        if key.kind == schema.FLAG:
            value = float(value)
        elif key.kind == schema.TEXT and isinstance(value, (dict, list)):
            value = json.dumps(value, sort_keys=True)
        assert point[name] == pytest.approx(value) if isinstance(value, float) else point[name] == value, name
    assert {k: point[k] for k in EVERY_BACKEND_DETAIL} == {k: (float(v) if isinstance(v, bool) else v)
                                                           for k, v in EVERY_BACKEND_DETAIL.items()}
    assert point["model_macs"] == 4_089_184_256 and point["accuracy_group"] == "imagenet"


def test_every_schema_key_is_a_column_of_the_board_json(tmp_path):
    write_experiment(tmp_path, "one", {"p": as_ck_records(a_result())})
    board = build_board([("test", tmp_path)], Filters(), parse_axis(DEFAULT_X, "x"), parse_axis(DEFAULT_Y, "y"))
    assert {k.name for k in schema.KEYS} <= set(board_json(board)[0])


def test_the_writer_refuses_a_key_the_schema_does_not_declare():
    with pytest.raises(ValueError, match="not in ckrequest.results.schema: made_up_key"):
        schema.checked(schema.FEATURE, {"batch_size": 1, "made_up_key": 2})
    with pytest.raises(ValueError, match="model_sha256"):  # a feature is not a characteristic
        schema.checked(schema.CHARACTERISTIC, {"model_sha256": "x"})


def test_a_backend_detail_outside_the_schema_is_shown_not_recorded():
    result = a_result()
    details = {**result.backend.details, "library": "/home/someone/ck-tools/tvm/lib.so"}
    written = features_and_meta(BenchmarkResult(**{**result.__dict__, "backend": BackendDescription(
        "apache-tvm", "0.27", "CPU", 1, details)}))
    assert "library" not in written["features"] and written["features"]["backend_target"] == "ORT_ENABLE_ALL"


def test_the_scenario_modules_replay_keys_are_schema_keys():
    meta = json.loads((REPO_ROOT / "module" / "request.asplos18" / ".cm" / "meta.json").read_text())
    flat_keys = {k.flat_key(stat) for k in schema.KEYS for stat in ("all", "min", "mean", "max")}
    assert meta["replay_keys"] and set(meta["replay_keys"]) <= flat_keys
