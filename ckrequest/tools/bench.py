"""Benchmarks of ck-request itself (`make bench`): ratios measured side by side in one run.

    python -m ckrequest.tools.bench harness-overhead [--model-info PATH] [--rounds 7] [--queries 200]
    python -m ckrequest.tools.bench scoreboard [--points 10000] [--warm-points 100000] [--rounds 3]
    python -m ckrequest.tools.bench frameworks [--frameworks onnxruntime,tflite] [--seconds 3] [--rounds 3]
    python -m ckrequest.tools.bench search [--grid explore.json] [--seeds 10] [--share 0.95] [--objectives ...]
    python -m ckrequest.tools.bench trials [--trials 10] [--seconds 0.5]    (in a CK world: CK_REPOS)
    python -m ckrequest.tools.bench loadgen [--model-info PATH] [--rounds 5] [--seconds 2] [--batch 8]
    python -m ckrequest.tools.bench farm [--model alexnet] [--max-nodes 3] [--images 32] [--repetitions 3] [--ray ADDR]
    python -m ckrequest.tools.bench killstorm [--kills 50] [--trials 6] [--seed 1] [--world DIR]

prints our harness's median latency over a bare ``InferenceSession.run`` loop on the same
session and the same inputs, alternating the two in rounds so machine noise hits both alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ..backends import backend_class
from ..backends.base import BackendOptions
from ..models.model_info import ModelInfo
from ..run.config import RunConfig
from ..run.harness import measure_queries

TARGET_RATIO = 1.03


def _synthetic_mobilenet(folder: Path) -> Path:
    from ..zoo.build import build_model
    from ..zoo.canonical import ModelSpec

    return build_model("onnx", "fp32", ModelSpec("mobilenet-v1", "synthetic", 1.0, 224, 1), folder)


def bare_loop(session, input_name: str, inputs: list[np.ndarray], queries: int) -> list[float]:
    """The reference: InferenceSession.run in a plain loop, timed the same way."""
    clock = time.perf_counter_ns
    latencies = []
    for k in range(queries):
        feed = {input_name: inputs[k % len(inputs)]}
        t0 = clock()
        session.run(None, feed)
        latencies.append((clock() - t0) / 1e9)
    return latencies


def harness_overhead(info_path: Path, rounds: int, queries: int, threads: int) -> float:
    info = ModelInfo.load(info_path)
    backend = backend_class("onnxruntime")(info.model_path(info_path), info, BackendOptions(threads))
    session = backend._session  # the very same session: only the calling code differs
    input_name = session.get_inputs()[0].name
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(info.preprocessing.input_shape(1)).astype(np.float32) for _ in range(8)]
    prepared = [backend.prepare(x) for x in inputs]
    config = RunConfig(warmup=0, min_queries=queries, min_duration_s=0.0)
    bare_loop(session, input_name, inputs, 20)  # warm-up for both
    ours, bare = [], []
    print(f"model {info.design_name} ({info.arch}, {info.precision}), {queries} queries x {rounds} rounds, "
          f"threads={threads or 'default'}")
    print(f"{'round':>5}  {'harness p50 ms':>15}  {'bare run p50 ms':>15}  {'ratio':>6}")
    for r in range(rounds):
        first, second = ("harness", "bare") if r % 2 == 0 else ("bare", "harness")
        results = {}
        for which in (first, second):
            if which == "harness":
                results[which] = _harness_latencies(backend, prepared, config)
            else:
                results[which] = bare_loop(session, input_name, inputs, queries)
        ours += results["harness"]
        bare += results["bare"]
        h, b = statistics.median(results["harness"]), statistics.median(results["bare"])
        print(f"{r + 1:>5}  {h * 1e3:>15.4f}  {b * 1e3:>15.4f}  {h / b:>6.3f}")
    ratio = statistics.median(ours) / statistics.median(bare)
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    print(f"overall median latency: harness {statistics.median(ours) * 1e3:.4f} ms, bare "
          f"{statistics.median(bare) * 1e3:.4f} ms, ratio {ratio:.3f} ({verdict} the target <= {TARGET_RATIO})")
    return ratio


def _harness_latencies(backend, prepared, config: RunConfig) -> list[float]:
    measurement, _ = measure_queries(backend, prepared, config)
    return list(measurement.samples_s)


def _model_info(given: str | None, tmp: Path) -> Path:
    """The model a bench times: the one given, or a synthetic MobileNet-v1 built in ``tmp``."""
    return Path(given) if given else _synthetic_mobilenet(tmp / "mobilenet")


MODEL_INFO_HELP = "model-info.json of an installed ONNX model (default: a synthetic MobileNet-v1 1.0/224 built here)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ckrequest.tools.bench")
    sub = parser.add_subparsers(dest="what", required=True)
    over = sub.add_parser("harness-overhead", help="harness median latency / bare InferenceSession.run")
    over.add_argument("--model-info", help=MODEL_INFO_HELP)
    over.add_argument("--rounds", type=int, default=7)
    over.add_argument("--queries", type=int, default=200)
    over.add_argument("--threads", type=int, default=0)
    frameworks = sub.add_parser("frameworks", help="every framework: MobileNet-v1 and ResNet-50, batch 1 and 32")
    frameworks.add_argument("--frameworks", default="", help="comma-separated subset (default: all)")
    frameworks.add_argument("--seconds", type=float, default=3.0, help="minimum timed seconds per run")
    frameworks.add_argument("--rounds", type=int, default=3, help="rounds of the benchmark_app comparison")
    board = sub.add_parser("scoreboard", help="scoreboard over synthetic points, cold and warm, against targets")
    board.add_argument("--points", type=int, default=10_000, help="points of the cold board")
    board.add_argument("--warm-points", type=int, default=100_000, help="points of the warm board")
    board.add_argument("--rounds", type=int, default=3)
    search = sub.add_parser("search", help="trials each strategy needs to reach 95%% of a recorded grid's hypervolume")
    search.add_argument("--grid", default="", help="an exploration's explore.json (default: the two packaged grids)")
    search.add_argument("--seeds", type=int, default=10)
    search.add_argument("--share", type=float, default=0.95)
    search.add_argument("--objectives", default="", help="key:min,key:max,... (default: three sets)")
    trials = sub.add_parser("trials", help="a trial's wall time beyond its measured time: explore vs ck benchmark")
    trials.add_argument("--trials", type=int, default=10)
    trials.add_argument("--seconds", type=float, default=0.5, help="measured seconds per trial")
    loadgen = sub.add_parser("loadgen", help="MLPerf LoadGen / our harness: SingleStream p90, Offline throughput")
    loadgen.add_argument("--model-info", help=MODEL_INFO_HELP)
    loadgen.add_argument("--rounds", type=int, default=5)
    loadgen.add_argument("--seconds", type=float, default=2.0, help="minimum seconds of each measurement")
    loadgen.add_argument("--batch", type=int, default=8, help="batch size of the throughput comparison")
    loadgen.add_argument("--threads", type=int, default=0)
    farm = sub.add_parser("farm", help="pipeline throughput vs N on a local Ray cluster, against the model")
    farm.add_argument("--model", default="alexnet", help="architecture (synthetic weights)")
    farm.add_argument("--max-nodes", type=int, default=3)
    farm.add_argument("--images", type=int, default=32, help="images streamed per repetition")
    farm.add_argument("--repetitions", type=int, default=3)
    farm.add_argument("--ray", default="", help="a cluster's <head ip>:<port> or auto (default: a local one)")
    storm = sub.add_parser("killstorm", help="SIGKILLs of ck benchmark --record and ck explore: corrupt, lost, "
                                             "duplicate points")
    storm.add_argument("--kills", type=int, default=50)
    storm.add_argument("--trials", type=int, default=6, help="trials of each exploration")
    storm.add_argument("--seed", type=int, default=1)
    storm.add_argument("--world", default="", help="a folder for the CK world (default: a temporary one)")
    args = parser.parse_args(argv)
    if args.what == "killstorm":
        from .bench_killstorm import run as killstorm_bench

        return killstorm_bench(args.kills, args.trials, args.seed, args.world)
    if args.what == "search":
        from .bench_search import run as search_bench

        return search_bench(args.grid, args.seeds, args.share, args.objectives)
    if args.what == "trials":
        from .bench_trials import run as trials_bench

        return trials_bench(args.trials, args.seconds)
    if args.what == "loadgen":
        from .bench_loadgen import run as loadgen_bench

        with tempfile.TemporaryDirectory() as tmp:
            loadgen_bench(_model_info(args.model_info, Path(tmp)), args.rounds, args.seconds, args.batch, args.threads)
        return 0
    if args.what == "farm":
        from .bench_farm import run as farm_bench

        farm_bench(args.model, args.max_nodes, args.images, args.repetitions, args.ray)
        return 0
    if args.what == "frameworks":
        from .bench_frameworks import main as frameworks_bench

        return frameworks_bench([f for f in args.frameworks.split(",") if f], args.seconds, args.rounds)
    if args.what == "scoreboard":
        from .bench_scoreboard import run as scoreboard_bench

        scoreboard_bench(args.points, args.warm_points, args.rounds)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        harness_overhead(_model_info(args.model_info, Path(tmp)), args.rounds, args.queries, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
