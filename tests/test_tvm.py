"""Apache TVM (Relax) through the real `ck`: lib-tvm, the compiled-library cache, fp16, MetaSchedule tuning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from builders import run_conformance, run_harness_without_ck, save_mobilenet_128_inputs, single_error_line
from conftest import REPO_ROOT

MOBILENET = "mobilenet-v1,synthetic,multiplier-0.25,resolution-128"


@pytest.fixture(scope="module")
def tvm_world(ck_world):
    if not ck_world.env_entries("lib,tvm"):
        ck_world.install("lib-tvm")
    for precision in ("fp32", "fp16"):
        ck_world.ck("install", "package", f"--tags=model,onnx,{MOBILENET},{precision}", "--quiet", timeout=1800)
    return ck_world


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    return save_mobilenet_128_inputs(tmp_path_factory.mktemp("tvm-inputs") / "inputs.npy", 8)


def onnx_runtime_logits(info: Path, images: Path) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(info.parent / "model.onnx"), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": np.load(images)})[0]


def run_tvm(world, info: Path, images: Path, cache: Path, batch: int = 4, env: dict | None = None) -> dict:
    environment = {**world.environment_of("lib,tvm"), "CK_REQUEST_TVM_CACHE": str(cache), **(env or {})}
    return run_conformance("tvm", info, images, environment, batch)[0]


def test_tvm_predicts_what_onnx_runtime_predicts_and_reuses_its_compiled_library(tvm_world, images, tmp_path):
    info = tvm_world.model_info(f"model,onnx,{MOBILENET},fp32")
    reference = onnx_runtime_logits(info, images)
    first = run_tvm(tvm_world, info, images, tmp_path / "cache")
    assert first["top1"] == reference.argmax(1).tolist()
    assert np.abs(np.array(first["logits"]) - reference).max() < 1e-3
    details = first["describe"]["details"]
    assert first["describe"]["library"] == "apache-tvm" and first["describe"]["version"].startswith("0.27")
    assert '"mcpu":' in details["backend_target"] and details["tvm_tuned"] is False
    assert details["tensor_dtypes"] == ["float32"]
    assert details["tvm_from_cache"] is False and details["compile_seconds"] > 0

    (folder,) = (tmp_path / "cache").iterdir()
    assert folder.name.endswith("-b4") and (folder / "model.so").is_file()
    assert json.loads((folder / "build.json").read_text())["input_shape"] == [4, 3, 128, 128]

    second = run_tvm(tvm_world, info, images, tmp_path / "cache")
    assert second["describe"]["details"]["tvm_from_cache"] is True
    assert second["describe"]["details"]["compile_seconds"] == 0
    assert second["logits"] == first["logits"]
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [folder.name]


def test_fp16_model_computes_in_fp16(tvm_world, images, tmp_path):
    fp16 = tvm_world.model_info(f"model,onnx,{MOBILENET},fp16")
    reference = onnx_runtime_logits(tvm_world.model_info(f"model,onnx,{MOBILENET},fp32"), images)
    result = run_tvm(tvm_world, fp16, images, tmp_path / "cache")
    logits = np.array(result["logits"])
    agreement = float((logits.argmax(1) == reference.argmax(1)).mean())
    difference = float(np.abs(logits - reference).max())
    print(f"TVM fp16 vs ONNX Runtime fp32: top-1 agreement {agreement:.3f}, max logit difference {difference:.4f}")
    assert result["describe"]["details"]["precision"] == "fp16"
    assert result["describe"]["details"]["tensor_dtypes"] == ["float16", "float32"]  # fp32 at the edges only
    assert agreement >= 0.75 and difference > 1e-4


def test_tuning_package_writes_a_database_the_backend_applies(tvm_world, images, tmp_path):
    # a small budget keeps the suite short; the default (24) measures every task once
    tvm_world.ck("install", "package:tvm-tuning-metaschedule", f"--dep_add_tags.model={MOBILENET},fp32",
                 "--env.CK_REQUEST_TVM_TRIALS=8", "--quiet", timeout=1800)
    (entry,) = tvm_world.env_entries("tvm-tuning,mobilenet-v1,multiplier-0.25,trials-8,batch-1")
    tuning_env = tvm_world.environment_of("tvm-tuning,mobilenet-v1,multiplier-0.25,trials-8")
    database = Path(tuning_env["CK_ENV_TVM_TUNING_DB"])
    about = json.loads((database / "tuning.json").read_text())
    assert about["trials"] == 8 and about["records"] >= 7 and about["tasks"] >= 20
    assert about["batch"] == 1 and '"mcpu":' in about["target"]

    info = tvm_world.model_info(f"model,onnx,{MOBILENET},fp32")
    reference = onnx_runtime_logits(info, images).argmax(1).tolist()
    tuned = run_tvm(tvm_world, info, images, tmp_path / "cache", batch=1,
                    env={"CK_ENV_TVM_TUNING_DB": str(database)})
    untuned = run_tvm(tvm_world, info, images, tmp_path / "cache", batch=1)
    assert tuned["top1"] == reference and untuned["top1"] == reference
    assert tuned["describe"]["details"]["tvm_tuned"] is True and "tuned" in tuned["describe"]["device"]
    assert tuned["describe"]["details"]["tvm_tuned_trials"] == 8
    assert untuned["describe"]["details"]["tvm_tuned"] is False
    folders = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(folders) == 2 and sum(name.endswith("-b1") for name in folders) == 1  # the tuned one: -b1-<db>


def test_a_database_for_another_model_is_not_applied(tvm_world, images, tmp_path):
    fp16 = tvm_world.model_info(f"model,onnx,{MOBILENET},fp16")
    database = Path(tvm_world.environment_of("tvm-tuning,mobilenet-v1,trials-8")["CK_ENV_TVM_TUNING_DB"])
    result = run_tvm(tvm_world, fp16, images, tmp_path / "cache", batch=1, env={"CK_ENV_TVM_TUNING_DB": str(database)})
    assert result["describe"]["details"]["tvm_tuned"] is False
    assert "tuned for another model" in result["describe"]["details"]["tvm_untuned_because"]


def test_missing_tvm_is_one_clear_line(tvm_world, tmp_path):
    proc = run_harness_without_ck("tvm", tvm_world.model_info(f"model,onnx,{MOBILENET},fp32"), tmp_path)
    line = single_error_line(proc)
    assert line.startswith("ckrequest: error: tvm: cannot be imported")
    assert "ck install package:lib-tvm --quiet" in line


def test_tuning_budget_that_is_not_a_number_is_refused(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ckrequest.install", "tvm-tuning", "--model-info", "x.json",
                           "--trials", "lots", "--out", str(tmp_path / "db")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("ckrequest: error: CK_REQUEST_TVM_TRIALS='lots': is not an integer "
                                   "(pass e.g. --env.CK_REQUEST_TVM_TRIALS=64)")
    assert not (tmp_path / "db").exists()


def test_the_tuning_variables_are_spelt_once(tmp_path):
    from ckrequest.backends.tvm import TUNING_DB_VAR
    from ckrequest.backends.tvm_tuning import PLAN_FIELDS, TuningPlan

    soft = json.loads((REPO_ROOT / "soft" / "tvm.tuning" / ".cm" / "meta.json").read_text())
    assert soft["customize"]["env_prefix"] + "_DB" == TUNING_DB_VAR  # what the detector's env entry sets
    assert TuningPlan.from_env({}) == TuningPlan() == TuningPlan.from_env(TuningPlan().as_env())
    assert TuningPlan.from_env({TuningPlan.env_name("trials"): "8", TuningPlan.env_name("search"): "replay-trace"}
                               ) == TuningPlan(trials=8, search="replay-trace")
    script = (REPO_ROOT / "script" / "request-install" / "install-tvm-tuning.sh").read_text()
    package = (REPO_ROOT / "package" / "tvm-tuning-metaschedule" / ".cm" / "meta.json").read_text()
    assert not any(f"${{{TuningPlan.env_name(name)}}}" in script or TuningPlan.env_name(name) in package
                   for name in PLAN_FIELDS)  # defaults and names live in TuningPlan alone
    proc = subprocess.run([sys.executable, "-m", "ckrequest.install", "tvm-tuning", "--model-info", "x.json",
                           "--out", str(tmp_path / "db")], capture_output=True, text=True,
                          env={**os.environ, TuningPlan.env_name("batch"): "0"})
    assert proc.returncode == 2 and "batch must be >= 1" in proc.stderr  # the install variable is read
    assert not (tmp_path / "db").exists()
