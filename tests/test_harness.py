import json
import os
from pathlib import Path

import numpy as np
import pytest

from ckrequest.backends import available_backends, backend_class
from ckrequest.backends.base import BackendOptions
from ckrequest.ck.program import run_and_report
from ckrequest.datasets import LabelledImage, load_dataset
from ckrequest.datasets.cache import iter_chunks, load_chunk
from ckrequest.datasets.preprocess import Preprocessing, preprocess_file
from ckrequest.errors import RequestError
from ckrequest.models.model_info import ModelInfo
from ckrequest.results import writer as report
from ckrequest.run import harness
from ckrequest.run.accuracy import score, top_k
from ckrequest.run.config import RunConfig

from builders import make_imagenet_dir, make_tiny_onnx_model


@pytest.fixture
def tiny(tmp_path):
    info_path = make_tiny_onnx_model(tmp_path / "model")
    val = make_imagenet_dir(tmp_path / "data", count=6)
    return info_path, val


def test_top_k_and_scoring_with_accepted_labels():
    logits = np.array([[0.1, 0.9, 0.5, 0.0, 0.2, 0.3, 0.05], [0.9, 0.1, 0.2, 0.3, 0.4, -1.0, 0.8]])
    best = top_k(logits, 5, label_offset=0)
    assert best.classes[0].tolist() == [1, 2, 5, 4, 0] and best.classes[1][:2].tolist() == [0, 6]
    assert best.scores[0].tolist() == pytest.approx([0.9, 0.5, 0.3, 0.2, 0.1])
    assert top_k(logits, 1, label_offset=1).classes[0].tolist() == [0]  # index 1 is class 0
    images = [LabelledImage(path=Path("/data/a.jpg"), labels=(2, 1)), LabelledImage(path=None, labels=(5,))]
    result = score(images, best, Path("/data"))
    assert (result.top1_correct, result.top5_correct, result.top1_label_correct) == (1, 1, 0)
    assert result.top1 == 0.5
    first = result.predictions[0]
    assert (first.file, first.expected, first.top5[0]) == ("a.jpg", (2, 1), 1)
    assert first.scores[0] == pytest.approx(0.9)


def test_query_batches_cover_every_image_and_wrap():
    pool = np.arange(5)[:, None].astype(np.float32)
    batches = harness.query_batches(pool, 2)
    assert [b[:, 0].tolist() for b in batches] == [[0, 1], [2, 3], [4, 0]]
    assert len(harness.query_batches(pool, 8)) == 1


def test_measure_queries_honours_min_queries_and_duration(tiny):
    info_path, _ = tiny
    info = ModelInfo.load(info_path)
    backend = backend_class("onnxruntime")(info.model_path(info_path), info, BackendOptions(threads=1))
    prepared = [backend.prepare(np.zeros((1, 3, 32, 32), np.float32) + k) for k in range(3)]
    m, first = harness.measure_queries(backend, prepared, RunConfig(min_queries=50, min_duration_s=0, warmup=2))
    assert m.latency.count == 50 and len(first) == 3 and m.warmup_queries == 2
    assert 0 < m.latency.min_s <= m.latency.median_s <= m.latency.max_s
    m2, _ = harness.measure_queries(backend, prepared, RunConfig(min_queries=1, min_duration_s=0.2, warmup=0))
    assert m2.latency.count > 1 and m2.wall_duration_s >= 0.2
    assert m2.latency.total_s <= m2.wall_duration_s  # only the inference calls are timed


def test_first_pass_outputs_match_a_direct_run(tiny):
    info_path, val = tiny
    info = ModelInfo.load(info_path)
    backend = backend_class("onnxruntime")(info.model_path(info_path), info)
    data = load_dataset(val.parent)
    pool = np.stack([preprocess_file(image.path, info.preprocessing) for image in data.images])
    prepared = [backend.prepare(b) for b in harness.query_batches(pool, 4)]
    _, first = harness.measure_queries(backend, prepared, RunConfig(min_queries=5, min_duration_s=0, warmup=0))
    direct = backend.run(backend.prepare(pool))
    np.testing.assert_allclose(np.concatenate(first)[:6], direct, rtol=1e-4, atol=1e-4)


def test_image_cache_is_reused_and_atomic(tmp_path):
    val = make_imagenet_dir(tmp_path / "data", count=3)
    data = load_dataset(val.parent)
    spec = Preprocessing(24)
    first = load_chunk(data.images, spec, tmp_path / "cache")
    files = list((tmp_path / "cache").rglob("*.npy"))
    assert len(files) == 1 and first.shape == (3, 3, 24, 24)
    mtime = files[0].stat().st_mtime_ns
    again = load_chunk(data.images, spec, tmp_path / "cache")
    assert files[0].stat().st_mtime_ns == mtime and np.array_equal(first, again)
    assert not list((tmp_path / "cache").rglob("*.tmp"))
    # another preprocessing is another cache entry; a changed image invalidates its chunk
    load_chunk(data.images, Preprocessing(24, layout="NHWC"), tmp_path / "cache")
    assert len(list((tmp_path / "cache").rglob("*.npy"))) == 2
    files[0].write_bytes(b"damaged")
    np.testing.assert_array_equal(load_chunk(data.images, spec, tmp_path / "cache"), first)
    chunks = list(iter_chunks(data.images, spec, tmp_path / "cache", chunk_images=2))
    assert [len(images) for images, _ in chunks] == [2, 1]


def test_unreadable_image_fails_with_its_name(tmp_path):
    val = make_imagenet_dir(tmp_path / "data", count=2)
    (val.parent / "ILSVRC2012_val_00000002.JPEG").write_bytes(b"not a jpeg")
    data = load_dataset(val.parent)
    with pytest.raises(RequestError, match="unreadable image: .*ILSVRC2012_val_00000002.JPEG"):
        load_chunk(data.images, Preprocessing(24), tmp_path / "cache")


def test_main_writes_unified_keys_and_reports_errors(tiny, tmp_path, monkeypatch, capsys):
    info_path, val = tiny
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CK_REQUEST_RUN_DIR", raising=False)
    monkeypatch.setenv("CK_ENV_MODEL_INFO", str(info_path))
    monkeypatch.setenv("CK_ENV_DATASET", str(val.parent))
    monkeypatch.setenv("CK_REQUEST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CK_REQUEST_MIN_QUERIES", "120")
    monkeypatch.setenv("CK_REQUEST_MIN_DURATION_S", "0")
    assert run_and_report(["onnxruntime"]) == 0
    timer = json.loads((tmp_path / report.TIMER_FILE).read_text())
    for key in ("inference_latency", "inference_throughput", "latency_p50_s", "latency_p90_s", "latency_p99_s",
                "query_count", "peak_memory_bytes", "measured_duration_s", "prediction_time_avg_s"):
        assert key in timer, key
    assert timer["query_count"] == 120 and "accuracy_top1" not in timer  # synthetic: no accuracy
    extra = json.loads((tmp_path / report.REQUEST_FILE).read_text())
    assert extra["features"]["weights"] == "synthetic"
    assert extra["features"]["model_size"] == os.path.getsize(info_path.parent / "model.onnx")
    assert extra["meta"]["library_name"].startswith("onnxruntime ")
    assert "accuracy   not reported: synthetic weights" in capsys.readouterr().out

    monkeypatch.setenv("CK_REQUEST_BATCH_SIZE", "two")
    assert run_and_report(["onnxruntime"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "CK_REQUEST_BATCH_SIZE='two'" in err
    assert not (tmp_path / report.TIMER_FILE).exists()  # no stale result left for CK to read


def test_backends_are_discovered_by_module():
    assert "onnxruntime" in available_backends()
    with pytest.raises(RequestError, match="is not one of"):
        backend_class("caffe")


def test_corrupt_and_missing_model_file(tiny):
    info_path, _ = tiny
    info = ModelInfo.load(info_path)
    model = info.model_path(info_path)
    model.write_bytes(b"\x00garbage")
    with pytest.raises(RequestError, match="ONNX Runtime cannot load it"):
        backend_class("onnxruntime")(model, info)
    model.unlink()
    with pytest.raises(RequestError, match="model file not found"):
        backend_class("onnxruntime")(model, info)
