"""The table `ck validate request.asplos18` prints."""

from __future__ import annotations

import statistics
from typing import Sequence

from ..safe_text import for_terminal
from .validate import MetricResult, Validation

SCALE = {"ms": 1e3, "img/s": 1.0, "images": 1.0}
COLUMNS = ("metric", "original", "reproduced", "ratio [95% CI]", "verdict", "why")


def _side(values: Sequence[float], unit: str) -> str:
    if not values:
        return "-"
    median = statistics.median(values) * SCALE.get(unit, 1.0)
    number = f"{median:.0f}" if unit == "images" else f"{median:.4g}"
    return f"{number} {unit} (n={len(values)})"


def _ratio(result: MetricResult) -> str:
    interval = result.verdict.interval
    if interval is None:
        return "-"
    over = " q" if interval.samples == "queries" else ""  # the interval from every query, not per repetition
    return f"{interval.ratio:.3f} [{interval.low:.3f}, {interval.high:.3f}]{over}"


def rows(validation: Validation) -> list[tuple[str, ...]]:
    return [(r.metric.name, _side(r.original, r.metric.unit), _side(r.reproduced, r.metric.unit), _ratio(r),
             r.verdict.verdict, r.verdict.reason) for r in validation.metrics]


def render(validation: Validation) -> str:
    lines = [f"original    experiment:{validation.original}",
             f"reproduced  experiment:{validation.reproduced}",
             f"tolerance   {validation.tolerance:.1%}"]
    if validation.foreign_load_cores is not None:
        lines.append(f"other load  {validation.foreign_load_cores:.2f} cores busy with other processes "
                     "during the reproduction")
    for title, items in (("platform differs", validation.sides.platform),
                         ("dependency mismatch", validation.sides.environment),
                         ("stack differs", validation.sides.stack),
                         ("resolved differently", validation.sides.resolved_differently)):
        lines += [f"{title}: {item}" for item in items]
    table = [COLUMNS] + rows(validation)
    widths = [max(len(r[c]) for r in table) for c in range(len(COLUMNS) - 1)]
    for k, row in enumerate(table):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])
        if k == 0:
            lines.append("  ".join("-" * w for w in widths) + "  ---")
    if any(r.verdict.interval is not None and r.verdict.interval.samples == "queries" for r in validation.metrics):
        lines.append("q: 95% interval from every timed query of every repetition (scipy bootstrap)")
    lines.append(f"verdict     {validation.verdict}")
    return "\n".join(for_terminal(line) for line in lines)
