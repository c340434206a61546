"""Arm NN through the real `ck`: Debian's pyarmnn unpacked into CK_TOOLS (no root), its TFLite parser, CpuRef."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from builders import run_conformance, run_harness_without_ck, save_mobilenet_128_inputs, single_error_line

MOBILENET = "mobilenet-v1,synthetic,multiplier-0.25,resolution-128"


@pytest.fixture(scope="module")
def armnn_world(zoo_world):
    if not zoo_world.env_entries("lib,armnn"):
        zoo_world.install("lib-armnn")
    for fmt in ("tflite", "onnx"):
        zoo_world.ck("install", "package", f"--tags=model,{fmt},{MOBILENET},fp32", "--quiet", timeout=1800)
    return zoo_world


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    return save_mobilenet_128_inputs(tmp_path_factory.mktemp("armnn-inputs") / "inputs.npy", 4)


def test_ck_install_unpacks_debian_packages_into_ck_tools(armnn_world):
    env = armnn_world.environment_of("lib,armnn")
    root = Path(env["CK_ENV_LIB_ARMNN"])
    assert root.parent == armnn_world.tools and env["CK_ENV_LIB_ARMNN_VERSION"] == "20.08"
    manifest = json.loads((root / "debian-packages.json").read_text())
    assert manifest["python3-pyarmnn"].startswith("20.08") and "libarmnntfliteparser22" in manifest
    assert "python3" not in manifest and "python3-numpy" not in manifest  # ours are used
    assert env["LD_LIBRARY_PATH"].split(":")[0] == env["CK_ENV_LIB_ARMNN_LIB"]
    assert str(root / "usr/lib/python3/dist-packages") in env["PYTHONPATH"].split(":")
    assert (Path(env["CK_ENV_LIB_ARMNN_BACKENDS"]) / "Arm_CpuRef_backend.so").is_file()


def test_armnn_predicts_what_onnx_runtime_predicts(armnn_world, images):
    import onnxruntime

    onnx_info = armnn_world.model_info(f"model,onnx,{MOBILENET},fp32")
    session = onnxruntime.InferenceSession(str(onnx_info.parent / "model.onnx"))
    reference = session.run(None, {"input": np.load(images)})[0]
    info = armnn_world.model_info(f"model,tflite,{MOBILENET},fp32")
    result, stderr = run_conformance("armnn", info, images, armnn_world.environment_of("lib,armnn"))
    assert result["top1"] == reference.argmax(1).tolist()
    assert np.abs(np.array(result["logits"]) - reference).max() < 1e-3
    described = result["describe"]
    assert described["library"] == "armnn" and described["version"] == "20.08"
    assert described["device"].startswith("CpuRef (Arm NN's reference backend")  # x86: no Arm Compute Library
    assert set(described["details"]["armnn_layers_per_backend"]) == {"CpuRef"}
    assert described["details"]["armnn_backend"] == "CpuRef"
    assert not stderr.strip()  # pyarmnn's warnings about parsers Debian did not build are silenced


def test_ck_benchmark_runs_the_armnn_program(armnn_world):
    armnn_world.ck("benchmark", "program:request-armnn-classification", "--quiet",
                   f"--dep_add_tags.model={MOBILENET},fp32", "--env.CK_REQUEST_MIN_DURATION_S=0.1",
                   "--env.CK_REQUEST_MIN_QUERIES=10", "--env.CK_REQUEST_WARMUP=1", "--repetitions=1",
                   "--record", "--record_uoa=armnn-cpuref")
    (flat_path,) = (armnn_world.repos / "local" / "experiment" / "armnn-cpuref").glob("ckp-*.flat.json")
    flat = json.loads(flat_path.read_text())
    assert flat["##features#meta#library_name#min"] == "armnn 20.08"
    assert flat["##features#meta#library_device#min"].startswith("CpuRef")
    assert flat["##characteristics#run#inference_latency#min"] > 0


@pytest.mark.parametrize("drop", ["PYTHONPATH", "LD_LIBRARY_PATH"])
def test_missing_or_broken_armnn_is_one_clear_line(armnn_world, tmp_path, drop):
    library = armnn_world.environment_of("lib,armnn")
    proc = run_harness_without_ck("armnn", armnn_world.model_info(f"model,tflite,{MOBILENET},fp32"), tmp_path,
                                  {k: library[k] for k in ("PYTHONPATH", "LD_LIBRARY_PATH") if k != drop})
    line = single_error_line(proc)
    assert line.startswith("ckrequest: error: pyarmnn: cannot be imported")
    assert "ck install package:lib-armnn --quiet" in line


# A one-operator TFLite model (PADV2: a pad with -1, as converted max-pool paddings are) made by TensorFlow.
MAKE_PADV2_MODEL = """
import sys, tensorflow as tf
@tf.function(input_signature=[tf.TensorSpec([1, 8, 8, 3], tf.float32)])
def padded(x):
    return tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], constant_values=-1.0)
converter = tf.lite.TFLiteConverter.from_concrete_functions([padded.get_concrete_function()], padded)
open(sys.argv[1], "wb").write(converter.convert())
"""
LOAD = """
import sys
from pathlib import Path
from ckrequest.backends.armnn import ArmnnBackend
from ckrequest.errors import RequestError
from ckrequest.datasets.preprocess import Preprocessing
from ckrequest.models.model_info import ModelInfo
info = ModelInfo("pad", "tflite", "fp32", "synthetic", "pad", "pad.tflite", "x", "y", Preprocessing(8, layout="NHWC"),
                 seed=1)
try:
    ArmnnBackend(Path(sys.argv[1]), info)
except RequestError as err:
    print(err.line())
"""


def test_an_operator_the_parser_lacks_is_named(armnn_world, tmp_path):
    model = tmp_path / "pad.tflite"
    made = subprocess.run([sys.executable, "-c", MAKE_PADV2_MODEL, str(model)],
                          env=armnn_world.environment_of("lib,tensorflow"), capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stderr[-2000:]
    proc = subprocess.run([sys.executable, "-c", LOAD, str(model)], env=armnn_world.environment_of("lib,armnn"),
                          capture_output=True, text=True, timeout=300)
    assert proc.stdout.strip() == (f"model file {model}: Arm NN's TFLite parser (20.08) lacks the PADV2 operator it "
                                   "uses (run this model with another framework, e.g. "
                                   "program:request-tflite-classification)")


def test_a_version_debian_does_not_have_is_refused(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ckrequest.install", "debian-lib", "--packages", "python3-pyarmnn",
                           "--version", "19.11", "--skip", "python3 python3-numpy", "--out", str(tmp_path / "lib")],
                          capture_output=True, text=True)
    line = single_error_line(proc)
    assert line.startswith("ckrequest: error: Debian package python3-pyarmnn: has version 20.08")
    assert "--env.CK_REQUEST_LIB_VERSION=20.08" in line
    assert not (tmp_path / "lib").exists()
