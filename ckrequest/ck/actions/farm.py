"""ck farm request.asplos18 --model=<arch> --stages=N [--mode=pipeline|data-parallel] [--ray=<address>|auto]
[--record_uoa=X] [--record_repo=local]

The model's canonical ONNX graph in N stages on N Ray nodes (or N whole copies, --mode=data-parallel),
images streamed through, measured and recorded as one experiment point (docs/FARM.md). Without --ray,
a cluster of N nodes is started on this machine's loopback interface for the run and stopped after it, whatever
ends the run (an error, SIGINT, SIGTERM, SIGHUP, a --timeout; a SIGKILL: by its watcher, farm/reaper.py). --stages
is checked against the model and, for a local cluster, against this machine before any node starts.

More flags: --multiplier, --resolution (MobileNet-v1), --weights=synthetic|imagenet, --seed;
--platform=<name>[,<name>] (only nodes of these platforms); --images (streamed per repetition, 32),
--latency_queries (10), --repetitions (3), --threads (per node; default: the CPUs the node declared),
--timeout (seconds for any one result, 600).
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from ...errors import RequestError
from ...farm.cluster import connect
from ...farm.local import LocalCluster, check_local_nodes, local_cpus
from ...farm.pipeline import MODES, PIPELINE, FarmRequest, check_request, run_farm
from ...farm.point import farm_point
from ...farm.signals import Stopped, stopped_by_signals
from ...zoo.canonical import ModelSpec, canonical_onnx
from .. import flags as ck_flags
from .. import kernel as ck_kernel

COMMAND = "ck farm request.asplos18"
LOCAL_PLATFORM = "local"


def request_from_ck(i: dict[str, Any]) -> FarmRequest:
    spec = ModelSpec(ck_flags.required(i, "model", COMMAND), ck_flags.text(i, "weights", "synthetic"),
                     multiplier=ck_flags.number(i, "multiplier", float, 0.01, 4.0),
                     resolution=ck_flags.number(i, "resolution", int, 32, 4096),
                     seed=ck_flags.count(i, "seed", 1))
    timeout = ck_flags.number(i, "timeout", float, 1, 10**7)
    return FarmRequest(spec=spec, nodes=ck_flags.count(i, "stages", 2),
                       mode=ck_flags.choice(i, "mode", MODES, PIPELINE),
                       images=ck_flags.count(i, "images", 32), latency_queries=ck_flags.count(i, "latency_queries", 10),
                       repetitions=ck_flags.count(i, "repetitions", 3),
                       threads=int(ck_flags.number(i, "threads", int, 0, 4096) or 0),
                       platforms=ck_flags.texts(i, "platform"), timeout_s=float(timeout or 600.0))


def run(i: dict[str, Any]) -> int:
    request = request_from_ck(i)
    address = ck_flags.text(i, "ray")
    name = ck_flags.text(i, "record_uoa") or f"ray-farm-{request.spec.arch}-{request.mode}-{request.nodes}"
    repo = ck_flags.text(i, "record_repo", "local")
    try:
        with stopped_by_signals(), ExitStack() as stack:
            canonical = canonical_onnx(request.spec)
            check_request(request, canonical)  # before any node starts
            if not address:
                check_local_nodes(request.nodes)
                cpus = max(1, local_cpus() // request.nodes)
                print(f"starting a local Ray cluster: {request.nodes} node(s) of {cpus} CPU(s) on loopback "
                      "(--ray=<address> runs on yours)", flush=True)
                cluster = stack.enter_context(LocalCluster.start([(LOCAL_PLATFORM, cpus)] * request.nodes,
                                                                 say=lambda line: print(line, flush=True)))
                print(f"started a local Ray cluster: {request.nodes} node(s) of {cpus} CPU(s) on loopback, in "
                      f"{cluster.root}, stopped after the run", flush=True)
                address = cluster.address
            connection = stack.enter_context(connect(address))
            stack.enter_context(stopped_by_signals())  # again: Ray's driver sets a SIGTERM handler of its own
            result, _ = run_farm(connection, request, lambda line: print(line, flush=True), canonical=canonical)
    except Stopped as stop:
        raise RequestError(COMMAND, f"{stop} before it finished",
                           "nothing was recorded; every Ray node it started was stopped") from None
    point = farm_point(result)
    reps = result.repetitions
    print(f"{result.farm_name}: {reps[-1].throughput_ips:.2f} images/s (last repetition), "
          f"{result.bytes_between_stages / 1e3:.1f} kB between stages per image, outputs equal one process "
          f"(max |softmax difference| {result.softmax_max_diff:.1e} over {result.images_checked} images)", flush=True)
    location, uid = ck_kernel.record_point(repo, name, list(point.characteristics), point.features, point.meta,
                                           list(point.tags))
    print(f"recorded experiment:{location.name} point {uid} ({len(reps)} repetitions); see it with: "
          f"ck scoreboard request.asplos18 --model={request.spec.arch}", flush=True)
    return 0
