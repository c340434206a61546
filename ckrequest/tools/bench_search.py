"""Search quality, measured: how many trials each strategy needs to reach 95 % of a full grid's
hypervolume, replaying a recorded grid (every stack's measured result) over several seeds.

    python -m ckrequest.tools.bench search [--grid explore.json] [--seeds 10] [--share 0.95] [--objectives k:min,...]

The default grids are the three shipped in ``ckrequest/data/`` (see README, "Search quality"), each judged on
three objective sets (``OBJECTIVE_SETS``; ``--objectives`` names one instead). Hypervolumes are taken on the
grid's own bounds, so every strategy is judged on one scale; a strategy that never reaches the share counts the
whole grid. The target: the default strategy needs at most ``TARGET_SHARE_OF_GRID`` of the grid's trials, and at
most ``TARGET_OF_RANDOM`` of random's median, on every grid and objective set.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from ..explore.replay import RecordedGrid
from ..explore.samplers import DEFAULT_SEARCH
from ..explore.search import STRATEGIES, Exploration
from ..explore.space import parse_objective

GRIDS = ("search-grid-onnxruntime-mobilenets.json", "search-grid-three-runtimes.json",
         "search-grid-three-runtimes-quiet.json")
OBJECTIVE_SETS = ("latency_p50_s:min,model_macs:max", "latency_p50_s:min,inference_throughput:max",
                  "latency_p50_s:min,inference_throughput:max,model_macs:max")
TARGET_SHARE_OF_GRID = 0.40  # the default strategy needs at most this share of the grid's trials
TARGET_OF_RANDOM = 0.75  # ... and at most this share of random's median (beats random by a quarter)


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


def compare(grid: RecordedGrid, seeds: int, share: float,
            strategies: tuple[str, ...] = STRATEGIES) -> list[StrategyResult]:
    return [StrategyResult(strategy, tuple(trials_to_reach(grid, strategy, seed, share)
                                           for seed in range(1, seeds + 1)))
            for strategy in strategies]


def table(results: list[StrategyResult], size: int, share: float) -> str:
    lines = [f"trials to reach {share:.0%} of the grid frontier's hypervolume ({size} stacks), per seed:",
             f"{'strategy':<9} {'median':>7} {'share':>6} {'mean':>6} {'min':>4} {'max':>4}  trials per seed"]
    for r in results:
        lines.append(f"{r.strategy:<9} {r.median:>7.1f} {r.median / size:>6.0%} {statistics.mean(r.trials):>6.1f} "
                     f"{min(r.trials):>4} {max(r.trials):>4}  {' '.join(map(str, r.trials))}")
    return "\n".join(lines)


def verdict(results: list[StrategyResult], size: int) -> tuple[bool, str]:
    """Does the default strategy meet both targets? And the line that says so."""
    chosen = next(r for r in results if r.strategy == DEFAULT_SEARCH)
    random = next(r for r in results if r.strategy == "random")
    of_grid, of_random = chosen.median / size, chosen.median / random.median
    meets = of_grid <= TARGET_SHARE_OF_GRID and of_random <= TARGET_OF_RANDOM
    return meets, (f"default ({chosen.strategy}): median {chosen.median:.1f} trials = {of_grid:.0%} of the grid "
                   f"(target <= {TARGET_SHARE_OF_GRID:.0%}), {of_random:.0%} of random's {random.median:.1f} "
                   f"(target <= {TARGET_OF_RANDOM:.0%}): {'meets' if meets else 'misses'}")


def shipped(name: str) -> Path:
    return Path(str(resources.files("ckrequest") / "data" / name))


def run(grid_path: str, seeds: int, share: float, objectives: str = "") -> int:
    paths = [Path(grid_path)] if grid_path else [shipped(name) for name in GRIDS]
    sets = [objectives] if objectives else list(OBJECTIVE_SETS)
    summary = []
    for path in paths:
        recorded = RecordedGrid.load(path)
        for objective_set in sets:
            grid = replace(recorded, objectives=tuple(parse_objective(o) for o in objective_set.split(",")))
            print(f"\ngrid: {path.name} ({grid.space.size} stacks); objectives {', '.join(map(str, grid.objectives))}")
            results = compare(grid, seeds, share)
            print(table(results, grid.space.size, share))
            meets, line = verdict(results, grid.space.size)
            print(line, flush=True)
            summary.append(meets)
    print(f"\nthe default strategy meets both targets on {sum(summary)} of {len(summary)} grid/objective sets")
    return 0
