"""Reading experiment entries: ours and the original ReQuEST layout, their quirks, and malformed ones."""

from __future__ import annotations

import json

import pytest

from ckrequest.results.entry import RecordedPoint, repetition_values
from ckrequest.results.reader import ResultPoint, SkippedEntry, iter_points

from builders import original_meta, original_point, our_point, write_experiment


def read(repo) -> tuple[list[ResultPoint], list[SkippedEntry]]:
    items = list(iter_points(repo, "test"))
    return ([p for p in items if isinstance(p, ResultPoint)], [s for s in items if isinstance(s, SkippedEntry)])


def test_original_entry_takes_its_names_and_platform_figures_from_the_entry_meta(tmp_path):
    meta = original_meta(plat_name="HiKey960\x00 (HiKey960\x00)", model_precision="int8", dataset_size=500)
    write_experiment(tmp_path, "validated-caffe-resnet50", {"a1": original_point([0.03, 0.04, 0.05], top1=0.7044)},
                     meta, tags=("request", "caffe"))
    (point,), skipped = read(tmp_path)
    assert skipped == []
    assert (point.model_arch, point.model_precision, point.plat_name) == ("resnet-50", "int8", "HiKey960 (HiKey960)")
    assert point.library_name.startswith("BVLC Caffe framework")
    assert (point.platform_price, point.platform_peak_power, point.platform_price_date) == (800, 105, "20180101")
    assert point.inference_latency == 0.04  # the median over the repetitions
    assert point.accuracy_top1 == 0.7044 and point.freq == 2600 and point.cpu_freq is None
    assert point.dataset_size == 500 and point.tags == ("request", "caffe")
    assert point.validated  # ReQuEST's artifact-evaluated entries are named validated-*
    assert [(d.name, d.version) for d in point.deps] == [("BVLC Caffe framework", "request-92110fe")]


def test_rerun_copies_beyond_the_recorded_repetitions_are_dropped(tmp_path):
    flat = original_point([0.01, 0.02, 0.09], rerun_copies=2, reps=3)
    assert len(flat["##characteristics#run#inference_latency#all"]) == 6
    assert repetition_values(flat, "inference_latency") == [0.01, 0.02, 0.09]
    write_experiment(tmp_path, "rerun", {"p": flat}, original_meta())
    (point,), _ = read(tmp_path)
    assert point.inference_latency == 0.02 and point.statistical_repetitions == 3


def test_a_point_recorded_twice_holds_both_runs_for_the_board_and_for_validate(tmp_path):
    """CK appends the second run's repetitions: 3 + 3 values, statistical_repetitions 3."""
    flat = our_point(**{"##characteristics#run#latency_p50_s#all": [0.01, 0.011, 0.012, 0.02, 0.021, 0.022],
                        "##characteristics#run#inference_latency#all": [0.01, 0.011, 0.012, 0.02, 0.021, 0.022]})
    write_experiment(tmp_path, "twice", {"p": flat})
    (point,), _ = read(tmp_path)
    validated = RecordedPoint("test:twice", "p", flat)
    assert point.statistical_repetitions == 6 == validated.repetitions == len(validated.values("inference_latency"))
    assert point.inference_latency == pytest.approx(0.016)  # the median of all six


def test_latency_counts_only_at_batch_one(tmp_path):
    write_experiment(tmp_path, "batches", {
        "b1": original_point([0.03, 0.03, 0.03]),
        "b8": original_point([0.2, 0.2, 0.2], batch=8, throughput=[40.0, 40.0, 40.0]),
    }, original_meta())
    points, _ = read(tmp_path)
    by_batch = {p.batch_size: p for p in points}
    assert by_batch[1].inference_latency == 0.03
    assert by_batch[8].inference_latency is None and by_batch[8].inference_throughput == 40.0
    assert "latency recorded at batch 8: not a batch-1 latency" in by_batch[8].notes


def test_zero_accuracy_of_the_iot_farm_means_not_measured(tmp_path):
    write_experiment(tmp_path, "iot", {"p": original_point([0.18, 0.18, 0.19], top1=0.0)}, original_meta())
    (point,), _ = read(tmp_path)
    assert point.accuracy_top1 is None
    assert "accuracy_top1 recorded as 0: not measured" in point.notes


def test_synthetic_weights_never_yield_an_accuracy(tmp_path):
    write_experiment(tmp_path, "ours-synthetic", {"p": our_point(weights="synthetic", top1=0.5)})
    (point,), _ = read(tmp_path)
    assert point.synthetic and point.weights == "synthetic"
    assert point.accuracy_top1 is None and point.accuracy_top5 is None


def test_our_points_carry_their_names_as_features(tmp_path):
    write_experiment(tmp_path, "ours", {"p": our_point(arch="efficientnet-lite0", precision="int8",
                                                       library="tflite 2.3")}, meta={"model_precision": "fp16"})
    (point,), _ = read(tmp_path)
    assert (point.model_arch, point.model_precision, point.library_name) == ("efficientnet-lite0", "int8", "tflite 2.3")
    assert point.accuracy_dataset == "imagenet"  # our_point says ImageNet
    assert point.cpu_threads == 2 and point.accuracy_top1 == 0.75 and not point.validated


def test_dependency_versions_of_our_points_come_from_the_stored_pipeline(tmp_path):
    entry = write_experiment(tmp_path, "ours", {"p": our_point()})
    (entry / "pipeline.json").write_text(json.dumps({"dependencies": {
        "lib": {"name": "ONNX Runtime", "ver": "1.32.0"}, "python": {"name": "Python interpreter", "ver": "3.11.7"}}}))
    (point,), _ = read(tmp_path)
    assert [(d.name, d.version) for d in point.deps] == [("ONNX Runtime", "1.32.0"), ("Python interpreter", "3.11.7")]


def test_the_latest_validation_verdict_decides_whether_our_entry_is_validated(tmp_path):
    reproduced, failed = {"verdict": "REPRODUCED"}, {"verdict": "NOT REPRODUCED"}
    write_experiment(tmp_path, "now-reproduced", {"p": our_point()}, meta={"validations": [failed, reproduced]})
    write_experiment(tmp_path, "no-longer", {"p": our_point()}, meta={"validations": [reproduced, failed]})
    points, _ = read(tmp_path)
    assert {p.entry: p.validated for p in points} == {"now-reproduced": True, "no-longer": False}


def test_malformed_entries_are_reported_by_name_and_the_rest_still_read(tmp_path):
    write_experiment(tmp_path, "good", {"p": our_point()})
    write_experiment(tmp_path, "bad-json", {"p": '{"##features#batch_size#min": 1,'})
    write_experiment(tmp_path, "no-results", {"p": {"##features#batch_size#min": 1}})
    write_experiment(tmp_path, "not-a-number", {"p": our_point(**{
        "##characteristics#run#inference_latency#all": ["fast", "faster", "fastest"]})})
    write_experiment(tmp_path, "bad-meta", {"p": our_point()}, raw_meta="{not json")
    write_experiment(tmp_path, "meta-not-object", {"p": our_point()}, raw_meta="[1, 2]")
    points, skipped = read(tmp_path)
    assert [p.entry for p in points] == ["bad-meta", "good", "meta-not-object"]  # a bad meta loses no point
    reasons = {s.path.name if s.path.name != "ckp-p.flat.json" else s.path.parent.name: s.reason for s in skipped}
    assert set(reasons) == {"bad-json", "no-results", "not-a-number", "bad-meta", "meta-not-object"}
    assert "no result keys" in reasons["no-results"]
    assert "inference_latency is not a number: 'fast'" in reasons["not-a-number"]
    assert "unreadable .cm/meta.json" in reasons["bad-meta"]


def test_architecture_names_are_one_vocabulary_for_ours_and_the_originals(tmp_path):
    write_experiment(tmp_path, "validated-caffe", {"c": original_point([0.03] * 3)},
                     original_meta(model_design_name="Caffe model (net and weights) (resnet50, fp32) fp32"))
    write_experiment(tmp_path, "ours", {"p": our_point(arch="resnet-50")})
    write_experiment(tmp_path, "vta", {"v": original_point([0.5] * 3)},
                     original_meta(model_design_name="VTA model (net and weights) (resnet 18, int8, 20180404)"))
    points, _ = read(tmp_path)
    assert {p.entry: p.model_arch for p in points} == {"validated-caffe": "resnet-50", "ours": "resnet-50",
                                                       "vta": "resnet-18"}


def test_accuracy_says_on_which_data_set_and_how_many_images(tmp_path):
    write_experiment(tmp_path, "photos", {"p": our_point(**{
        "##features#meta#dataset_species#min": "sample-photos", "##characteristics#run#accuracy_images#all": [4] * 3})})
    write_experiment(tmp_path, "validated-imagenet", {"c": original_point([0.03] * 3, top1=0.7)}, original_meta())
    points = {p.entry: p for p in read(tmp_path)[0]}
    assert (points["photos"].accuracy_dataset, points["photos"].smoke_test) == ("sample-photos", True)
    assert points["photos"].accuracy_group == "sample-photos (smoke test)"
    original = points["validated-imagenet"]
    assert (original.accuracy_dataset, original.smoke_test) == ("imagenet", False)
