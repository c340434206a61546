"""`ck dashboard request.asplos18`: one self-contained HTML page of every result.

The page is ``templates/dashboard.html`` with its CSS and JavaScript inlined; the results go in as
JSON inside ``<script type="application/json">`` with ``<``, ``>``, ``&``, U+2028 and U+2029
escaped, so no text of a contributed entry can end that element or become markup. The script puts
every text into the page with ``textContent``, and a Content-Security-Policy allows only this
script and style (by hash) and no network access at all.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import time
from importlib import resources
from string import Template
from typing import Any, Mapping, Sequence

from ..results.schema import ACCURACY_KEYS, AXES
from .palette import UNNAMED, group_of, styles
from .scoreboard import Board, board_json

COLOUR_BY = (("library_name", "library"), ("platform", "platform"), ("model_precision", "precision"),
             ("model_arch", "model"), ("repo", "repository"), ("weights", "weights"), ("scenario", "scenario"))
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def embed_json(data: Any) -> str:
    """JSON that is safe inside a <script> element: nothing in it can close the element or open markup."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for char, escaped in _JSON_ESCAPES.items():
        text = text.replace(char, escaped)
    return text


def _template(name: str) -> str:
    return (resources.files("ckrequest.board") / "templates" / name).read_text(encoding="utf-8")


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def group_styles(points: Sequence[Mapping[str, Any]]) -> dict[str, list[list[str]]]:
    """Per way of colouring: each group, its colour and its shape (board/palette.py), in legend order."""
    out = {}
    for key, _ in COLOUR_BY:
        out[key] = [[group, s.colour, s.shape] for group, s in styles(group_of(p.get(key)) for p in points).items()]
    return out


def page_data(board: Board, repos: list[str], explorations: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    points = board_json(board)
    return {
        "x": {"key": board.x.key, "better": board.x.better},
        "y": {"key": board.y.key, "better": board.y.better},
        "metrics": [{"key": m.name, "label": m.label, "unit": m.unit, "better": m.better, "log": m.log,
                     "scale": m.scale} for m in AXES],
        "accuracy_keys": list(ACCURACY_KEYS),
        "accuracy_view": board.accuracy.describe(),
        "colour_by": [{"key": key, "label": label} for key, label in COLOUR_BY],
        "styles": group_styles(points),
        "unnamed": UNNAMED,  # the group of a point that names none (palette.group_of)
        "points": points,
        "skipped": [{"path": str(s.path), "reason": s.reason} for s in board.skipped],
        "repos": repos,
        "explorations": list(explorations),
        "generated": time.strftime("%Y-%m-%d %H:%M"),
    }


def render_html(board: Board, repos: list[str], title: str = "ReQuEST scoreboard",
                explorations: Sequence[Mapping[str, Any]] = ()) -> str:
    """The page; ``explorations`` are `ck explore` logs (the trials, the frontier's growth) drawn below the board."""
    script = "\n".join(_template(name) for name in ("common.js", "dashboard.js", "explorations.js"))
    style = _template("dashboard.css")
    for text in (script, style):
        if "</" in text or "<!--" in text:
            raise ValueError("a dashboard template file holds '</' or '<!--', which would end its element")
    csp = (f"default-src 'none'; script-src {_hash(script)}; style-src {_hash(style)}; "
           "base-uri 'none'; form-action 'none'")
    return Template(_template("dashboard.html")).substitute(
        csp=csp, title=html.escape(title), style=style, script=script,
        data=embed_json(page_data(board, repos, explorations)))
