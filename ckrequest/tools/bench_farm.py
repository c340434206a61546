"""`python -m ckrequest.tools.bench farm`: pipeline throughput vs N on a local Ray cluster, against the model.

Starts a local cluster of ``--max-nodes`` nodes of 1 CPU each on loopback, runs the model (AlexNet,
synthetic weights) as a pipeline of N = 1..max stages, and prints per N: each stage's compute time,
the bytes between stages, the latency and the throughput measured, and what the throughput model
(farm/throughput.py) predicts from (a) the stage times measured in that run and (b) the 1-node run
alone, scaled by each stage's MACs. Then what the original ReQuEST farms (AlexNet on 5 Raspberry Pis:
5.4 images/s; VGG16 on 11: 2.8 images/s) imply under the same model when split the same way.
"""

from __future__ import annotations

import math
import os
import statistics
import time

import numpy as np

from ..farm.cluster import connect
from ..farm.local import LocalCluster
from ..farm.pipeline import PIPELINE, FarmRequest, FarmResult, run_farm
from ..farm.split import plan_stages
from ..farm.throughput import (
    StageCost,
    implied_device_rate,
    needed_bandwidth,
    pipeline_throughput,
    stages_from_macs,
)
from ..models.architectures import architecture
from ..zoo.calibration import photo_set
from ..zoo.canonical import ModelSpec, canonical_onnx

ORIGINAL_FARMS = (("alexnet", 5, 5.4, "AlexNet on 5 Raspberry Pi 3 (TensorFlow 1.5, Avro over WiFi)"),
                  ("vgg16", 11, 2.8, "VGG16 on 11 Raspberry Pi 3"))
WIFI_BPS = (25e6 / 8, 50e6 / 8)  # what a Raspberry Pi 3's 802.11n link carries in practice: 25-50 Mbit/s


def single_process_s(path, images: np.ndarray, runs: int = 20) -> float:
    """The whole model in this process on 1 thread: median seconds per image (the farm's node count 0)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    times = []
    for k in range(runs + 3):
        start = time.perf_counter()
        session.run(None, {name: images[k % len(images)][None]})
        times.append(time.perf_counter() - start)
    return statistics.median(times[3:])


def _median_stage_times(result: FarmResult) -> list[float]:
    return [statistics.median(rep.stage_compute_s[k] for rep in result.repetitions) for k in range(len(result.stages))]


def _moved(result: FarmResult) -> list[int]:
    moved = [s.input_bytes for s in result.stages]
    moved[-1] += result.stages[-1].output_bytes
    return moved


def run(arch: str, max_nodes: int, images: int, repetitions: int) -> None:
    spec = ModelSpec(arch, "synthetic")
    canonical = canonical_onnx(spec)
    photos = photo_set(canonical.preprocessing).inputs
    alone = single_process_s(canonical.path, photos)
    cores = os.cpu_count() or 1
    print(f"{canonical.design_name}: {canonical.macs / 1e6:.1f} M MACs; this host: {cores} logical CPUs")
    print(f"single process, ONNX Runtime on 1 thread: {alone * 1e3:.1f} ms per image ({1 / alone:.1f} images/s, "
          f"{canonical.macs / alone / 1e9:.2f} G MACs/s)")
    print(f"local Ray cluster: {max_nodes} nodes of 1 CPU on loopback; per N: {repetitions} repetitions of "
          f"{images} images streamed (median shown)\n")
    results: dict[int, FarmResult] = {}
    with LocalCluster.start([("bench", 1)] * max_nodes) as cluster, connect(cluster.address) as connection:
        for nodes in range(1, max_nodes + 1):
            request = FarmRequest(spec, nodes, PIPELINE, images=images, latency_queries=10, repetitions=repetitions)
            results[nodes], _ = run_farm(connection, request, say=lambda line: None, canonical=canonical)
    one = results[1]
    overhead = statistics.median(min(r.latencies_s) for r in one.repetitions) - _median_stage_times(one)[0]
    print(f"{'N':>2}  {'stage compute ms':<22} {'kB between':>10}  {'latency ms':>10}  {'img/s':>7}  "
          f"{'model (a)':>9}  {'a/meas':>6}  {'model (b)':>9}  {'b/meas':>6}")
    for nodes, result in results.items():
        times = _median_stage_times(result)
        measured = statistics.median(r.throughput_ips for r in result.repetitions)
        latency = statistics.median(statistics.median(r.latencies_s) for r in result.repetitions)
        in_run = pipeline_throughput([StageCost(t, b) for t, b in zip(times, _moved(result))], overhead,
                                     host_cores=cores)
        from_one = pipeline_throughput(stages_from_macs(_median_stage_times(one)[0],
                                                        [s.macs for s in result.stages], _moved(result)),
                                       overhead, host_cores=cores)
        print(f"{nodes:>2}  {' '.join(f'{t * 1e3:.1f}' for t in times):<22} "
              f"{result.bytes_between_stages / 1e3:>10.1f}  {latency * 1e3:>10.1f}  {measured:>7.2f}  "
              f"{in_run:>9.2f}  {in_run / measured:>6.2f}  {from_one:>9.2f}  {from_one / measured:>6.2f}")
    print(f"\nmodel: throughput = 1 / max(max_i (t_i + o + b_i / B), sum_i (t_i + o) / {cores} cores); o = "
          f"{overhead * 1e3:.1f} ms (1-node latency - its compute), B: loopback (transfer inside o); (a) t_i as "
          "measured in that run, (b) t_i = 1-node compute x stage MACs share")
    original_farms(overhead_s=0.0)


def original_farms(overhead_s: float) -> None:
    """What the original farms' throughputs imply, split as ck farm splits them (pipeline balanced by MACs)."""
    print("\noriginal ReQuEST farms, under the same model (each device one pipeline stage, split by MACs as here):")
    for arch, devices, throughput, label in ORIGINAL_FARMS:
        model = architecture(arch).build(1, 1.0, architecture(arch).default_resolution)  # the graph: shapes, MACs
        stages = plan_stages(model, devices, arch)
        del model
        macs = [s.macs for s in stages]
        moved = [s.input_bytes for s in stages]
        moved[-1] += stages[-1].output_bytes
        largest = max(range(len(stages)), key=lambda k: macs[k])
        rates = ", ".join(f"{_rate(implied_device_rate(macs, moved, throughput, overhead_s, bps))} at "
                          f"{bps * 8 / 1e6:.0f} Mbit/s" for bps in WIFI_BPS)
        print(f"  {label}: {throughput} images/s = {1e3 / throughput:.0f} ms per image per stage; largest stage "
              f"{macs[largest] / 1e6:.0f} M MACs, receiving {moved[largest] / 1e3:.0f} kB; largest transfer "
              f"{max(moved) / 1e3:.0f} kB (float32). Each device would need {rates}; with infinitely fast devices "
              f"the links would need {needed_bandwidth(moved, throughput, overhead_s) * 8 / 1e6:.0f} Mbit/s")


def _rate(rate: float) -> str:
    return "more than the link allows" if math.isinf(rate) else f"{rate / 1e9:.2f} G MACs/s"
