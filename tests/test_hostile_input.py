"""Spaces and recorded entries are input from strangers: checked before anything runs, through the real `ck`.

CK writes each run variable into its run script as ``export K=V``, quoting only values with spaces,
so a value such as ``1$(touch F)`` would run in the shell; each test names the file such a value
would create and asserts it never appears.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

MODEL = ["mobilenet-v1", "multiplier-0.25", "resolution-128", "synthetic"]
SMALL = {"CK_REQUEST_MIN_DURATION_S": [0.1], "CK_REQUEST_MIN_QUERIES": [10], "CK_REQUEST_WARMUP": [1]}
SPACE = {"programs": ["request-onnxruntime-classification"], "models": [MODEL],
         "objectives": ["latency_p50_s:min", "inference_throughput:max"]}


def explore(world, name: str, space: dict) -> tuple[int, list[str]]:
    """`ck explore` of ``space`` into experiment ``name``: the exit status and the lines that say error."""
    (world.root / f"{name}.json").write_text(json.dumps(space))
    proc = world.ck("explore", "request.asplos18", f"--space={name}.json", f"--record_uoa={name}", "--trials=1",
                    "--quiet", check=False)
    return proc.returncode, [line for line in (proc.stdout + proc.stderr).splitlines() if "error" in line.lower()]


def entry_exists(world, name: str) -> bool:
    return world.ck("load", f"experiment:{name}", check=False).returncode == 0


@pytest.mark.parametrize("value", ["1$(touch {marker})", "`touch {marker}`"])
def test_a_hostile_space_runs_nothing_and_is_refused_in_one_line(ck_world, tmp_path, value):
    marker = tmp_path / "F"
    name = f"hostile-{'dollar' if '$' in value else 'backtick'}"
    status, errors = explore(ck_world, name, {**SPACE, "env": {"CK_REQUEST_BATCH_SIZE": [value.format(marker=marker)],
                                                                **SMALL}})
    assert not marker.exists()
    assert status != 0 and len(errors) == 1
    assert "env.CK_REQUEST_BATCH_SIZE[0]" in errors[0] and "is not a whole number" in errors[0]
    assert not entry_exists(ck_world, name)


@pytest.mark.parametrize("env, words", [
    ({"CK_REQUEST_BATCH_SIZ": [2]}, "env.CK_REQUEST_BATCH_SIZ: is not a run variable of the programs nor a "
                                    "documented backend option (did you mean CK_REQUEST_BATCH_SIZE?)"),
    ({"PATH": ["/tmp"]}, "env.PATH: is not a run variable"),
    ({"LD_PRELOAD": ["/tmp/x.so"]}, "env.LD_PRELOAD: is not a run variable"),
    ({"CK_REQUEST_BATCH_SIZE": ["abc"]}, 'env.CK_REQUEST_BATCH_SIZE[0] = "abc": is not a whole number'),
])
def test_a_variable_the_programs_do_not_declare_or_a_value_they_cannot_parse_is_refused(ck_world, env, words):
    name = "undeclared-" + next(iter(env)).lower().replace("_", "-")
    status, errors = explore(ck_world, name, {**SPACE, "env": {**env, **SMALL}})
    assert status != 0 and len(errors) == 1 and words in errors[0]
    assert not entry_exists(ck_world, name)


@pytest.mark.parametrize("name, change, words", [
    ("unknown-program", {"programs": ["request-onnxruntime-classification", "request-nosuch-classification"]},
     "field programs: 'request-nosuch-classification' is not a program"),
    ("unknown-model", {"models": [MODEL, ["nosuchnet", "synthetic"]]},
     "field models: request-onnxruntime-classification finds no model tagged nosuchnet,synthetic"),
    ("unknown-library", {"programs": ["request-tflite-classification"], "libraries": [[], ["v9.9.9"]]},
     "field libraries: request-tflite-classification finds no lib tagged v9.9.9"),
])
def test_what_ck_cannot_resolve_is_refused_before_any_trial(ck_world, name, change, words):
    status, errors = explore(ck_world, name, {**SPACE, **change, "env": SMALL})
    assert status != 0 and len(errors) == 1 and words in errors[0]
    assert not entry_exists(ck_world, name)


def test_a_hand_typed_benchmark_with_a_hostile_value_stops_before_the_run_script_runs(ck_world, tmp_path):
    marker = tmp_path / "F"
    proc = ck_world.ck("benchmark", "program:request-onnxruntime-classification", "--quiet",
                       f"--dep_add_tags.model={','.join(MODEL)}", f"--env.CK_REQUEST_BATCH_SIZE=1$(touch {marker})",
                       "--record", "--record_uoa=typed-hostile", check=False)
    assert not marker.exists()
    errors = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("ckrequest: error:")]
    assert proc.returncode != 0 and len(errors) == 1
    assert f"run variable CK_REQUEST_BATCH_SIZE='1$(touch {marker})': is not a whole number" in errors[0]
    assert not entry_exists(ck_world, "typed-hostile")


def tamper_env(entry: Path, marker: Path) -> str:
    """The run variables of the pipeline and of the point carry a command (CK runs the point's over the pipeline's)."""
    for path in (entry / "pipeline.json", *entry.glob("ckp-*.features.json")):
        data = json.loads(path.read_text())
        data["choices"]["env"]["CK_REQUEST_BATCH_SIZE"] = f"1$(touch {marker})"
        path.write_text(json.dumps(data))
    return "pipeline.json: choices.env: run variable CK_REQUEST_BATCH_SIZE='1$(touch"


def tamper_command(entry: Path, marker: Path) -> str:
    """A key CK's pipeline appends to the program's command line."""
    data = json.loads((entry / "pipeline.json").read_text())
    data["extra_run_cmd"] = f"&& touch {marker}"
    (entry / "pipeline.json").write_text(json.dumps(data))
    return "pipeline.json: extra_run_cmd: is not a key CK records for a program of ck-request"


TAMPERINGS = {"tampered-env": tamper_env, "tampered-command": tamper_command}


@pytest.fixture(scope="module")
def tampered(ck_world) -> dict[str, tuple[Path, str]]:
    """Points recorded here, then edited as a stranger would: entry -> (the file its command creates, the words
    of the refusal)."""
    out = {}
    for name, tamper in TAMPERINGS.items():
        ck_world.ck("benchmark", "program:request-onnxruntime-classification", "--quiet",
                    f"--dep_add_tags.model={','.join(MODEL)}", "--env.CK_REQUEST_MIN_DURATION_S=0.1",
                    "--env.CK_REQUEST_MIN_QUERIES=10", "--record", f"--record_uoa={name}")
        entry = Path(json.loads(ck_world.ck("load", f"experiment:{name}", "--out=json").stdout)["path"])
        marker = ck_world.root / f"{name}-F"
        out[name] = (marker, tamper(entry, marker))
    return out


@pytest.mark.parametrize("name", TAMPERINGS)
def test_a_replay_of_a_tampered_entry_runs_nothing_and_is_refused_in_one_line(ck_world, tampered, name):
    marker, words = tampered[name]
    proc = ck_world.ck("replay", f"experiment:{name}", "--quiet", f"--record_uoa={name}-replayed", check=False)
    assert not marker.exists()
    errors = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("ckrequest: error:")]
    assert proc.returncode != 0 and len(errors) == 1
    assert f"experiment:local:{name} {words}" in errors[0]
    assert not entry_exists(ck_world, f"{name}-replayed")


@pytest.mark.parametrize("name", TAMPERINGS)
def test_validating_a_tampered_entry_runs_nothing_and_is_refused_in_one_line(ck_world, tampered, name):
    marker, words = tampered[name]
    proc = ck_world.ck("validate", "request.asplos18", f"--experiment={name}", check=False)
    assert not marker.exists()
    errors = [line for line in (proc.stdout + proc.stderr).splitlines() if "error" in line.lower()]
    assert proc.returncode != 0 and len(errors) == 1
    assert f"experiment:local:{name} {words}" in errors[0]
    assert not [p for p in (ck_world.repos / "local" / "experiment").glob(f"{name}-reproduced-*")]
