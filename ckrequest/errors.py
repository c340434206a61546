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


class UnsafePickleError(RequestError):
    """A pickle asked for something beyond tensors and storages."""


def print_error(err: RequestError) -> int:
    """Print the error's one line on stderr; return the exit status for bad input."""
    print(ERROR_PREFIX + err.line(), file=sys.stderr)
    return USER_ERROR_EXIT


def ck_failure(err: RequestError) -> dict[str, Any]:
    """The error as CK's return dict (what a CK module action or soft/package hook gives back)."""
    return {"return": 1, "error": err.line()}
