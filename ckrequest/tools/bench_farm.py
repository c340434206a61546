"""`python -m ckrequest.tools.bench farm`: pipeline throughput vs N on a Ray cluster, against the model.

Starts a local cluster of ``--max-nodes`` nodes of 1 CPU each on loopback (or uses yours: ``--ray``),
measures one hop between two nodes (farm/link.py: overhead per call, bandwidth), runs the model
(AlexNet, synthetic weights) as a pipeline of N = 1..max stages, and prints per N: each stage's
compute time, the bytes between stages, the latency and the throughput measured, and what the
throughput model (farm/throughput.py) gives from the parts measured in that run: the pipeline's pace
(its slowest stage and that stage's hop) and, on one shared host, the CPU left to the farm over the
CPU an image costs. Then what the original ReQuEST farms (AlexNet on 5 Raspberry Pis: 5.4 images/s;
VGG16 on 11: 2.8 images/s) imply under the same model, split the same way.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..farm.cluster import connect
from ..farm.link import measure_link
from ..farm.local import LocalCluster
from ..farm.pipeline import PIPELINE, FarmRequest, FarmResult, run_farm
from ..farm.split import plan_stages
from ..farm.throughput import (
    StageCost,
    implied_device_rate,
    needed_bandwidth,
    pipeline_throughput,
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


def _host_busy_s() -> float:
    """CPU seconds the whole host has been busy (every CPU, every process: ours and other tenants')."""
    import psutil

    t = psutil.cpu_times()
    return sum(getattr(t, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq", "steal"))


@dataclass
class CpuMeter:
    """CPU used during the timed streams: by the farm's processes (the local cluster's and this driver), and by
    the whole host (other tenants of a shared machine included)."""

    cluster: LocalCluster
    ours_s: float = 0.0
    host_s: float = 0.0
    wall_s: float = 0.0

    def _ours(self) -> float:
        import psutil

        own = psutil.Process().cpu_times()
        return self.cluster.cpu_seconds() + own.user + own.system

    @contextmanager
    def __call__(self) -> Iterator[None]:
        ours, host, start = self._ours(), _host_busy_s(), time.perf_counter()
        yield
        self.wall_s += time.perf_counter() - start
        self.ours_s += self._ours() - ours
        self.host_s += _host_busy_s() - host

    def others_cores(self) -> float:
        """CPUs the other tenants kept busy meanwhile, on average."""
        return max(0.0, (self.host_s - self.ours_s) / self.wall_s) if self.wall_s else 0.0


def _median_stage_times(result: FarmResult) -> list[float]:
    return [statistics.median(rep.stage_compute_s[k] for rep in result.repetitions) for k in range(len(result.stages))]


def _moved(result: FarmResult) -> list[int]:
    moved = [s.input_bytes for s in result.stages]
    moved[-1] += result.stages[-1].output_bytes
    return moved


def run(arch: str, max_nodes: int, images: int, repetitions: int, address: str = "") -> None:
    spec = ModelSpec(arch, "synthetic")
    canonical = canonical_onnx(spec)
    photos = photo_set(canonical.preprocessing).inputs
    alone = single_process_s(canonical.path, photos)
    print(f"{canonical.design_name}: {canonical.macs / 1e6:.1f} M MACs; this host: {os.cpu_count()} logical CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"single process, ONNX Runtime on 1 thread: {alone * 1e3:.1f} ms per image ({1 / alone:.1f} images/s, "
          f"{canonical.macs / alone / 1e9:.2f} G MACs/s)")
    results: dict[int, FarmResult] = {}
    meters: dict[int, CpuMeter] = {}
    with ExitStack() as stack:
        cluster = None
        if not address:
            cluster = stack.enter_context(LocalCluster.start([("bench", 1)] * max_nodes))
            address = cluster.address
            print(f"local Ray cluster: {max_nodes} nodes of 1 CPU on loopback")
        connection = stack.enter_context(connect(address))
        nodes = connection.nodes()[:max_nodes]
        link = measure_link(connection, nodes[0], nodes[-1])
        print(f"link {nodes[0].platform} -> {nodes[-1].platform}: {link.overhead_s * 1e3:.2f} ms per call, "
              f"{link.bandwidth_bps / 1e6:.0f} MB/s; per N: {repetitions} repetitions of {images} images streamed "
              "(medians)\n")
        for count in range(1, len(nodes) + 1):
            request = FarmRequest(spec, count, PIPELINE, images=images, latency_queries=10, repetitions=repetitions)
            meter = meters[count] = CpuMeter(cluster) if cluster else None
            results[count], _ = run_farm(connection, request, say=lambda line: None, canonical=canonical,
                                         around_stream=meter or nullcontext)
    cores = os.cpu_count() or 1
    print(f"{'N':>2}  {'stage compute ms':<18} {'kB between':>10}  {'latency ms':>10}  {'img/s':>6}  "
          f"{'pipeline':>8}  {'CPU ms/img':>10}  {'others':>6}  {'host CPU':>8}  {'model':>6}  {'model/meas':>10}")
    for count, result in results.items():
        times = _median_stage_times(result)
        measured = statistics.median(r.throughput_ips for r in result.repetitions)
        latency = statistics.median(statistics.median(r.latencies_s) for r in result.repetitions)
        pipeline = pipeline_throughput([StageCost(t, b) for t, b in zip(times, _moved(result))], link.overhead_s,
                                       link.bandwidth_bps)
        meter, host_cells, model = meters.get(count), f"{'-':>10}  {'-':>6}  {'-':>8}", pipeline
        if meter is not None:
            cpu_per_image = meter.ours_s / (repetitions * images)
            host = (cores - meter.others_cores()) / cpu_per_image
            model = min(pipeline, host)
            host_cells = f"{cpu_per_image * 1e3:>10.1f}  {meter.others_cores():>6.2f}  {host:>8.2f}"
        print(f"{count:>2}  {' '.join(f'{t * 1e3:.1f}' for t in times):<18} "
              f"{result.bytes_between_stages / 1e3:>10.1f}  {latency * 1e3:>10.1f}  {measured:>6.2f}  "
              f"{pipeline:>8.2f}  {host_cells}  {model:>6.2f}  {model / measured:>10.2f}")
    print("\nimg/s: measured. pipeline = 1 / max_i (t_i + o + b_i / B): t_i as measured in that run, b_i the bytes "
          "into stage i (the last one's outputs too), o and B the link above: what these stages give with a machine "
          f"each. host CPU = ({cores} cores - 'others', the CPUs other tenants kept busy meanwhile) / (CPU per image "
          "of every process of the farm, Ray's and the driver's included): the limit of one shared host. model = "
          f"the lower of the two. Load average now {os.getloadavg()[0]:.2f}")
    original_farms()


def original_farms(overhead_s: float = 0.0) -> None:
    """What the original farms' throughputs imply, split as ck farm splits them (pipeline balanced by MACs);
    with no per-call overhead (o = 0), the figures are the least a device and a link would need."""
    print("\noriginal ReQuEST farms, under the same model (each device one pipeline stage, split by MACs as here, "
          "float32 tensors, o = 0: the least each device and link would need):")
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
