"""Conditioning of synthetic weights, checked by re-running the conditioned graph with real onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper

from ckrequest.datasets.preprocess import Preprocessing, preprocess_file
from ckrequest.errors import RequestError
from ckrequest.models import squeezenet, synthetic
from ckrequest.models.architectures import preprocessing_for
from ckrequest.models.onnx_graph import serialize

SKIMAGE_DATA = Path(__import__("skimage").__file__).parent / "data"
SMALL = Preprocessing(resolution=32)


def _small_graph(seed: int = 0) -> onnx.ModelProto:
    """conv, relu, (1x1 conv | 3x3 conv), concat, relu, bias-free conv, pool, Gemm (transB=0, beta=0.5)."""
    g = synthetic.SyntheticGraph(3, 32, 32, seed)
    x = g.relu(g.random_conv("input", 3, 8, 3, name="stem"), "stem")
    x = g.relu(g.concat([g.random_conv(x, 8, 6, 1, name="a"), g.random_conv(x, 8, 6, 3, name="b")], "ab"), "ab")
    x = g.conv(x, g.rng.standard_normal((10, 12, 3, 3)), None, name="no_bias")
    x = g.flatten(g.global_average_pool(g.relu(x, "no_bias")))
    w = g.initializer("head.weight", g.rng.standard_normal((10, 20)).astype(np.float32))
    c = g.initializer("head.bias", np.zeros(20, np.float32))
    g.node("Gemm", [x, w, c], "head", beta=0.5)
    return g.finish("small", 20)


def _layer_outputs(model: onnx.ModelProto, batch: np.ndarray) -> dict[str, np.ndarray]:
    """Every Conv/Gemm output of the model on the batch, by re-running it in onnxruntime."""
    exposed = onnx.ModelProto()
    exposed.CopyFrom(model)
    names = [n.output[0] for n in model.graph.node if n.op_type in ("Conv", "Gemm") and n.output[0] != "logits"]
    exposed.graph.output.extend(helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None) for n in names)
    session = ort.InferenceSession(serialize(exposed), providers=["CPUExecutionProvider"])
    return dict(zip(["logits", *names], session.run(None, {"input": batch})))


@pytest.fixture(scope="module")
def batch() -> np.ndarray:
    return synthetic.calibration_batch(SMALL)


@pytest.mark.parametrize("spread, offset, logit_spread", [(1.0, 1.0, 2.0), (0.5, 0.0, 3.0)])
def test_conditioned_layers_have_the_set_statistics(batch: np.ndarray, spread: float, offset: float,
                                                    logit_spread: float) -> None:
    result = synthetic.condition(_small_graph(), batch, spread=spread, offset=offset, logit_spread=logit_spread)
    outputs = _layer_outputs(result.model, batch)
    hidden = {k: v for k, v in outputs.items() if k != "logits"}
    assert len(hidden) == 4 and result.layers == 5
    for name, y in hidden.items():
        per_channel = y.transpose(1, 0, 2, 3).reshape(y.shape[1], -1)
        assert np.sqrt(np.mean(per_channel.var(axis=1))) == pytest.approx(spread, rel=1e-3), name
        np.testing.assert_allclose(per_channel.mean(axis=1), offset * spread, atol=1e-3 * spread, err_msg=name)
    logits = outputs["logits"]
    np.testing.assert_allclose(logits.mean(axis=0), 0.0, atol=1e-3 * logit_spread)  # every class centred
    assert float(np.mean(logits.std(axis=1))) == pytest.approx(logit_spread, rel=1e-3)
    assert result.logit_spread == pytest.approx(logit_spread)


def test_parallel_layers_share_a_step_and_a_missing_bias_is_added(batch: np.ndarray) -> None:
    model = _small_graph()
    result = synthetic.condition(model, batch)
    assert result.steps == 4  # stem | a, b | no_bias | head: one onnxruntime pass each
    (conv,) = [n for n in result.model.graph.node if n.name.startswith("no_bias/")]
    assert len(conv.input) == 3 and len([n for n in model.graph.node if n.name.startswith("no_bias/")][0].input) == 2
    onnx.checker.check_model(result.model)
    assert result.seconds > 0


def test_conditioning_leaves_the_input_model_alone_and_repeats_exactly(batch: np.ndarray) -> None:
    model = _small_graph()
    before = serialize(model)
    first = serialize(synthetic.condition(model, batch).model)
    assert serialize(model) == before
    assert serialize(synthetic.condition(model, batch).model) == first
    assert serialize(synthetic.condition(_small_graph(seed=1), batch).model) != first
    assert first != before


def test_conditioning_is_what_makes_top1_depend_on_the_image(capsys: pytest.CaptureFixture[str]) -> None:
    batch = synthetic.calibration_batch(preprocessing_for("squeezenet-1.1"))
    raw = squeezenet.build_onnx(1)
    result = synthetic.condition(raw, batch)
    top1 = {}
    for label, model in (("raw", raw), ("conditioned", result.model)):
        session = ort.InferenceSession(serialize(model), providers=["CPUExecutionProvider"])
        top1[label] = session.run(None, {"input": batch})[0].argmax(axis=1).tolist()
    with capsys.disabled():
        print(f"\nSqueezeNet 1.1 top-1 on the calibration batch: {top1}; conditioning took {result.seconds:.2f} s "
              f"in {result.steps} steps")
    assert len(set(top1["raw"])) <= 3
    assert len(set(top1["conditioned"])) >= 8


def test_calibration_batch_is_photos_then_seeded_patterns() -> None:
    rgb = synthetic.calibration_batch(SMALL)
    assert rgb.shape == (12, 3, 32, 32) and rgb.dtype == np.float32
    np.testing.assert_array_equal(rgb[0], preprocess_file(SKIMAGE_DATA / "chelsea.png", SMALL))
    assert all(not np.array_equal(rgb[i], rgb[j]) for i in range(12) for j in range(i))
    np.testing.assert_array_equal(synthetic.calibration_batch(SMALL), rgb)
    reseeded = synthetic.calibration_batch(SMALL, patterns=3, seed=1)
    assert reseeded.shape[0] == 8 and np.array_equal(reseeded[:5], rgb[:5]) and not np.array_equal(reseeded[5], rgb[5])
    bgr = synthetic.calibration_batch(Preprocessing(resolution=32, channel_order="BGR"))
    np.testing.assert_array_equal(bgr, rgb[:, ::-1])


def test_what_conditioning_cannot_handle_is_refused(batch: np.ndarray) -> None:
    g = synthetic.SyntheticGraph(3, 32, 32, 0)
    g.flatten(g.global_average_pool("input"))
    with pytest.raises(RequestError, match="has no Conv or Gemm layer"):
        synthetic.condition(g.finish("no-layers", 3), batch)

    g = synthetic.SyntheticGraph(3, 32, 32, 0)
    x = g.random_conv("input", 3, 3, 3, name="c")
    x = g.node("Conv", [x, "c.weight", "c.bias"], "again", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    g.flatten(g.global_average_pool(x))
    with pytest.raises(RequestError, match=r"shares weights between layers \(c\.weight\)"):
        synthetic.condition(g.finish("shared", 3), batch)


def test_seed_must_be_a_non_negative_integer() -> None:
    for seed in (-1, True, 1.5):
        with pytest.raises(RequestError, match="seed"):
            synthetic.SyntheticGraph(3, 8, 8, seed)
