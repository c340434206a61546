"""Cutting a model into pipeline stages balanced by MACs (no Ray: the pieces run in this process), and the
throughput model of a pipeline."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckrequest.errors import RequestError
from ckrequest.farm.pipeline import compare_outputs, softmax
from ckrequest.farm.split import choose_cuts, cut_places, split_model
from ckrequest.farm.throughput import StageCost, implied_device_rate, needed_bandwidth, pipeline_throughput
from ckrequest.models.macs import count_macs, macs_per_node
from ckrequest.zoo.calibration import pattern_set
from ckrequest.zoo.canonical import ModelSpec, canonical_onnx


@pytest.fixture(scope="module")
def mobilenet(tmp_path_factory: pytest.TempPathFactory):
    return canonical_onnx(ModelSpec("mobilenet-v1", "synthetic", 0.25, 128), cache_dir=tmp_path_factory.mktemp("c"))


def run_whole(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def run_stages(stages, x: np.ndarray) -> np.ndarray:
    value = x
    for stage in stages:
        session = ort.InferenceSession(stage.model, providers=["CPUExecutionProvider"])
        (value,) = session.run(None, {stage.input_name: value})
    return value


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_stages_chained_equal_the_whole_model_and_cover_it(mobilenet, count: int) -> None:
    model = onnx.load(str(mobilenet.path))
    split = split_model(model, count)
    x = pattern_set(mobilenet.preprocessing, 3, seed=2)
    assert len(split.stages) == count
    assert [s.first_node for s in split.stages] == [0, *(s.end_node for s in split.stages[:-1])]
    assert split.stages[-1].end_node == len(model.graph.node)
    assert sum(s.macs for s in split.stages) == split.total_macs == count_macs(model) == mobilenet.macs
    for a, b in zip(split.stages, split.stages[1:]):
        assert a.output_name == b.input_name and a.output_bytes == b.input_bytes
    np.testing.assert_array_equal(run_stages(split.stages, x), run_whole(mobilenet.path, x))


def test_the_largest_stage_is_as_small_as_any_cut_allows(mobilenet) -> None:
    """Three stages of MobileNet-v1: no choice of two single-tensor cuts beats the chosen one's largest stage."""
    model = onnx.load(str(mobilenet.path))
    split = split_model(model, 3)
    node_macs = macs_per_node(model)
    chosen = max(s.macs for s in split.stages)
    ends = sorted(cut_places(onnx.shape_inference.infer_shapes(model).graph))
    prefix = np.cumsum([0, *node_macs])
    best = min(max(prefix[a], prefix[b] - prefix[a], prefix[-1] - prefix[b])
               for a, b in itertools.combinations(ends, 2))
    assert chosen == best
    assert split.largest_stage_share < 0.4  # near the ideal third


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=2, max_size=9), st.data())
def test_choose_cuts_minimises_the_largest_stage(node_macs: list[int], data) -> None:
    stages = data.draw(st.integers(2, min(4, len(node_macs))))
    positions = data.draw(st.sets(st.integers(1, len(node_macs) - 1), min_size=stages - 1))
    candidates = {p: data.draw(st.integers(1, 5)) for p in positions}
    cuts = choose_cuts(node_macs, candidates, stages)
    prefix = np.cumsum([0, *node_macs])

    def largest(chosen: tuple[int, ...]) -> int:
        bounds = [0, *chosen, len(node_macs)]
        return max(prefix[b] - prefix[a] for a, b in zip(bounds, bounds[1:]))

    assert len(cuts) == stages - 1 and list(cuts) == sorted(set(cuts)) and set(cuts) <= positions
    assert largest(cuts) == min(largest(c) for c in itertools.combinations(sorted(positions), stages - 1))


def test_more_stages_than_places_to_cut_is_refused(mobilenet) -> None:
    with pytest.raises(RequestError, match=r"--stages=99: .* at most \d+ stages"):
        split_model(onnx.load(str(mobilenet.path)), 99, "MobileNet-v1")


def test_outputs_that_differ_from_one_process_are_refused() -> None:
    rng = np.random.default_rng(0)
    reference = [rng.standard_normal((1, 1000)).astype(np.float32) for _ in range(3)]
    assert compare_outputs([r.copy() for r in reference], reference) == 0.0
    nudged = [r.copy() for r in reference]
    nudged[1][0, int(np.argmax(nudged[1]))] += 0.5  # same top-1, softmax moved
    assert float(np.abs(softmax(nudged[1]) - softmax(reference[1])).max()) > 1e-5
    with pytest.raises(RequestError, match="differ from the whole model"):
        compare_outputs(nudged, reference)


def test_the_slowest_stage_and_its_transfer_set_the_pace() -> None:
    stages = [StageCost(0.010, 600_000), StageCost(0.020, 250_000), StageCost(0.005, 4_000)]
    # stage 2: 20 ms + 1 ms overhead + 250 kB at 50 MB/s (5 ms) = 26 ms per image
    assert pipeline_throughput(stages, 0.001, 50e6) == pytest.approx(1 / 0.026)
    assert pipeline_throughput(stages, 0.0) == pytest.approx(50.0)  # no transfer cost: compute alone
    macs, moved = [200e6, 400e6, 100e6], [600_000, 250_000, 4_000]
    rate = implied_device_rate(macs, moved, 10.0, 0.001, 50e6)  # what each device needs for 10 images/s
    assert pipeline_throughput([StageCost(m / rate, b) for m, b in zip(macs, moved)], 0.001, 50e6) == \
        pytest.approx(10.0)
    assert implied_device_rate(macs, moved, 100.0, 0.0, 50e6) == float("inf")  # 600 kB alone take 12 ms > 10 ms
    assert needed_bandwidth(moved, 100.0, 0.0) == pytest.approx(600_000 / 0.01)
