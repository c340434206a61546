"""The summary `ck replay experiment:X` ends with: metric, original, replayed, ratio.

CK's replay itself compares the keys module request.asplos18 lists (``replay_keys`` in its meta,
found through the entry's ``scenario_module_uoa``) and flags differences beyond 8 %; this adds,
when the `ck` process ends, the ratio of each headline metric over the repetitions of both sides.
"""

from __future__ import annotations

import atexit
import statistics
import sys
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from ..errors import RequestError
from ..results import schema
from ..results.entry import RecordedPoint

HEADLINES = tuple(schema.BY_NAME[name] for name in ("latency_p50_s", "latency_p90_s", "inference_throughput",
                                                     "accuracy_top1", "accuracy_top5"))


@dataclass(frozen=True)
class ReplayTarget:
    entry: str  # [repo:]alias, as CK's command line named it
    point: str


def replay_target(cli: Mapping[str, Any]) -> ReplayTarget | None:
    """What `ck replay experiment:X [--point=P]` replays, from CK's parsed command line."""
    if cli.get("action") != "replay":
        return None
    cid = str(cli.get("cid", ""))
    parts = cid.split(":")
    if len(parts) < 2 or parts[-2] != "experiment":
        return None
    entry = ":".join(parts[:-2] + parts[-1:])
    return ReplayTarget(entry, str(cli.get("point", "") or ""))


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def summary_lines(original: RecordedPoint, replayed: Sequence[Mapping[str, Any]]) -> list[str]:
    rows = []
    for h in HEADLINES:
        a = _median(original.values(h.name))
        b = _median([float(r[h.name]) for r in replayed if isinstance(r.get(h.name), (int, float))])
        if a is None and b is None:
            continue
        ratio = f"{b / a:.3f}" if a and b is not None else "-"
        rows.append((h.label, "-" if a is None else f"{a * h.scale:.4g} {h.unit}",
                     "-" if b is None else f"{b * h.scale:.4g} {h.unit}", ratio))
    if not rows:
        return []
    head = ("metric", f"original (n={original.repetitions})", f"replayed (n={len(replayed)})", "ratio")
    widths = [max(len(r[c]) for r in (head, *rows)) for c in range(4)]
    lines = ["", f"ck-request: replay of experiment:{original.entry} point {original.uid} (medians over repetitions)"]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in (head, *rows)]
    return lines


def register(target: ReplayTarget, open_point: Callable[[ReplayTarget], RecordedPoint],
             replayed: Callable[[], list[dict[str, Any]]]) -> None:
    """Print the summary when the process ends (after CK's own comparison)."""
    def print_summary() -> None:
        runs = replayed()
        if not runs:
            return
        try:
            original = open_point(target)
        except RequestError:
            return
        for line in summary_lines(original, runs):
            print(line, file=sys.stdout, flush=True)

    atexit.register(print_summary)
