"""The actions of CK module request.asplos18: parse CK's input dict, call the library."""

from __future__ import annotations

from typing import Any

from .errors import RequestError


def _result(code: int, error: str = "") -> dict[str, Any]:
    return {"return": code, "error": error} if code else {"return": 0}


def scoreboard(i: dict[str, Any]) -> dict[str, Any]:
    from . import ck_kernel
    from .scoreboard import print_scoreboard

    try:
        return _result(print_scoreboard(ck_kernel.repo_paths()))
    except RequestError as err:
        return _result(1, err.line())
