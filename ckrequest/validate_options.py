"""The flags of `ck validate` / `ck check request.asplos18`, read from CK's input dict and checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .errors import RequestError

DEFAULT_TOLERANCE = 0.05
TRUE_WORDS = ("yes", "true", "1", "on")


def flag(i: Mapping[str, Any], name: str) -> bool:
    """A bare ``--name`` arrives from CK as "yes"."""
    value = i.get(name, "")
    return value is True or str(value).strip().lower() in TRUE_WORDS


def required(i: Mapping[str, Any], name: str, action: str) -> str:
    value = str(i.get(name, "") or "").strip()
    if not value:
        raise RequestError(f"ck {action} request.asplos18", f"--{name} is missing",
                           f"name the entry: ck {action} request.asplos18 --{name}=<experiment entry>")
    return value


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
        tolerance = i.get("tolerance", "")
        return cls(experiment=required(i, "experiment", "validate"),
                   reproduced=str(i.get("reproduced", "") or "").strip(),
                   point=str(i.get("point", "") or "").strip(),
                   tolerance=tolerance_fraction(tolerance) if str(tolerance).strip() else DEFAULT_TOLERANCE,
                   record_repo=str(i.get("record_repo", "") or "").strip(),
                   verbose=flag(i, "verbose"))
