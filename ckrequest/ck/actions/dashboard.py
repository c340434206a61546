"""ck dashboard request.asplos18 --output=FILE.html [--png[=FILE.png]] [--serve [--port=N]]

The same filters, axes and --results_repo as the scoreboard; --title names the page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...board.dashboard import render_html
from ...board.filters import all_repos
from ...board.png import write_png
from ...board.scoreboard import build_board, report_skipped
from ...board.serve import serve
from ...errors import RequestError
from ...explore.log import explorations_in
from .. import flags as ck_flags
from .. import kernel as ck_kernel
from .board_request import from_ck, output_path, results_cache, write_output, writing_output

DEFAULT_PORT = 8018


def _png_path(i: dict[str, Any], output: Path) -> Path | None:
    wanted, path = ck_flags.flag_or_text(i, "png")
    if not wanted:
        return None
    return output_path(path, "png") if path else output.with_suffix(".png")


def run(i: dict[str, Any]) -> int:
    request = from_ck(i, ("html",), "html")
    if request.output is None:
        raise RequestError("ck dashboard request.asplos18", "no output file", "pass --output=FILE.html")
    png = _png_path(i, request.output)
    port = ck_flags.port(i, "port", DEFAULT_PORT) if ck_flags.flag(i, "serve") else None
    repos = all_repos(ck_kernel.repo_paths(), request.results_repos)
    board = build_board(repos, request.filters, request.x, request.y, results_cache(), refuse_unknown=True)
    report_skipped(board.skipped)
    shown = {(p.repo, p.entry) for p in board.points}
    explorations = explorations_in((name, path / "experiment" / entry) for name, entry in sorted(shown)
                                   for name_, path in repos if name_ == name)
    page = render_html(board, [name for name, _ in repos], ck_flags.text(i, "title", "ReQuEST scoreboard"),
                       explorations)
    write_output(request.output, page)
    print(f"wrote {request.output}: {len(board.points)} point(s), {sum(board.pareto)} on the frontier of "
          f"{request.x.key} vs {request.y.key}", flush=True)
    if png is not None:
        with writing_output(png, "png"):
            summary = write_png(board, png)
        print(f"wrote {png}: {summary.shown} point(s) plotted, {summary.frontier} on the frontier", flush=True)
    if port is not None:
        try:
            serve(request.output, port, lambda line: print(line, flush=True))
        except OSError as err:
            raise RequestError(f"--port={port}", f"cannot listen on 127.0.0.1:{port} ({err.strerror})",
                               "pick another port with --port=N (0: any free port)") from None
    return 0
