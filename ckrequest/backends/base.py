"""The one interface every framework backend implements."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Mapping

import numpy as np

from ..errors import RequestError
from ..models.model_info import ModelInfo


@dataclass(frozen=True)
class BackendOptions:
    """What a backend is asked to run with: the threads, and the run's other settings by name.

    ``settings`` holds the run variables RunConfig does not declare itself (``CK_REQUEST_OV_HINT``)
    and the variables of the run's CK dependencies (``CK_ENV_TVM_TUNING_DB``): a backend reads its
    own there, never in ``os.environ``, so what it ran with is what the harness gave it."""

    threads: int = 0
    settings: Mapping[str, str] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        return str(self.settings.get(name, "")).strip() or default


NO_OPTIONS = BackendOptions()


@dataclass(frozen=True)
class BackendDescription:
    """What actually ran: recorded with every result."""

    library: str  # e.g. "onnxruntime"
    version: str  # e.g. "1.32.0"
    device: str  # the execution provider / backend used, e.g. "CPUExecutionProvider"
    threads: int  # intra-op threads in effect (0 = framework default)
    # what else the backend ran with; the keys results/schema.py declares are recorded with the point,
    # the rest (paths of this machine, notes) only shown
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def library_name(self) -> str:
        return f"{self.library} {self.version}"


class Backend(ABC):
    """Load a model file with options, run a batch, say what it is.

    ``prepare`` turns a batch into whatever the framework consumes, outside the timed region;
    ``run`` is the only call inside it and returns the framework's output, complete (not a
    future); ``logits`` makes that a float array of shape (batch, classes), outside timing.
    """

    name: str = ""
    formats: tuple[str, ...] = ()

    def __init__(self, model_path: Path, info: ModelInfo, options: BackendOptions = NO_OPTIONS) -> None:
        self.model_path = Path(model_path)
        self.info = info
        self.options = options
        self.threads = options.threads

    @abstractmethod
    def prepare(self, batch: np.ndarray) -> Any: ...

    @abstractmethod
    def run(self, prepared: Any) -> np.ndarray: ...

    @abstractmethod
    def describe(self) -> BackendDescription: ...

    def logits(self, output: Any) -> np.ndarray:
        return np.asarray(output, dtype=np.float32)


def import_framework(module: str, package: str) -> ModuleType:
    """Import a framework, or say in one line which CK package provides it."""
    try:
        return importlib.import_module(module)
    except Exception as err:  # a broken install raises more than ImportError
        raise RequestError(f"{module}", f"cannot be imported ({type(err).__name__}: {err})".split("\n")[0],
                           f"install it: ck install package:{package} --quiet") from None


def require_model(path: Path, fmt: str) -> None:
    if not path.exists():
        raise RequestError(f"model file not found: {path}", "it does not exist",
                           f"reinstall the model package: ck install package --tags=model,{fmt} --quiet")


def load_error(path: Path, library: str, err: BaseException, fmt: str) -> RequestError:
    first_line = (str(err).strip().splitlines() or [type(err).__name__])[0][:300]
    return RequestError(f"model file {path}", f"{library} cannot load it: {first_line}",
                        f"reinstall the model package: ck install package --tags=model,{fmt} --quiet")
