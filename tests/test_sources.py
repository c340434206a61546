"""The official ImageNet weights sources: the catalog, and each path end to end on test-made files.

Real Keras and Gluon files cannot be downloaded here, so the tests make files of the same kind
(tf_keras ``save_weights`` in the TensorFlow environment: the layout of Keras's published .h5;
Gluon ``save_parameters`` in MXNet's venv, zipped as the model zoo does), serve them from a local
HTTP server under the official paths (CK_REQUEST_WEIGHTS_BASE_URL) and install them.
"""

from __future__ import annotations

import ast
import hashlib
import re
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from ckrequest.errors import RequestError
from ckrequest.models.architectures import preprocessing_for
from ckrequest.zoo import imagenet
from ckrequest.zoo.imagenet import canonical_form, converter_for, imagenet_onnx, onnx_from_source
from ckrequest.zoo.sources import ARCHS, GLUON, SOURCES, source_for

KERAS_WEIGHTS_MAKER = """
import sys
import numpy as np
import tf_keras

out, check, model, alpha, size = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
net = getattr(tf_keras.applications, model)(alpha=alpha, input_shape=(size, size, 3), weights=None,
                                            classifier_activation=None)
rng = np.random.default_rng(0)

def images(count):
    blocks = rng.uniform(-1, 1, (count, size // 8, size // 8, 3))
    return np.kron(blocks, np.ones((1, 8, 8, 1))).astype("float32")

# Batch-norm statistics of real activations (one training-mode pass with momentum 0), so the outputs
# depend on the image: random init alone fades to zero logits, on which any converter would agree.
for layer in net.layers:
    if isinstance(layer, tf_keras.layers.BatchNormalization):
        layer.momentum = 0.0
        gamma, beta, mean, var = layer.get_weights()
        layer.set_weights([np.ones_like(gamma), rng.uniform(0, 0.5, beta.shape).astype("float32"), mean, var])
net(images(16), training=True)
net.save_weights(out)
inputs = images(6)
np.savez(check, inputs=inputs.transpose(0, 3, 1, 2), logits=net(inputs, training=False).numpy())
"""

GLUON_WEIGHTS_MAKER = """
import sys
import mxnet as mx
import numpy as np
from mxnet import gluon

out, check, name = sys.argv[1], sys.argv[2], sys.argv[3]
mx.random.seed(0)
net = gluon.model_zoo.vision.get_model(name)
net.initialize(mx.init.Xavier(rnd_type="gaussian", factor_type="in", magnitude=2))  # He: outputs stay O(1)
inputs = np.random.default_rng(0).normal(0, 1, (5, 3, 224, 224)).astype("float32")
logits = net(mx.nd.array(inputs)).asnumpy()
net.save_parameters(out)
np.savez(check, inputs=inputs, logits=logits)
"""


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits.astype(np.float64) - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _onnxruntime_logits(path: Path, inputs: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["logits"], {"input": inputs.astype(np.float32)})[0]


def _assert_canonical_and_agrees(path: Path, check: Path, resolution: int) -> None:
    model = onnx.load(str(path))
    (graph_input,), (graph_output,) = model.graph.input, model.graph.output
    dims = [d.dim_param or d.dim_value for d in graph_input.type.tensor_type.shape.dim]
    assert (graph_input.name, dims) == ("input", ["batch", 3, resolution, resolution])
    assert graph_output.name == "logits"
    assert [(o.domain, o.version) for o in model.opset_import] == [("", 17)]
    expected = np.load(check)
    logits = _onnxruntime_logits(path, expected["inputs"])
    assert np.abs(_softmax(logits) - _softmax(expected["logits"])).max() <= 1e-4
    assert (logits.argmax(axis=1) == expected["logits"].argmax(axis=1)).all()
    assert logits.std(axis=1).min() > 1e-3  # the test weights give real outputs, not zeros


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# The catalog


def test_catalog_has_every_tournament_architecture_with_real_weights():
    assert set(ARCHS) == {"mobilenet-v1", "mobilenet-v2", "resnet-50", "inception-v3", "vgg16",
                          "resnet-18", "alexnet", "squeezenet-1.1"}
    mobilenets = {(m, r): s for (a, m, r), s in SOURCES.items() if a == "mobilenet-v1"}
    assert len(mobilenets) == 16
    assert mobilenets[(0.25, 128)].file_name == "mobilenet_2_5_128_tf.h5"
    assert mobilenets[(0.5, 160)].file_name == "mobilenet_5_0_160_tf.h5"
    assert mobilenets[(0.75, 192)].file_name == "mobilenet_7_5_192_tf.h5"
    assert mobilenets[(1.0, 224)].url == ("https://storage.googleapis.com/tensorflow/keras-applications/"
                                          "mobilenet/mobilenet_1_0_224_tf.h5")


def test_published_checksums_and_which_files_have_none():
    published = {s.arch: str(s.checksum) for s in SOURCES.values() if s.checksum}
    assert published == {
        "resnet-50": "md5:2cb95161c43110f7111970584f804107",
        "inception-v3": "md5:9a0d58056eeedaa3f26cb7ebd46da564",
        "vgg16": "md5:64373286793e3c8b2b4e3219cbf3544b",
        "resnet-18": "sha1:a0666292f0a30ff61f857b0b66efc0228eb6a54b",
        "alexnet": "sha1:44335d1f0046b328243b32a26a4fbd62d9057b45",
        "squeezenet-1.1": "sha1:33ba0f93753c83d86e1eb397f38a667eaf2e9376",
    }
    squeezenet = source_for("squeezenet-1.1")
    assert squeezenet.url.endswith("/gluon/models/squeezenet1.1-33ba0f93.zip")
    assert squeezenet.weights_name == "squeezenet1.1-33ba0f93.params"


@pytest.mark.parametrize("key", sorted(SOURCES, key=str))
def test_preprocessing_is_what_the_architecture_registry_says(key):
    arch, _, resolution = key
    assert SOURCES[key].preprocessing == preprocessing_for(arch, resolution)


def test_preprocessing_of_each_family():
    assert source_for("inception-v3").preprocessing.resolution == 299
    caffe = source_for("resnet-50").preprocessing
    assert (caffe.channel_order, caffe.mean[::-1], caffe.std) == ("BGR", (103.939, 116.779, 123.68), (1, 1, 1))
    assert source_for("mobilenet-v1", 0.5, 160).preprocessing.mean == (127.5,) * 3
    assert source_for("alexnet").preprocessing.std == pytest.approx((0.229 * 255, 0.224 * 255, 0.225 * 255))


@pytest.mark.parametrize("call, message", [
    (lambda: source_for("efficientnet-lite0"), "ck install package:model-onnx-efficientnet-lite0-imagenet"),
    (lambda: source_for("googlenet"), "architecture 'googlenet': has no official ImageNet weights source"),
    (lambda: source_for("mobilenet-v1", 0.35, 224), "mobilenet-v1 multiplier 0.35: has no official weights"),
    (lambda: source_for("mobilenet-v1", 1.0, 96), "use one of 128, 160, 192, 224"),
    (lambda: source_for("vgg16", resolution=299), "vgg16 comes in one size"),
])
def test_unknown_weights_are_one_line_errors(call, message):
    with pytest.raises(RequestError, match=re.escape(message)) as err:
        call()
    assert "\n" not in str(err.value)


def test_missing_framework_names_the_ck_package(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "")
    monkeypatch.delenv("CK_ENV_LIB_MXNET_PYTHON", raising=False)
    with pytest.raises(RequestError, match=re.escape("(ck install package:lib-tensorflow --quiet")):
        converter_for(source_for("vgg16"))
    with pytest.raises(RequestError, match=re.escape("(ck install package:lib-mxnet --quiet")):
        converter_for(source_for("alexnet"))


def test_bad_pin_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv(imagenet.PIN_ENV, "not-a-digest")
    with pytest.raises(RequestError, match="CK_REQUEST_WEIGHTS_SHA256=not-a-digest: is not a sha256"):
        imagenet.obtain_weights(source_for("vgg16"), tmp_path, tmp_path / "w.h5")


def test_canonical_form_of_an_exporter_style_graph():
    """Initializers listed as inputs, other names, fixed batch, opset 13 -> the canonical contract."""
    weight = helper.make_tensor("w", TensorProto.FLOAT, [10, 3], np.ones(30, np.float32))
    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["data"], ["pooled"], axes=[2, 3], keepdims=0),
         helper.make_node("Gemm", ["pooled", "w"], ["net_fwd"], transB=1)],
        "exported", [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, 8, 8]),
                     helper.make_tensor_value_info("w", TensorProto.FLOAT, [10, 3])],
        [helper.make_tensor_value_info("net_fwd", TensorProto.FLOAT, [1, 10])], [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])

    canonical = canonical_form(model, 8)

    assert [i.name for i in canonical.graph.input] == ["input"]
    assert [o.name for o in canonical.graph.output] == ["logits"]
    assert canonical.opset_import[0].version == 17
    logits = ort.InferenceSession(canonical.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        ["logits"], {"input": np.ones((2, 3, 8, 8), np.float32)})[0]
    assert logits.shape == (2, 10) and np.allclose(logits, 3.0)


# The installed libraries publish what the catalog says


def _constants(path: Path) -> dict:
    tree = ast.parse(path.read_text())
    return {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, (ast.Constant, ast.Dict))}


def test_catalog_matches_the_installed_keras_and_mxnet_sources(tf_env, mx_env):
    keras = Path(tf_env["PYTHONPATH"].split(":")[0]) / "keras" / "src" / "applications"
    mobilenet = _constants(keras / "mobilenet.py")["BASE_WEIGHT_PATH"]
    assert all(s.url.startswith(mobilenet) for s in SOURCES.values() if s.model == "MobileNet")
    assert source_for("mobilenet-v2").url.startswith(_constants(keras / "mobilenet_v2.py")["BASE_WEIGHT_PATH"])
    assert "file_hash" not in (keras / "mobilenet.py").read_text() + (keras / "mobilenet_v2.py").read_text()
    resnet = _constants(keras / "resnet.py")
    assert source_for("resnet-50").url == resnet["BASE_WEIGHTS_PATH"] + source_for("resnet-50").file_name
    assert source_for("resnet-50").checksum.digest == resnet["WEIGHTS_HASHES"]["resnet50"][0]
    for arch, module in (("inception-v3", "inception_v3.py"), ("vgg16", "vgg16.py")):
        source = source_for(arch)
        assert source.url == _constants(keras / module)["WEIGHTS_PATH"]
        assert re.search(rf'"{source.file_name}",\s*WEIGHTS_PATH,\s*cache_subdir="models",\s*'
                         rf'file_hash="{source.checksum.digest}"', (keras / module).read_text())

    store = Path(mx_env["CK_ENV_LIB_MXNET"]) / "mxnet" / "gluon" / "model_zoo" / "model_store.py"
    sha1 = {name: digest for digest, name in re.findall(r"\('([0-9a-f]{40})', '([^']+)'\)", store.read_text())}
    constants = _constants(store)
    for source in (s for s in SOURCES.values() if s.framework == GLUON):
        assert source.checksum.digest == sha1[source.model]
        file_name = f"{source.model}-{sha1[source.model][:8]}"
        assert source.url == constants["_url_format"].format(repo_url=constants["apache_repo_url"],
                                                             file_name=file_name)


# End to end: Keras Applications


@pytest.fixture(scope="module")
def tf_env(zoo_world) -> dict:
    return zoo_world.environment_of("lib,tensorflow")


@pytest.fixture(scope="module")
def mx_env(zoo_world) -> dict:
    return zoo_world.environment_of("lib,mxnet")


@pytest.fixture(scope="module")
def keras_mobilenet(tf_env, tmp_path_factory) -> tuple[Path, Path]:
    """A MobileNet 0.25/128 weights file under its official name, and inputs with Keras's logits."""
    folder = tmp_path_factory.mktemp("keras")
    h5, check = folder / source_for("mobilenet-v1", 0.25, 128).file_name, folder / "check.npz"
    _make_keras_weights(tf_env, h5, check, "MobileNet", 0.25, 128)
    return h5, check


def _make_keras_weights(tf_env: dict, h5: Path, check: Path, model: str, alpha: float, size: int) -> None:
    subprocess.run([sys.executable, "-c", KERAS_WEIGHTS_MAKER, str(h5), str(check), model, str(alpha), str(size)],
                   env={**tf_env, "TF_CPP_MIN_LOG_LEVEL": "3"}, check=True, capture_output=True)


@pytest.fixture
def with_tensorflow(tf_env, monkeypatch):
    """This process's environment as a package installer with lib-tensorflow as a dependency has it."""
    monkeypatch.setenv("PYTHONPATH", tf_env["PYTHONPATH"])
    for name in ("CK_REQUEST_WEIGHTS_FILE", "CK_REQUEST_WEIGHTS_SHA256"):
        monkeypatch.delenv(name, raising=False)


def test_keras_weights_are_downloaded_checked_and_converted(keras_mobilenet, with_tensorflow, weights_server,
                                                           monkeypatch, tmp_path):
    h5, check = keras_mobilenet
    source = source_for("mobilenet-v1", 0.25, 128)
    weights_server.put(source.url.split(".com/")[1], h5.read_bytes())
    monkeypatch.setenv("CK_REQUEST_WEIGHTS_BASE_URL", weights_server.base_url)

    made = imagenet_onnx("mobilenet-v1", tmp_path / "out", multiplier=0.25, resolution=128)

    assert weights_server.requested == ["/tensorflow/keras-applications/mobilenet/mobilenet_2_5_128_tf.h5"]
    assert made.onnx_path == tmp_path / "out" / "model.onnx" and _leftovers(tmp_path / "out") == ["model.onnx"]
    _assert_canonical_and_agrees(made.onnx_path, check, 128)
    assert made.preprocessing == source.preprocessing
    provenance = made.provenance
    assert provenance["sha256"] == hashlib.sha256(h5.read_bytes()).hexdigest()
    assert provenance["url"] == source.url and provenance["fetched_from"].startswith(weights_server.base_url)
    assert provenance["published_checksum"] is None and provenance["verified"].startswith("no checksum published")
    assert set(provenance["framework"]) >= {"tensorflow", "keras", "tf2onnx"}
    assert provenance["conversion"]["check"]["same_top1"] == 4


def test_keras_weights_file_you_have_needs_no_download(keras_mobilenet, with_tensorflow, monkeypatch, tmp_path):
    h5, check = keras_mobilenet
    monkeypatch.setenv("CK_REQUEST_WEIGHTS_BASE_URL", "http://127.0.0.1:9/")  # any download would fail

    made = imagenet_onnx("mobilenet-v1", tmp_path, multiplier=0.25, resolution=128, weights_file=h5)

    _assert_canonical_and_agrees(made.onnx_path, check, 128)
    assert made.provenance["fetched_from"] == "" and made.provenance["weights_file"] == str(h5)


def test_keras_file_of_another_variant_is_refused_by_loading(keras_mobilenet, with_tensorflow, weights_server,
                                                            monkeypatch, tmp_path):
    """MobileNet publishes no checksum: a 0.25 file served as the 0.5 one fails the structural check."""
    h5, _ = keras_mobilenet
    weights_server.put(source_for("mobilenet-v1", 0.5, 128).url.split(".com/")[1], h5.read_bytes())
    monkeypatch.setenv("CK_REQUEST_WEIGHTS_BASE_URL", weights_server.base_url)

    with pytest.raises(RequestError, match="does not fit keras.applications.MobileNet") as err:
        imagenet_onnx("mobilenet-v1", tmp_path / "out", multiplier=0.5, resolution=128)

    assert "\n" not in str(err.value)
    assert not (tmp_path / "out").exists()


def test_keras_published_hash_refuses_a_wrong_file(with_tensorflow, weights_server, monkeypatch, tmp_path):
    source = source_for("resnet-50")
    weights_server.put(source.url.split(".com/")[1], b"\x89HDF\r\n\x1a\n not the ResNet50 weights")
    monkeypatch.setenv("CK_REQUEST_WEIGHTS_BASE_URL", weights_server.base_url)
    (tmp_path / "out").mkdir()

    with pytest.raises(RequestError, match=f"has md5 [0-9a-f]{{32}}, expected {source.checksum.digest}"):
        imagenet_onnx("resnet-50", tmp_path / "out")

    assert _leftovers(tmp_path / "out") == []


def test_keras_pinned_sha256_refuses_any_other_file(keras_mobilenet, with_tensorflow, monkeypatch, tmp_path):
    h5, _ = keras_mobilenet
    monkeypatch.setenv("CK_REQUEST_WEIGHTS_SHA256", "0" * 64)

    with pytest.raises(RequestError, match=f"has sha256 {hashlib.sha256(h5.read_bytes()).hexdigest()}"):
        imagenet_onnx("mobilenet-v1", tmp_path / "out", multiplier=0.25, resolution=128, weights_file=h5)

    assert not (tmp_path / "out").exists()


def test_keras_dense_classifier_is_converted_with_its_kernels_put_back(tf_env, with_tensorflow, tmp_path):
    """MobileNetV2 ends in a Dense layer: its kernel goes through tf2onnx as an input (VGG16's memory)."""
    h5, check = tmp_path / "mobilenet_v2_0.35_96.h5", tmp_path / "check.npz"
    _make_keras_weights(tf_env, h5, check, "MobileNetV2", 0.35, 96)
    official = source_for("mobilenet-v2")
    small = replace(official, multiplier=0.35, preprocessing=replace(official.preprocessing, resolution=96))

    made = onnx_from_source(small, tmp_path / "out", weights_file=h5)

    _assert_canonical_and_agrees(made.onnx_path, check, 96)
    model = onnx.load(str(made.onnx_path))
    assert "dense_kernel_0" in {t.name for t in model.graph.initializer}
    assert made.provenance["conversion"]["check"]["same_top1"] == 4


# End to end: MXNet Gluon model zoo


@pytest.fixture(scope="module")
def gluon_squeezenet(mx_env, tmp_path_factory) -> tuple[Path, Path]:
    """squeezenet1.1 parameters zipped as the model zoo serves them, and inputs with MXNet's outputs."""
    folder = tmp_path_factory.mktemp("gluon")
    source = source_for("squeezenet-1.1")
    params, check = folder / source.weights_name, folder / "check.npz"
    subprocess.run([mx_env["CK_ENV_LIB_MXNET_PYTHON"], "-c", GLUON_WEIGHTS_MAKER, str(params), str(check),
                    source.model], env=mx_env, check=True, capture_output=True)
    archive = folder / source.file_name
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(params, params.name)
    return archive, check


@pytest.fixture
def with_mxnet(mx_env, monkeypatch):
    monkeypatch.setenv("CK_ENV_LIB_MXNET_PYTHON", mx_env["CK_ENV_LIB_MXNET_PYTHON"])
    monkeypatch.delenv("CK_REQUEST_WEIGHTS_FILE", raising=False)
    monkeypatch.delenv("CK_REQUEST_WEIGHTS_SHA256", raising=False)


def test_gluon_weights_are_downloaded_unzipped_checked_and_converted(gluon_squeezenet, with_mxnet, weights_server,
                                                                   monkeypatch, tmp_path):
    archive, check = gluon_squeezenet
    source = source_for("squeezenet-1.1")
    weights_server.put(f"gluon/models/{archive.name}", archive.read_bytes())
    monkeypatch.setenv("CK_REQUEST_WEIGHTS_BASE_URL", weights_server.base_url)
    with zipfile.ZipFile(archive) as zipped:
        params_sha256 = hashlib.sha256(zipped.read(source.weights_name)).hexdigest()
    monkeypatch.setenv("CK_REQUEST_WEIGHTS_SHA256", params_sha256)  # test-made, so not the published sha1

    made = imagenet_onnx("squeezenet-1.1", tmp_path)

    assert weights_server.requested == ["/gluon/models/squeezenet1.1-33ba0f93.zip"]
    _assert_canonical_and_agrees(made.onnx_path, check, 224)
    assert made.preprocessing.mean == pytest.approx((123.675, 116.28, 103.53))
    provenance = made.provenance
    assert provenance["verified"] == "sha256 pinned by CK_REQUEST_WEIGHTS_SHA256"
    assert provenance["sha256"] == params_sha256 and provenance["file"] == source.weights_name
    assert provenance["published_checksum"] == "sha1:33ba0f93753c83d86e1eb397f38a667eaf2e9376"
    assert provenance["framework"]["mxnet"] == "1.9.1"


def test_gluon_published_sha1_refuses_a_file_that_is_not_the_official_one(gluon_squeezenet, with_mxnet,
                                                                         weights_server, monkeypatch, tmp_path):
    archive, _ = gluon_squeezenet
    weights_server.put(f"gluon/models/{archive.name}", archive.read_bytes())
    monkeypatch.setenv("CK_REQUEST_WEIGHTS_BASE_URL", weights_server.base_url)
    (tmp_path / "out").mkdir()

    with pytest.raises(RequestError, match="has sha1 [0-9a-f]{40}, expected 33ba0f93753c83d86e1eb397f38a667eaf2e9376"):
        imagenet_onnx("squeezenet-1.1", tmp_path / "out")

    assert _leftovers(tmp_path / "out") == []


def test_gluon_zip_you_have_needs_no_download(gluon_squeezenet, with_mxnet, monkeypatch, tmp_path):
    archive, check = gluon_squeezenet
    with zipfile.ZipFile(archive) as zipped:
        pinned = hashlib.sha256(zipped.read(source_for("squeezenet-1.1").weights_name)).hexdigest()
    monkeypatch.setenv("CK_REQUEST_WEIGHTS_SHA256", pinned)
    monkeypatch.setenv("CK_REQUEST_WEIGHTS_BASE_URL", "http://127.0.0.1:9/")  # any download would fail

    made = imagenet_onnx("squeezenet-1.1", tmp_path, weights_file=archive)

    _assert_canonical_and_agrees(made.onnx_path, check, 224)
    assert made.provenance["weights_file"] == str(archive)


def test_weights_file_that_does_not_exist(with_mxnet, tmp_path):
    with pytest.raises(RequestError, match="weights file not found: .*CK_REQUEST_WEIGHTS_FILE"):
        imagenet_onnx("alexnet", tmp_path / "out", weights_file=tmp_path / "alexnet.params")
    assert not (tmp_path / "out").exists()
