"""Apache TVM backend (Relax): the ONNX model compiled for this host, the library cached in CK_TOOLS.

The model is imported with the Relax ONNX frontend for the batch shape first prepared, fused,
scheduled from a MetaSchedule tuning database when one is installed (CK_ENV_TVM_TUNING_DB),
and built for ``llvm`` with the host's ``-mcpu``. The shared library lands in
``$CK_TOOLS/request-tvm-cache/<model sha256>-<target hash>-b<batch>[-<database hash>]/``, so a
second run loads it instead of compiling. An fp16 ONNX model (fp16 weights and compute, fp32 at
the edges) compiles to fp16 arithmetic.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from .. import atomic, places
from ..digest import file_sha256
from ..errors import RequestError
from ..models.model_info import ModelInfo
from .base import NO_OPTIONS, Backend, BackendDescription, BackendOptions, import_framework, load_error, require_model

CACHE_VAR = "CK_REQUEST_TVM_CACHE"  # overrides $CK_TOOLS/request-tvm-cache
TUNING_DB_VAR = "CK_ENV_TVM_TUNING_DB"  # set by the env entry of a tvm-tuning package
LIBRARY_FILE = "model.so"
BUILD_FILE = "build.json"


@dataclass(frozen=True)
class TuningDatabase:
    """A MetaSchedule database (JSON workloads + records) and what it was tuned for."""

    folder: Path
    digest: str  # of its two JSON files: part of the cache key
    model_sha256: str
    batch: int
    target: str
    trials: int

    @classmethod
    def load(cls, folder: Path) -> TuningDatabase:
        files = [folder / "database_workload.json", folder / "database_tuning_record.json"]
        about = folder / "tuning.json"
        if not all(f.is_file() for f in [*files, about]):
            raise RequestError(f"TVM tuning database {folder}", "is incomplete (no workloads, records or tuning.json)",
                               "reinstall it: ck install package --tags=tvm-tuning --quiet")
        meta = json.loads(about.read_text())
        digest = hashlib.sha256(b"".join(file_sha256(f).encode() for f in files)).hexdigest()[:16]
        return cls(folder, digest, meta["model_sha256"], int(meta["batch"]), meta["target"], int(meta["trials"]))


def host_target(tvm: ModuleType) -> Any:
    """``llvm`` for this CPU: LLVM's host CPU name as ``mcpu``, the core count MetaSchedule needs."""
    cpu = str(tvm.target.codegen.llvm_get_system_cpu())
    return tvm.target.Target({"kind": "llvm", "mcpu": cpu, "num-cores": os.cpu_count() or 1})


def target_digest(tvm: ModuleType, target: Any) -> str:
    """The target and the TVM version: a library built by another TVM is never reused."""
    return hashlib.sha256(f"{tvm.__version__}\n{target}".encode()).hexdigest()[:16]


def import_relax(tvm: ModuleType, model_path: Path, input_name: str, shape: tuple[int, ...]) -> Any:
    """The ONNX model as a Relax module for one static input shape, weights as constants, ops fused.

    This is the module tuning extracts its tasks from, so a database applies to it exactly.
    """
    import onnx
    from tvm import relax
    from tvm.relax.frontend.onnx import from_onnx

    try:
        module = from_onnx(onnx.load(str(model_path)), shape_dict={input_name: list(shape)},
                           keep_params_in_input=False)
    except Exception as err:  # the frontend raises many types for ops or files it cannot read
        raise load_error(model_path, "the TVM Relax ONNX frontend", err, "onnx") from None
    with host_target(tvm):
        return tvm.transform.Sequential([relax.transform.DecomposeOpsForInference(),
                                         relax.transform.CanonicalizeBindings(),
                                         relax.get_pipeline("zero")])(module)


def tensor_dtypes(module: Any) -> list[str]:
    """The element types of every tensor ``main`` computes: float16 where the model computes in fp16."""
    from tvm import relax

    found = set()
    for block in module["main"].body.blocks:
        for binding in block.bindings:
            if isinstance(binding.var.ty, relax.TensorType):
                found.add(str(binding.var.ty.dtype))
    return sorted(found)


def default_cache_root() -> Path:
    return places.cache("tvm-cache", CACHE_VAR)


class TvmBackend(Backend):
    name = "tvm"
    formats = ("onnx",)

    def __init__(self, model_path: Path, info: ModelInfo, options: BackendOptions = NO_OPTIONS) -> None:
        super().__init__(model_path, info, options)
        threads = self.threads
        if threads:  # read by TVM's thread pool when it starts, at the first run
            os.environ["TVM_NUM_THREADS"] = str(threads)
        self._tvm = import_framework("tvm", "lib-tvm")
        require_model(self.model_path, "onnx")
        self._target = host_target(self._tvm)
        self._model_sha256 = file_sha256(self.model_path)
        self._untuned_because = ""
        self._database = self._tuning_database()
        self._device = self._tvm.cpu()
        self._shape: tuple[int, ...] = ()
        self._vm: Any = None
        self._from_cache = False
        self._compile_seconds = 0.0
        self._library: Path | None = None
        self._build: dict[str, Any] = {}

    def _tuning_database(self) -> TuningDatabase | None:
        """The installed database if it was tuned for this model and this target, else none (and why)."""
        folder = self.options.get(TUNING_DB_VAR)
        if not folder:
            return None
        database = TuningDatabase.load(Path(folder))
        if database.model_sha256 != self._model_sha256:
            self._untuned_because = f"the database in {folder} was tuned for another model"
        elif database.target != str(self._target):
            self._untuned_because = f"the database in {folder} was tuned for target {database.target}"
        else:
            return database
        return None

    def _cache_dir(self, batch: int) -> Path:
        tuned = f"-{self._database.digest}" if self._applies(batch) else ""
        name = f"{self._model_sha256[:16]}-{target_digest(self._tvm, self._target)}-b{batch}{tuned}"
        return default_cache_root() / name

    def _applies(self, batch: int) -> bool:
        return self._database is not None and self._database.batch == batch

    def _compile(self, shape: tuple[int, ...], folder: Path) -> None:
        """Import, schedule (from the database where tuned), build and export, all or nothing."""
        tvm = self._tvm
        from tvm.s_tir import meta_schedule as ms

        if self._applies(shape[0]):
            with self._target, ms.database.JSONDatabase(work_dir=str(self._database.folder)):
                module = import_relax(tvm, self.model_path, self.info.input_name, shape)
        else:
            module = import_relax(tvm, self.model_path, self.info.input_name, shape)
        executable = tvm.compile(module, target=self._target)
        with atomic.staged_dir(folder) as staging:
            executable.export_library(str(staging / LIBRARY_FILE))
            atomic.write_json(staging / BUILD_FILE, {
                "target": str(self._target), "tvm": tvm.__version__, "model_sha256": self._model_sha256,
                "input_shape": list(shape), "tensor_dtypes": tensor_dtypes(module),
                "tuning_database": self._database.digest if self._applies(shape[0]) else None})

    def _load(self, shape: tuple[int, ...]) -> None:
        from tvm import relax

        expected = self.info.preprocessing.input_shape(shape[0])
        if shape != expected:
            raise RequestError(f"input batch of shape {shape}", f"does not fit the model's input {expected}",
                               "use the model's preprocessing (model-info.json)")
        if self._database is not None and not self._applies(shape[0]):
            self._untuned_because = f"the database was tuned at batch {self._database.batch}, not {shape[0]}"
        folder = self._cache_dir(shape[0])
        library = folder / LIBRARY_FILE
        started = time.perf_counter()
        self._from_cache = library.is_file()
        if not self._from_cache:
            self._compile(shape, folder)
        self._vm = relax.VirtualMachine(self._tvm.runtime.load_module(str(library)), self._device)
        self._build = json.loads((folder / BUILD_FILE).read_text())
        self._compile_seconds = 0.0 if self._from_cache else time.perf_counter() - started
        self._library, self._shape = library, shape

    def prepare(self, batch: np.ndarray) -> Any:
        """Compile (or load from the cache) for this batch shape on first sight of it."""
        if batch.shape != self._shape:
            self._load(tuple(batch.shape))
        return self._tvm.runtime.tensor(np.ascontiguousarray(batch, dtype=np.float32), self._device)

    def run(self, prepared: Any) -> np.ndarray:
        return self._vm["main"](prepared).numpy()

    def describe(self) -> BackendDescription:
        cpu = self._target.attrs["mcpu"]
        tuned = self._applies(self._shape[0]) if self._shape else self._database is not None
        details = {"backend_target": str(self._target), "tvm_tuned": tuned, "tvm_from_cache": self._from_cache,
                   "compile_seconds": round(self._compile_seconds, 3), "precision": self.info.precision,
                   "backend_inference_threads": int(self._tvm.get_global_func("runtime.NumThreads")())}
        if self._library:
            details.update(library=str(self._library), tensor_dtypes=self._build.get("tensor_dtypes", []))
        if tuned:
            details.update(tuning_database=str(self._database.folder), tvm_tuned_trials=self._database.trials)
        elif self._untuned_because:
            details["tvm_untuned_because"] = self._untuned_because
        return BackendDescription(library="apache-tvm", version=self._tvm.__version__,
                                  device=f"CPU (llvm -mcpu={cpu}{', tuned' if tuned else ', untuned'})",
                                  threads=self.threads, details=details)


BACKEND = TvmBackend
