"""The search strategies over a replayed grid: the journal stores the values that ran while Optuna's samplers see
the order of ordinal dimensions, and the cost-model search finds a frontier in fewer trials than random."""

from __future__ import annotations

import statistics
from dataclasses import replace
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, IntDistribution
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from ckrequest.explore.replay import RecordedGrid
from ckrequest.explore.samplers import DEFAULT_SEARCH, OrdinalView, default_strategy
from ckrequest.explore.search import Exploration
from ckrequest.explore.space import parse_objective
from ckrequest.tools.bench_search import GRIDS, shipped, trials_to_reach
from tests.test_explore_space import GOOD, analytic, replay_log


@pytest.mark.parametrize("strategy", ["tpe", "nsga2", "costmodel", "grid"])
def test_the_journal_holds_the_values_that_ran_and_the_samplers_see_their_order(strategy, tmp_path: Path):
    grid = RecordedGrid.from_log(replay_log(GOOD, analytic), "replayed")
    journal = tmp_path / "study.journal"
    records = Exploration(grid.space, grid.objectives, (), strategy, journal, "values", seed=4).run(grid, 14, None)
    study = optuna.load_study(study_name="values", storage=JournalStorage(JournalFileBackend(str(journal))))
    ran = {r.number: r.stack for r in records}
    told = [t for t in study.trials if "record" in t.user_attrs]
    assert len(told) == 14
    for trial in told:
        stack = ran[trial.user_attrs["record"]["number"]]
        assert trial.params["CK_REQUEST_BATCH_SIZE"] == int(dict(stack.env)["CK_REQUEST_BATCH_SIZE"])
        assert trial.params["multiplier"] == stack.model[2] and trial.params["program"] == stack.program
        assert trial.distributions["CK_REQUEST_BATCH_SIZE"] == CategoricalDistribution((1, 2, 4, 8))
    viewed = OrdinalView(optuna.samplers.TPESampler(), {"CK_REQUEST_BATCH_SIZE": (1, 2, 4, 8)}).trial(told[0])
    assert viewed.distributions["CK_REQUEST_BATCH_SIZE"] == IntDistribution(0, 3)
    assert viewed.params["CK_REQUEST_BATCH_SIZE"] == (1, 2, 4, 8).index(told[0].params["CK_REQUEST_BATCH_SIZE"])
    assert told[0].params["CK_REQUEST_BATCH_SIZE"] in (1, 2, 4, 8)  # the study's own trial is left as it was


def test_the_default_strategy_is_the_grid_for_a_small_space_and_the_cost_model_beyond():
    small = RecordedGrid.from_log(replay_log({**GOOD, "env": {"CK_REQUEST_BATCH_SIZE": [1]}}, analytic), "small")
    large = RecordedGrid.from_log(replay_log(GOOD, analytic), "large")
    assert (default_strategy(small.space), default_strategy(large.space)) == ("grid", DEFAULT_SEARCH)


def test_the_cost_model_reaches_the_frontier_of_the_shipped_grid_in_fewer_trials_than_random():
    recorded = RecordedGrid.load(shipped(GRIDS[0]))
    grid = replace(recorded, objectives=(parse_objective("latency_p50_s:min"),
                                         parse_objective("inference_throughput:max")))
    model = statistics.median(trials_to_reach(grid, "costmodel", seed, 0.95) for seed in (1, 2, 3))
    random = statistics.median(trials_to_reach(grid, "random", seed, 0.95) for seed in (1, 2, 3))
    assert model <= 0.4 * grid.space.size and model <= 0.75 * random
