"""`pip install -e .` without the run extra: a package install or a run stops with one line naming the extra.

The extra's modules are made unimportable for real: a folder on PYTHONPATH whose `onnx.py` (or `PIL.py`)
raises the error Python raises for a module that is not installed."""

from __future__ import annotations

import os

from ckrequest.errors import ERROR_PREFIX

SMALL_MODEL = "--tags=model,onnx,mobilenet-v1,multiplier-0.25,resolution-128,synthetic"


def without(world, tmp_path, module: str) -> dict:
    shim = tmp_path / f"without-{module}"
    shim.mkdir()
    (shim / f"{module}.py").write_text(f"raise ModuleNotFoundError(\"No module named '{module}'\", name='{module}')\n")
    return dict(world.env, PYTHONPATH=os.pathsep.join([str(shim), *filter(None, [world.env.get("PYTHONPATH")])]))


def ck_with_env(world, env: dict, *args: str):
    saved, world.env = world.env, env
    try:
        return world.ck(*args, check=False)
    finally:
        world.env = saved


def the_error_line(proc) -> str:
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in output, output[-3000:]
    [line] = [x for x in output.splitlines() if x.startswith(ERROR_PREFIX)]
    return line


def test_a_package_install_without_the_run_extra_is_one_line(fresh_ck_world, tmp_path):
    world = fresh_ck_world
    proc = ck_with_env(world, without(world, tmp_path, "onnx"), "install", "package", SMALL_MODEL, "--quiet")
    line = the_error_line(proc)
    assert "Python module onnx" in line and "pip install 'ckrequest[run]'" in line
    assert world.env_entries("model") == []


def test_a_run_without_the_run_extra_is_one_line(fresh_ck_world, tmp_path):
    world = fresh_ck_world
    world.ck("install", "package", SMALL_MODEL, "--quiet")
    world.ck("install", "package:dataset-sample-photos", "--quiet")
    proc = ck_with_env(world, without(world, tmp_path, "PIL"), "benchmark",
                       "program:request-onnxruntime-classification", "--dep_add_tags.model=mobilenet-v1,synthetic",
                       "--record", "--record_uoa=no-pil", "--quiet")
    line = the_error_line(proc)
    assert "Python module PIL" in line and "pip install 'ckrequest[run]'" in line
    assert not (world.repos / "local" / "experiment" / "no-pil").exists()


def test_the_extra_named_is_the_one_that_brings_the_module():
    from ckrequest.errors import missing_extra

    line = missing_extra(ModuleNotFoundError("No module named 'skimage.data'", name="skimage.data")).line()
    assert line.startswith("Python module skimage: cannot be imported by ") and line.endswith("'ckrequest[run]')")
    assert "'ckrequest[farm]'" in missing_extra(ModuleNotFoundError("No module named 'ray'", name="ray")).line()
    assert missing_extra(ModuleNotFoundError("No module named 'tensorflow'", name="tensorflow")) is None  # a CK package
