"""TensorFlow backend: a SavedModel's serving signature (a compiled graph function, not eager)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..models.model_info import ModelInfo
from .base import NO_OPTIONS, Backend, BackendDescription, BackendOptions, import_framework, load_error, require_model


class TensorflowBackend(Backend):
    name = "tensorflow"
    formats = ("tf",)

    def __init__(self, model_path: Path, info: ModelInfo, options: BackendOptions = NO_OPTIONS) -> None:
        super().__init__(model_path, info, options)
        threads = self.threads
        tf = self._tf = import_framework("tensorflow", "lib-tensorflow")
        require_model(self.model_path, "tf")
        self._threading = "applied"
        try:  # only possible before TensorFlow's first operation in this process
            if threads:
                tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            self._threading = "not applied: TensorFlow was already initialised in this process"
        try:
            loaded = tf.saved_model.load(str(self.model_path))
            self._function = loaded.signatures["serving_default"]
        except Exception as err:
            raise load_error(self.model_path, "TensorFlow", err, "tf") from None
        self._loaded = loaded  # keeps the variables the signature reads alive
        self._input_name = next(iter(self._function.structured_input_signature[1]))
        self._output_name = next(iter(self._function.structured_outputs))

    def prepare(self, batch: np.ndarray) -> Any:
        return {self._input_name: self._tf.constant(np.ascontiguousarray(batch, dtype=np.float32))}

    def run(self, prepared: Any) -> np.ndarray:
        return self._function(**prepared)[self._output_name].numpy()  # .numpy() waits for the result

    def describe(self) -> BackendDescription:
        return BackendDescription(library="tensorflow", version=self._tf.__version__, device="CPU",
                                  threads=self.threads,
                                  details={"backend_signature": "serving_default",
                                           "backend_threading": self._threading})


BACKEND = TensorflowBackend
