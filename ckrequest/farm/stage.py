"""What runs on a farm node: one stage of a model (or the whole model) in an ONNX Runtime session.

Ray makes this class an actor on the node chosen for it (farm/pipeline.py); the node needs
ck-request, numpy and ONNX Runtime installed (docs/FARM.md). Each call times the session's run
alone, so the stage's compute time is known apart from what moving tensors costs.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np


class StageWorker:
    """An ONNX Runtime session of one stage: tensors in, tensors out, each run timed."""

    def __init__(self, model: bytes, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._outputs = [o.name for o in self._session.get_outputs()]
        self._compute_ns: list[int] = []
        self._bytes_out = 0
        self._library = f"onnxruntime {ort.__version__}"
        self._threads = threads

    def run(self, tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        feed = {name: tensors[name] for name in self._inputs}
        start = time.perf_counter_ns()
        values = self._session.run(self._outputs, feed)
        self._compute_ns.append(time.perf_counter_ns() - start)
        self._bytes_out = sum(v.nbytes for v in values)
        return dict(zip(self._outputs, values))

    def take_times(self) -> list[int]:
        """The compute time of each run since the last call (ns), and forget them."""
        times, self._compute_ns = self._compute_ns, []
        return times

    def describe(self) -> dict[str, Any]:
        """The node as the harness describes a host (no host names, no paths), and what runs on it."""
        import ray

        from ..run.host import describe_host

        return {"node_id": ray.get_runtime_context().get_node_id(), "host": describe_host().as_dict(),
                "library": self._library, "threads": self._threads, "bytes_out": self._bytes_out}
