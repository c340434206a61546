"""The exploration log an experiment entry keeps beside its points (``explore.json``): the space, the
settings, every trial in order (its stack, what it measured or why it was skipped, its point), and
the frontier as it grew with its hypervolume after each trial (normalised once, by every trial
measured, so the curve is comparable along the search). The dashboard draws it; ``--resume`` reads
the space and objectives from it (their fingerprints say whether a resume asks for the same search);
Optuna's journal is the search's own memory of its trials."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import orjson

from .. import atomic
from .frontier import bounds, hypervolume, pareto_flags
from .search import Exploration, TrialRecord, objective_vector

LOG_FILE = "explore.json"
STUDY_FILE = "explore-study.journal"  # Optuna's journal storage: what --resume continues


@dataclass(frozen=True)
class Growth:
    trial: int
    frontier: tuple[int, ...]
    hypervolume: float


def growth(records: Sequence[TrialRecord], exploration: Exploration) -> list[Growth]:
    """After each trial: the frontier so far and its hypervolume, all normalised by the final bounds."""
    measured = [(r.number, objective_vector(r.values, exploration.objectives)) for r in records
                if r.status == "measured"]
    measured = [(n, v) for n, v in measured if v is not None]
    limits = bounds([v for _, v in measured]) if measured else None
    steps, seen = [], []
    for record in records:
        seen += [(n, v) for n, v in measured if n == record.number]
        flags = pareto_flags([v for _, v in seen])
        front = [v for (_, v), on in zip(seen, flags) if on]
        volume = hypervolume(front, [], limits) if limits is not None else 0.0
        steps.append(Growth(record.number, tuple(n for (n, _), on in zip(seen, flags) if on), volume))
    return steps


NOT_THE_SEARCH = ("description", "objectives")  # a space's fields that do not change its stacks (objectives: their own)


def fingerprint(space: Mapping[str, Any], objectives: Sequence[str]) -> dict[str, str]:
    """What a search is: the digest of its space's stacks (the space file's fields that choose them) and of
    its objectives, in order (they are the study's directions)."""
    stacks = {k: v for k, v in space.items() if k not in NOT_THE_SEARCH}
    return {"space": hashlib.sha256(orjson.dumps(stacks, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16],
            "objectives": hashlib.sha256(",".join(objectives).encode()).hexdigest()[:16]}


def recorded_fingerprint(data: Mapping[str, Any]) -> dict[str, str]:
    """The fingerprint explore.json records (computed from its space and objectives when it predates them)."""
    return data.get("fingerprint") or fingerprint(data.get("space", {}), data.get("objectives", []))


def log_json(exploration: Exploration, records: Sequence[TrialRecord]) -> dict[str, Any]:
    objectives = [str(o) for o in exploration.objectives]
    return {"version": 1, "name": exploration.name, "space": dict(exploration.space.source),
            "space_name": exploration.space.name, "strategy": exploration.strategy, "seed": exploration.seed,
            "fingerprint": fingerprint(exploration.space.source, objectives), "objectives": objectives,
            "constraints": [str(c) for c in exploration.constraints], "space_size": exploration.space.size,
            "trials": [r.as_json() for r in records],
            "growth": [{"trial": g.trial, "frontier": list(g.frontier), "hypervolume": round(g.hypervolume, 6)}
                       for g in growth(records, exploration)]}


def write_log(entry: Path, exploration: Exploration, records: Sequence[TrialRecord]) -> Path:
    path = entry / LOG_FILE
    atomic.write_bytes(path, orjson.dumps(log_json(exploration, records), option=orjson.OPT_INDENT_2))
    return path


def read_log(entry: Path) -> dict[str, Any] | None:
    try:
        return orjson.loads((entry / LOG_FILE).read_bytes())
    except (OSError, ValueError):
        return None


def explorations_in(entries: Iterable[tuple[str, Path]]) -> list[dict[str, Any]]:
    """The logs of the explorations among ``entries`` (repository name, entry folder), as the dashboard
    draws them: each trial's objective and constraint values only."""
    views = []
    for repo, folder in entries:
        data = read_log(folder)
        if not data or data.get("version") != 1:
            continue
        objectives = [dict(zip(("key", "better"), str(o).split(":", 1))) for o in data.get("objectives", [])]
        keys = {o["key"] for o in objectives} | {str(c).split()[0] for c in data.get("constraints", [])}
        trials = [{**{k: t.get(k, "") for k in ("number", "label", "status", "reason", "point")},
                   "values": {k: v for k, v in t.get("values", {}).items() if k in keys}}
                  for t in data.get("trials", [])]
        views.append({"repo": repo, "entry": folder.name, "strategy": data.get("strategy", ""),
                      "space_name": data.get("space_name", ""), "space_size": data.get("space_size", 0),
                      "objectives": objectives, "constraints": data.get("constraints", []), "trials": trials,
                      "growth": data.get("growth", [])})
    return views
