"""`ck scoreboard request.asplos18`: every recorded point side by side."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable, Sequence

from .entries import ResultPoint, SkippedEntry, iter_points

COLUMNS = ("entry", "model", "prec", "library", "batch", "p50 ms", "p90 ms", "img/s", "top-1", "top-5",
           "size MB", "weights", "reps")


def _ms(seconds: float | None) -> str:
    return f"{seconds * 1e3:.3f}" if seconds is not None else "-"


def _pct(fraction: float | None) -> str:
    return f"{fraction:.1%}" if fraction is not None else "-"


def row(point: ResultPoint) -> tuple[str, ...]:
    return (
        point.entry, point.arch or point.model or "?", point.precision or "?", point.library or "?",
        str(point.batch_size) if point.batch_size is not None else "-",
        _ms(point.latency_p50_s), _ms(point.latency_p90_s),
        f"{point.throughput_ips:.1f}" if point.throughput_ips is not None else "-",
        _pct(point.accuracy_top1), _pct(point.accuracy_top5),
        f"{point.model_size_bytes / 1e6:.2f}" if point.model_size_bytes is not None else "-",
        point.weights or "?", str(point.repetitions) if point.repetitions is not None else "-",
    )


def render_table(points: Sequence[ResultPoint]) -> str:
    rows = [COLUMNS] + [row(p) for p in points]
    widths = [max(len(r[c]) for r in rows) for c in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(widths[c]) for c, cell in enumerate(r)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def collect(repo_paths: Iterable[tuple[str, Path]]) -> tuple[list[ResultPoint], list[SkippedEntry]]:
    points, skipped = [], []
    for name, path in repo_paths:
        for item in iter_points(path, name):
            (skipped if isinstance(item, SkippedEntry) else points).append(item)
    return points, skipped


def print_scoreboard(repo_paths: Iterable[tuple[str, Path]], out=None) -> int:
    out = out or sys.stdout
    points, skipped = collect(repo_paths)
    for item in skipped:
        print(f"skipped {item.path}: {item.reason}", file=sys.stderr)
    if not points:
        print("no experiment points recorded yet (record one: ck benchmark program:request-onnxruntime-classification "
              "--cmd_key=performance --record --record_uoa=<name> --quiet)", file=out)
        return 0
    print(render_table(points), file=out)
    synthetic = sum(p.weights == "synthetic" for p in points)
    if synthetic:
        print(f"({synthetic} point(s) with synthetic weights: speed only, no accuracy)", file=out)
    return 0
