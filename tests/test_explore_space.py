"""Spaces and the search itself: malformed spaces refused in one line naming the field, exclusions,
variants, ordinal dimensions; Optuna's strategies driven over a replayed grid (no CK, no measuring)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from ckrequest.errors import RequestError
from ckrequest.explore.replay import RecordedGrid
from ckrequest.explore.search import STRATEGIES, Exploration, TrialOutcome
from ckrequest.explore.space import Stack, load_space_file, space_from_json

GOOD = {
    "programs": ["request-onnxruntime-classification", "request-tflite-classification"],
    "models": [["mobilenet-v1", "synthetic"]],
    "model_variants": {"multiplier": ["multiplier-0.25", "multiplier-0.5", "multiplier-1.0"]},
    "precisions": ["fp32", "int8"],
    "env": {"CK_REQUEST_BATCH_SIZE": [1, 2, 4, 8]},
    "exclude": [{"program": "request-tflite-classification", "model": ["multiplier-1.0"]}],
    "objectives": ["latency_p50_s:min", "model_macs:max"],
}


def broken(**changes):
    data = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return data


@pytest.mark.parametrize("changes, field", [
    ({"programs": None}, "field programs"),
    ({"programs": ["onnxruntime"]}, "field programs"),
    ({"models": "mobilenet-v1"}, "field models"),
    ({"models": [[]]}, "field models[0]"),
    ({"precisions": ["fp64"]}, "field precisions"),
    ({"env": ["CK_REQUEST_BATCH_SIZE"]}, "field env"),
    ({"env": {"batch": [1]}}, "field env.batch"),
    ({"env": {"CK_REQUEST_BATCH_SIZE": []}}, "field env.CK_REQUEST_BATCH_SIZE"),
    ({"objectives": ["speed:max"]}, "field objectives: objective 'speed:max'"),
    ({"objectives": ["latency_p50_s:up"]}, "field objectives: objective 'latency_p50_s:up'"),
    ({"constraints": ["accuracy_top1 > high"]}, "field constraints"),
    ({"exclude": [{"threads": [1]}]}, "field exclude[0].threads"),
    ({"exclude": [{"program": GOOD["programs"]}]}, "field exclude"),
    ({"model_variants": {"model": ["multiplier-0.5"]}}, "field model_variants.model"),
    ({"repetitions": 0}, "field repetitions"),
    ({"measure_accuracy": "yes"}, "field measure_accuracy"),
    ({"budget": 3}, "field budget"),
])
def test_a_malformed_space_is_refused_in_one_line_naming_the_field(changes, field):
    with pytest.raises(RequestError) as caught:
        space_from_json(broken(**changes), "my-space.json")
    line = str(caught.value)
    assert "\n" not in line
    assert line.startswith(f"space my-space.json: {field}"), line
    assert "(" in line  # and how to fix it


def test_a_space_file_that_is_not_json_is_refused_in_one_line(tmp_path):
    path = tmp_path / "space.json"
    path.write_text("{\"programs\": [")
    with pytest.raises(RequestError, match=r"^space file .*space.json: is not readable JSON"):
        load_space_file(path)


def test_the_grid_is_every_combination_but_the_excluded_and_variants_join_the_model_tags():
    space = space_from_json(GOOD, "good")
    stacks = list(space.grid())
    # 2 programs x 3 multipliers x 2 precisions x 4 batch sizes, less TFLite's multiplier-1.0 (2 x 4)
    assert space.size == len(stacks) == 2 * 3 * 2 * 4 - 2 * 4
    assert len(set(stacks)) == len(stacks)
    assert not [s for s in stacks if s.program == "request-tflite-classification" and "multiplier-1.0" in s.model]
    some = stacks[0]
    assert some.model[:2] == ("mobilenet-v1", "synthetic") and some.model[2].startswith("multiplier-")
    assert some.model_tags.endswith("," + some.precision)
    assert Stack.from_json(json.loads(json.dumps(some.as_json()))) == some


def test_numeric_dimensions_are_ordinal_and_names_are_not():
    ordered = space_from_json(GOOD, "good").ordered()
    assert ordered["CK_REQUEST_BATCH_SIZE"] == ("1", "2", "4", "8")
    assert ordered["multiplier"] == ("multiplier-0.25", "multiplier-0.5", "multiplier-1.0")
    assert ordered["program"] is None and ordered["precision"] is None


def replay_log(space: dict, values) -> dict:
    """An exploration log whose trials give ``values(stack)`` (None: the stack could not run)."""
    parsed = space_from_json(space, "replayed")
    trials = []
    for number, stack in enumerate(parsed.grid(), 1):
        found = values(stack)
        trials.append({"number": number, "stack": stack.as_json(), "status": "measured" if found else "skipped",
                       "reason": "" if found else "no package", "values": found or {}, "point": ""})
    return {"space": space, "space_name": "replayed", "objectives": space["objectives"], "trials": trials}


def analytic(stack: Stack) -> dict | None:
    multiplier = float(stack.model[2].split("-")[1])
    batch = int(dict(stack.env)["CK_REQUEST_BATCH_SIZE"])
    if stack.precision == "int8" and stack.program == "request-tflite-classification" and multiplier == 0.5:
        return None  # a stack that cannot run
    speed = 2.0 if stack.program == "request-onnxruntime-classification" else 1.0
    return {"latency_p50_s": multiplier * batch / speed * (0.7 if stack.precision == "int8" else 1.0),
            "model_macs": multiplier * 1e8}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_runs_each_stack_at_most_once_and_keeps_the_skipped(strategy):
    grid = RecordedGrid.from_log(replay_log(GOOD, analytic), "replayed")
    ran: list[Stack] = []

    def runner(stack: Stack, number: int) -> TrialOutcome:
        ran.append(stack)
        return grid(stack, number)

    exploration = Exploration(grid.space, grid.objectives, (), strategy, None, strategy, seed=3)
    records = exploration.run(runner, None, None)
    assert len(ran) == len(set(ran)) == grid.space.size  # the whole space, nothing measured twice
    assert [r.number for r in records] == list(range(1, grid.space.size + 1))
    skipped = [r for r in records if r.status == "skipped"]
    assert skipped and all(r.reason == "no package" and r.stack.precision == "int8" for r in skipped)
    assert grid.hypervolume_of(records) == pytest.approx(grid.best_hypervolume())


def test_a_budget_stops_the_search_and_constraints_make_trials_infeasible():
    space = broken(constraints=["latency_p50_s <= 0.5"])
    grid = RecordedGrid.from_log(replay_log(space, analytic), "replayed")
    exploration = Exploration(grid.space, grid.objectives, grid.space.constraints, "tpe", None, "tpe", seed=1)
    records = exploration.run(grid, 12, None)
    assert len(records) == 12
    infeasible = [r for r in records if r.status == "infeasible"]
    assert all(r.values["latency_p50_s"] > 0.5 and "violates latency_p50_s <= 0.5" in r.reason for r in infeasible)
    assert all(r.values["latency_p50_s"] <= 0.5 for r in records if r.status == "measured")


def test_a_search_killed_in_a_trial_resumes_with_that_trial_and_loses_none(tmp_path: Path):
    grid = RecordedGrid.from_log(replay_log(GOOD, analytic), "replayed")
    journal = tmp_path / "study.journal"

    def dies_in_trial_4(stack: Stack, number: int) -> TrialOutcome:
        if number == 4:
            raise KeyboardInterrupt  # as a kill would leave it: the trial still RUNNING in the journal
        return grid(stack, number)

    first = Exploration(grid.space, grid.objectives, (), "nsga2", journal, "killed", seed=5)
    with pytest.raises(KeyboardInterrupt):
        first.run(dies_in_trial_4, 8, None)
    assert [r.number for r in first.records] == [1, 2, 3]
    with pytest.raises(RequestError, match="already has a search"):
        Exploration(grid.space, grid.objectives, (), "nsga2", journal, "killed", seed=5).run(grid, 8, None)
    again = Exploration(grid.space, grid.objectives, (), "nsga2", journal, "killed", seed=5)
    records = again.run(grid, 8, None, resume=True)
    assert [r.number for r in records] == list(range(1, 9))
    assert [r.stack for r in records[:3]] == [r.stack for r in first.records]
    assert len({r.stack for r in records}) == 8


def test_a_search_killed_while_choosing_a_stack_resumes_and_chooses_again(tmp_path: Path):
    grid = RecordedGrid.from_log(replay_log(GOOD, analytic), "replayed")
    journal = tmp_path / "study.journal"
    Exploration(grid.space, grid.objectives, (), "grid", journal, "choosing", seed=2).run(grid, 2, None)
    study = Exploration(grid.space, grid.objectives, (), "grid", journal, "choosing", seed=2)._study(resume=True)
    study.ask().suggest_categorical("program", list(grid.space.programs))  # killed after one of the choices
    records = Exploration(grid.space, grid.objectives, (), "grid", journal, "choosing", seed=2).run(
        grid, 5, None, resume=True)
    assert [r.number for r in records] == [1, 2, 3, 4, 5]
    assert len({r.stack for r in records}) == 5
