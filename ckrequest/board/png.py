"""`ck dashboard request.asplos18 --png=FILE.png`: the scatter and its frontier as a picture (matplotlib)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import atomic
from .palette import group_of, styles
from .scoreboard import Board


@dataclass(frozen=True)
class PlotSummary:
    path: Path
    shown: int  # points with both values (and positive ones on a log axis)
    frontier: int  # of those, on the frontier


def _axis_label(axis, log: bool) -> str:
    metric = axis.metric
    return f"{metric.label} [{metric.unit}]" + (" (log)" if log else "")


def write_png(board: Board, path: Path, colour_by: str = "library_name") -> PlotSummary:
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    x, y = board.x, board.y
    log_x, log_y = x.metric.log, y.metric.log
    rows = [(p, on) for p, on in zip(board.points, board.pareto)
            if p.value(x.key) is not None and p.value(y.key) is not None
            and (not log_x or p.value(x.key) > 0) and (not log_y or p.value(y.key) > 0)]
    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=120)
    groups = styles(group_of(getattr(p, colour_by)) for p in board.points)  # every point's group, as the page
    for group, style in groups.items():
        members = [(p, on) for p, on in rows if group_of(getattr(p, colour_by)) == group]
        if not members:
            continue
        colour = style.colour
        xs = [p.value(x.key) * x.metric.scale for p, _ in members]
        ys = [p.value(y.key) * y.metric.scale for p, _ in members]
        faces = ["white" if p.synthetic else colour for p, _ in members]
        sizes = [70 if on else 28 for _, on in members]
        ax.scatter(xs, ys, s=sizes, c=faces, edgecolors=[colour] * len(members), linewidths=1.4,
                   marker=style.marker, label=group[:40], zorder=3)
    front = sorted((p.value(x.key) * x.metric.scale, p.value(y.key) * y.metric.scale) for p, on in rows if on)
    if len(front) > 1:
        ax.plot([a for a, _ in front], [b for _, b in front], "k--", linewidth=1.2, label="Pareto frontier", zorder=2)
    ax.set_xscale("log" if log_x else "linear")
    ax.set_yscale("log" if log_y else "linear")
    ax.set_xlabel(_axis_label(x, log_x))
    ax.set_ylabel(_axis_label(y, log_y))
    ax.set_title(f"{len(front)} of {len(rows)} points on the frontier (hollow: synthetic weights)", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    if rows:
        many = len(groups) > 10  # beside the plot, never over its points
        ax.legend(fontsize=7, loc="upper left" if many else "best", bbox_to_anchor=(1.01, 1) if many else None,
                  ncol=1 + len(groups) // 30)
    fig.tight_layout()
    with atomic.staged_file(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return PlotSummary(Path(path), len(rows), len(front))
