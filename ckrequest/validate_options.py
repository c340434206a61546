"""The flags of `ck validate` / `ck check request.asplos18`, read from CK's input dict and checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from . import ck_flags
from .errors import RequestError

DEFAULT_TOLERANCE = 0.05
def tolerance_fraction(text: Any) -> float:
    """``--tolerance=5`` or ``--tolerance=5%``: percent, more than 0 and less than 100."""
    raw = str(text).strip().rstrip("%").strip()
    try:
        percent = float(raw)
    except ValueError:
        percent = float("nan")
    if not 0 < percent < 100:
        raise RequestError(f"--tolerance={text}", "is not a percentage between 0 and 100",
                           "give it in percent, e.g. --tolerance=5")
    return percent / 100


@dataclass(frozen=True)
class ValidateOptions:
    experiment: str
    reproduced: str = ""
    point: str = ""
    tolerance: float = DEFAULT_TOLERANCE
    record_repo: str = ""  # where a reproduction is recorded (default: next to the original)
    verbose: bool = False

    @classmethod
    def from_ck(cls, i: Mapping[str, Any]) -> ValidateOptions:
        tolerance = ck_flags.text(i, "tolerance")
        return cls(experiment=ck_flags.required(i, "experiment", "ck validate request.asplos18"),
                   reproduced=ck_flags.text(i, "reproduced"), point=ck_flags.text(i, "point"),
                   tolerance=tolerance_fraction(tolerance) if tolerance else DEFAULT_TOLERANCE,
                   record_repo=ck_flags.text(i, "record_repo"), verbose=ck_flags.flag(i, "verbose"))
