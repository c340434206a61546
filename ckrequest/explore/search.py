"""The search over a stack space: Optuna proposes, a trial runner measures, the frontier grows.

Optuna is the engine (its samplers and the cost-model search, ``samplers.py``; constraints through
``Trial.set_constraint``), driven by ask-and-tell so that a trial that cannot run is told as failed and
the search goes on. Its journal file storage lets ``--resume`` continue a killed search: a trial
left running is failed and its stack asked for again. Every stack is measured at most once: a
sampler proposing one already measured is told the measured values, at no cost.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence

import numpy as np

from ..errors import RequestError
from ..results.schema import ACCURACY_KEYS
from .frontier import hypervolume, pareto_flags
from .params import choice_of, dimensions, params_of
from .samplers import STRATEGIES, default_strategy, make_sampler  # noqa: F401 (default_strategy: read from here)
from .space import Constraint, Objective, Space, Stack

REPEATS_BEFORE_AN_UNTRIED_STACK = 20  # proposals of tried (or excluded) stacks in a row: the sampler has converged,
# so the next trial is a stack not tried yet, drawn at random (without a budget the search covers the space)


@dataclass(frozen=True)
class TrialOutcome:
    """What running one stack gave: the schema keys measured, or why it could not run."""

    values: Mapping[str, float | None] = field(default_factory=dict)
    point: str = ""  # repo:entry:point of the recorded point
    skipped: str = ""  # why the trial did not run (no such package, an error)
    seconds: float = 0.0  # the trial's wall time
    measured_s: float = 0.0  # of which timed queries
    node: str = ""  # where it ran, when not on this machine: "<host> (Ray node <id>)"


RunTrial = Callable[[Stack, int], TrialOutcome]
# a killed trial's stack, number, start (time.time()) and the trials told: the outcome it recorded, or None
Adopt = Callable[[Stack, int, float, Sequence["TrialRecord"]], "TrialOutcome | None"]
STARTED = "started"  # a trial's user attribute, set before it runs: its number, stack and start


class TrialPool(Protocol):
    """Where trials run: ``width`` of them at a time; ``submit`` starts one, ``next_done`` waits for any one
    to finish and gives its number and outcome (a trial that cannot run is an outcome with ``skipped``)."""

    width: int

    def submit(self, stack: Stack, number: int) -> None: ...

    def next_done(self) -> tuple[int, TrialOutcome]: ...


@dataclass
class SerialPool:
    """One trial at a time, in this process: ``run_trial`` runs it when it is waited for."""

    run_trial: RunTrial
    width: int = 1
    waiting: list[tuple[Stack, int]] = field(default_factory=list)

    def submit(self, stack: Stack, number: int) -> None:
        self.waiting.append((stack, number))

    def next_done(self) -> tuple[int, TrialOutcome]:
        stack, number = self.waiting.pop(0)
        t0 = time.monotonic()
        try:
            outcome = self.run_trial(stack, number)
        except RequestError as err:
            outcome = TrialOutcome(skipped=err.line())
        return number, outcome if outcome.seconds else replace(outcome, seconds=time.monotonic() - t0)


@dataclass(frozen=True)
class TrialRecord:
    number: int  # 1, 2, ... in the order they ran
    stack: Stack
    status: str  # measured | infeasible | skipped
    reason: str = ""
    values: Mapping[str, float | None] = field(default_factory=dict)
    point: str = ""
    seconds: float = 0.0
    measured_s: float = 0.0
    node: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"number": self.number, "stack": self.stack.as_json(), "label": self.stack.describe(),
                "status": self.status, "reason": self.reason,
                "values": dict(self.values), "point": self.point, "seconds": round(self.seconds, 3),
                "measured_s": round(self.measured_s, 3), **({"node": self.node} if self.node else {})}


def stored_record(data: Mapping[str, Any]) -> TrialRecord:
    """A trial as ``TrialRecord.as_json`` stored it (its stack as it ran, whatever the space is now)."""
    return TrialRecord(data["number"], Stack.from_json(data["stack"]), data["status"], data["reason"], data["values"],
                       data["point"], data["seconds"], data["measured_s"], data.get("node", ""))


@dataclass(frozen=True)
class Progress:
    trial: TrialRecord
    budget: int | None  # trials asked for (None: until the time budget or the space runs out)
    frontier: tuple[int, ...]  # trial numbers on the frontier so far
    hypervolume: float  # of the frontier so far, objectives normalised by what was measured


def _why_missing(keys: Sequence[str]) -> str:
    if any(k in ACCURACY_KEYS for k in keys):
        return "synthetic weights give no accuracy: choose other objectives or real weights"
    if "inference_latency" in keys:
        return "inference_latency is the batch-1 latency: rank other batch sizes on latency_p50_s"
    return "the run did not measure it"


def objective_vector(values: Mapping[str, float | None], objectives: Sequence[Objective]) -> list[float] | None:
    """The objectives as minimised values (a maximised one negated); None when one is missing."""
    vector = []
    for objective in objectives:
        value = values.get(objective.key)
        if value is None or not math.isfinite(value):
            return None
        vector.append(value if objective.better == "min" else -value)
    return vector


def frontier_of(records: Sequence[TrialRecord], objectives: Sequence[Objective]) -> tuple[tuple[int, ...], float]:
    """The trial numbers on the Pareto frontier of the measured feasible trials, and its normalised hypervolume."""
    measured = [(r.number, objective_vector(r.values, objectives)) for r in records if r.status == "measured"]
    measured = [(n, v) for n, v in measured if v is not None]
    if not measured:
        return (), 0.0
    vectors = [v for _, v in measured]
    flags = pareto_flags(vectors)
    front = [v for v, on in zip(vectors, flags) if on]
    return tuple(n for (n, _), on in zip(measured, flags) if on), hypervolume(front, vectors)


@dataclass
class Exploration:
    """One search of a space, kept in ``storage`` (an Optuna journal) so that it can be resumed; with no
    storage (a replayed search), in memory."""

    space: Space
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...]
    strategy: str
    storage: Path | None
    name: str
    seed: int = 1
    records: list[TrialRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise RequestError(f"--strategy={self.strategy}", "is not a search strategy",
                               f"use one of: {', '.join(STRATEGIES)}")
        if not self.objectives:
            raise RequestError("objectives", "none given", "pass e.g. --objectives=inference_latency:min")

    def _study(self, resume: bool) -> Any:
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = make_sampler(self.strategy, self.space, dimensions(self.space), self.seed)
        directions = [o.direction for o in self.objectives]
        if self.storage is None:
            return optuna.create_study(study_name=self.name, sampler=sampler, directions=directions)
        if self.storage.exists() and not resume:
            raise RequestError(f"exploration {self.name}", f"already has a search ({self.storage})",
                               "continue it with --resume, or record into another --record_uoa")
        if resume and not self.storage.exists():
            raise RequestError(f"exploration {self.name}", "has no search to resume",
                               "start it without --resume")
        self.storage.parent.mkdir(parents=True, exist_ok=True)
        storage = JournalStorage(JournalFileBackend(str(self.storage)))
        return optuna.create_study(study_name=self.name, storage=storage, sampler=sampler, load_if_exists=resume,
                                   directions=directions)

    def _choice(self, trial: Any) -> dict[str, str]:
        """A trial's parameters (the values that ran) as choices; a journal written before the values were stored
        holds an ordinal choice's rank (an ``IntDistribution``)."""
        from optuna.distributions import IntDistribution

        ranks = {n: isinstance(d, IntDistribution) for n, d in trial.distributions.items()}
        return choice_of(dimensions(self.space), trial.params, ranks)

    def _resumed(self, study: Any, adopt: Adopt | None) -> list[TrialRecord]:
        """The trials of an earlier run of this search, each with the stack it ran as stored; one left running
        (killed) whose point was recorded is adopted, else failed and its stack asked for again."""
        import optuna
        from optuna.trial import TrialState

        trials = study.get_trials(deepcopy=False)
        records = sorted((stored_record(t.user_attrs["record"]) for t in trials if "record" in t.user_attrs),
                         key=lambda r: r.number)
        for trial in trials:
            if trial.state != TrialState.RUNNING:
                continue
            if "record" in trial.user_attrs:  # killed while the study was told: its record stands, told again
                self._tell(study, optuna.trial.Trial(study, trial._trial_id), stored_record(trial.user_attrs["record"]),
                           TrialState)
                continue
            adopted = self._adopted(study, trial, records, adopt)
            if adopted is not None:
                records.append(adopted)
                continue
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)  # killed: failed, asked first
            if set(trial.params) == set(self.space.dimensions):  # (killed while choosing: asked anew)
                study.enqueue_trial(params_of(dimensions(self.space), self._choice(trial)),
                                    skip_if_exists=False)
        return sorted(records, key=lambda r: r.number)

    def _adopted(self, study: Any, trial: Any, told: list[TrialRecord], adopt: Adopt | None) -> TrialRecord | None:
        """A killed trial whose point was recorded before the study was told: told now, from that point."""
        import optuna
        from optuna.trial import TrialState

        started = trial.user_attrs.get(STARTED)
        if adopt is None or not isinstance(started, dict):
            return None
        stack = Stack.from_json(started["stack"])
        outcome = adopt(stack, int(started["number"]), float(started["at"]), told)
        if outcome is None:
            return None
        record = self._record(stack, int(started["number"]), outcome)
        self._tell(study, optuna.trial.Trial(study, trial._trial_id), record, TrialState)
        return record

    def run(self, trials_at: RunTrial | TrialPool, trials: int | None, seconds: float | None, resume: bool = False,
            on_trial: Callable[[Progress], None] = lambda progress: None,
            until: Callable[[list[TrialRecord]], bool] = lambda records: False,
            adopt: Adopt | None = None) -> list[TrialRecord]:
        """Run stacks until the search holds ``trials`` trials (those of a resumed run count), ``seconds``
        passed in this run, ``until(records)`` says so, or every stack of the space was tried. ``trials_at``
        runs them: a function (one at a time, here) or a pool running ``width`` at a time (a cluster).
        ``adopt`` finds the outcome a trial killed before it was told had recorded (resume)."""
        from optuna.trial import TrialState

        pool = trials_at if hasattr(trials_at, "submit") else SerialPool(trials_at)  # type: ignore[arg-type]
        study = self._study(resume)
        self.records = self._resumed(study, adopt) if resume else []
        measured: dict[Stack, TrialRecord] = {r.stack: r for r in self.records}
        running: dict[int, tuple[Any, Stack]] = {}  # trial number -> Optuna's trial, the stack it runs
        next_number = max((r.number for r in self.records), default=0) + 1
        start, repeats = time.monotonic(), 0
        rng = np.random.default_rng(self.seed)
        dims = dimensions(self.space)

        def may_start() -> bool:
            if trials is not None and len(self.records) + len(running) >= trials:
                return False
            if len(measured) + len(running) >= self.space.size:
                return False
            return not (seconds is not None and time.monotonic() - start >= seconds or until(self.records))

        while True:
            while len(running) < pool.width and may_start():
                trial = study.ask()
                for dim in dims:
                    trial.suggest_categorical(dim.name, list(dim.values))
                choice = self._choice(trial)
                stack = self.space.stack(choice) if self.space.allows(choice) else None
                if stack is None or stack in measured or stack in {s for _, s in running.values()}:
                    self._tell_proposal(study, trial, stack, measured, TrialState)
                    repeats += 1
                    if repeats >= REPEATS_BEFORE_AN_UNTRIED_STACK:
                        taken = set(measured) | {s for _, s in running.values()}
                        untried = [c for c in self.space.choices() if self.space.stack(c) not in taken]
                        study.enqueue_trial(params_of(dims, untried[rng.integers(len(untried))]))
                        repeats = 0
                    continue
                repeats = 0
                running[next_number] = (trial, stack)
                trial.set_user_attr(STARTED, {"number": next_number, "stack": stack.as_json(), "at": time.time()})
                pool.submit(stack, next_number)
                next_number += 1
            if not running:
                return self.records
            number, outcome = pool.next_done()
            trial, stack = running.pop(number)
            record = self._record(stack, number, outcome)
            self.records.append(record)
            measured[stack] = record
            self._tell(study, trial, record, TrialState)
            front, volume = frontier_of(self.records, self.objectives)
            on_trial(Progress(record, trials, front, volume))

    def _tell_proposal(self, study: Any, trial: Any, stack: Stack | None, measured: Mapping[Stack, TrialRecord],
                       states: Any) -> None:
        """A proposal that is not run: outside the space (failed), measured before (told its values again, at no
        cost) or running now (failed: its values are not known yet)."""
        if stack is None:
            trial.set_user_attr("excluded", True)
            study.tell(trial, state=states.FAIL)
        elif stack in measured:
            self._tell(study, trial, measured[stack], states, duplicate=True)
        else:
            trial.set_user_attr("running_elsewhere", True)
            study.tell(trial, state=states.FAIL)

    def _record(self, stack: Stack, number: int, outcome: TrialOutcome) -> TrialRecord:
        record = TrialRecord(number, stack, "measured", "", dict(outcome.values), outcome.point, outcome.seconds,
                             outcome.measured_s, outcome.node)
        if outcome.skipped:
            return replace(record, status="skipped", reason=outcome.skipped)
        missing = [o.key for o in self.objectives if outcome.values.get(o.key) is None]
        if missing:
            return replace(record, status="skipped",
                           reason=f"no {', '.join(missing)} recorded ({_why_missing(missing)})")
        broken = [str(c) for c in self.constraints if c.violation(outcome.values.get(c.key)) > 0]
        if broken:
            return replace(record, status="infeasible", reason="violates " + "; ".join(broken))
        return record

    def _tell(self, study: Any, trial: Any, record: TrialRecord, states: Any, duplicate: bool = False) -> None:
        trial.set_user_attr("duplicate_of" if duplicate else "record",
                            record.number if duplicate else record.as_json())
        for constraint in self.constraints:  # <= 0 feasible: NSGA-II and TPE prefer feasible stacks
            trial.set_constraint(str(constraint), constraint.violation(record.values.get(constraint.key)))
        vector = objective_vector(record.values, self.objectives)
        if record.status == "skipped" or vector is None:
            study.tell(trial, state=states.FAIL)
            return
        study.tell(trial, [v if o.better == "min" else -v for v, o in zip(vector, self.objectives)])
