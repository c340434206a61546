"""`ck scoreboard request.asplos18`: every recorded point side by side, Pareto frontier marked."""

from __future__ import annotations

import csv
import hashlib
import io
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence, TextIO

import orjson

from ..digest import code_digest
from ..platforms.catalog import attach_platforms, load_platforms
from ..results.cache import read_repos
from ..results.reader import ResultPoint, SkippedEntry, latest_verdicts, mark_validated
from ..results.schema import ACCURACY_KEYS, BY_KEY, Axis
from ..safe_text import for_spreadsheet, for_terminal
from .filters import DEFAULT_VIEW, AccuracyView, Filters, check_known
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
    accuracy: AccuracyView = DEFAULT_VIEW  # which accuracies rank together
    ranked: int = 0  # points that take part in the frontier


def collect(repo_paths: Iterable[tuple[str, Path]], cache_path: Path | None = None
            ) -> tuple[list[ResultPoint], list[SkippedEntry]]:
    """Every point of the repositories, validated marks and platforms attached; malformed ones in `skipped`."""
    repos = list(repo_paths)
    platforms, skipped = load_platforms(path for _, path in repos)
    described = repr(sorted(platforms, key=lambda p: p.alias)) + code_digest(attach_platforms.__module__)
    context = hashlib.sha256(described.encode()).hexdigest()[:16]  # the platforms and the code that attaches them
    points, unreadable, infos = read_repos(repos, cache_path, lambda found: attach_platforms(found, platforms),
                                           context)  # the cache keeps the points with their platforms attached
    return mark_validated(points, latest_verdicts(infos)), skipped + unreadable


def ranks(point: ResultPoint, axes: Sequence[Axis], accuracy: AccuracyView) -> bool:
    """Does the point take part in the frontier of these axes? It needs their values, LoadGen must not have
    judged it INVALID, and an accuracy compares only with accuracies of the same data set (a 4-photo smoke
    test never tops ImageNet's)."""
    numbers = point.numbers
    if point.invalid or any(a.key not in numbers for a in axes):  # LoadGen's INVALID: shown, never ranked
        return False
    return not any(a.key in ACCURACY_KEYS for a in axes) or accuracy.ranks(point)


def frontier_and_count(points: Sequence[ResultPoint], axes: Sequence[Axis], accuracy: AccuracyView = DEFAULT_VIEW
                       ) -> tuple[list[bool], int]:
    """Pareto flags over the given axes (a point that does not rank, see ``ranks``, is not on it), and how
    many points ranked."""
    ranked = [k for k, p in enumerate(points) if ranks(p, axes, accuracy)]
    mask = pareto_mask([[points[k].numbers[a.key] for a in axes] for k in ranked], [a.better for a in axes])
    flags = [False] * len(points)
    for k, on_front in zip(ranked, mask):
        flags[k] = on_front
    return flags, len(ranked)


def frontier(points: Sequence[ResultPoint], axes: Sequence[Axis], accuracy: AccuracyView = DEFAULT_VIEW
             ) -> list[bool]:
    return frontier_and_count(points, axes, accuracy)[0]


def build_board(repo_paths: Iterable[tuple[str, Path]], filters: Filters, x: Axis, y: Axis,
                cache_path: Path | None = None, refuse_unknown: bool = False) -> Board:
    """The board of the filtered points; ``refuse_unknown``: a filter value no point has is a RequestError (a
    user's flag), not an empty board (a report of an exploration that recorded nothing yet)."""
    points, skipped = collect(repo_paths, cache_path)
    if refuse_unknown:
        check_known(filters, points, [(s.path if s.path.is_dir() else s.path.parent).name for s in skipped])
    kept = [p for p in points if filters.keep(p)]
    view = filters.accuracy_view()
    flags, ranked = frontier_and_count(kept, (x, y), view)
    return Board(kept, flags, x, y, skipped, read=len(points), accuracy=view, ranked=ranked)


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


@dataclass(frozen=True)
class Column:
    """A numeric column of the table: its title and how a value is shown (declared by the schema)."""

    title: str
    key: str

    def cell(self, point: ResultPoint, accuracy: AccuracyView) -> str:
        value = point.numbers.get(self.key)
        if value is None:
            return "-"
        metric = BY_KEY[self.key]
        text = f"{value * metric.scale:.4g}" + ("%" if metric.unit == "%" else "")
        if self.key in ACCURACY_KEYS and not accuracy.ranks(point):
            text += "†"  # on another data set (the sample photos): shown, not ranked
        return "~" + text if self.key in point.nominal else text


def _columns(board: Board) -> list[Column]:
    columns = [Column(title, key) for title, key in TABLE]
    for axis in (board.x, board.y):
        if all(c.key != axis.key for c in columns):
            columns.append(Column(axis.key, axis.key))
    return columns


def _row(point: ResultPoint, on_front: bool, columns: list[Column], accuracy: AccuracyView) -> tuple[str, ...]:
    texts = point.texts
    model = texts.get("model_arch") or texts.get("model_design_name") or "?"
    farm = texts.get("farm", "")  # a farm of devices is the platform it ran on ("RPi farm: 5 devices (Avro)")
    platform = farm or point.platform or texts.get("plat_name") or "?"
    batch = point.numbers.get("batch_size")
    scenario = point.scenario + (" ✗" if point.invalid else "")
    return (for_terminal(_cut_middle(point.entry, 56)), "*" if on_front else "", for_terminal(_cut(model, 28)),
            for_terminal(texts.get("model_precision", "?")), for_terminal(_cut(texts.get("library_name", "?"), 32)),
            for_terminal(_cut(platform, 40 if farm else 28)), "-" if batch is None else f"{batch:.4g}",
            for_terminal(scenario),
            *(c.cell(point, accuracy) for c in columns), for_terminal(texts.get("weights", "-")))


def table_rows(board: Board) -> list[tuple[str, ...]]:
    """The table's rows, the header first; every text from an entry is safe for a terminal."""
    columns = _columns(board)
    head = ("entry", "front", "model", "prec", "library", "platform", "batch", "scenario", *(c.title for c in columns),
            "weights")
    ranked = sorted(zip(board.points, board.pareto), key=_sort_key(board.x))
    return [head, *(_row(point, on_front, columns, board.accuracy) for point, on_front in ranked)]


def _legend(board: Board) -> list[str]:
    x, y = board.x, board.y
    ranked = board.ranked
    words = {"min": "lower is better", "max": "higher is better"}
    lines = [f"* Pareto frontier of {x.metric.label} [{x.metric.unit}, {words[x.better]}] vs {y.metric.label} "
             f"[{y.metric.unit}, {words[y.better]}]: {sum(board.pareto)} of {ranked} ranked point(s)"
             + (f"; {len(board.points) - ranked} lack one of the two" if ranked < len(board.points) else "")
             + (f" (accuracies ranked: {board.accuracy.describe()})" if {x.key, y.key} & set(ACCURACY_KEYS)
                else "")]
    others = sorted({(p.accuracy_dataset, p.value("accuracy_images")) for p in board.points
                     if p.accuracy_dataset and not board.accuracy.ranks(p)})
    for dataset, images in others:
        count = f" {images:.0f} images of" if images else ""
        lines.append(f"† top-1/top-5 on{count} {dataset}: shown, not ranked with {board.accuracy.dataset} "
                     f"(--dataset={dataset} ranks them among themselves)")
    for point in (p for p in board.points if p.invalid):
        lines.append(for_terminal(f"✗ {_cut_middle(point.entry, 56)}: INVALID under MLPerf LoadGen's rules "
                                  f"({point.invalid_because()}): shown, never on the frontier"))
    if any(p.nominal for p in board.points):
        lines.append("~ nominal figure: a platform's specification or typical price, not a measurement")
    synthetic = sum(p.synthetic for p in board.points)
    if synthetic:
        lines.append(f"({synthetic} point(s) with synthetic weights: speed only, no accuracy)")
    return lines


def render_table(board: Board) -> str:
    if not board.points:
        return NO_POINTS if not board.read else f"none of the {board.read} recorded point(s) matches the filters"
    rows = table_rows(board)
    widths = [max(map(len, column)) for column in zip(*rows)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [line.format(*r).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines + [""] + _legend(board))


def _csv_value(value):
    """Numbers stay numbers; every text is escaped against formula injection (and quoted by the writer)."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, list):
        value = ";".join(f"{v['name']} {v['version']}".strip() if isinstance(v, dict) else str(v) for v in value)
    return for_spreadsheet(str(value))


def render_csv(board: Board) -> str:
    """One row per point, the columns of the JSON output (every schema key), texts escaped."""
    rows = board_json(board)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    columns = list(rows[0]) if rows else ["id", "pareto"]
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(row[c]) for c in columns])
    return out.getvalue()


def board_json(board: Board) -> list[dict]:
    return [{**point.as_json(), "pareto": on_front, "accuracy_ranked": board.accuracy.ranks(point)}
            for point, on_front in zip(board.points, board.pareto)]


def render_json(board: Board) -> str:
    """A JSON list, one point per line (orjson: 100,000 points in a second)."""
    lines = [orjson.dumps(point).decode() for point in board_json(board)]
    return "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"


RENDERERS = {"table": render_table, "csv": render_csv, "json": render_json}


def report_skipped(skipped: Iterable[SkippedEntry], err: TextIO | None = None) -> None:
    for item in skipped:
        print(for_terminal(f"ck-request: skipped {item.path}: {item.reason}"), file=err or sys.stderr)
