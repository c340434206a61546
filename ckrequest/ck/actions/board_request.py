"""What `ck scoreboard` / `ck dashboard request.asplos18` were asked for: CK's input dict, validated."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from ... import places
from ...board.filters import Filters, check_results_repo
from ...errors import RequestError
from ...results.schema import DEFAULT_X, DEFAULT_Y, Axis, parse_axis
from ...run.config import SCENARIOS
from .. import flags as ck_flags


@dataclass(frozen=True)
class BoardRequest:
    filters: Filters
    x: Axis
    y: Axis
    results_repos: tuple[Path, ...]
    output: Path | None
    format: str


def from_ck(i: Mapping[str, Any], formats: Iterable[str], default_format: str) -> BoardRequest:
    fmt = ck_flags.choice(i, "format", tuple(formats), default_format)
    tags = ck_flags.texts(i, "tags")
    repos = tuple(Path(p).expanduser() for p in ck_flags.texts(i, "results_repo"))
    for path in repos:
        check_results_repo(path)
    output = ck_flags.text(i, "output")
    return BoardRequest(
        filters=Filters(tags=tags, model=ck_flags.text(i, "model"), library=ck_flags.text(i, "library"),
                        platform=ck_flags.text(i, "platform"), precision=ck_flags.text(i, "precision"),
                        dataset=ck_flags.text(i, "dataset"), entry=ck_flags.text(i, "entry"),
                        scenario=scenario_flag(i)),
        x=parse_axis(ck_flags.text(i, "x") or DEFAULT_X, "x"), y=parse_axis(ck_flags.text(i, "y") or DEFAULT_Y, "y"),
        results_repos=repos, output=Path(output).expanduser() if output else None, format=fmt)


def scenario_flag(i: Mapping[str, Any]) -> str:
    """--scenario=: native or one of LoadGen's scenarios (a misspelt one would silently match nothing)."""
    text = ck_flags.text(i, "scenario")
    if text and text.lower() not in {s.lower() for s in SCENARIOS}:
        raise RequestError(f"--scenario={text}", f"is not one of {', '.join(SCENARIOS)}", "e.g. --scenario=Offline")
    return text


def results_cache() -> Path:
    """Where the boards keep normalised points between runs (per CK_TOOLS, like every cache of ours)."""
    return places.cache("results-cache") / "points.sqlite3"
