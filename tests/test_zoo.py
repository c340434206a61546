"""The model zoo: generated CK entries, installs through `ck`, conversions checked against ONNX."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from ckrequest.ck.packages import all_entries
from ckrequest.ck.writer import entry_files
from ckrequest.errors import RequestError
from ckrequest.models.architectures import ARCHITECTURES
from ckrequest.zoo.build import FORMATS, compare, fp32_agrees, model_format

from builders import single_error_line
from conftest import REPO_ROOT


def test_committed_zoo_entries_are_the_generated_ones():
    for module, alias, uid, meta, name in all_entries():
        for relative, text in entry_files(module, alias, uid, meta, name).items():
            fix = "regenerate: python -m ckrequest.ck.packages --write"
            assert (REPO_ROOT / relative).read_text() == text, f"{relative} differs ({fix})"


def test_ck_search_lists_every_architecture_in_every_format(ck_world):
    found = json.loads(ck_world.ck("search", "package", "--tags=model", "--out=json", "--add_meta").stdout)["lst"]
    tags = [set(entry["meta"]["tags"]) for entry in found]
    for arch in ARCHITECTURES:
        for fmt in FORMATS:
            for weights in ("imagenet", "synthetic"):
                assert {arch, fmt, weights} in [t & {arch, fmt, weights} for t in tags], (arch, fmt, weights)
    assert len(found) == len(ARCHITECTURES) * len(FORMATS) * 2


def _info(world, tags: str) -> dict:
    assert len(world.env_entries(tags)) == 1, tags
    return json.loads(world.model_info(tags).read_text())


def test_mobilenet_in_every_format_through_ck(zoo_world):
    variant = "mobilenet-v1,synthetic,multiplier-0.25,resolution-128"
    for fmt in FORMATS:
        zoo_world.ck("install", "package", f"--tags=model,{fmt},{variant}", "--quiet", timeout=1800)
        info = _info(zoo_world, f"model,{fmt},{variant},fp32")
        assert info["format"] == fmt and info["weights"] == "synthetic" and info["precision"] == "fp32"
        assert info["preprocessing"]["layout"] == ("NHWC" if fmt in ("tf", "tflite") else "NCHW")
        assert info["converted_from"]["sha256"] and info["macs"] > 0
        agreement = info["quantization"]["agreement_with_fp32_canonical"]
        assert fp32_agrees(agreement) and agreement["max_abs_softmax_diff"] <= 1e-4, (fmt, agreement)
        assert agreement["top1_agreement"] == 1.0 and agreement["near_ties"] == 0, (fmt, agreement)
        if fmt == "tf":  # the variables are saved, not the Keras model (whose layer configs hold the constants)
            saved_model = zoo_world.model_info(f"model,tf,{variant},fp32").parent / info["file"] / "saved_model.pb"
            assert b"_tf_keras" not in saved_model.read_bytes()
    zoo_world.ck("install", "package", f"--tags=model,tflite,{variant},int8", "--quiet", timeout=1800)
    int8 = _info(zoo_world, f"model,tflite,{variant},int8")
    assert int8["quantization"]["calibration"]["images"] == 36
    assert 0.0 <= int8["quantization"]["agreement_with_fp32_canonical"]["top1_agreement"] <= 1.0


def test_formats_agree_on_synthetic_architectures(zoo_world):
    env = {**zoo_world.environment_of("lib,tensorflow")}
    for tags in ("lib,litert", "lib,openvino"):
        extra = zoo_world.environment_of(tags)["PYTHONPATH"].split(":")[0]
        env["PYTHONPATH"] = f"{extra}:{env['PYTHONPATH']}"
    # one architecture here (MobileNet-v1's formats are checked at install above); all nine: see the README
    proc = subprocess.run([sys.executable, "-m", "ckrequest.zoo.agreement", "squeezenet-1.1", "--images", "32"],
                          env=env, capture_output=True, text=True, timeout=1800)
    table = [line for line in proc.stdout.splitlines() if line.startswith("squeezenet")]
    print("\n".join(table))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    fp32 = [line for line in table if " fp32 " in line]
    assert len(fp32) == 4 and all(line.endswith("pass") for line in fp32)
    assert sum(" int8 " in line for line in table) == 3


def test_a_swap_of_a_near_tie_is_allowed_and_a_swap_of_a_decided_top1_is_not():
    reference = np.zeros((2, 1000), np.float32)
    reference[0, [3, 7]] = 8.0, 8.0 + 6e-6  # top two 6e-6 apart, as one synthetic VGG16 image has
    reference[1, [3, 7]] = 8.0, 7.0
    swapped_tie = reference.copy()
    swapped_tie[0, 3] += 2e-5
    found = compare(reference, swapped_tie)
    assert (found["top1_agreement"], found["near_ties"], found["top1_agreement_decided"]) == (0.5, 1, 1.0)
    assert found["max_abs_softmax_diff"] < 1e-5 and fp32_agrees(found)
    swapped_decided = reference.copy()
    swapped_decided[1, [3, 7]] = 7.0, 8.0
    assert not fp32_agrees(compare(reference, swapped_decided))


def test_an_error_in_a_build_worker_arrives_whole():
    """The agreement tool builds each format in a worker process; its one-line errors must survive the trip."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as worker:
        with pytest.raises(RequestError) as raised:
            worker.submit(model_format, "tf", "int8").result()
    assert (raised.value.what, raised.value.fix) == ("int8 tf model", "pick one of those precisions")
    assert raised.value.line() == "int8 tf model: is not made: tf has fp32 (pick one of those precisions)"


def test_agreement_of_an_unknown_architecture_is_one_line():
    proc = subprocess.run([sys.executable, "-m", "ckrequest.zoo.agreement", "lenet"], capture_output=True, text=True)
    line = single_error_line(proc)
    assert line.startswith("ckrequest: error: ") and "lenet" in line


@pytest.mark.parametrize("tags", ["model,tf,mobilenet-v1,synthetic,int8", "model,onnx,lenet,synthetic",
                                  "model,mxnet,resnet-18,synthetic,fp16"])
def test_combinations_that_make_no_sense_are_refused(ck_world, tags):
    proc = ck_world.ck("install", "package", f"--tags={tags}", "--quiet", check=False)
    assert proc.returncode != 0 and "was not found" in proc.stdout + proc.stderr
    assert ck_world.env_entries(tags) == []


def test_model_build_refuses_a_precision_its_format_lacks(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ckrequest.install", "model", "--format", "tf", "--precision", "int8",
                           "--arch", "mobilenet-v1", "--weights", "synthetic", "--out", str(tmp_path / "m")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "int8 tf model: is not made: tf has fp32" in proc.stderr
    assert not (tmp_path / "m" / "model-info.json").exists()


def test_committed_programs_are_the_generated_ones():
    from ckrequest.ck.programs import FRAMEWORKS, TEMPLATE, program_files

    for fw in (*FRAMEWORKS, TEMPLATE):
        for relative, text in program_files(fw).items():
            fix = "python -m ckrequest.ck.programs --write"
            assert (REPO_ROOT / relative).read_text() == text, f"{relative} differs ({fix})"
