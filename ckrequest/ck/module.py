"""Entry point of CK module request.asplos18: dispatch an action to ``ckrequest.ck.actions.<name>``."""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import RequestError, ck_failure


def call(action: str, i: dict[str, Any]) -> dict[str, Any]:
    """Run ``ckrequest.ck.actions.<action>.run(i)`` and translate to CK's return convention."""
    name = f"{__package__}.actions.{action}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name != name:
            raise
        return {"return": 1, "error": f"action {action} of request.asplos18 is not in this version of ck-request"}
    try:
        status = module.run(i)
    except RequestError as err:
        return ck_failure(err)
    if status:
        return {"return": status, "error": f"{action} found problems (listed above)"}
    return {"return": 0}
