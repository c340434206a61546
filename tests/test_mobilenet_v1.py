"""Synthetic-weight MobileNet-v1: deterministic, well scaled, and image-dependent under onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper
from PIL import Image

from ckrequest.datasets.preprocess import preprocess_file
from ckrequest.errors import RequestError
from ckrequest.models import mobilenet_v1 as mnv1
from ckrequest.models.onnx_graph import count_parameters, serialize

SKIMAGE_DATA = Path(__import__("skimage").__file__).parent / "data"
PHOTOS = ("chelsea.png", "coffee.png", "rocket.jpg", "astronaut.png", "motorcycle_left.png")
CONFIGS = [(1.0, 224), (0.25, 128)]


@pytest.fixture(scope="module")
def image_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Five real photos and four deterministic patterns, all decoded through the real pipeline."""
    folder = tmp_path_factory.mktemp("patterns")
    yy, xx = np.mgrid[0:300, 0:400] / np.array([300.0, 400.0]).reshape(2, 1, 1)
    patterns = {
        "gradient": np.stack([xx, yy, 1 - xx], axis=-1) * 255,
        "checkerboard": ((np.floor(xx * 8) + np.floor(yy * 6)) % 2)[..., None].repeat(3, -1) * 255,
        "solid": np.broadcast_to(np.array([200.0, 60.0, 30.0]), (300, 400, 3)),
        "noise": np.random.default_rng(3).uniform(0, 255, (300, 400, 3)),
    }
    files = [SKIMAGE_DATA / p for p in PHOTOS]
    for name, pixels in patterns.items():
        path = folder / f"{name}.png"
        Image.fromarray(pixels.astype(np.uint8)).save(path)
        files.append(path)
    return files


def _batch(files: list[Path], resolution: int) -> np.ndarray:
    return np.stack([preprocess_file(f, mnv1.preprocessing(resolution)) for f in files])


def _with_activations(model: onnx.ModelProto) -> tuple[onnx.ModelProto, list[str]]:
    """The same model with every ReLU6 output exposed as an extra graph output."""
    exposed = onnx.ModelProto()
    exposed.CopyFrom(model)
    names = [node.output[0] for node in model.graph.node if node.op_type == "Clip"]
    exposed.graph.output.extend(helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None)
                                for n in names)
    return exposed, names


@pytest.mark.parametrize("multiplier, resolution", CONFIGS)
def test_outputs_depend_on_the_image(image_files: list[Path], multiplier: float, resolution: int,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    model = mnv1.build_onnx(multiplier, resolution, seed=0)
    exposed, names = _with_activations(model)
    session = ort.InferenceSession(serialize(exposed), providers=["CPUExecutionProvider"])
    logits, *activations = session.run(None, {"input": _batch(image_files, resolution)})

    assert logits.shape == (len(image_files), 1000) and np.all(np.isfinite(logits))
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    for i in range(len(probs)):
        for j in range(i):
            assert np.abs(probs[i] - probs[j]).max() > 1e-3, (image_files[i].name, image_files[j].name)
    top1 = logits.argmax(axis=1)
    assert len(set(top1.tolist())) >= 3
    with capsys.disabled():
        print(f"\nMobileNet-v1 {multiplier}/{resolution} top-1 per image: {top1.tolist()}")

    assert len(activations) == len(names) == 27
    for name, act in zip(names, activations):
        assert np.all(np.isfinite(act))
        assert 0.2 < float(act.std()) < 3.0, f"{name} std {act.std():.3f}"
        assert float(np.mean(act >= 6.0)) < 0.05, f"{name} saturates ReLU6"
        assert 0.2 < float(np.mean(act > 0)) < 0.8, f"{name} is dead or linear"


@pytest.mark.parametrize("multiplier, resolution, low, high", [(1.0, 224, 16.5e6, 17.3e6),
                                                                (0.25, 128, 1.7e6, 2.0e6)])
def test_same_seed_gives_identical_bytes(multiplier: float, resolution: int, low: float, high: float,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    first = serialize(mnv1.build_onnx(multiplier, resolution, seed=11))
    second = serialize(mnv1.build_onnx(multiplier, resolution, seed=11))
    other = serialize(mnv1.build_onnx(multiplier, resolution, seed=12))
    assert first == second
    assert first != other and len(first) == len(other)
    assert low < len(first) < high
    with capsys.disabled():
        print(f"\nMobileNet-v1 {multiplier}/{resolution}: {len(first):,} bytes, "
              f"{count_parameters(onnx.load_from_string(first)):,} parameters")


def test_topology_follows_mobilenet_v1() -> None:
    model = mnv1.build_onnx(0.75, 192, seed=0)
    onnx.checker.check_model(model)
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    assert len(convs) == 28  # stem, 13 x (depthwise + pointwise), classifier
    weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    pointwise = [weights[n.input[1]].shape[0] for n in convs[2:-1:2]]
    assert pointwise == [mnv1.make_divisible(c * 0.75) for c, _ in mnv1.BLOCKS]
    strides = [next(a.ints[0] for a in n.attribute if a.name == "strides") for n in convs[1:-1:2]]
    assert strides == [s for _, s in mnv1.BLOCKS]
    assert weights[convs[-1].input[1]].shape == (1000, 768, 1, 1)
    assert model.graph.input[0].type.tensor_type.shape.dim[2].dim_value == 192
    assert 2_500_000 < count_parameters(model) < 2_700_000


def test_make_divisible_matches_tensorflow() -> None:
    assert [mnv1.make_divisible(32 * m) for m in mnv1.MULTIPLIERS] == [8, 16, 24, 32]
    assert mnv1.make_divisible(1024 * 0.75) == 768
    assert mnv1.make_divisible(3) == 8 and mnv1.make_divisible(20) == 24 and mnv1.make_divisible(92) == 96


def test_relu6_moments_match_sampling() -> None:
    samples = np.clip(np.random.default_rng(0).normal(0, 1.5, 2_000_000), 0, 6)
    mean, var = mnv1.relu6_moments(1.5)
    assert abs(mean - samples.mean()) < 2e-3 and abs(var - samples.var()) < 4e-3


@pytest.mark.parametrize("kwargs, bad", [({"multiplier": 0.3}, "0.3"), ({"resolution": 256}, "256"),
                                         ({"resolution": True}, "True"), ({"seed": -1}, "-1")])
def test_invalid_configuration_is_refused(kwargs: dict, bad: str) -> None:
    args = {"multiplier": 1.0, "resolution": 224, "seed": 0, **kwargs}
    with pytest.raises(RequestError) as caught:
        mnv1.build_onnx(**args)
    message = str(caught.value)
    assert bad in message
    if "multiplier" in kwargs:
        assert "0.25, 0.5, 0.75, 1.0" in message
    if "resolution" in kwargs:
        assert "128, 160, 192, 224" in message


def test_preprocessing_record() -> None:
    spec = mnv1.preprocessing(160)
    assert (spec.resolution, spec.crop_fraction, spec.interpolation) == (160, 0.875, "bilinear")
    assert spec.mean == (127.5,) * 3 and spec.std == (127.5,) * 3
    with pytest.raises(RequestError, match="161"):
        mnv1.preprocessing(161)
