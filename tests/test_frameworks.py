"""Every framework behind the same harness: conformance of predictions and the real `ck` programs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from builders import run_conformance, run_harness_without_ck, save_mobilenet_128_inputs, single_error_line

# framework -> (model format, library env tags)
FRAMEWORKS = {"onnxruntime": ("onnx", "lib,onnxruntime"), "tensorflow": ("tf", "lib,tensorflow"),
              "tflite": ("tflite", "lib,litert"), "openvino": ("openvino", "lib,openvino"),
              "mxnet": ("mxnet", "lib,mxnet"), "tvm": ("onnx", "lib,tvm"), "armnn": ("tflite", "lib,armnn")}
MOBILENET = "mobilenet-v1,synthetic,multiplier-0.25,resolution-128"


def predict_in_framework(world, framework: str, info: Path, inputs: Path) -> dict:
    tags = FRAMEWORKS[framework][1]
    env = world.environment_of(tags) if world.env_entries(tags) else dict(world.env)  # ONNX Runtime: ours
    return run_conformance(framework, info, inputs, env, python=env.get("CK_ENV_LIB_MXNET_PYTHON", sys.executable))[0]


@pytest.fixture(scope="module")
def mobilenets(zoo_world):
    for package, tags in (("lib-tvm", "lib,tvm"), ("lib-armnn", "lib,armnn")):
        if not zoo_world.env_entries(tags):
            zoo_world.install(package)
    for fmt, _ in FRAMEWORKS.values():
        zoo_world.ck("install", "package", f"--tags=model,{fmt},{MOBILENET},fp32", "--quiet", timeout=1800)
    return zoo_world


def test_every_backend_predicts_what_onnx_runtime_predicts(mobilenets, tmp_path):
    save_mobilenet_128_inputs(tmp_path / "inputs.npy", 8)
    results = {}
    for framework, (fmt, _) in FRAMEWORKS.items():
        info = mobilenets.model_info(f"model,{fmt},{MOBILENET},fp32")
        results[framework] = predict_in_framework(mobilenets, framework, info, tmp_path / "inputs.npy")
    reference = results["onnxruntime"]["top1"]
    assert len(reference) == 16 and len(set(reference)) >= 3
    for framework, result in results.items():
        print(framework, result["library"], result["device"], result["top1"])
        assert result["top1"] == reference, framework
        diff = np.abs(np.array(result["logits"]) - np.array(results["onnxruntime"]["logits"])).max()
        assert diff < 1e-2, (framework, diff)


@pytest.mark.parametrize("framework", list(FRAMEWORKS))
def test_ck_benchmark_records_library_and_backend(mobilenets, framework):
    name = f"fw-{framework}"
    mobilenets.ck("benchmark", f"program:request-{framework}-classification", "--quiet",
                  f"--dep_add_tags.model={MOBILENET},fp32", "--env.CK_REQUEST_MIN_DURATION_S=0.1",
                  "--env.CK_REQUEST_MIN_QUERIES=20", "--repetitions=1", "--record", f"--record_uoa={name}")
    (flat_path,) = (mobilenets.repos / "local" / "experiment" / name).glob("ckp-*.flat.json")
    flat = json.loads(flat_path.read_text())
    library = flat["##features#meta#library_name#min"]
    expected = {"tflite": "ai-edge-litert", "tvm": "apache-tvm"}.get(framework, framework)
    assert library.startswith(expected + " ") and any(c.isdigit() for c in library), library
    assert flat["##features#meta#library_device#min"]
    assert flat["##features#meta#model_format#min"] == FRAMEWORKS[framework][0]
    assert flat["##characteristics#run#inference_latency#min"] > 0


def test_missing_framework_is_one_clear_line(mobilenets, tmp_path):
    proc = run_harness_without_ck("tensorflow", mobilenets.model_info(f"model,tf,{MOBILENET},fp32"), tmp_path)
    line = single_error_line(proc)
    assert line.startswith("ckrequest: error: tensorflow: cannot be imported")
    assert "ck install package:lib-tensorflow --quiet" in line
