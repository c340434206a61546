"""What a replay of a recorded entry would run, checked against what each value may be (no CK needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ckrequest.errors import RequestError
from ckrequest.reproduce.recorded_choices import check_entry, check_pipeline

PIPELINE = {
    "choices": {"data_uoa": "request-onnxruntime-classification", "cmd_key": "default", "cpu_freq": "max",
                "env": {"CK_REQUEST_BATCH_SIZE": "2", "CK_REQUEST_THREADS": 0, "CK_CPU_FREQUENCY": "max",
                        "CK_REQUEST_MLPERF_CONF": ""}},
    "dep_add_tags.model": "mobilenet-v1,multiplier-0.25,resolution-128,synthetic",
    "dependencies": {"lib": {"tags": "lib,onnxruntime", "uoa": "7b7d2b3bd2c6063e", "ver": "1.32.0",
                             "bat": ". /home/u/CK/local/env/7b7d2b3bd2c6063e/env.sh\n"}},
    "state": {}, "repetitions": 3, "quiet": "yes", "sleep": "0",
}


def test_a_pipeline_as_ck_benchmark_records_it_passes():
    check_pipeline(PIPELINE, "experiment:x pipeline.json")


@pytest.mark.parametrize("change, words", [
    ({"extra_run_cmd": "&& touch F"}, "extra_run_cmd: is not a key CK records"),
    ({"extra_env": "touch F"}, "extra_env: is not a key CK records"),
    ({"choices": {**PIPELINE["choices"], "run_cmd_substitutes": {"x": "y"}}},
     "choices.run_cmd_substitutes: is not a key CK records"),
    ({"choices": {**PIPELINE["choices"], "env": {"LD_PRELOAD": "/tmp/x.so"}}},
     "run variable LD_PRELOAD: is not a run variable of the programs"),
    ({"choices": {**PIPELINE["choices"], "env": {"CK_REQUEST_WARMUP": "`id`"}}}, "is not a whole number"),
    ({"choices": {**PIPELINE["choices"], "data_uoa": "x;id"}}, "data_uoa = \"x;id\": is not a CK program name"),
    ({"choices": {**PIPELINE["choices"], "cpu_freq": "$(id)"}}, "cpu_freq = \"$(id)\": is not a plain value"),
    ({"dep_add_tags.model": "mobilenet-v1,$(id)"}, "dep_add_tags.model = \"mobilenet-v1,$(id)\": is not a list"),
    ({"dependencies": {"lib": {"tags": "lib", "bat": "touch F\n"}}}, "dependencies.lib.bat = \"touch F\\n\": is not"),
])
def test_anything_else_is_refused_in_one_line_naming_the_key(change, words):
    with pytest.raises(RequestError) as caught:
        check_pipeline({**PIPELINE, **change}, "experiment:x pipeline.json")
    assert words in str(caught.value) and "\n" not in str(caught.value)
    assert str(caught.value).startswith("experiment:x pipeline.json: ")


def test_a_point_put_over_the_pipeline_is_checked_too(tmp_path: Path):
    (tmp_path / "pipeline.json").write_text(json.dumps(PIPELINE))
    features = tmp_path / "ckp-0123456789abcdef.features.json"
    features.write_text(json.dumps({"choices": PIPELINE["choices"], "features": {}, "extra_run_cmd": "; id"}))
    with pytest.raises(RequestError, match=r"ckp-0123456789abcdef.features.json: extra_run_cmd: is not a key"):
        check_entry(tmp_path, "x")
    features.write_text(json.dumps({"choices": PIPELINE["choices"], "features": {}}))
    (tmp_path / "ckp-0123456789abcdef.deps.json").write_text(json.dumps({"lib": {"bat": "id\n"}}))
    with pytest.raises(RequestError, match=r"deps.json: lib.bat = \"id\\n\": is not CK's line"):
        check_entry(tmp_path, "x", "0123456789abcdef")
