"""What `ck scoreboard` / `ck dashboard request.asplos18` were asked for: CK's input dict, validated."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from ... import atomic, places
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
    output = output_path(ck_flags.text(i, "output"), "output")
    return BoardRequest(
        filters=Filters(tags=tags, model=ck_flags.text(i, "model"), library=ck_flags.text(i, "library"),
                        platform=ck_flags.text(i, "platform"), precision=ck_flags.text(i, "precision"),
                        dataset=ck_flags.text(i, "dataset"), entry=ck_flags.text(i, "entry"),
                        scenario=scenario_flag(i)),
        x=parse_axis(ck_flags.text(i, "x") or DEFAULT_X, "x"), y=parse_axis(ck_flags.text(i, "y") or DEFAULT_Y, "y"),
        results_repos=repos, output=output, format=fmt)


def output_path(text: str, flag: str) -> Path | None:
    """--output=FILE checked before anything is read: a file in a folder that exists (never made: a typo would
    create folders anywhere), not a folder itself."""
    if not text:
        return None
    path = Path(text).expanduser()
    folder = path.parent
    if path.is_dir():
        raise RequestError(f"--{flag}={text}", "is a folder", f"name a file in it, e.g. --{flag}={path / 'board'}")
    if not folder.is_dir():
        raise RequestError(f"--{flag}={text}", f"its folder {folder} does not exist",
                           f"create it first (mkdir -p {folder}) or name a file in an existing folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise RequestError(f"--{flag}={text}", f"cannot write in {folder} (permission denied)",
                           "name a file in a folder you can write")
    return path


@contextmanager
def writing_output(path: Path, flag: str = "output") -> Iterator[None]:
    """Inside: a refusal of the system to write ``path`` becomes one line."""
    try:
        yield
    except OSError as err:
        raise RequestError(f"--{flag}={path}", f"cannot be written ({err.strerror or err})",
                           "name a file in a folder you can write") from None


def write_output(path: Path, text: str, flag: str = "output") -> None:
    """The whole text or nothing (atomic), a refusal of the system as one line."""
    with writing_output(path, flag):
        atomic.write_text(path, text)


def scenario_flag(i: Mapping[str, Any]) -> str:
    """--scenario=: native or one of LoadGen's scenarios (a misspelt one would silently match nothing)."""
    text = ck_flags.text(i, "scenario")
    if text and text.lower() not in {s.lower() for s in SCENARIOS}:
        raise RequestError(f"--scenario={text}", f"is not one of {', '.join(SCENARIOS)}", "e.g. --scenario=Offline")
    return text


def results_cache() -> Path:
    """Where the boards keep normalised points between runs (per CK_TOOLS, like every cache of ours)."""
    return places.cache("results-cache") / "points.sqlite3"
