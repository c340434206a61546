"""One error type for everything a user can get wrong: what, why and the fix, on one line."""

from __future__ import annotations


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
        return " ".join(text.split())  # never more than one line

    def __reduce__(self):  # crosses process boundaries (worker processes) intact
        return type(self), (self.what, self.why, self.fix)


class UnsafePickleError(RequestError):
    """A pickle asked for something beyond tensors and storages."""
