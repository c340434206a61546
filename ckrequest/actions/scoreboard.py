"""ck scoreboard request.asplos18: one line per recorded point."""

from __future__ import annotations

from typing import Any

from .. import ck_kernel
from ..scoreboard import print_scoreboard


def run(i: dict[str, Any]) -> int:
    return print_scoreboard(ck_kernel.repo_paths())
