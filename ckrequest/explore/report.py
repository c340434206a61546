"""What an exploration prints: a line per trial, and the frontier at the end."""

from __future__ import annotations

from typing import Mapping, Sequence

from ..results import schema
from ..results.reader import SMOKE_TEST_BELOW
from ..safe_text import for_terminal
from .search import Progress, TrialRecord, frontier_of
from .space import Objective, Space


def shown(key: str, value: float | None) -> str:
    """A value in its schema unit: ``latency (batch 1) 1.23 ms``."""
    metric = schema.BY_NAME[key]
    if value is None:
        return f"{metric.label} -"
    unit = f" {metric.unit}" if metric.unit and metric.unit != "%" else metric.unit
    return f"{metric.label} {value * metric.scale:.4g}{unit}"


def values_text(values: Mapping[str, float | None], objectives: Sequence[Objective]) -> str:
    return ", ".join(shown(o.key, values.get(o.key)) for o in objectives)


def progress_line(progress: Progress, objectives: Sequence[Objective]) -> str:
    record = progress.trial
    budget = f"/{progress.budget}" if progress.budget else ""
    outcome = values_text(record.values, objectives) if record.status == "measured" else \
        f"{record.status}: {record.reason}"
    where = f" on {record.node}" if record.node else ""
    return for_terminal(f"trial {record.number}{budget}: {record.stack.describe()}{where} -> {outcome} | frontier "
                        f"{len(progress.frontier)} stack(s), hypervolume {progress.hypervolume:.3f} "
                        f"({record.seconds:.1f} s)")


def frontier_table(records: Sequence[TrialRecord], objectives: Sequence[Objective]) -> str:
    front, volume = frontier_of(records, objectives)
    counts = {status: sum(r.status == status for r in records) for status in ("measured", "infeasible", "skipped")}
    lines = [f"{len(records)} trial(s): {counts['measured']} measured, {counts['infeasible']} infeasible, "
             f"{counts['skipped']} skipped; the Pareto frontier ({len(front)} stack(s), hypervolume {volume:.3f}):"]
    by_number = {r.number: r for r in records}
    rows = [("trial", "stack", *(schema.BY_NAME[o.key].label for o in objectives), "point")]
    for number in sorted(front, key=lambda n: [by_number[n].values.get(o.key) or 0.0 for o in objectives]):
        record = by_number[number]
        rows.append((str(number), record.stack.describe(),
                     *(shown(o.key, record.values.get(o.key)).removeprefix(schema.BY_NAME[o.key].label).strip()
                       for o in objectives), record.point))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    smoke = sorted({int(by_number[n].values.get("accuracy_images") or 0) for n in front
                    if any(o.key in schema.ACCURACY_KEYS for o in objectives)} - {0})
    if smoke and smoke[0] < SMOKE_TEST_BELOW:
        lines.append(f"accuracies over {', '.join(map(str, smoke))} image(s): a smoke test, not an ImageNet figure "
                     f"(the scoreboard ranks accuracies over {SMOKE_TEST_BELOW} images or more)")
    skipped = [r for r in records if r.status == "skipped"]
    lines += [f"skipped: trial {r.number} ({r.stack.describe()}): {r.reason}" for r in skipped[:10]]
    return "\n".join(for_terminal(line) for line in lines)


def describe_space(space: Space) -> str:
    """A space as ``ck show request.space`` prints it: what it is, its dimensions, its size."""
    lines = [f"space {space.name}: {space.size} stack(s)" + (f" - {space.description}" if space.description else "")]
    for name, choices in space.dimensions.items():
        if choices != ("",):
            lines.append(f"  {name}: {' | '.join(c or '(the default)' for c in choices)}")
    lines += [f"  exclude: {' and '.join(f'{n} {chr(44).join(v)}' for n, v in rule.conditions)}"
              for rule in space.exclude]
    lines.append(f"  objectives: {', '.join(map(str, space.objectives))}")
    if space.constraints:
        lines.append(f"  constraints: {'; '.join(map(str, space.constraints))}")
    lines.append(f"  repetitions per stack: {space.repetitions}"
                 + ("; stacks with real weights also run in accuracy mode" if space.measure_accuracy else ""))
    return "\n".join(for_terminal(line) for line in lines)
