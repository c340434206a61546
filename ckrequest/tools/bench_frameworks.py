"""`python -m ckrequest.tools.bench frameworks`: every framework on MobileNet-v1 1.0/224 and ResNet-50.

For each framework program: latency (median, batch 1) and throughput (batch 32) through the real
`ck benchmark`, with synthetic weights (speed only). Then OpenVINO's own `benchmark_app` on the
same IR model with the same latency hint, and the ratio of our harness's median latency to its
median (target: within 5 %). Run it on a quiet machine: the figures are only as steady as it is.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..ck import kernel as ck_kernel
from ..ck.programs import FRAMEWORKS
from ..models.model_info import ModelInfo

MODELS = {"mobilenet-v1": "mobilenet-v1,multiplier-1.0,resolution-224,synthetic,fp32",
          "resnet-50": "resnet-50,synthetic,fp32"}
TARGET_BENCHMARK_APP_RATIO = 0.05
_LATENCY = re.compile(r"^latency\s+batch (\d+): p50 ([0-9.]+) ms")
_THROUGHPUT = re.compile(r"^throughput ([0-9.]+) images/s")


@dataclass(frozen=True)
class Figure:
    framework: str
    model: str
    batch: int
    p50_ms: float | None
    throughput: float | None
    library: str = ""
    error: str = ""


def ck(*args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ck", *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout)


def measure(framework: str, model: str, batch: int, seconds: float) -> Figure:
    proc = ck("benchmark", f"program:request-{framework}-classification", "--quiet",
              f"--dep_add_tags.model={MODELS[model]}", f"--env.CK_REQUEST_BATCH_SIZE={batch}",
              f"--env.CK_REQUEST_MIN_DURATION_S={seconds}", "--env.CK_REQUEST_MIN_QUERIES=30",
              "--env.CK_REQUEST_WARMUP=10", "--repetitions=1", "--skip_print_stats")
    lines = proc.stdout.splitlines()
    latency = next((m for m in map(_LATENCY.match, lines) if m), None)
    throughput = next((m for m in map(_THROUGHPUT.match, lines) if m), None)
    library = next((line.split(None, 1)[1] for line in lines if line.startswith("framework ")), "")
    if proc.returncode != 0 or latency is None:
        errors = [line for line in (proc.stdout + proc.stderr).splitlines() if "error" in line.lower()]
        return Figure(framework, model, batch, None, None, error=(errors or ["no result"])[-1][:160])
    return Figure(framework, model, batch, float(latency.group(2)), float(throughput.group(1)), library)


def benchmark_app_median_ms(model_tags: str, seconds: int = 15) -> tuple[float, Path]:
    """OpenVINO's own benchmark_app (sync API, latency hint, batch 1) on the installed IR model."""
    _, meta = ck_kernel.env_entry(f"model,openvino,{model_tags}")
    info_path = Path(meta["env"]["CK_ENV_MODEL_INFO"])
    info = ModelInfo.load(info_path)
    xml = info.model_path(info_path)
    env = ck_kernel.environment_of("lib,openvino")
    shape = ",".join(str(d) for d in info.preprocessing.input_shape(1))
    proc = subprocess.run([sys.executable, "-c", "from openvino.tools.benchmark.main import main; main()",
                           "-m", str(xml), "-d", "CPU", "-hint", "latency", "-api", "sync", "-t", str(seconds),
                           "-shape", f"[{shape}]", "-infer_precision", "f32"],
                          capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    found = re.search(r"Median:\s+([0-9.]+) ms", proc.stdout)
    if not found:
        raise RuntimeError(f"benchmark_app printed no median: {(proc.stdout + proc.stderr)[-500:]}")
    return float(found.group(1)), xml


def print_table(figures: list[Figure]) -> None:
    print(f"{'framework':<12} {'model':<13} {'batch-1 p50 ms':>14} {'batch-32 img/s':>14}  library")
    for fw in dict.fromkeys(f.framework for f in figures):
        for model in MODELS:
            one = next(f for f in figures if (f.framework, f.model, f.batch) == (fw, model, 1))
            many = next(f for f in figures if (f.framework, f.model, f.batch) == (fw, model, 32))
            if one.error or many.error:
                print(f"{fw:<12} {model:<13} {'-':>14} {'-':>14}  {one.error or many.error}")
            else:
                print(f"{fw:<12} {model:<13} {one.p50_ms:>14.3f} {many.throughput:>14.1f}  {one.library}")


def run(frameworks: list[str], seconds: float, rounds: int) -> int:
    figures = [measure(fw, model, batch, seconds) for fw in frameworks for model in MODELS for batch in (1, 32)]
    print_table(figures)
    if "openvino" not in frameworks:
        return 0
    for model in MODELS:
        ours, theirs = [], []
        for _ in range(rounds):  # alternate the two so machine noise hits both alike
            ours.append(measure("openvino", model, 1, max(seconds, 10.0)).p50_ms)
            theirs.append(benchmark_app_median_ms(MODELS[model])[0])
        ratio = statistics.median(ours) / statistics.median(theirs)
        verdict = "within" if abs(ratio - 1) <= TARGET_BENCHMARK_APP_RATIO else "outside"
        print(f"openvino {model}: harness median {statistics.median(ours):.3f} ms, benchmark_app median "
              f"{statistics.median(theirs):.3f} ms, ratio {ratio:.3f} ({verdict} the 5 % target)")
    return 0


def main(frameworks: list[str] | None, seconds: float, rounds: int) -> int:
    known = [fw.name for fw in FRAMEWORKS]
    return run(frameworks or known, seconds, rounds)
