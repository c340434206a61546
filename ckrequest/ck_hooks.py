"""Hooks CK calls inside a program pipeline (post_process_via_ck)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .report import REQUEST_FILE

FAILED_RUN_EXIT = 2


def ck_postprocess(i: dict[str, Any]) -> dict[str, Any]:
    """Put the harness's features (and, nested under `meta`, its names) into the experiment point.

    CK records `misc['add_to_features']` as the point's features (##features#<key>). When the
    harness failed it wrote no file: CK 2.6.4 would then carry on and exit 0, so we stop the
    whole `ck` command here with a non-zero status, before anything is recorded.
    """
    path = Path.cwd() / REQUEST_FILE
    try:
        data = json.loads(path.read_text())
        path.unlink()  # consumed: a later failed run cannot pick up this run's file
    except (OSError, ValueError):
        print("ck-request: the benchmark failed (its error is above); no experiment point recorded",
              file=sys.stderr)
        raise SystemExit(FAILED_RUN_EXIT) from None
    features = dict(data.get("features", {}))
    features["meta"] = data.get("meta", {})
    return {"return": 0, "misc": {"add_to_features": features}}
