"""A space's dimensions as Optuna parameters: each choice stored as the value that runs (batch size 1, not the
index 0), so that ``optuna.load_study`` and optuna-dashboard show the truth; the rank order of an ordinal
dimension (batch sizes, multiplier-0.25 ... multiplier-1.0) is kept for the samplers that use it
(``samplers.OrdinalView``)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

from .space import Space

INTEGER = re.compile(r"^-?\d+$")
ParamValue = int | float | str


def param_value(choice: str) -> ParamValue:
    """A choice as Optuna stores it: a number where the choice is one (``"8"`` -> 8), else the text."""
    if INTEGER.match(choice):
        return int(choice)
    try:
        number = float(choice)
    except ValueError:
        return choice
    return number if math.isfinite(number) else choice


@dataclass(frozen=True)
class Dimension:
    name: str
    choices: tuple[str, ...]  # as the space spells them; in increasing order where ordinal
    ordinal: bool

    @property
    def values(self) -> tuple[ParamValue, ...]:
        typed = tuple(param_value(c) for c in self.choices)
        return typed if len(set(typed)) == len(typed) else self.choices  # "1" and "1.0": kept as text

    def choice(self, value: Any) -> str:
        """The choice a stored parameter stands for."""
        return self.choices[self.values.index(value)]

    def numbers(self) -> tuple[float, ...] | None:
        """The choices as numbers (the trailing number of an ordinal tag: multiplier-0.25 -> 0.25), else None."""
        found = [re.search(r"(?:^|-)(-?\d+(?:\.\d+)?)$", c) for c in self.choices]
        return tuple(float(m.group(1)) for m in found if m) if all(found) else None


def dimensions(space: Space) -> tuple[Dimension, ...]:
    ordered = space.ordered()
    return tuple(Dimension(name, ordered[name] or choices, ordered[name] is not None)
                 for name, choices in space.dimensions.items())


def choice_of(dims: tuple[Dimension, ...], params: Mapping[str, Any],
              ranks: Mapping[str, bool] | None = None) -> dict[str, str]:
    """Optuna's parameters as choices; ``ranks`` names the parameters a search before the journal stored values
    recorded as the rank of an ordinal choice."""
    by_name = {d.name: d for d in dims}
    return {name: by_name[name].choices[int(value)] if ranks and ranks.get(name) else by_name[name].choice(value)
            for name, value in params.items()}


def params_of(dims: tuple[Dimension, ...], choice: Mapping[str, str]) -> dict[str, ParamValue]:
    """The inverse of ``choice_of``: a choice as Optuna's parameters."""
    return {d.name: param_value(choice[d.name]) for d in dims if d.name in choice}
