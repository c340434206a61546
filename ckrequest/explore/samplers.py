"""The search strategies as Optuna samplers, chosen by name.

The study stores each choice as the value that runs (``params``); Optuna's own samplers are shown each
ordinal dimension as the rank of its choice (``OrdinalView``), so that TPE and NSGA-II see that batch 8
lies beyond batch 4 while the journal says 8.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping, Sequence

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

from .costmodel import CostModelSampler
from .params import Dimension, ParamValue
from .space import Space

STRATEGIES = ("grid", "random", "nsga2", "tpe", "costmodel")
GRID_UP_TO = 24  # the default strategy: the whole grid when the space is this small, else the cost model
DEFAULT_SEARCH = "costmodel"


def default_strategy(space: Space) -> str:
    return "grid" if space.size <= GRID_UP_TO else DEFAULT_SEARCH


class AskTellGridSampler(optuna.samplers.GridSampler):
    """Optuna's grid, driven by ask-and-tell: the search itself stops when every stack was tried
    (GridSampler's own ``study.stop()`` works only inside ``study.optimize``)."""

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        pass


class _StudyView:
    """A study whose trials show ordinal parameters as ranks; everything else is the study's own."""

    def __init__(self, study: Any, view: OrdinalView) -> None:
        self._viewed, self._view = study, view

    def __getattr__(self, name: str) -> Any:
        return getattr(self._viewed, name)

    def _get_trials(self, deepcopy: bool = True, states: Any = None, use_cache: bool = False) -> list[FrozenTrial]:
        return [self._view.trial(t) for t in self._viewed._get_trials(deepcopy, states, use_cache)]

    def get_trials(self, deepcopy: bool = True, states: Any = None) -> list[FrozenTrial]:
        return [self._view.trial(t) for t in self._viewed.get_trials(deepcopy, states)]


class OrdinalView(optuna.samplers.BaseSampler):
    """``inner`` sees each ordinal dimension as ``IntDistribution(0, n-1)`` over the ranks of its values."""

    def __init__(self, inner: optuna.samplers.BaseSampler, ordinals: Mapping[str, Sequence[ParamValue]]) -> None:
        self.inner, self.ordinals = inner, {name: tuple(values) for name, values in ordinals.items()}

    def distribution(self, name: str, distribution: BaseDistribution) -> BaseDistribution:
        if name in self.ordinals and isinstance(distribution, CategoricalDistribution):
            return IntDistribution(0, len(self.ordinals[name]) - 1)
        return distribution

    def trial(self, trial: FrozenTrial) -> FrozenTrial:
        if not any(name in self.ordinals for name in trial.params):
            return trial
        viewed = copy.copy(trial)
        viewed._distributions = {n: self.distribution(n, d) for n, d in trial.distributions.items()}
        viewed._params = {n: self.ordinals[n].index(v) if viewed._distributions[n] is not trial.distributions[n]
                          else v for n, v in trial.params.items()}
        return viewed

    def _value(self, name: str, value: Any) -> Any:
        return self.ordinals[name][int(value)] if name in self.ordinals else value

    def infer_relative_search_space(self, study: Any, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        viewed = self.inner.infer_relative_search_space(_StudyView(study, self), self.trial(trial))
        return {n: CategoricalDistribution(self.ordinals[n]) if n in self.ordinals else d for n, d in viewed.items()}

    def sample_relative(self, study: Any, trial: FrozenTrial, search_space: dict[str, BaseDistribution]) -> dict:
        viewed = {n: self.distribution(n, d) for n, d in search_space.items()}
        found = self.inner.sample_relative(_StudyView(study, self), self.trial(trial), viewed)
        return {n: self._value(n, v) for n, v in found.items()}

    def sample_independent(self, study: Any, trial: FrozenTrial, name: str, distribution: BaseDistribution) -> Any:
        value = self.inner.sample_independent(_StudyView(study, self), self.trial(trial), name,
                                              self.distribution(name, distribution))
        return self._value(name, value) if isinstance(distribution, CategoricalDistribution) else value

    def before_trial(self, study: Any, trial: FrozenTrial) -> None:
        self.inner.before_trial(_StudyView(study, self), self.trial(trial))

    def after_trial(self, study: Any, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None) -> None:
        self.inner.after_trial(_StudyView(study, self), self.trial(trial), state, values)

    def reseed_rng(self) -> None:
        self.inner.reseed_rng()


def make_sampler(strategy: str, space: Space, dims: tuple[Dimension, ...], seed: int) -> Any:
    if strategy == "grid":
        return AskTellGridSampler({d.name: list(d.values) for d in dims}, seed=seed)
    if strategy == "costmodel":
        return CostModelSampler(space, dims, seed)
    if strategy == "random":
        inner: optuna.samplers.BaseSampler = optuna.samplers.RandomSampler(seed=seed)
    elif strategy == "nsga2":
        inner = optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, min(20, space.size // 4)))
    else:
        inner = optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, max(4, space.size // 8)),
                                           multivariate=True)
    return OrdinalView(inner, {d.name: d.values for d in dims if d.ordinal})
