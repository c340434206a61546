"""One error type for everything a user can get wrong: what, why and the fix, on one line."""

from __future__ import annotations

import sys
from typing import Any

ERROR_PREFIX = "ckrequest: error: "  # how every command of ours starts its one error line
USER_ERROR_EXIT = 2  # the exit status of a command given bad input


class RequestError(Exception):
    """A user-facing error. ``str(err)`` is a single line: ``<what>: <why> (<fix>)``."""

    def __init__(self, what: str, why: str, fix: str = "") -> None:
        self.what = what
        self.why = why
        self.fix = fix
        super().__init__(self.line())

    def line(self) -> str:
        text = f"{self.what}: {self.why}"
        if self.fix:
            text += f" ({self.fix})"
        # never more than one line, and nothing a terminal would obey (names come from contributed files)
        return "".join(ch for ch in " ".join(text.split()) if ch.isprintable())

    def __reduce__(self):  # crosses process boundaries (worker processes) intact
        return type(self), (self.what, self.why, self.fix)


# What each extra of setup.py brings, by the name it is imported under (pip install 'ckrequest[<extra>]')
EXTRA_MODULES = {"run": ("PIL", "skimage", "onnx", "onnxruntime", "onnxconverter_common", "mlperf_loadgen"),
                 "plots": ("matplotlib",), "farm": ("ray",),
                 "service": ("fastapi", "uvicorn", "sqlalchemy", "alembic", "psycopg", "httpx")}


def missing_extra(err: ImportError) -> RequestError | None:
    """The one line for a module of one of our extras that this Python cannot import; None for any other module."""
    module = (err.name or "").split(".")[0]
    extra = next((name for name, modules in EXTRA_MODULES.items() if module in modules), None)
    if extra is None:
        return None
    return RequestError(f"Python module {module}", f"cannot be imported by {sys.executable} ({err})",
                        f"pip install 'ckrequest[{extra}]'")


class UnsafePickleError(RequestError):
    """A pickle asked for something beyond tensors and storages."""


def print_error(err: RequestError) -> int:
    """Print the error's one line on stderr; return the exit status for bad input."""
    print(ERROR_PREFIX + err.line(), file=sys.stderr)
    return USER_ERROR_EXIT


def ck_failure(err: RequestError) -> dict[str, Any]:
    """The error as CK's return dict (what a CK module action or soft/package hook gives back)."""
    return {"return": 1, "error": err.line()}
