"""`ck scoreboard request.asplos18`: every recorded point side by side, Pareto frontier marked."""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Sequence, TextIO

from ..platforms.catalog import attach_platforms, load_platforms
from ..results.reader import POINT_FIELDS, ResultPoint, SkippedEntry, iter_points, latest_verdicts
from ..results.schema import BY_KEY, Axis, shown
from ..safe_text import for_spreadsheet, for_terminal
from .filters import Filters
from .pareto import pareto_mask

NO_POINTS = ("no experiment points recorded yet (record one: ck benchmark program:request-onnxruntime-classification "
             "--record --record_uoa=<name> --quiet)")


@dataclass(frozen=True)
class Board:
    points: list[ResultPoint]
    pareto: list[bool]  # per point: on the frontier of (x, y)
    x: Axis
    y: Axis
    skipped: list[SkippedEntry]
    read: int = 0  # points read before the filters


def collect(repo_paths: Iterable[tuple[str, Path]]) -> tuple[list[ResultPoint], list[SkippedEntry]]:
    """Every point of the repositories, with its platform attached; malformed ones reported in `skipped`."""
    repos = list(repo_paths)
    platforms, skipped = load_platforms(path for _, path in repos)
    points: list[ResultPoint] = []
    for name, path in repos:
        for item in iter_points(path, name):
            (skipped if isinstance(item, SkippedEntry) else points).append(item)
    verdicts = latest_verdicts(repos)
    points = [replace(p, validated=True) if verdicts.get(f"{p.repo}:{p.entry}") == "REPRODUCED" else p
              for p in points]
    return attach_platforms(points, platforms), skipped


def frontier(points: Sequence[ResultPoint], axes: Sequence[Axis]) -> list[bool]:
    """Pareto flags over the given axes; a point lacking one of their values is not ranked."""
    ranked = [k for k, p in enumerate(points) if all(p.value(a.key) is not None for a in axes)]
    mask = pareto_mask([[points[k].value(a.key) for a in axes] for k in ranked], [a.better for a in axes])
    flags = [False] * len(points)
    for k, on_front in zip(ranked, mask):
        flags[k] = on_front
    return flags


def build_board(repo_paths: Iterable[tuple[str, Path]], filters: Filters, x: Axis, y: Axis) -> Board:
    points, skipped = collect(repo_paths)
    kept = [p for p in points if filters.keep(p)]
    return Board(kept, frontier(kept, (x, y)), x, y, skipped, read=len(points))


def _sort_key(axis: Axis):
    def key(item: tuple[ResultPoint, bool]):
        value = item[0].value(axis.key)
        return (value is None, 0.0 if value is None else (value if axis.better == "min" else -value))
    return key


TABLE = (("latency ms", "inference_latency"), ("img/s", "inference_throughput"), ("top-1", "accuracy_top1"),
         ("top-5", "accuracy_top5"), ("MB", "model_size"), ("$", "platform_price"), ("W", "platform_peak_power"),
         ("$/1k img", "usage_cost"))


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _cut_middle(text: str, width: int) -> str:
    """Entry names differ at their ends (validated-ck-request-asplos18-...-resnet50-int8): keep both."""
    if len(text) <= width:
        return text
    head = (width - 1) // 3
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


def _cell(point: ResultPoint, key: str) -> str:
    text = shown(BY_KEY[key], point.value(key))
    if BY_KEY[key].unit == "%" and text != "-":
        text += "%"
    return ("~" + text) if key in point.nominal and text != "-" else text


def _columns(board: Board) -> list[tuple[str, str]]:
    columns = list(TABLE)
    for axis in (board.x, board.y):
        if all(key != axis.key for _, key in columns):
            columns.append((f"{axis.key}", axis.key))
    return columns


def _row(point: ResultPoint, on_front: bool, columns: list[tuple[str, str]]) -> tuple[str, ...]:
    model = point.model_arch or point.model_design_name or "?"
    platform = point.platform or point.plat_name or "?"
    return (_cut_middle(point.entry, 56), "*" if on_front else "", _cut(model, 28), point.model_precision or "?",
            _cut(point.library_name or "?", 32), _cut(platform, 28), shown(BY_KEY["batch_size"], point.batch_size),
            *(_cell(point, key) for _, key in columns), point.weights or "-")


def table_rows(board: Board) -> list[tuple[str, ...]]:
    columns = _columns(board)
    head = ("entry", "front", "model", "prec", "library", "platform", "batch", *(title for title, _ in columns),
            "weights")
    ranked = sorted(zip(board.points, board.pareto), key=_sort_key(board.x))
    return [head, *(_row(point, on_front, columns) for point, on_front in ranked)]


def _legend(board: Board) -> list[str]:
    x, y = board.x, board.y
    ranked = sum(1 for p in board.points if p.value(x.key) is not None and p.value(y.key) is not None)
    words = {"min": "lower is better", "max": "higher is better"}
    lines = [f"* Pareto frontier of {x.metric.label} [{x.metric.unit}, {words[x.better]}] vs {y.metric.label} "
             f"[{y.metric.unit}, {words[y.better]}]: {sum(board.pareto)} of {ranked} ranked point(s)"
             + (f"; {len(board.points) - ranked} lack one of the two" if ranked < len(board.points) else "")]
    if any(p.nominal for p in board.points):
        lines.append("~ nominal figure: a platform's specification or typical price, not a measurement")
    synthetic = sum(p.synthetic for p in board.points)
    if synthetic:
        lines.append(f"({synthetic} point(s) with synthetic weights: speed only, no accuracy)")
    return lines


def render_table(board: Board) -> str:
    if not board.points:
        return NO_POINTS if not board.read else f"none of the {board.read} recorded point(s) matches the filters"
    rows = [tuple(for_terminal(cell) for cell in row) for row in table_rows(board)]
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[c]) for c, cell in enumerate(r)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines + [""] + _legend(board))


def _csv_value(value):
    """Numbers stay numbers; every text is escaped against formula injection (and quoted by the writer)."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, (tuple, list)):
        value = ";".join(f"{v.name} {v.version}".strip() if hasattr(v, "version") else str(v) for v in value)
    return for_spreadsheet(str(value))


def render_csv(board: Board) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(["id", "pareto", *POINT_FIELDS])
    for point, on_front in zip(board.points, board.pareto):
        writer.writerow([_csv_value(point.id), str(on_front), *(_csv_value(getattr(point, f)) for f in POINT_FIELDS)])
    return out.getvalue()


def board_json(board: Board) -> list[dict]:
    return [{**point.as_json(), "pareto": on_front} for point, on_front in zip(board.points, board.pareto)]


def render_json(board: Board) -> str:
    """A JSON list, one point per line (json's fast C encoder only works without indent)."""
    lines = [json.dumps(point, allow_nan=False) for point in board_json(board)]
    return "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"


RENDERERS = {"table": render_table, "csv": render_csv, "json": render_json}


def report_skipped(skipped: Iterable[SkippedEntry], err: TextIO | None = None) -> None:
    for item in skipped:
        print(for_terminal(f"ck-request: skipped {item.path}: {item.reason}"), file=err or sys.stderr)
