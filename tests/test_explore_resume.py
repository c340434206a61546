"""`ck explore --resume` continues exactly, and trials do not leak into each other: through the real `ck` CLI."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ckrequest.explore.log import read_log

SMALL = {"CK_REQUEST_MIN_DURATION_S": [0.2], "CK_REQUEST_MIN_QUERIES": [10], "CK_REQUEST_WARMUP": [1]}
MODEL = ["mobilenet-v1", "multiplier-0.25", "resolution-128"]
FOUR = {"programs": ["request-onnxruntime-classification"], "models": [[*MODEL, "synthetic"]],
        "env": {"CK_REQUEST_BATCH_SIZE": [1, 2, 3, 4], **SMALL},
        "objectives": ["latency_p50_s:min", "inference_throughput:max"]}


def explore(name: str, space: str = "four.json", *flags: str) -> tuple[str, ...]:
    return ("explore", "request.asplos18", f"--space={space}", f"--record_uoa={name}", "--quiet", *flags)


def entry_of(world, name: str) -> Path:
    return Path(json.loads(world.ck("load", f"experiment:{name}", "--out=json").stdout)["path"])


def points(entry: Path) -> set[str]:
    return {p.name[len("ckp-"):-len(".flat.json")] for p in entry.glob("ckp-*.flat.json")}


def trial_points(entry: Path) -> list[str]:
    return [p.rsplit(":", 1)[-1] for t in read_log(entry)["trials"] for p in t["point"].split()]


def read_until(proc: subprocess.Popen, prefix: str) -> list[str]:
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith(prefix):
            return lines
    raise AssertionError(f"no line {prefix!r} in:\n{''.join(lines)}")


def progress(lines: list[str]) -> list[str]:
    return [line.split(":")[0] for line in lines if re.match(r"trial \d+/", line)]


def error_lines(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]


@pytest.fixture
def world(ck_world):
    (ck_world.root / "four.json").write_text(json.dumps(FOUR))
    return ck_world


def test_a_resume_or_a_second_search_while_one_runs_is_refused_naming_its_pid(world):
    first = world.ck_started(*explore("locked", "four.json", "--trials=4"))
    try:
        seen = read_until(first, "trial 1/4")
        for again in (world.ck(*explore("locked", "four.json", "--resume"), check=False),
                      world.ck(*explore("locked", "four.json"), check=False),
                      world.ck("explore", "request.asplos18", "--record_uoa=locked", "--resume", "--quiet",
                               check=False)):
            assert again.returncode != 0
            lines = error_lines(again)
            assert len(lines) == 1 and f"process {first.pid}" in lines[0] and "Traceback" not in lines[0], lines
        seen += first.stdout.readlines()
    finally:
        assert first.wait(timeout=600) == 0
    assert progress(seen) == [f"trial {k}/4" for k in (1, 2, 3, 4)]
    entry = entry_of(world, "locked")
    assert [t["number"] for t in read_log(entry)["trials"]] == [1, 2, 3, 4]
    assert sorted(trial_points(entry)) == sorted(points(entry)) and len(points(entry)) == 4
    assert not (entry / ".cm" / "explore-lock.json").exists()  # released at the end


def test_a_resume_with_another_space_or_other_objectives_is_refused_and_without_them_uses_the_recorded(world):
    world.ck(*explore("recorded", "four.json", "--trials=2"))
    other = {**FOUR, "env": {**FOUR["env"], "CK_REQUEST_THREADS": [1, 2]}}
    (world.root / "other.json").write_text(json.dumps(other))
    entry = entry_of(world, "recorded")
    before = (entry / "explore.json").read_bytes()
    for flags in (("--space=other.json",), ("--space=four.json", "--objectives=latency_p50_s:min,model_macs:min")):
        refused = world.ck("explore", "request.asplos18", "--record_uoa=recorded", "--resume", "--quiet", *flags,
                           check=False)
        assert refused.returncode != 0
        lines = error_lines(refused)
        assert len(lines) == 1 and "Traceback" not in lines[0] and "exploration recorded" in lines[0], lines
        assert "other.json" in lines[0] or "model_macs" in lines[0]
        assert (entry / "explore.json").read_bytes() == before and len(points(entry)) == 2
    resumed = world.ck("explore", "request.asplos18", "--record_uoa=recorded", "--resume", "--trials=3",
                       "--quiet").stdout
    assert "exploring four.json (4 stacks)" in resumed and "objectives latency_p50_s:min, inference_throughput:max" \
        in resumed
    assert progress(resumed.splitlines()) == ["trial 3/3"]
    log = read_log(entry)
    assert [t["number"] for t in log["trials"]] == [1, 2, 3] and len(points(entry)) == 3
    assert log["fingerprint"]["space"] and log["fingerprint"]["objectives"]


def killed_before_told(world, name: str) -> tuple[Path, set[str]]:
    """``ck explore`` SIGKILLed right after CK recorded trial 1's point (and our guard its sidecars): the entry and
    its points; retried (another entry) while the kill landed after the study stored the trial (a loaded machine)."""
    for attempt in range(4):
        entry = world.repos / "local" / "experiment" / f"{name}{attempt}"
        command = [sys.executable, "-m", "ck", *explore(entry.name, "four.json", "--trials=3")]
        proc = subprocess.Popen(command, env=world.env, cwd=world.root, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 300
        while not list(entry.glob("ckp-*.latencies-0001.json.gz")):  # CK recorded the point, our guard its sidecars
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.002)
        os.killpg(proc.pid, signal.SIGKILL)  # before the study was told, unless the search got there first
        proc.wait(timeout=60)
        if b'"record"' not in (entry / "explore-study.journal").read_bytes():
            return entry, points(entry)
    raise AssertionError("every kill landed after the study stored trial 1")


def test_a_point_recorded_but_not_told_to_the_study_is_adopted_on_resume_never_measured_twice(world):
    entry, killed_with = killed_before_told(world, "untold")
    assert len(killed_with) == 1 and not (read_log(entry) or {}).get("trials")
    assert (entry / ".cm" / "explore-lock.json").exists()  # the killed search's lock, taken over by the resume
    done = world.ck(*explore(entry.name, "four.json", "--trials=3", "--resume"))
    resumed = done.stdout
    assert "resuming: trial 1 (" in resumed and "not measured again" in resumed, done.stderr
    assert progress(resumed.splitlines()) == ["trial 2/3", "trial 3/3"]
    trials = read_log(entry)["trials"]
    assert [t["number"] for t in trials] == [1, 2, 3] and all(t["status"] == "measured" for t in trials)
    assert trials[0]["point"].endswith(next(iter(killed_with)))
    assert sorted(trial_points(entry)) == sorted(points(entry)) and len(points(entry)) == 3
    assert not (entry / ".cm" / "explore-lock.json").exists()


def test_a_failed_trial_hands_nothing_to_the_next_trials_point(world):
    (world.root / "three.json").write_text(json.dumps({**FOUR, "env": {**FOUR["env"],
                                                                      "CK_REQUEST_BATCH_SIZE": [1, 2, 3]}}))
    run = world.ck_started(*explore("leaky", "three.json", "--strategy=grid"))
    meta = world.repos / "local" / "experiment" / "leaky" / ".cm" / "meta.json"
    try:
        read_until(run, "trial 1/3")
        kept = meta.read_bytes()
        meta.unlink()
        meta.mkdir()  # trial 2 runs, then CK can neither read nor rebuild the entry's meta: no point recorded
        read_until(run, "trial 2/3")
        meta.rmdir()
        meta.write_bytes(kept)
        run.stdout.read()
    finally:
        assert run.wait(timeout=600) == 0
    entry = meta.parent.parent
    trials = read_log(entry)["trials"]
    assert [t["status"] for t in trials] == ["measured", "skipped", "measured"], trials
    for trial in (trials[0], trials[2]):  # each point holds its own run: one repetition of timed queries
        uid = trial["point"].rsplit(":", 1)[-1]
        latencies = json.loads(gzip.decompress((entry / f"ckp-{uid}.latencies-0001.json.gz").read_bytes()))
        assert len(latencies["repetitions"]) == 1
        assert latencies["batch_size"] == int(trial["stack"]["env"]["CK_REQUEST_BATCH_SIZE"])


def test_an_accuracy_run_that_fails_leaves_no_point_of_its_trial(world):
    tags = "model,onnx," + ",".join(MODEL)
    if not world.env_entries(tags + ",synthetic"):
        world.ck("install", "package", f"--tags={tags},synthetic", "--quiet", timeout=1800)
    info = world.model_info(tags + ",synthetic")
    model = info.parent / json.loads(info.read_text())["file"]
    space = {**FOUR, "models": [MODEL], "env": {**FOUR["env"], "CK_REQUEST_BATCH_SIZE": [1]},
             "objectives": ["latency_p50_s:min", "accuracy_top1:max"]}  # no "synthetic" tag: an accuracy run follows
    (world.root / "scored.json").write_text(json.dumps(space))
    entry = world.repos / "local" / "experiment" / "half"
    saved = world.root / "model.saved"
    shutil.copy2(model, saved)
    run = world.ck_started(*explore("half", "scored.json"))
    try:
        deadline = time.monotonic() + 300
        while not list(entry.glob("ckp-*.features_flat.json")):  # the performance point is recorded
            assert run.poll() is None and time.monotonic() < deadline
            time.sleep(0.005)
        with open(model, "ab") as handle:  # the accuracy run finds the model changed, and stops
            handle.write(b"\0")
        out = run.stdout.read()
    finally:
        run.wait(timeout=600)
        shutil.copy2(saved, model)
    trials = read_log(entry)["trials"]
    assert len(trials) == 1 and trials[0]["status"] == "skipped", out
    assert trials[0]["reason"].startswith("accuracy run:") and "changed since it was installed" in trials[0]["reason"]
    assert not points(entry) and not list(entry.glob("ckp-*"))  # no orphan performance point, nor its sidecars
    assert json.loads((entry / ".cm" / "meta.json").read_text())["points"] == "0"
