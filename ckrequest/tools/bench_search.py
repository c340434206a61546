"""Search quality, measured: how many trials each strategy needs to reach 95 % of a full grid's
hypervolume, replaying a recorded grid (every stack's measured result) over several seeds.

    python -m ckrequest.tools.bench search [--grid explore.json] [--seeds 10] [--share 0.95] [--objectives k:min,...]

The default grid is ``ckrequest/data/search-grid-onnxruntime-mobilenets.json``: a
`ck explore --strategy=grid` of 64 stacks recorded on this project's development machine (see
README, "Search quality"). Hypervolumes are taken on the grid's own bounds, so every strategy is
judged on one scale; a strategy that never reaches the share counts the whole grid.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from ..explore.replay import RecordedGrid
from ..explore.search import STRATEGIES, Exploration
from ..explore.space import parse_objective

DEFAULT_GRID = "search-grid-onnxruntime-mobilenets.json"
TARGET_SHARE_OF_GRID = 0.40  # nsga2 or tpe must need at most this share of the grid's trials


@dataclass(frozen=True)
class StrategyResult:
    strategy: str
    trials: tuple[int, ...]  # per seed: trials until the share of the grid's hypervolume was reached

    @property
    def median(self) -> float:
        return statistics.median(self.trials)


def trials_to_reach(grid: RecordedGrid, strategy: str, seed: int, share: float) -> int:
    goal = share * grid.best_hypervolume()
    exploration = Exploration(grid.space, grid.objectives, grid.space.constraints, strategy, None,
                              f"{strategy}-{seed}", seed=seed)
    records = exploration.run(grid, None, None, until=lambda done: grid.hypervolume_of(done) >= goal - 1e-12)
    return len(records) if grid.hypervolume_of(records) >= goal - 1e-12 else grid.space.size


def compare(grid: RecordedGrid, seeds: int, share: float) -> list[StrategyResult]:
    return [StrategyResult(strategy, tuple(trials_to_reach(grid, strategy, seed, share)
                                           for seed in range(1, seeds + 1)))
            for strategy in STRATEGIES]


def table(results: list[StrategyResult], size: int, share: float) -> str:
    lines = [f"trials to reach {share:.0%} of the grid frontier's hypervolume ({size} stacks), per seed:",
             f"{'strategy':<8} {'median':>7} {'share':>6} {'mean':>6} {'min':>4} {'max':>4}  trials per seed"]
    for r in results:
        lines.append(f"{r.strategy:<8} {r.median:>7.1f} {r.median / size:>6.0%} {statistics.mean(r.trials):>6.1f} "
                     f"{min(r.trials):>4} {max(r.trials):>4}  {' '.join(map(str, r.trials))}")
    return "\n".join(lines)


def run(grid_path: str, seeds: int, share: float, objectives: str = "") -> int:
    path = Path(grid_path) if grid_path else Path(str(resources.files("ckrequest") / "data" / DEFAULT_GRID))
    grid = RecordedGrid.load(path)
    if objectives:
        grid = replace(grid, objectives=tuple(parse_objective(o) for o in objectives.split(",")))
    print(f"grid: {path} ({grid.space.size} stacks; objectives {', '.join(map(str, grid.objectives))})")
    results = compare(grid, seeds, share)
    print(table(results, grid.space.size, share))
    best = min((r for r in results if r.strategy in ("nsga2", "tpe")), key=lambda r: r.median)
    verdict = "meets" if best.median <= TARGET_SHARE_OF_GRID * grid.space.size else "misses"
    print(f"best of nsga2/tpe: {best.strategy}, median {best.median:.1f} trials = {best.median / grid.space.size:.0%} "
          f"of the grid ({verdict} the target <= {TARGET_SHARE_OF_GRID:.0%})")
    return 0
