"""Inference on a farm of Ray nodes: a model split into a pipeline of stages, or whole copies side by side.

Pipeline mode (ReQuEST's IoT farm workflow): the canonical ONNX graph is cut into N stages balanced
by MACs (farm/split.py), each stage runs as a Ray actor on a node of its own, and images are
streamed through: while stage 2 works on image k, stage 1 works on image k+1. Data-parallel mode:
the whole model on each of N nodes, images dealt out in turn.

Every run measures, per repetition: the batch-1 latency of an image going alone through the farm,
the throughput of a stream of images, each stage's compute time, and the bytes that cross between
nodes per image. The outputs are checked against the whole model run in this process (ONNX
Runtime, same images): a run whose softmax differs by more than 1e-5, or whose top-1 differs, fails.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import Any, Callable, ContextManager

import numpy as np
import onnx

from ..errors import RequestError
from ..zoo.calibration import photo_set
from ..zoo.canonical import Canonical, ModelSpec, canonical_onnx
from .cluster import JOIN_FIX, Connection, FarmNode, NodeLost
from .split import Split, check_stages, most_stages, split_model
from .stage import StageWorker

PIPELINE, DATA_PARALLEL = "pipeline", "data-parallel"
MODES = (PIPELINE, DATA_PARALLEL)
SOFTMAX_TOLERANCE = 1e-5
IN_FLIGHT_PER_NODE = 2  # images in flight per node while streaming: enough to keep every stage busy


@dataclass(frozen=True)
class FarmRequest:
    spec: ModelSpec
    nodes: int  # pipeline: the number of stages; data-parallel: the number of copies of the model
    mode: str = PIPELINE
    images: int = 32  # streamed per repetition (timed for throughput)
    latency_queries: int = 10  # images sent alone per repetition (timed for latency)
    repetitions: int = 3
    threads: int = 0  # per node; 0: the CPUs the node declared to Ray
    platforms: tuple[str, ...] = ()  # only nodes of these platforms ((): any measuring node)
    timeout_s: float = 600.0  # for any one result

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise RequestError(f"--mode={self.mode}", "is not a farm mode", f"use one of: {', '.join(MODES)}")
        for name in ("nodes", "images", "latency_queries", "repetitions"):
            if getattr(self, name) < 1:
                raise RequestError(f"{name} {getattr(self, name)}", "must be at least 1", "pass a positive number")


@dataclass(frozen=True)
class StageReport:
    """One node's part of the farm, as it ran."""

    index: int
    node: FarmNode
    host: dict[str, Any]  # run.host.PlatformInfo of the node, as a dict
    library: str
    threads: int
    macs: int
    input_bytes: int  # per image: what the stage receives (from the graph's shapes)
    output_bytes: int  # per image: what it handed on, measured at the node


@dataclass(frozen=True)
class Repetition:
    latencies_s: tuple[float, ...]  # each image sent alone through the farm
    stream_s: float  # the timed stream, first image sent to last result
    streamed: int
    stage_compute_s: tuple[float, ...]  # per stage: the median compute time of one image

    @property
    def throughput_ips(self) -> float:
        return self.streamed / self.stream_s


@dataclass(frozen=True)
class FarmResult:
    request: FarmRequest
    canonical: Canonical
    stages: tuple[StageReport, ...]
    repetitions: tuple[Repetition, ...]
    bytes_between_stages: int  # per image
    network_bytes: int  # per image: every crossing between nodes, the images in and the outputs back included
    softmax_max_diff: float
    images_checked: int
    dataset: str
    dataset_size: int
    ray_version: str

    @property
    def hosts(self) -> int:
        return len({s.node.address for s in self.stages})

    @property
    def farm_name(self) -> str:
        nodes = len(self.stages)
        where = f"/{self.hosts} host{'s' if self.hosts > 1 else ''}" if self.hosts != nodes else ""
        return f"Ray farm: {nodes} node{'s' if nodes > 1 else ''}{where} ({self.request.mode})"

    @property
    def library(self) -> str:
        return f"{self.stages[0].library} + ray {self.ray_version}"


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted.astype(np.float64))
    return e / e.sum(axis=-1, keepdims=True)


def compare_outputs(farm: list[np.ndarray], reference: list[np.ndarray]) -> float:
    """Max |difference of softmax| of the farm's outputs against the single-process ones; RequestError when
    it exceeds the tolerance or a top-1 class differs."""
    diff = max(float(np.abs(softmax(a) - softmax(b)).max()) for a, b in zip(farm, reference))
    differing = sum(int(np.argmax(a) != np.argmax(b)) for a, b in zip(farm, reference))
    if diff > SOFTMAX_TOLERANCE or differing:
        raise RequestError("the farm's outputs", f"differ from the whole model run in one process (max |softmax "
                           f"difference| {diff:.2e}, {differing} top-1 of {len(farm)} differ)",
                           "nothing was recorded; report it with the model and --stages")
    return diff


def choose_nodes(connection: Connection, request: FarmRequest) -> list[FarmNode]:
    nodes = connection.nodes(request.platforms)
    if len(nodes) < request.nodes:
        which = f"of platform {', '.join(request.platforms)} " if request.platforms else ""
        raise RequestError(f"--stages={request.nodes}", f"needs {request.nodes} measuring nodes {which}and the "
                           f"cluster has {len(nodes)}", f"{JOIN_FIX}; or pass fewer --stages")
    return nodes[:request.nodes]


def check_request(request: FarmRequest, canonical: Canonical, model: onnx.ModelProto | None = None) -> None:
    """What the model allows, checked before any node is asked for: a pipeline of no more stages than it has
    places to cut."""
    if request.mode == PIPELINE:
        check_stages(request.nodes, most_stages(model or onnx.load(str(canonical.path))), canonical.design_name)


def whole_model_split(model: onnx.ModelProto, copies: int) -> Split:
    """Data-parallel: the whole model once per node, as one stage each."""
    whole = split_model(model, 1).stages[0]
    return Split(tuple(replace(whole, index=k) for k in range(copies)), whole.macs)


class Farm:
    """The actors of one farm run, on their nodes; ``close()`` frees the nodes."""

    def __init__(self, connection: Connection, request: FarmRequest, split: Split, nodes: list[FarmNode]) -> None:
        self.connection, self.request, self.split, self.nodes = connection, request, split, nodes
        ray = connection.ray
        models: dict[bytes, Any] = {}  # one object per distinct graph (data-parallel sends one model N times)
        self.actors = []
        for stage, node in zip(split.stages, nodes):
            model_ref = models.setdefault(stage.model, ray.put(stage.model))
            self.actors.append(connection.actor_on(StageWorker, node, model_ref, request.threads or node.threads))
        self.input_name = split.stages[0].input_name

    def close(self) -> None:
        for actor in self.actors:
            self.connection.ray.kill(actor)

    def what(self) -> str:
        return f"the farm ({', '.join(f'{n.platform} node {n.node_id[:8]}' for n in self.nodes)})"

    def get(self, ref: Any) -> Any:
        return self.connection.result(ref, self.what(), self.request.timeout_s)

    def submit(self, image: np.ndarray, k: int) -> Any:
        """Image k into the farm: through every stage in turn (pipeline), or to node k mod N (data-parallel)."""
        tensors = {self.input_name: image[None]}
        if self.request.mode == DATA_PARALLEL:
            return self.actors[k % len(self.actors)].run.remote(tensors)
        ref = tensors
        for actor in self.actors:  # each stage takes the previous one's result straight from its node
            ref = actor.run.remote(ref)
        return ref

    def stream(self, images: np.ndarray, count: int, first: int = 0) -> tuple[float, list[dict[str, np.ndarray]]]:
        """``count`` images streamed with a bounded number in flight; (seconds, outputs in order)."""
        window = IN_FLIGHT_PER_NODE * len(self.actors)
        pending: deque = deque()
        outputs = []
        start = time.perf_counter()
        for k in range(first, first + count):
            pending.append(self.submit(images[k % len(images)], k))
            if len(pending) >= window:
                outputs.append(self.get(pending.popleft()))
        while pending:
            outputs.append(self.get(pending.popleft()))
        return time.perf_counter() - start, outputs

    def alone(self, images: np.ndarray, count: int) -> list[float]:
        """``count`` images, each sent alone through the farm: end-to-end seconds each."""
        latencies = []
        for k in range(count):
            start = time.perf_counter()
            self.get(self.submit(images[k % len(images)], k))
            latencies.append(time.perf_counter() - start)
        return latencies

    def stage_times(self) -> tuple[float, ...]:
        """Per stage (per node in data-parallel mode), the median compute time since the last call."""
        times = self.connection.results([a.take_times.remote() for a in self.actors], self.what(),
                                        self.request.timeout_s)
        return tuple(statistics.median(t) / 1e9 if t else 0.0 for t in times)

    def describe(self) -> list[dict[str, Any]]:
        return self.connection.results([a.describe.remote() for a in self.actors], self.what(),
                                       self.request.timeout_s)


def _lost_nodes(connection: Connection, nodes: list[FarmNode], wait_s: float = 5.0) -> list[FarmNode]:
    """The nodes of ours the cluster has seen die (it takes a few health checks to see it)."""
    deadline = time.monotonic() + wait_s
    while True:
        alive = {n.node_id for n in connection.nodes()}
        lost = [n for n in nodes if n.node_id not in alive]
        if lost or time.monotonic() > deadline:
            return lost
        time.sleep(0.25)


def run_farm(connection: Connection, request: FarmRequest, say: Callable[[str], None] = print,
             canonical: Canonical | None = None, around_stream: Callable[[], ContextManager[Any]] = nullcontext,
             ) -> tuple[FarmResult, list[dict[str, np.ndarray]]]:
    """Measure ``request`` on the cluster; the result and the farm's outputs of the last stream.
    ``around_stream`` wraps each timed stream (a benchmark's meters)."""
    canonical = canonical or canonical_onnx(request.spec)
    model = onnx.load(str(canonical.path))
    check_request(request, canonical, model)
    nodes = choose_nodes(connection, request)
    split = split_model(model, request.nodes, canonical.design_name) if request.mode == PIPELINE \
        else whole_model_split(model, request.nodes)
    del model
    photos = photo_set(canonical.preprocessing)
    say(f"farm: {canonical.design_name}, {request.mode} on {len(nodes)} node(s): "
        + ", ".join(f"{n.platform} ({n.node_id[:8]}, {n.address})" for n in nodes))
    for stage, node in zip(split.stages, nodes):
        say(f"  stage {stage.index + 1}: nodes {stage.first_node}..{stage.end_node - 1} of the graph, "
            f"{stage.macs / 1e6:.1f} M MACs, hands on {stage.output_bytes / 1e3:.1f} kB per image -> {node.platform}")
    farm = Farm(connection, request, split, nodes)
    try:
        described = farm.describe()  # waits until every node has loaded its stage
        farm.stream(photos.inputs, IN_FLIGHT_PER_NODE * len(nodes))  # warm-up, not timed
        farm.stage_times()
        say(f"  every node ready, warmed up: measuring {request.repetitions} repetition(s)")
        repetitions, outputs = [], []
        for _ in range(request.repetitions):
            latencies = farm.alone(photos.inputs, request.latency_queries)
            with around_stream():
                seconds, outputs = farm.stream(photos.inputs, request.images, first=request.latency_queries)
            repetitions.append(Repetition(tuple(latencies), seconds, request.images, farm.stage_times()))
            say(f"  repetition {len(repetitions)}: latency p50 {statistics.median(latencies) * 1e3:.1f} ms, "
                f"throughput {repetitions[-1].throughput_ips:.2f} images/s")
        described = farm.describe()
    except NodeLost as err:
        lost = _lost_nodes(connection, nodes)
        if lost:
            stages = ", ".join(f"stage {nodes.index(n) + 1} on {n.platform} node {n.node_id[:8]}" for n in lost)
            raise NodeLost(f"the farm's {stages}", "died mid-run", err.fix) from None
        raise
    finally:
        farm.close()
    streamed = [photos.inputs[k % len(photos.inputs)] for k in range(request.latency_queries,
                                                                       request.latency_queries + request.images)]
    farm_logits = [next(iter(o.values())) for o in outputs]
    diff = compare_outputs(farm_logits, single_process(canonical, streamed))
    reports = tuple(StageReport(index=k, node=node, host=d["host"], library=d["library"], threads=d["threads"],
                                macs=stage.macs, input_bytes=stage.input_bytes, output_bytes=d["bytes_out"])
                    for k, (stage, node, d) in enumerate(zip(split.stages, nodes, described)))
    between = sum(r.output_bytes for r in reports[:-1]) if request.mode == PIPELINE else 0
    network = (reports[0].input_bytes + between + reports[-1].output_bytes)
    result = FarmResult(request=request, canonical=canonical, stages=reports, repetitions=tuple(repetitions),
                        bytes_between_stages=between, network_bytes=network, softmax_max_diff=diff,
                        images_checked=len(streamed), dataset=photos.name, dataset_size=len(photos.inputs),
                        ray_version=connection.ray.__version__)
    return result, outputs


def single_process(canonical: Canonical, images: list[np.ndarray]) -> list[np.ndarray]:
    """The whole model in this process (ONNX Runtime), one image at a time: what the farm must equal."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(canonical.path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return [session.run(None, {name: image[None]})[0] for image in images]
