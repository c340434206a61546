"""ONNX Runtime backend (CPU execution provider)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..models.model_info import ModelInfo
from .base import NO_OPTIONS, Backend, BackendDescription, BackendOptions, import_framework, load_error, require_model


class OnnxRuntimeBackend(Backend):
    name = "onnxruntime"
    formats = ("onnx",)

    def __init__(self, model_path: Path, info: ModelInfo, options: BackendOptions = NO_OPTIONS) -> None:
        super().__init__(model_path, info, options)
        threads = self.threads
        ort = self._ort = import_framework("onnxruntime", "lib-onnxruntime")
        require_model(self.model_path, "onnx")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(self.model_path), options,
                                                 providers=["CPUExecutionProvider"])
        except Exception as err:  # ORT raises several unrelated types for a bad file
            raise load_error(self.model_path, "ONNX Runtime", err, "onnx") from None
        self._input_name = self._session.get_inputs()[0].name
        self._output_names = [self._session.get_outputs()[0].name]

    def prepare(self, batch: np.ndarray) -> Any:
        return {self._input_name: np.ascontiguousarray(batch, dtype=np.float32)}

    def run(self, prepared: Any) -> np.ndarray:
        return self._session.run(self._output_names, prepared)[0]

    def describe(self) -> BackendDescription:
        return BackendDescription(library="onnxruntime", version=self._ort.__version__,
                                  device=self._session.get_providers()[0], threads=self.threads,
                                  details={"backend_graph_optimization": "ORT_ENABLE_ALL",
                                           "backend_inter_op_threads": 1})


BACKEND = OnnxRuntimeBackend
