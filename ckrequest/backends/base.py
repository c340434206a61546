"""The one interface every framework backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..records import ModelInfo


@dataclass(frozen=True)
class BackendDescription:
    """What actually ran: recorded with every result."""

    library: str  # e.g. "onnxruntime"
    version: str  # e.g. "1.32.0"
    device: str  # the execution provider / backend used, e.g. "CPUExecutionProvider"
    threads: int  # intra-op threads in effect (0 = framework default)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def library_name(self) -> str:
        return f"{self.library} {self.version}"


class Backend(ABC):
    """Load a model file with options, run a batch, say what it is.

    ``prepare`` turns a batch into whatever the framework consumes, outside the timed region;
    ``run`` is the only call inside it and returns logits of shape (batch, classes).
    """

    name: str = ""
    formats: tuple[str, ...] = ()

    def __init__(self, model_path: Path, info: ModelInfo, threads: int = 0) -> None:
        self.model_path = Path(model_path)
        self.info = info
        self.threads = threads

    @abstractmethod
    def prepare(self, batch: np.ndarray) -> Any: ...

    @abstractmethod
    def run(self, prepared: Any) -> np.ndarray: ...

    @abstractmethod
    def describe(self) -> BackendDescription: ...
