"""`ck add ... --template=...`: our templates through CK 2.6.4's own add actions, then used for real."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from builders import make_imagenet_dir, make_tiny_onnx_model
from conftest import make_world

# A whole framework in one file: runs the test network (conv 3x3 stride 2, relu, global pool, dense).
NUMPY_BACKEND = '''
from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

from .base import NO_OPTIONS, Backend, BackendDescription


class NumpyBackend(Backend):
    name = "numpy"
    formats = ("onnx",)

    def __init__(self, model_path, info, options=NO_OPTIONS):
        super().__init__(model_path, info, options)
        weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(model_path)).graph.initializer}
        self.conv, self.dense = weights["conv"], weights["dense"]

    def prepare(self, batch):
        return np.ascontiguousarray(batch, dtype=np.float32)

    def run(self, x):
        windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(2, 3))[:, :, ::2, ::2]
        features = np.maximum(np.einsum("bchwij,ocij->bohw", windows, self.conv), 0).mean(axis=(2, 3))
        return features @ self.dense.T

    def describe(self):
        return BackendDescription("numpy", np.__version__, "cpu", self.threads)


BACKEND = NumpyBackend
'''


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return make_world(tmp_path_factory.mktemp("templates"))


def meta(world, module: str, name: str) -> dict:
    return json.loads((world.repos / "local" / module / name / ".cm" / "meta.json").read_text())


def edit_meta(world, module: str, name: str, change) -> None:
    path = world.repos / "local" / module / name / ".cm" / "meta.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


def test_program_template_plus_one_backend_file_runs_under_ck_benchmark(world, tmp_path):
    world.ck("add", "local:program:request-numpy-classification", "--template=request-classification",
             "--tags=numpy", "--quiet")
    program = world.repos / "local" / "program" / "request-numpy-classification"
    made = meta(world, "program", "request-numpy-classification")
    assert "template" not in made and {"numpy", "request-classification"} <= set(made["tags"])
    assert set(made["run_deps"]) == {"python", "model", "dataset"} and "CK_REQUEST_BATCH_SIZE" in made["run_vars"]

    world.ck("detect", "soft:model.onnx", f"--full_path={make_tiny_onnx_model(tmp_path / 'tiny')}", "--quiet")
    world.ck("detect", "soft:dataset.imagenet.val", f"--full_path={make_imagenet_dir(tmp_path / 'val', 4)}",
             "--quiet")
    bench = ("benchmark", "program:request-numpy-classification", "--quiet",
             "--env.CK_REQUEST_MIN_DURATION_S=0.2", "--dep_add_tags.dataset=imagenet", "--repetitions=1")
    missing = world.ck(*bench, check=False)
    assert missing.returncode != 0
    assert f"write {program / 'backends' / 'numpy.py'}" in missing.stdout + missing.stderr

    (program / "backends" / "numpy.py").write_text(NUMPY_BACKEND)
    world.ck(*bench, "--record", "--record_uoa=numpy-run")
    (flat_path,) = (world.repos / "local" / "experiment" / "numpy-run").glob("ckp-*.flat.json")
    flat = json.loads(flat_path.read_text())
    assert flat["##features#meta#library_name#min"] == f"numpy {np.__version__}"
    assert flat["##features#meta#model_arch#min"] == "tiny-test-net"
    assert flat["##characteristics#run#inference_latency#min"] > 0
    assert not [key for key in flat if "accuracy" in key]  # synthetic weights give no accuracy


def test_numpy_backend_of_the_test_computes_what_onnx_runtime_computes(tmp_path):
    import importlib.util

    import onnxruntime as ort

    from ckrequest.models.model_info import ModelInfo

    (tmp_path / "numpy_backend.py").write_text(NUMPY_BACKEND.replace("from .base", "from ckrequest.backends.base"))
    spec = importlib.util.spec_from_file_location("numpy_backend", tmp_path / "numpy_backend.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    info_path = make_tiny_onnx_model(tmp_path / "tiny")
    backend = module.BACKEND(tmp_path / "tiny" / "model.onnx", ModelInfo.load(info_path))
    x = np.random.default_rng(3).standard_normal((2, 3, 32, 32)).astype(np.float32)
    expected = ort.InferenceSession(str(tmp_path / "tiny" / "model.onnx")).run(None, {"input": x})[0]
    np.testing.assert_allclose(backend.run(backend.prepare(x)), expected, rtol=1e-4, atol=1e-4)


def test_library_templates_give_a_detector_and_a_pinned_pip_installer(world):
    world.ck("add", "local:soft:lib.tomli", "--template=request.lib", "--tags=lib,tomli", "--quiet")
    world.ck("add", "local:package:lib-tomli", "--template=request-lib", "--soft=lib.tomli", "--tags=python-lib",
             "--quiet")
    package = meta(world, "package", "lib-tomli")
    assert package["soft_uoa"] and {"lib", "tomli", "python-lib"} <= set(package["tags"])
    assert "template" not in package

    def soft(data):  # what CONTRIBUTING.md says to fill in
        data["customize"].update(python_module="tomli", soft_file_universal="tomli$#sep#$__init__.py",
                                 env_prefix="CK_ENV_LIB_TOMLI")

    def pin(data):
        data["customize"]["version"] = "2.2.1"
        data["customize"]["install_env"]["PIP_REQUIREMENTS"] = "tomli=={version}"
        data["end_full_path_universal"] = "python$#sep#$tomli$#sep#$__init__.py"
        data["suggested_path"] = "lib-tomli"

    edit_meta(world, "soft", "lib.tomli", soft)
    edit_meta(world, "package", "lib-tomli", pin)
    world.ck("install", "package:lib-tomli", "--quiet")
    (entry,) = json.loads(world.ck("search", "env", "--tags=lib,tomli", "--out=json").stdout)["lst"]
    env = json.loads((world.repos / "local" / "env" / entry["data_uid"] / ".cm" / "meta.json").read_text())
    assert env["customize"]["version"] == "2.2.1"
    assert (world.tools / "lib-tomli-2.2.1-linux-64" / "python" / "tomli" / "__init__.py").is_file()


def test_model_templates_give_a_format_detector_and_a_zoo_installer(world, tmp_path):
    world.ck("add", "local:soft:model.npz", "--template=request.model", "--tags=model,image-classification,npz",
             "--quiet")
    info = make_tiny_onnx_model(tmp_path / "tiny")  # the detector reads model-info.json, whatever the format
    world.ck("detect", "soft:model.npz", f"--full_path={info}", "--quiet")
    (entry,) = json.loads(world.ck("search", "env", "--tags=model,npz", "--out=json").stdout)["lst"]
    env = json.loads((world.repos / "local" / "env" / entry["data_uid"] / ".cm" / "meta.json").read_text())
    assert env["env"]["CK_ENV_MODEL_INFO"] == str(info)

    world.ck("add", "local:package:model-onnx-mobilenet-v1-seed7", "--template=request-model", "--soft=model.onnx",
             "--tags=mobilenet-v1,synthetic,seed-7", "--quiet")
    package = meta(world, "package", "model-onnx-mobilenet-v1-seed7")
    assert package["end_full_path_universal"] == "model-info.json" and "template" not in package
    assert {"model", "onnx", "mobilenet-v1", "seed-7"} <= set(package["tags"])

    def fill(data):  # what CONTRIBUTING.md says to fill in
        data["customize"]["install_env"].update(CK_REQUEST_ARCH="mobilenet-v1", CK_REQUEST_MODEL_FORMAT="onnx",
                                                CK_REQUEST_MULTIPLIER="0.25", CK_REQUEST_RESOLUTION="128",
                                                CK_REQUEST_SEED="7")
        data["suggested_path"] = "model-onnx-mobilenet-v1-seed7"

    edit_meta(world, "package", "model-onnx-mobilenet-v1-seed7", fill)
    world.ck("install", "package:model-onnx-mobilenet-v1-seed7", "--quiet")
    (entry,) = json.loads(world.ck("search", "env", "--tags=model,seed-7", "--out=json").stdout)["lst"]
    env = json.loads((world.repos / "local" / "env" / entry["data_uid"] / ".cm" / "meta.json").read_text())
    installed = json.loads(Path(env["env"]["CK_ENV_MODEL_INFO"]).read_text())
    assert (installed["arch"], installed["seed"], installed["weights"]) == ("mobilenet-v1", 7, "synthetic")


def test_templates_never_stand_in_for_a_real_dependency(world):
    for module, tags, template in (("soft", "lib", "request.lib"), ("soft", "model", "request.model"),
                                   ("package", "lib", "request-lib"), ("package", "model", "request-model")):
        found = json.loads(world.ck("search", module, f"--tags={tags}", "--out=json").stdout)["lst"]
        assert template not in {item["data_uoa"] for item in found}
    program = json.loads((Path(__file__).resolve().parents[1] / "program" / "request-classification" / ".cm" /
                          "meta.json").read_text())
    assert program["template"] == "yes"
