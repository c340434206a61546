"""A trial's cost beyond what it measures: `ck explore` trials against hand-typed `ck benchmark` runs.

    python -m ckrequest.tools.bench trials [--trials 10] [--seconds 0.5]

Runs in the CK world of the environment (CK_REPOS, CK_TOOLS; the model is installed first, so
neither side pays for installing it). Side by side on MobileNet-v1 0.25/128 (synthetic) with ONNX
Runtime: one `ck explore` of ``trials`` stacks (batch 1..N, each measured ``seconds``) and as many
hand-typed ``ck benchmark ... --repetitions=1 --record`` commands, alternating in rounds so machine
noise hits both alike. A trial's overhead is its wall time minus its timed queries; the target is
at most 1.5 s for both (a hand-typed command skips CK's pauses for a reader too: ck/pauses.py).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from ..errors import RequestError
from ..explore.log import read_log
from ..results.entry import RecordedEntry

TARGET_OVERHEAD_S = 1.5
PROGRAM = "program:request-onnxruntime-classification"
MODEL = "mobilenet-v1,multiplier-0.25,resolution-128,synthetic"


def _ck(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(["ck", *args], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RequestError(f"ck {' '.join(args[:2])}", f"exited {proc.returncode}: {proc.stdout[-400:]}",
                           "run it by hand in this CK world")
    return proc


def _entry(name: str) -> Path:
    return Path(json.loads(_ck("load", f"experiment:{name}", "--out=json").stdout)["path"])


def hand_typed(name: str, batch: int, seconds: float) -> tuple[float, float]:
    """(wall, measured) of one hand-typed `ck benchmark` (recorded into an entry of its own)."""
    t0 = time.monotonic()
    _ck("benchmark", PROGRAM, f"--dep_add_tags.model={MODEL}", f"--env.CK_REQUEST_BATCH_SIZE={batch}",
        f"--env.CK_REQUEST_MIN_DURATION_S={seconds}", "--repetitions=1", "--record", f"--record_uoa={name}",
        "--quiet")
    wall = time.monotonic() - t0
    return wall, RecordedEntry(_entry(name), name).point().values("measured_duration_s")[0]


def explored(name: str, batches: list[int], seconds: float, folder: Path) -> list[tuple[float, float]]:
    """(wall, measured) of each trial of one `ck explore` over ``batches``."""
    space = folder / f"{name}.json"
    space.write_text(json.dumps({"programs": ["request-onnxruntime-classification"], "models": [MODEL.split(",")],
                                 "env": {"CK_REQUEST_BATCH_SIZE": batches, "CK_REQUEST_MIN_DURATION_S": [seconds]},
                                 "objectives": ["latency_p50_s:min", "inference_throughput:max"]}))
    _ck("explore", "request.asplos18", f"--space={space}", f"--record_uoa={name}", "--strategy=grid", "--quiet")
    log = read_log(_entry(name)) or {}
    return [(t["seconds"], t["measured_s"]) for t in log.get("trials", []) if t["status"] == "measured"]


def run(trials: int, seconds: float) -> int:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    _ck("benchmark", PROGRAM, f"--dep_add_tags.model={MODEL}", "--env.CK_REQUEST_MIN_DURATION_S=0.1",
        "--repetitions=1", "--quiet")  # installs what both sides need
    hand, explore = [], []
    with tempfile.TemporaryDirectory() as tmp:
        half = max(1, trials // 2)
        for round_number, batches in enumerate((list(range(1, half + 1)), list(range(half + 1, trials + 1)))):
            explore += explored(f"bench-trials-explore-{stamp}-{round_number}", batches, seconds, Path(tmp))
            hand += [hand_typed(f"bench-trials-hand-{stamp}-{b}", b, seconds) for b in batches]
    print(f"{len(explore)} explored trials and {len(hand)} hand-typed `ck benchmark` runs, {seconds} s measured "
          f"each ({MODEL}, onnxruntime), alternating in two rounds")
    print(f"{'':<22} {'wall s (median)':>16} {'measured s':>11} {'overhead s (median)':>20} {'max':>6}")
    rows = {"ck explore trial": explore, "hand-typed benchmark": hand}
    medians = {}
    for label, runs in rows.items():
        overheads = [wall - measured for wall, measured in runs]
        medians[label] = statistics.median(overheads)
        wall, measured = statistics.median(w for w, _ in runs), statistics.median(m for _, m in runs)
        print(f"{label:<22} {wall:>16.2f} {measured:>11.2f} {medians[label]:>20.2f} {max(overheads):>6.2f}")
    ours, typed = medians["ck explore trial"], medians["hand-typed benchmark"]
    for label, overhead in medians.items():
        verdict = "meets" if overhead <= TARGET_OVERHEAD_S else "misses"
        print(f"{label}: {overhead:.2f} s beyond its measured time, {verdict} the target <= {TARGET_OVERHEAD_S} s")
    print(f"overhead per trial: explore {ours:.2f} s vs hand-typed {typed:.2f} s (ratio {ours / typed:.2f})")
    return 0
