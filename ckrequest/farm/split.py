"""A model's canonical ONNX graph cut into N contiguous stages, balanced by multiply-accumulates.

A cut goes between two nodes of the graph's (topological) order where exactly one activation
crosses it: every stage then takes one tensor and hands one on, and no tensor skips a stage. Of
those places, the N - 1 cuts that make the largest stage (in MACs, counted by models/macs.py) as
small as possible are taken (the slowest stage sets a pipeline's pace); among equal choices, the
one that moves the fewest bytes between stages. Each stage is extracted with onnx's own
``onnx.utils.Extractor``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import onnx
from onnx import helper

from ..errors import RequestError
from ..models.macs import macs_per_node
from ..models.onnx_graph import serialize


@dataclass(frozen=True)
class Stage:
    """One contiguous piece of the graph: nodes [first_node, end_node), as a model of its own."""

    index: int
    model: bytes  # the stage's ONNX model, serialized (b"" in a plan: see plan_stages)
    input_name: str
    output_name: str
    first_node: int
    end_node: int
    macs: int  # per image
    input_bytes: int  # per image: what it receives
    output_bytes: int  # per image: what it hands on


@dataclass(frozen=True)
class Split:
    stages: tuple[Stage, ...]
    total_macs: int

    @property
    def bytes_between_stages(self) -> int:
        """Per image: what crosses the cuts (the stages' outputs but the last one's)."""
        return sum(stage.output_bytes for stage in self.stages[:-1])

    @property
    def largest_stage_share(self) -> float:
        """The largest stage's share of the model's MACs (1/N is a perfect balance)."""
        return max(stage.macs for stage in self.stages) / self.total_macs if self.total_macs else 1.0


def _tensor_bytes(info: onnx.ValueInfoProto) -> int:
    """Bytes of one image's tensor (a symbolic dimension, the batch, counts as 1)."""
    tensor = info.type.tensor_type
    dims = [d.dim_value if d.HasField("dim_value") else 1 for d in tensor.shape.dim]
    return math.prod(dims) * helper.tensor_dtype_to_np_dtype(tensor.elem_type).itemsize


def cut_places(graph: onnx.GraphProto) -> dict[int, str]:
    """Cut position k (before node k) -> the one activation crossing it, where exactly one does."""
    constants = {t.name for t in graph.initializer}
    produced: dict[str, int] = {i.name: -1 for i in graph.input if i.name not in constants}
    last_use: dict[str, int] = {}
    for index, node in enumerate(graph.node):
        for name in node.input:
            if name:
                last_use[name] = index
        for name in node.output:
            if name:
                produced[name] = index
    end = len(graph.node)
    for output in graph.output:
        last_use[output.name] = end
    crossing: dict[int, list[str]] = {}
    for name, made in produced.items():
        for k in range(made + 1, last_use.get(name, made) + 1):  # the cuts after its producer, to its last use
            if 0 < k < end:
                crossing.setdefault(k, []).append(name)
    return {k: names[0] for k, names in crossing.items() if len(names) == 1}


def choose_cuts(node_macs: list[int], candidates: dict[int, int], stages: int) -> tuple[int, ...]:
    """``stages - 1`` cut positions among ``candidates`` (position -> bytes crossing it) minimising the
    largest stage's MACs, then the bytes crossing, then the later cuts (an activation stays with its
    convolution, which ONNX Runtime fuses); () for one stage."""
    prefix = [0]
    for macs in node_macs:
        prefix.append(prefix[-1] + macs)
    total = prefix[-1]
    positions = sorted(candidates)
    # best[p]: (largest stage so far, bytes so far, -cuts) with the last cut at p, for the number of cuts made
    best = {p: (prefix[p], candidates[p], (-p,)) for p in positions}
    for _ in range(stages - 2):
        best = {p: min(((max(largest, prefix[p] - prefix[q]), moved + candidates[p], (*cuts, -p))
                        for q, (largest, moved, cuts) in best.items() if q < p), default=None)
                for p in positions}
        best = {p: v for p, v in best.items() if v is not None}
    if stages == 1:
        return ()
    finished = [(max(largest, total - prefix[p]), moved, cuts) for p, (largest, moved, cuts) in best.items()]
    return tuple(-c for c in min(finished)[2]) if finished else ()


def plan_stages(model: onnx.ModelProto, stages: int, name: str = "the model") -> tuple[Stage, ...]:
    """Where ``model`` is cut into ``stages`` balanced by MACs, without extracting the stages (``model`` b"")."""
    return _cut(model, stages, name, extract=False)[0]


def split_model(model: onnx.ModelProto, stages: int, name: str = "the model") -> Split:
    """``model`` in ``stages`` contiguous stages balanced by MACs; RequestError if it cannot be cut so."""
    made, total = _cut(model, stages, name, extract=True)
    return Split(made, total)


def _crossings(model: onnx.ModelProto) -> tuple[onnx.ModelProto, dict[str, onnx.ValueInfoProto], dict[int, str]]:
    """The model with its shapes inferred, its tensors' infos, and the places it can be cut (cut_places)."""
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    graph = inferred.graph
    infos = {i.name: i for i in [*graph.input, *graph.value_info, *graph.output]}
    return inferred, infos, {k: tensor for k, tensor in cut_places(graph).items() if tensor in infos}


def most_stages(model: onnx.ModelProto) -> int:
    """How many stages ``model`` can be cut into: one more than the places where one tensor alone crosses."""
    return len(_crossings(model)[2]) + 1


def check_stages(stages: int, most: int, name: str = "the model") -> None:
    """RequestError in one line unless 1 <= ``stages`` <= ``most`` (what most_stages says of the model)."""
    if stages < 1:
        raise RequestError(f"--stages={stages}", "is not a positive number of stages", "pass --stages=1 or more")
    if stages > most:
        raise RequestError(f"--stages={stages}", f"{name} can be cut in at most {most} stages "
                           "(places where one tensor alone crosses)", f"pass --stages={most} or fewer")


def _cut(model: onnx.ModelProto, stages: int, name: str, extract: bool) -> tuple[tuple[Stage, ...], int]:
    inferred, infos, crossings = _crossings(model)
    graph = inferred.graph
    check_stages(stages, len(crossings) + 1, name)
    node_macs = macs_per_node(model)
    cuts = choose_cuts(node_macs, {k: _tensor_bytes(infos[t]) for k, t in crossings.items()}, stages)
    (graph_input,) = [i.name for i in graph.input if i.name not in {t.name for t in graph.initializer}]
    (graph_output,) = [o.name for o in graph.output]
    bounds = [0, *cuts, len(graph.node)]
    names = [graph_input, *(crossings[k] for k in cuts), graph_output]
    extractor = onnx.utils.Extractor(inferred) if extract else None
    made = []
    for index in range(stages):
        piece = b""
        if extractor is not None:
            extracted = extractor.extract_model([names[index]], [names[index + 1]])
            extracted.graph.name = f"{graph.name or 'model'}-stage-{index + 1}-of-{stages}"
            piece = serialize(extracted)
        made.append(Stage(index=index, model=piece, input_name=names[index],
                          output_name=names[index + 1], first_node=bounds[index], end_node=bounds[index + 1],
                          macs=sum(node_macs[bounds[index]:bounds[index + 1]]),
                          input_bytes=_tensor_bytes(infos[names[index]]),
                          output_bytes=_tensor_bytes(infos[names[index + 1]])))
    return tuple(made), sum(node_macs)
