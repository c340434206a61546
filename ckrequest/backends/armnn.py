"""Arm NN backend: a TFLite model through Arm NN's TFLite parser (Debian's python3-pyarmnn 20.08).

Backends in order of preference: CpuAcc and GpuAcc (the Arm Compute Library, on Arm devices),
then CpuRef, the portable reference implementation (the only one on x86). Each layer runs on
the first of those that supports it; ``describe`` counts the layers per backend. The 20.08
parser keeps the model's batch of 1, so a larger batch runs as that many inferences.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RequestError
from ..models.model_info import ModelInfo
from .base import NO_OPTIONS, Backend, BackendDescription, BackendOptions, import_framework, load_error, require_model

PREFERENCES = ("CpuAcc", "GpuAcc", "CpuRef")
BACKENDS_VAR = "CK_ENV_LIB_ARMNN_BACKENDS"  # the folder of Arm NN's dynamic backends (Arm_CpuRef_backend.so)
VERSION_VAR = "CK_ENV_LIB_ARMNN_VERSION"  # the Arm NN release (Debian's upstream version), e.g. 20.08


def _import_pyarmnn() -> Any:
    logging.getLogger("pyarmnn").setLevel(logging.ERROR)  # it warns for each parser Debian did not build
    return import_framework("pyarmnn", "lib-armnn")


def layers_per_backend(optimized: Any) -> Counter:
    """How many layers of the optimized network each backend runs, read from its Graphviz dump."""
    with tempfile.TemporaryDirectory(prefix="request-armnn-") as folder:
        dot = Path(folder) / "network.dot"
        optimized.SerializeToDot(str(dot))
        return Counter(re.findall(r"BackendID : (\w+)", dot.read_text()))


def parse_error(path: Path, err: BaseException) -> RequestError:
    """An operator the parser lacks is named as such; anything else is a bad model file."""
    unsupported = re.search(r"Operator not supported.*?opcode:[^A-Z]*([A-Z][A-Z0-9_]+)", str(err))
    if unsupported:
        return RequestError(f"model file {path}", f"Arm NN's TFLite parser (20.08) lacks the {unsupported.group(1)} "
                            "operator it uses", "run this model with another framework, e.g. "
                            "program:request-tflite-classification")
    return load_error(path, "Arm NN's TFLite parser", err, "tflite")


class ArmnnBackend(Backend):
    name = "armnn"
    formats = ("tflite",)

    def __init__(self, model_path: Path, info: ModelInfo, options: BackendOptions = NO_OPTIONS) -> None:
        super().__init__(model_path, info, options)
        ann = self._ann = _import_pyarmnn()
        require_model(self.model_path, "tflite")
        if info.precision != "fp32":
            raise RequestError(f"{info.precision} TFLite model {self.model_path}",
                               "this backend runs fp32 TFLite models (Arm NN 20.08's parser)",
                               "use an fp32 model: --dep_add_tags.model=fp32")
        parser = ann.ITfLiteParser()
        try:
            network = parser.CreateNetworkFromBinaryFile(str(self.model_path))
        except Exception as err:  # the parser raises RuntimeError subclasses for ops it lacks
            raise parse_error(self.model_path, err) from None
        input_name = parser.GetSubgraphInputTensorNames(0)[0]
        output_name = parser.GetSubgraphOutputTensorNames(0)[0]
        self._input = parser.GetNetworkInputBindingInfo(0, input_name)
        self._output = parser.GetNetworkOutputBindingInfo(0, output_name)
        shape = self._input[1].GetShape()
        self._input_shape = tuple(shape[k] for k in range(shape.GetNumDimensions()))
        self._runtime = ann.IRuntime(self._options())
        self._network_id, self._layers = self._load(network)
        self._outputs = ann.make_output_tensors([self._output])

    def _options(self) -> Any:
        options = self._ann.CreationOptions()
        backends = self.options.get(BACKENDS_VAR)
        if backends:
            options.m_DynamicBackendsPath = backends
        return options

    def _load(self, network: Any) -> tuple[int, Counter]:
        ann = self._ann
        spec = self._runtime.GetDeviceSpec()
        available = [str(b) for b in spec.GetSupportedBackends()]
        if not available:
            folder = self.options.get(BACKENDS_VAR)
            raise RequestError("Arm NN", f"found no backend (dynamic backends folder {BACKENDS_VAR}={folder!r})",
                               "reinstall it: ck install package:lib-armnn --quiet")
        try:
            optimized, _ = ann.Optimize(network, [ann.BackendId(b) for b in PREFERENCES], spec,
                                        ann.OptimizerOptions())
        except Exception as err:
            raise load_error(self.model_path, f"Arm NN (backends {available})", err, "tflite") from None
        layers = layers_per_backend(optimized)  # before LoadNetwork, which takes the network over
        network_id, _ = self._runtime.LoadNetwork(optimized)
        return network_id, layers

    def prepare(self, batch: np.ndarray) -> Any:
        """One input tensor per image: the parsed network takes the model's batch of 1."""
        images = np.ascontiguousarray(batch, dtype=np.float32)
        if images.shape[1:] != self._input_shape[1:]:
            raise RequestError(f"input of shape {images.shape}", f"does not fit the model's {self._input_shape}",
                               "use the model's preprocessing (model-info.json)")
        return [self._ann.make_input_tensors([self._input], [image[None]]) for image in images]

    def run(self, prepared: Any) -> np.ndarray:
        results = []
        for inputs in prepared:
            self._runtime.EnqueueWorkload(self._network_id, inputs, self._outputs)
            results.append(self._ann.workload_tensors_to_ndarray(self._outputs)[0].copy())
        return np.concatenate(results)

    def describe(self) -> BackendDescription:
        main = self._layers.most_common(1)[0][0]
        note = " (Arm NN's reference backend: CpuAcc/GpuAcc, the Arm Compute Library, are not available here)" \
            if main == "CpuRef" else ""
        version = self.options.get(VERSION_VAR) or f"pyarmnn {self._ann.__version__}"
        return BackendDescription(library="armnn", version=version, device=f"{main}{note}",
                                  threads=1 if main == "CpuRef" else self.threads,
                                  details={"armnn_backend": main, "armnn_layers_per_backend": dict(self._layers),
                                           "preferences": list(PREFERENCES),
                                           "pyarmnn_api": self._ann.__version__, "parser": "TfLiteParser",
                                           "batch": "images run one by one (the parser keeps batch 1)"})


BACKEND = ArmnnBackend
