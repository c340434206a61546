"""OpenVINO backend (CPU plugin): IR models, latency or throughput hint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RequestError
from ..models.model_info import ModelInfo
from .base import NO_OPTIONS, Backend, BackendDescription, BackendOptions, import_framework, load_error, require_model

HINTS = ("LATENCY", "THROUGHPUT")


class OpenvinoBackend(Backend):
    name = "openvino"
    formats = ("openvino",)

    def __init__(self, model_path: Path, info: ModelInfo, options: BackendOptions = NO_OPTIONS) -> None:
        super().__init__(model_path, info, options)
        ov = self._ov = import_framework("openvino", "lib-openvino")
        require_model(self.model_path, "openvino")
        self._hint = options.get("CK_REQUEST_OV_HINT", "LATENCY").upper()
        if self._hint not in HINTS:
            raise RequestError(f"run variable CK_REQUEST_OV_HINT={self._hint!r}", f"is not one of {HINTS}",
                               "pass --env.CK_REQUEST_OV_HINT=LATENCY or THROUGHPUT")
        self._streams = options.get("CK_REQUEST_OV_STREAMS")
        self._core = ov.Core()
        try:
            self._model = self._core.read_model(str(self.model_path))
        except Exception as err:
            raise load_error(self.model_path, "OpenVINO", err, "openvino") from None
        self._compiled = None
        self._shape: tuple[int, ...] = ()

    def _config(self) -> dict[str, str]:
        config = {"PERFORMANCE_HINT": self._hint}
        if self.info.precision != "int8":  # else the CPU plugin may compute in bf16 where the CPU has it
            config["INFERENCE_PRECISION_HINT"] = "f32"
        if self.threads:
            config["INFERENCE_NUM_THREADS"] = str(self.threads)
        if self._streams:
            config["NUM_STREAMS"] = self._streams
        return config

    def prepare(self, batch: np.ndarray) -> Any:
        """Compile for this input shape on first sight of it (outside any timed region)."""
        if batch.shape != self._shape:
            self._model.reshape({self._model.inputs[0].any_name: list(batch.shape)})
            self._compiled = self._core.compile_model(self._model, "CPU", self._config())
            self._request = self._compiled.create_infer_request()
            self._shape = batch.shape
        return np.ascontiguousarray(batch, dtype=np.float32)

    def run(self, prepared: Any) -> np.ndarray:
        self._request.infer({0: prepared})
        return self._request.get_output_tensor(0).data.copy()

    def describe(self) -> BackendDescription:
        details = {"backend_performance_hint": self._hint}
        if self._compiled is not None:
            details["backend_streams"] = str(self._compiled.get_property("NUM_STREAMS"))
            details["backend_inference_threads"] = str(self._compiled.get_property("INFERENCE_NUM_THREADS"))
            details["backend_inference_precision"] = str(self._compiled.get_property("INFERENCE_PRECISION_HINT"))
        return BackendDescription(library="openvino", version=self._ov.get_version().split("-")[0], device="CPU",
                                  threads=self.threads, details=details)


BACKEND = OpenvinoBackend
