"""TFLite backend: the LiteRT interpreter (ai-edge-litert), XNNPACK, fp32/fp16/int8 models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..models.model_info import ModelInfo
from .base import NO_OPTIONS, Backend, BackendDescription, BackendOptions, import_framework, load_error, require_model


class TfliteBackend(Backend):
    name = "tflite"
    formats = ("tflite",)

    def __init__(self, model_path: Path, info: ModelInfo, options: BackendOptions = NO_OPTIONS) -> None:
        super().__init__(model_path, info, options)
        threads = self.threads
        litert = import_framework("ai_edge_litert.interpreter", "lib-litert")
        self._version = getattr(import_framework("ai_edge_litert", "lib-litert"), "__version__", "")
        require_model(self.model_path, "tflite")
        try:
            self._interpreter = litert.Interpreter(model_path=str(self.model_path), num_threads=threads or None)
        except Exception as err:
            raise load_error(self.model_path, "LiteRT", err, "tflite") from None
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        self._batch = 0

    def _resize(self, batch: int) -> None:
        if batch != self._batch:
            self._interpreter.resize_tensor_input(self._input["index"], [batch, *self._input["shape"][1:]])
            self._interpreter.allocate_tensors()
            self._input = self._interpreter.get_input_details()[0]
            self._output = self._interpreter.get_output_details()[0]
            self._batch = batch

    def prepare(self, batch: np.ndarray) -> Any:
        """Resize for the batch and quantize the input if the model's input is integer."""
        self._resize(len(batch))
        dtype = self._input["dtype"]
        if np.issubdtype(dtype, np.integer):
            scale, zero = self._input["quantization"]
            info = np.iinfo(dtype)
            return np.clip(np.round(batch / scale + zero), info.min, info.max).astype(dtype)
        return np.ascontiguousarray(batch, dtype=dtype)

    def run(self, prepared: Any) -> np.ndarray:
        self._resize(len(prepared))
        interpreter = self._interpreter
        interpreter.set_tensor(self._input["index"], prepared)
        interpreter.invoke()
        return interpreter.get_tensor(self._output["index"])

    def logits(self, output: Any) -> np.ndarray:
        scale, zero = self._output["quantization"]
        if np.issubdtype(self._output["dtype"], np.integer) and scale:
            return (output.astype(np.float32) - zero) * scale
        return np.asarray(output, dtype=np.float32)

    def describe(self) -> BackendDescription:
        return BackendDescription(library="ai-edge-litert", version=self._version, device="CPU (XNNPACK)",
                                  threads=self.threads,
                                  details={"backend_input_dtype": str(np.dtype(self._input["dtype"]))})


BACKEND = TfliteBackend
