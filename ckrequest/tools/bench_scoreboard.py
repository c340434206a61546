"""`python -m ckrequest.tools.bench scoreboard`: the scoreboard over synthetic points, cold and warm.

The points are written as CK experiment entries (100 points each) holding the unified keys in
ck-request's own layout, with repetitions, ties, missing values and synthetic weights, then read,
normalised, ranked and printed exactly as `ck scoreboard request.asplos18` does (minus the CK
kernel's start-up): cold (an empty cache: every file read and normalised, the cache written) over
10,000 points, and warm (the cache holds every entry: only the files' sizes and times are read)
over 100,000, against the targets of issue 10 (cold <= 1.5 s, warm <= 2 s).
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from ..board.filters import Filters
from ..board.scoreboard import build_board, render_json, render_table
from ..results.schema import DEFAULT_X, DEFAULT_Y, parse_axis

COLD_TARGET_S = 1.5  # 10,000 points, nothing cached
WARM_TARGET_S = 2.0  # 100,000 points, every entry cached
PER_ENTRY = 100
_MODELS = (("mobilenet-v1", "MobileNet-v1 1.0/224"), ("resnet50", "ResNet-50"), ("efficientnet-lite0", "EfficientNet"))
_LIBRARIES = ("onnxruntime 1.32.0", "tflite 2.3", "openvino 2026.4", "tvm 0.27")


def _flat_point(rng: random.Random) -> dict:
    arch, design = rng.choice(_MODELS)
    synthetic = rng.random() < 0.2
    latency = [round(rng.lognormvariate(-4.5, 1.0), 4) for _ in range(3)]
    flat = {"##features#statistical_repetitions#min": 3, "##features#batch_size#min": 1,
            "##features#weights#min": "synthetic" if synthetic else "imagenet",
            "##features#model_size#min": rng.choice((4.2e6, 17e6, 102e6)), "##features#threads#min": 2,
            "##features#meta#model_arch#min": arch, "##features#meta#model_design_name#min": design,
            "##features#meta#model_precision#min": rng.choice(("fp32", "int8")),
            "##features#meta#library_name#min": rng.choice(_LIBRARIES),
            "##features#meta#cpu_name#min": "Intel(R) Xeon(R) Processor", "##features#meta#plat_name#min": "bench",
            "##features#meta#dataset_species#min": "imagenet-val",
            "##characteristics#run#inference_latency#all": latency,
            "##characteristics#run#latency_p50_s#all": latency,
            "##characteristics#run#inference_throughput#all": [round(1 / v, 2) for v in latency],
            "##characteristics#run#peak_memory_bytes#all": [rng.randint(50, 900) * 2**20] * 3}
    if not synthetic and rng.random() < 0.9:
        flat["##characteristics#run#accuracy_top1#all"] = [round(rng.uniform(0.5, 0.8), 2)] * 3  # rounded: ties
        flat["##characteristics#run#accuracy_images#all"] = [50_000] * 3
    return flat


def write_synthetic_repo(root: Path, points: int, seed: int = 1) -> Path:
    rng = random.Random(seed)
    for start in range(0, points, PER_ENTRY):
        entry = root / "experiment" / f"bench-{start // PER_ENTRY:04d}"
        (entry / ".cm").mkdir(parents=True)
        (entry / ".cm" / "meta.json").write_text(json.dumps({"meta": {}, "tags": ["bench"]}))
        for k in range(start, min(points, start + PER_ENTRY)):
            for part in ("0001", "features", "features_flat"):  # a whole point has CK's four files
                (entry / f"ckp-{k:016x}.{part}.json").write_text("{}")
            (entry / f"ckp-{k:016x}.flat.json").write_text(json.dumps(_flat_point(rng)))
    return root


def time_scoreboard(repo: Path, cache: Path | None) -> dict[str, float]:
    """Seconds to read, normalise and rank, then to print the table (the default) and the JSON."""
    x, y = parse_axis(DEFAULT_X, "x"), parse_axis(DEFAULT_Y, "y")
    t0 = time.perf_counter()
    board = build_board([("bench", repo)], Filters(), x, y, cache)
    t1 = time.perf_counter()
    render_table(board)
    t2 = time.perf_counter()
    render_json(board)
    t3 = time.perf_counter()
    return {"table": t2 - t0, "json": t1 - t0 + t3 - t2, "read_rank": t1 - t0, "points": len(board.points),
            "frontier": sum(board.pareto)}


def _report(name: str, points: int, results: list[dict[str, float]], target: float) -> float:
    worst = 0.0
    for part in ("read_rank", "table", "json"):
        median = statistics.median(t[part] for t in results)
        worst = max(worst, median / target)
        what = "read, normalise, rank" if part == "read_rank" else f"the whole --format={part}"
        print(f"{name}, {points} points, {what}: median {median:.3f} s over {len(results)} rounds; "
              f"target {target} s: ratio {median / target:.2f} ({'meets' if median <= target else 'misses'} it)")
    return worst


def run(cold_points: int, warm_points: int, rounds: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        cold_repo = write_synthetic_repo(Path(tmp) / "cold", cold_points)
        cold = []
        for r in range(rounds):
            cache = Path(tmp) / f"cold-cache-{r}.sqlite3"  # empty every round
            cold.append(time_scoreboard(cold_repo, cache))
        plain = [time_scoreboard(cold_repo, None) for _ in range(rounds)]
        warm_repo = write_synthetic_repo(Path(tmp) / "warm", warm_points)
        cache = Path(tmp) / "warm-cache.sqlite3"
        time_scoreboard(warm_repo, cache)  # fills the cache
        warm = [time_scoreboard(warm_repo, cache) for _ in range(rounds)]
        print(f"{cold[0]['points']:.0f} points, {cold[0]['frontier']:.0f} on the frontier (cold); "
              f"{warm[0]['points']:.0f} points (warm)")
        ratios = [_report("cold (empty cache, written)", cold_points, cold, COLD_TARGET_S),
                  _report("no cache at all", cold_points, plain, COLD_TARGET_S),
                  _report("warm (every entry cached)", warm_points, warm, WARM_TARGET_S)]
    return max(ratios)
