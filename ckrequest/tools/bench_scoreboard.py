"""`python -m ckrequest.tools.bench scoreboard`: the scoreboard over N synthetic points, against a 2 s budget.

The points are written as CK experiment entries (100 points each) holding the unified keys in
ck-request's own layout, with repetitions, ties, missing values and synthetic weights, then read,
normalised, ranked and printed exactly as `ck scoreboard request.asplos18` does (minus the CK
kernel's start-up).
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

BUDGET_S = 2.0
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
            "##characteristics#run#inference_latency#all": latency,
            "##characteristics#run#latency_p50_s#all": latency,
            "##characteristics#run#inference_throughput#all": [round(1 / v, 2) for v in latency],
            "##characteristics#run#peak_memory_bytes#all": [rng.randint(50, 900) * 2**20] * 3}
    if not synthetic and rng.random() < 0.9:
        flat["##characteristics#run#accuracy_top1#all"] = [round(rng.uniform(0.5, 0.8), 2)] * 3  # rounded: ties
    return flat


def write_synthetic_repo(root: Path, points: int, seed: int = 1) -> Path:
    rng = random.Random(seed)
    for start in range(0, points, PER_ENTRY):
        entry = root / "experiment" / f"bench-{start // PER_ENTRY:04d}"
        (entry / ".cm").mkdir(parents=True)
        (entry / ".cm" / "meta.json").write_text(json.dumps({"meta": {}, "tags": ["bench"]}))
        for k in range(start, min(points, start + PER_ENTRY)):
            (entry / f"ckp-{k:016x}.flat.json").write_text(json.dumps(_flat_point(rng)))
    return root


def time_scoreboard(repo: Path) -> dict[str, float]:
    """Seconds to read, normalise and rank, then to print the table (the default) and the JSON."""
    x, y = parse_axis(DEFAULT_X, "x"), parse_axis(DEFAULT_Y, "y")
    t0 = time.perf_counter()
    board = build_board([("bench", repo)], Filters(), x, y)
    t1 = time.perf_counter()
    render_table(board)
    t2 = time.perf_counter()
    render_json(board)
    t3 = time.perf_counter()
    return {"table": t2 - t0, "json": t1 - t0 + t3 - t2, "read_rank": t1 - t0, "points": len(board.points),
            "frontier": sum(board.pareto)}


def run(points: int, rounds: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        repo = write_synthetic_repo(Path(tmp), points)
        results = []
        for r in range(rounds):
            t = time_scoreboard(repo)
            results.append(t)
            print(f"round {r + 1}: table {t['table']:.3f} s, json {t['json']:.3f} s (of which read, normalise, "
                  f"rank {t['read_rank']:.3f} s); {t['points']:.0f} points, {t['frontier']:.0f} on the frontier")
    ratio = 0.0
    for fmt in ("table", "json"):
        median = statistics.median(t[fmt] for t in results)
        ratio = max(ratio, median / BUDGET_S)
        verdict = "meets" if median <= BUDGET_S else "misses"
        print(f"scoreboard --format={fmt} over {points} synthetic points: median {median:.3f} s over {rounds} rounds; "
              f"budget {BUDGET_S:.0f} s: ratio {median / BUDGET_S:.2f} ({verdict} the budget)")
    return ratio
