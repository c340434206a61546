"""Replay on another machine: a result recorded in one CK world, replayed in another, stdin closed.

World A records into a results repository of its own (as a contributor would); world B imports
that repository (as a `git clone` would) and has none of A's env entries: other UIDs, nothing
installed.
"""

from __future__ import annotations

import json

import pytest

from ckrequest.reproduce.portable import is_portable, portable_pipeline, replay_update
from ckrequest.reproduce.verdict_stats import NOT_REPRODUCED

from conftest import make_world

ENTRY = "replay-small"


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    a = make_world(tmp_path_factory.mktemp("machine-a"))
    a.ck("add", "repo:results", f"--path={results}", "--quiet")
    a.ck("benchmark", "program:request-onnxruntime-classification", "--quiet",
         "--dep_add_tags.model=mobilenet-v1,multiplier-0.25,resolution-128,synthetic",
         "--env.CK_REQUEST_MIN_DURATION_S=0.2", "--repetitions=3", "--record", "--record_repo=results",
         f"--record_uoa={ENTRY}")
    b = make_world(tmp_path_factory.mktemp("machine-b"))
    b.ck("import", "repo", f"--path={results}", "--quiet")
    return a, b, results


def env_uids(world) -> set[str]:
    return {p.name for p in (world.repos / "local" / "env").iterdir() if p.is_dir() and not p.name.startswith(".")}


def test_recorded_pipeline_binds_the_recording_machine(worlds):
    a, _, results = worlds
    pipeline = json.loads((results / "experiment" / ENTRY / "pipeline.json").read_text())
    assert not is_portable(pipeline)
    assert pipeline["dependencies"]["lib"]["for_run_time"] == "yes"
    portable = portable_pipeline(pipeline)
    assert is_portable(portable) and portable["quiet"] == "yes"
    assert "multiplier-0.25" in portable["dep_add_tags.model"] and "sample-photos" in portable["dep_add_tags.dataset"]
    assert portable["dependencies"]["lib"]["ver"] == pipeline["dependencies"]["lib"]["ver"]
    assert str(a.root) not in json.dumps(portable)
    assert replay_update(pipeline)["dependencies"]["lib"] == {"for_run_time": ""}


def test_fixed_entry_replays_with_plain_ck_replay_on_the_other_machine(worlds):
    a, b, _ = worlds
    check = a.ck("check", "request.asplos18", f"--experiment={ENTRY}", check=False)
    assert check.returncode != 0
    assert "a replay elsewhere would stop to ask on stdin" in check.stdout
    assert "machine-specific path(s) leaked" in check.stdout
    a.ck("check", "request.asplos18", f"--experiment={ENTRY}", "--fix")
    replay = b.ck("replay", f"experiment:{ENTRY}", "--quiet", "--record_uoa=replayed-on-b")
    assert "latency    batch 1:" in replay.stdout
    # CK compares the keys the scenario module lists, then our summary: metric, original, replayed, ratio
    assert "latency p90 [s] (mean over repetitions):" in replay.stdout
    assert "##characteristics#run#latency_min_s" not in replay.stdout
    summary = replay.stdout[replay.stdout.index("ck-request: replay of experiment:"):].splitlines()
    assert summary[1].split()[:1] == ["metric"] and summary[1].rstrip().endswith("ratio")
    assert any(line.startswith("latency p50") for line in summary)


def test_validate_names_the_dependencies_resolved_differently(worlds):
    a, b, results = worlds
    assert not env_uids(a) & env_uids(b)
    proc = b.ck("validate", "request.asplos18", f"--experiment=results:{ENTRY}", "--reproduced=local:replayed-on-b")
    for dep in ("python", "lib", "model", "dataset"):
        assert f"resolved differently: {dep}: original env" in proc.stdout
    verdict = next(line for line in proc.stdout.splitlines() if line.startswith("verdict  ")).split(None, 1)[1]
    assert verdict != NOT_REPRODUCED
    reproduction = b.repos / "local" / "experiment" / "replayed-on-b" / ".cm" / "meta.json"
    record = json.loads(reproduction.read_text())["meta"]["validations"][-1]
    assert len(record["dependencies_resolved_differently"]) == 4 and record["original"] == f"results:{ENTRY}"
    assert "validations" not in json.loads((results / "experiment" / ENTRY / ".cm" / "meta.json").read_text())["meta"]
