"""MXNet backend: symbol + params as a hybridized Gluon SymbolBlock (runs in MXNet's own venv)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..models.model_info import ModelInfo
from .base import NO_OPTIONS, Backend, BackendDescription, BackendOptions, import_framework, load_error, require_model


class MxnetBackend(Backend):
    name = "mxnet"
    formats = ("mxnet",)

    def __init__(self, model_path: Path, info: ModelInfo, options: BackendOptions = NO_OPTIONS) -> None:
        super().__init__(model_path, info, options)
        threads = self.threads
        if threads:  # MXNet reads its thread count when it is imported
            os.environ["OMP_NUM_THREADS"] = os.environ["MXNET_CPU_WORKER_NTHREADS"] = str(threads)
        mx = self._mx = import_framework("mxnet", "lib-mxnet")
        require_model(self.model_path, "mxnet")
        params = self.model_path.with_name(self.model_path.name.replace("-symbol.json", "-0000.params"))
        try:
            net = mx.gluon.nn.SymbolBlock.imports(str(self.model_path), [info.input_name], str(params),
                                                  ctx=mx.cpu())
            net.hybridize(static_alloc=True, static_shape=True)
        except Exception as err:
            raise load_error(self.model_path, "MXNet", err, "mxnet") from None
        self._net = net

    def prepare(self, batch: np.ndarray) -> Any:
        return self._mx.nd.array(np.ascontiguousarray(batch, dtype=np.float32), ctx=self._mx.cpu())

    def run(self, prepared: Any) -> np.ndarray:
        return self._net(prepared).asnumpy()  # asnumpy waits: MXNet computes asynchronously

    def describe(self) -> BackendDescription:
        return BackendDescription(library="mxnet", version=self._mx.__version__, device="CPU (MKLDNN)",
                                  threads=self.threads, details={"backend_hybridized": True})


BACKEND = MxnetBackend
