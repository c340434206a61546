"""A recorded search replayed: each stack's result read from an exploration log, nothing measured.

The search-quality benchmark runs every strategy over a recorded full grid this way, so that the
strategies are compared on the very same measurements (and ten seeds of each take seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import orjson

from ..errors import RequestError
from .frontier import bounds, hypervolume, pareto_flags
from .search import TrialOutcome, TrialRecord, objective_vector
from .space import Objective, Space, Stack, parse_objective, space_from_json


@dataclass(frozen=True)
class RecordedGrid:
    """Every stack of a space with what a trial of it gave (a grid search's log)."""

    space: Space
    objectives: tuple[Objective, ...]
    outcomes: Mapping[Stack, TrialOutcome]

    @staticmethod
    def from_log(data: Mapping[str, Any], where: str) -> RecordedGrid:
        space = space_from_json(data.get("space"), str(data.get("space_name") or where))
        outcomes = {Stack.from_json(t["stack"]): TrialOutcome(values=t.get("values", {}), point=t.get("point", ""),
                                                            skipped=t.get("reason", "") if t["status"] == "skipped"
                                                            else "")
                    for t in data.get("trials", [])}
        missing = sum(1 for stack in space.grid() if stack not in outcomes)
        if missing:
            raise RequestError(f"recorded grid {where}", f"lacks {missing} of the space's {space.size} stacks",
                               "record the whole grid: ck explore ... --strategy=grid (no --trials)")
        objectives = tuple(parse_objective(o) for o in data.get("objectives", [])) or space.objectives
        return RecordedGrid(space, objectives, outcomes)

    @staticmethod
    def load(path: Path) -> RecordedGrid:
        try:
            return RecordedGrid.from_log(orjson.loads(path.read_bytes()), str(path))
        except (OSError, ValueError) as err:
            raise RequestError(f"recorded grid {path}", f"is not readable ({err})",
                               "pass an exploration's explore.json") from None

    def __call__(self, stack: Stack, number: int) -> TrialOutcome:
        return self.outcomes[stack]

    def vectors(self) -> list[list[float]]:
        found = (objective_vector(o.values, self.objectives) for o in self.outcomes.values() if not o.skipped)
        return [v for v in found if v is not None]

    def limits(self) -> Any:
        return bounds(self.vectors())

    def best_hypervolume(self) -> float:
        """The hypervolume of the whole grid's frontier (the grid's own bounds)."""
        vectors = self.vectors()
        return hypervolume([v for v, on in zip(vectors, pareto_flags(vectors)) if on], [], self.limits())

    def hypervolume_of(self, records: list[TrialRecord]) -> float:
        """The hypervolume of what ``records`` measured, on the grid's bounds (comparable across searches)."""
        vectors = [v for v in (objective_vector(r.values, self.objectives) for r in records
                               if r.status == "measured") if v is not None]
        return hypervolume([v for v, on in zip(vectors, pareto_flags(vectors)) if on], [], self.limits())
