"""Framework backends: one module per framework, each exposing ``BACKEND`` (a Backend subclass).

Adding a framework is adding ``ckrequest/backends/<name>.py``; nothing here changes.
"""

from __future__ import annotations

import importlib
import pkgutil

from ..errors import RequestError
from .base import Backend


def available_backends() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name != "base")


def backend_class(name: str) -> type[Backend]:
    if name not in available_backends():
        raise RequestError(f"framework backend {name!r}", f"is not one of {available_backends()}",
                           f"add ckrequest/backends/{name}.py defining BACKEND")
    module = importlib.import_module(f"{__name__}.{name}")
    return module.BACKEND
