"""`ck explore request.asplos18` and the workflow scripts, as a user types them, in a real CK world."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from ckrequest.explore.log import read_log
from ckrequest.results.entry import RecordedEntry

SMALL = {"CK_REQUEST_MIN_DURATION_S": [0.1], "CK_REQUEST_MIN_QUERIES": [10], "CK_REQUEST_WARMUP": [1]}
THREE_DIMENSIONS = {
    "programs": ["request-onnxruntime-classification"],
    "models": [["mobilenet-v1", "multiplier-0.25", "resolution-128", "synthetic"],
               ["mobilenet-v1", "multiplier-0.5", "resolution-128", "synthetic"]],
    "env": {"CK_REQUEST_BATCH_SIZE": [1, 2], "CK_REQUEST_THREADS": [1, 2], **SMALL},
    "objectives": ["latency_p50_s:min", "inference_throughput:max"],
}
EXPLORE = ("explore", "request.asplos18", "--space=three.json", "--trials=6", "--record_uoa=explored", "--quiet")


@dataclass
class Explored:
    world: object
    first: str  # what the killed run printed
    resumed: str  # what the run with --resume printed
    entry: Path


@pytest.fixture(scope="module")
def explored(ck_world) -> Explored:
    """The bare explore command killed after trial 3, then typed again with --resume."""
    world = ck_world
    (world.root / "three.json").write_text(json.dumps(THREE_DIMENSIONS))
    proc = subprocess.Popen([sys.executable, "-m", "ck", *EXPLORE], env=world.env, cwd=world.root,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("trial 3/6"):
            os.killpg(proc.pid, signal.SIGKILL)  # the `ck` process and the program it runs
            break
    proc.wait(timeout=60)
    proc.stdout.close()
    resumed = world.ck(*EXPLORE, "--resume").stdout
    entry = Path(json.loads(world.ck("load", "experiment:explored", "--out=json").stdout)["path"])
    return Explored(world, "".join(lines), resumed, entry)


def test_killed_after_trial_3_the_resumed_search_continues_at_trial_4_and_loses_nothing(explored):
    assert "trial 3/6" in explored.first and "trial 4/6" not in explored.first
    printed = [line.split(":")[0] for line in explored.resumed.splitlines() if re.match(r"trial \d+/", line)]
    assert "resuming: 3 trial(s) recorded" in explored.resumed
    assert printed == ["trial 4/6", "trial 5/6", "trial 6/6"]
    log = read_log(explored.entry)
    trials = log["trials"]
    assert [t["number"] for t in trials] == [1, 2, 3, 4, 5, 6]
    assert all(t["status"] == "measured" for t in trials)
    stacks = {json.dumps(t["stack"], sort_keys=True) for t in trials}
    assert len(stacks) == 6  # six different stacks of the 8
    # every trial is a real point of the entry, with the stack's choices and its measured latency
    entry = RecordedEntry(explored.entry, "local:explored")
    for trial in trials:
        point = entry.point(trial["point"].split(":")[-1])
        assert point.values("latency_p50_s")[0] == pytest.approx(trial["values"]["latency_p50_s"])
        assert point.meta("model_design_name").startswith("MobileNet-v1 0.")
        assert str(int(point.feature("batch_size"))) == trial["stack"]["env"]["CK_REQUEST_BATCH_SIZE"]


def test_the_search_prints_its_progress_and_ends_with_the_frontier(explored):
    assert "exploring three.json (8 stacks) with grid into experiment:local:explored" in explored.first
    assert "frontier" in explored.first.splitlines()[-1] and "hypervolume" in explored.first.splitlines()[-1]
    tail = explored.resumed.split("6 trial(s): 6 measured, 0 infeasible, 0 skipped; the Pareto frontier (")[1]
    front = int(tail.split(" ")[0])
    assert front >= 1
    rows = [line for line in tail.splitlines()[2:] if line.split() and line.split()[0].isdigit()]
    assert len(rows) == front and all("local:explored:" in row for row in rows)
    growth = read_log(explored.entry)["growth"]
    assert [g["trial"] for g in growth] == [1, 2, 3, 4, 5, 6]
    assert growth[-1]["hypervolume"] >= growth[0]["hypervolume"] > 0


def test_the_explored_points_are_on_the_scoreboard_of_their_entry(explored):
    board = json.loads(explored.world.ck("scoreboard", "request.asplos18", "--entry=explored", "--format=json",
                                         "--x=latency_p50_s", "--y=inference_throughput").stdout)
    assert len(board) >= 6 and {p["entry"] for p in board} == {"explored"}
    assert any(p["pareto"] for p in board)


def test_typing_the_search_again_without_resume_is_refused_in_one_line(explored):
    again = explored.world.ck(*EXPLORE, check=False)
    assert again.returncode != 0
    assert "already has a search" in again.stdout + again.stderr and "--resume" in again.stdout + again.stderr
    assert len(read_log(explored.entry)["trials"]) == 6


def test_a_stack_that_cannot_run_is_skipped_with_its_reason_and_the_search_goes_on(ck_world):
    # every value is one the programs take (the space is checked before any trial), but not together:
    # LoadGen's SingleStream sends one image per query, so the batch-2 stack stops in its run
    space = {**THREE_DIMENSIONS, "models": [["mobilenet-v1", "multiplier-0.25", "resolution-128", "synthetic"]],
             "env": {"CK_REQUEST_SCENARIO": ["SingleStream"], "CK_REQUEST_BATCH_SIZE": [1, 2], **SMALL}}
    (ck_world.root / "skip.json").write_text(json.dumps(space))
    out = ck_world.ck("explore", "request.asplos18", "--space=skip.json", "--record_uoa=skipping", "--quiet").stdout
    assert "2 trial(s): 1 measured, 0 infeasible, 1 skipped" in out
    entry = Path(json.loads(ck_world.ck("load", "experiment:skipping", "--out=json").stdout)["path"])
    skipped = [t for t in read_log(entry)["trials"] if t["status"] == "skipped"]
    assert len(skipped) == 1 and skipped[0]["stack"]["env"]["CK_REQUEST_BATCH_SIZE"] == "2"
    assert "SingleStream sends one image per query" in skipped[0]["reason"]
    assert "explore-logs/trial-" in skipped[0]["reason"] and "\n" not in skipped[0]["reason"]


def test_a_malformed_space_gets_one_line_and_leaves_nothing_behind(ck_world):
    (ck_world.root / "bad.json").write_text(json.dumps({**THREE_DIMENSIONS, "precisions": ["fp64"]}))
    bad = ck_world.ck("explore", "request.asplos18", "--space=bad.json", "--record_uoa=never", "--quiet",
                      check=False)
    assert bad.returncode != 0
    errors = [line for line in (bad.stdout + bad.stderr).splitlines() if "fp64" in line]
    assert len(errors) == 1 and "field precisions" in errors[0]
    assert ck_world.ck("load", "experiment:never", check=False).returncode != 0


def test_the_named_spaces_are_listed_and_shown(ck_world):
    names = set(ck_world.ck("list", "request.space").stdout.split())
    assert {"demo", "asplos18-intel-caffe", "asplos18-mxnet-tvm", "asplos18-iot-farm", "asplos18-tvm-vta",
            "asplos18-arm-mobilenets"} <= names
    shown = ck_world.ck("show", "request.space:asplos18-arm-mobilenets").stdout
    assert "asplos18-arm-mobilenets: 34 stack(s)" in shown
    assert "resolution: resolution-128 | resolution-160 | resolution-192 | resolution-224" in shown


def test_a_workflow_script_prepares_searches_and_reports_and_typed_again_measures_nothing_twice(ck_world):
    first = ck_world.ck("run", "script:request-asplos18-arm-mobilenets", "--quiet", "--trials=2",
                        timeout=1800).stdout
    assert "ReQuEST workflow 5" in first and "stand-in:" in first
    assert ck_world.env_entries("lib,litert,v2.2.0")  # prepared: the second library version, side by side
    assert "2 trial(s):" in first
    assert "its points on the scoreboard" in first and "ck dashboard request.asplos18 --entry=asplos18-arm" in first
    again = ck_world.ck("run", "script:request-asplos18-arm-mobilenets", "--quiet", "--trials=2").stdout
    assert "continuing the search recorded in experiment:asplos18-arm-mobilenets (2 trial(s) so far" in again
    assert not [line for line in again.splitlines() if re.match(r"trial \d+/", line)]  # nothing measured again
    entry = Path(json.loads(ck_world.ck("load", "experiment:asplos18-arm-mobilenets", "--out=json").stdout)["path"])
    assert len(read_log(entry)["trials"]) == 2


def test_the_dashboard_shows_the_trials_in_order_and_the_frontier_as_it_grew(explored, browser, tmp_path):
    page_path = tmp_path / "explored.html"
    explored.world.ck("dashboard", "request.asplos18", "--entry=explored", f"--output={page_path}")
    page = browser.new_page()
    page.goto(page_path.as_uri())
    page.wait_for_selector("body[data-ready=yes]")
    section = page.locator("section.exploration[data-entry=explored]")
    rows = section.locator("table.trials tr[data-trial]")
    assert [rows.nth(k).get_attribute("data-trial") for k in range(rows.count())] == ["1", "2", "3", "4", "5", "6"]
    assert "6 of 6" in section.locator(".trial-label").text_content()
    assert section.locator(".hv-plot polyline.hv-line").get_attribute("points").count(",") == 6
    circles = section.locator(".explore-scatter circle.trial")
    assert circles.count() == 6
    top = circles.nth(circles.count() - 1)  # drawn last: nothing covers it
    top.scroll_into_view_if_needed()
    number = top.get_attribute("data-trial")
    box = top.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector(".explore-tooltip:not([hidden])")
    assert section.locator(".explore-tooltip").text_content().startswith(f"trial {number}: onnxruntime")
    section.locator(".trial-slider").fill("2")  # the frontier after trial 2: two trials drawn, the rest later
    assert "2 of 6" in section.locator(".trial-label").text_content()
    assert circles.count() == 2
    assert section.locator("table.trials tr.later").count() == 4
    page.close()
