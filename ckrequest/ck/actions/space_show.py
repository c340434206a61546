"""ck show request.space:<name> (or --space=<file.json>): a space checked, and what it holds.

Prints each dimension with its choices, the exclusions, the objectives and constraints, and the
number of stacks (the grid without the excluded ones), so that a space can be sized before it is
searched.
"""

from __future__ import annotations

from typing import Any

from ...errors import RequestError
from ...explore.report import describe_space
from .. import flags as ck_flags
from .explore import resolve_space


def run(i: dict[str, Any]) -> int:
    name = ck_flags.text(i, "space") or ck_flags.text(i, "data_uoa")
    if not name:
        raise RequestError("ck show request.space", "names no space",
                           "write ck show request.space:<name> (ck list request.space) or --space=<file.json>")
    space = resolve_space(name)
    print(describe_space(space))
    return 0
