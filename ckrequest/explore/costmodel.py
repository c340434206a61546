"""The cost-model search: a model of each objective fitted on the trials measured so far predicts every stack not
yet tried, and the next trial is the stack that would grow the frontier most.

As TVM's autotuner ranks candidate schedules with a cost model fitted on measured ones, and as TSEMO
(Bradford et al., 2018) scores multi-objective candidates on draws from a model's posterior: per objective a
Bayesian linear model of its logarithm on the stack's features (the logarithm of each numeric choice: batch
size, threads, a model's multiplier and resolution, so multiply-adds ~ multiplier^2 x resolution^2 is
linear; one indicator per categorical choice: program, precision, library); a few posterior draws predict
every untried stack, and the stack whose predictions add the most hypervolume to the measured frontier, on
average over the draws (a Monte Carlo expected hypervolume improvement), is run. The spaces are small and
discrete, so every candidate is scored (no inner optimiser). The first trials, before there is anything to
fit, are drawn at random. When no stack is predicted to add anything (the model has learnt the frontier's region
but not which run there came out lucky), the draws are widened by the measurements' own noise (1, 2, then 4
residual standard deviations) so that the stacks nearest the frontier are tried first; only when even that
predicts nothing is a stack drawn at random. Chosen by measurement (``python -m ckrequest.tools.bench search``):
one draw (Thompson sampling), a Gaussian process with an RBF kernel, per-program slopes, a wider posterior
throughout and a diverse first design all did worse on the shipped grids.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from .frontier import hypervolume, pareto_flags
from .params import Dimension
from .space import Space

PRIOR_SD = 1.0  # of each weight, on standardised features and objectives
DRAWS = 8  # posterior draws the hypervolume gain is averaged over (one draw: Thompson sampling, noisier)
NOISE_FLOOR = 1e-3  # the least noise variance assumed (standardised objective): measurements are never exact
WIDEN = (0.0, 1.0, 2.0, 4.0)  # noise sds added to the draws, in turn, while no stack is predicted to add volume


def features(dims: Sequence[Dimension], candidates: Sequence[tuple[Any, ...]]) -> np.ndarray:
    """One row per candidate (its parameter values in ``dims`` order): numeric choices as logarithms, the others
    one indicator per choice; each column standardised over the candidates."""
    columns = []
    for i, dim in enumerate(dims):
        if len(dim.choices) < 2:
            continue
        numbers = dim.numbers()
        if numbers is not None:
            by_value = dict(zip(dim.values, numbers))
            raw = np.array([by_value[c[i]] for c in candidates], dtype=float)
            columns.append(np.log(raw) if (raw > 0).all() else raw)
        else:
            columns += [np.array([c[i] == value for c in candidates], dtype=float) for value in dim.values]
    matrix = np.column_stack(columns) if columns else np.zeros((len(candidates), 0))
    spread = matrix.std(axis=0)
    matrix = (matrix - matrix.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    return np.column_stack([np.ones(len(candidates)), matrix])


def posterior(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Bayesian linear regression (Gaussian prior, noise from the residuals): the weights' mean and covariance."""
    prior = np.eye(x.shape[1]) / PRIOR_SD**2
    noise = 0.1
    for _ in range(3):  # the noise variance and the weights, each from the other
        precision = x.T @ x / noise + prior
        covariance = np.linalg.inv(precision)
        mean = covariance @ x.T @ y / noise
        residual = float(np.sum((y - x @ mean) ** 2))
        noise = max(NOISE_FLOOR, residual / max(1, len(y) - 1))
    return mean, (covariance + covariance.T) / 2, noise


class CostModelSampler(optuna.samplers.BaseSampler):
    """Every parameter at once (the whole stack), chosen among the space's untried stacks."""

    def __init__(self, space: Space, dims: Sequence[Dimension], seed: int, startup: int | None = None) -> None:
        self.dims, self.seed = tuple(dims), seed
        names = [d.name for d in self.dims]
        values = {d.name: dict(zip(d.choices, d.values)) for d in self.dims}
        self.candidates = [tuple(values[n][choice[n]] for n in names) for choice in space.choices()]
        self.x = features(self.dims, self.candidates)
        self.startup = startup if startup is not None else min(len(self.candidates), max(4, self.x.shape[1] // 2))
        self._random = np.random.default_rng(seed)

    def reseed_rng(self) -> None:
        self._random = np.random.default_rng()

    def infer_relative_search_space(self, study: Any, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return {d.name: CategoricalDistribution(d.values) for d in self.dims}

    def sample_independent(self, study: Any, trial: FrozenTrial, name: str, distribution: BaseDistribution) -> Any:
        return optuna.samplers.RandomSampler(seed=int(self._random.integers(2**31))).sample_independent(
            study, trial, name, distribution)

    def _key(self, trial: FrozenTrial) -> tuple[Any, ...] | None:
        try:
            return tuple(trial.params[d.name] for d in self.dims)
        except KeyError:
            return None

    def sample_relative(self, study: Any, trial: FrozenTrial, search_space: dict[str, BaseDistribution]) -> dict:
        if not search_space:
            return {}
        trials = study._get_trials(deepcopy=False, use_cache=True)
        taken = {self._key(t) for t in trials if t.number != trial.number and (
            t.state in (TrialState.COMPLETE, TrialState.RUNNING) or "record" in t.user_attrs)}
        untried = [i for i, c in enumerate(self.candidates) if c not in taken]
        if not untried:
            return {}
        index = {c: i for i, c in enumerate(self.candidates)}
        done = [(index[k], t) for t in trials if t.state == TrialState.COMPLETE and "record" in t.user_attrs
                and (k := self._key(t)) in index]
        if len(done) < self.startup:
            pick = untried[int(self._random.integers(len(untried)))]
        else:
            pick = self._best(study.directions, done, untried, np.random.default_rng((self.seed, trial.number)))
        return {d.name: value for d, value in zip(self.dims, self.candidates[pick])}

    def _best(self, directions: Sequence[StudyDirection], done: list[tuple[int, FrozenTrial]], untried: list[int],
              rng: np.random.Generator) -> int:
        """The untried stack whose predicted objectives add the most hypervolume, averaged over posterior draws."""
        rows = [i for i, _ in done]
        told = np.array([t.values for _, t in done], dtype=float)
        mean_guess = np.empty((DRAWS, len(untried), told.shape[1]))
        noise_guess = np.empty_like(mean_guess)  # one residual sd per objective, times a standard normal below
        transforms = []
        for k in range(told.shape[1]):
            y = told[:, k]
            logged = bool((y > 0).all())
            target = np.log(y) if logged else y
            centre, scale = float(target.mean()), float(target.std()) or 1.0
            mean, covariance, noise = posterior(self.x[rows], (target - centre) / scale)
            weights = rng.multivariate_normal(mean, covariance, size=DRAWS, method="cholesky")
            mean_guess[:, :, k] = (self.x[untried] @ weights.T).T
            noise_guess[:, :, k] = math.sqrt(noise)
            transforms.append((logged, centre, scale))
        signs = np.array([1.0 if d == StudyDirection.MINIMIZE else -1.0 for d in directions])
        measured = told * signs
        feasible = [self._feasible(t) for _, t in done]
        base = measured[feasible] if any(feasible) else measured[:0]
        front = [list(v) for v, on in zip(base, pareto_flags([list(v) for v in base])) if on]
        limits = measured.min(axis=0), measured.max(axis=0)
        now = hypervolume(front, [], limits) if front else 0.0
        noise_guess *= np.random.default_rng(rng.integers(2**63)).standard_normal(noise_guess.shape)
        for widen in WIDEN:
            predicted = np.empty_like(mean_guess)
            for k, (logged, centre, scale) in enumerate(transforms):
                guess = (mean_guess[:, :, k] + widen * noise_guess[:, :, k]) * scale + centre
                predicted[:, :, k] = np.exp(np.clip(guess, -700, 700)) if logged else guess
            gains = np.mean([[hypervolume(front + [list(p)], [], limits) - now for p in draw * signs]
                             for draw in predicted], axis=0)
            if math.isfinite(float(gains.max())) and gains.max() > 1e-12:
                return untried[int(np.argmax(gains))]
        return untried[int(rng.integers(len(untried)))]  # nothing predicted to help, even widened: explore

    @staticmethod
    def _feasible(trial: FrozenTrial) -> bool:
        return all(c <= 0 for c in trial.system_attrs.get("constraints", ()))
