"""ck scoreboard request.asplos18: every recorded point side by side, the Pareto frontier marked.

Flags: --tags, --model, --library, --platform, --precision, --dataset, --entry (filters); --x, --y (unified keys,
optionally key:min or key:max); --format=table|csv|json; --output=FILE; --results_repo=PATH[,PATH].
--predictions=<entry> prints the per-image predictions an accuracy run kept instead.
"""

from __future__ import annotations

from typing import Any

from ...board.filters import all_repos
from ...board.scoreboard import RENDERERS, build_board, report_skipped
from ...results.predictions import render_entry
from .. import flags as ck_flags
from .. import kernel as ck_kernel
from .board_request import from_ck, results_cache, write_output
from .check import find_experiment


def run(i: dict[str, Any]) -> int:
    entry = ck_flags.text(i, "predictions")
    if entry:
        location = find_experiment(entry)
        print(render_entry(location.path, location.name))
        return 0
    request = from_ck(i, RENDERERS, "table")
    repos = all_repos(ck_kernel.repo_paths(), request.results_repos)
    board = build_board(repos, request.filters, request.x, request.y, results_cache(), refuse_unknown=True)
    report_skipped(board.skipped)
    text = RENDERERS[request.format](board)
    if request.output is None:
        print(text.rstrip("\n"))
    else:
        write_output(request.output, text)
        print(f"wrote {len(board.points)} point(s) ({sum(board.pareto)} on the frontier) to {request.output}")
    return 0
