"""Per-image predictions an accuracy run keeps in its experiment entry, and their table.

Each recorded point with an accuracy has ``ckp-<point>.predictions-<subpoint>.json`` (written by
ck/recording.py, named by results/entry.py): the image's file, its accepted classes and the
model's top-5 classes with scores, as MLPerf's accuracy log keeps them.
``ck scoreboard request.asplos18 --predictions=<entry>`` prints them with class names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from ..datasets import Synset, default_synsets_path, load_synsets
from ..errors import RequestError
from ..safe_text import for_terminal
from .entry import sidecar_paths


def prediction_files(entry_dir: Path) -> list[Path]:
    return sidecar_paths(entry_dir, "*", "predictions")


def load_log(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise RequestError(f"{path}", f"unreadable ({err})", "record the point again") from None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise RequestError(f"{path}", "is not a predictions log", "record the point again")
    return data


def _name(synsets: Sequence[Synset], index: int) -> str:
    return synsets[index].short_name if 0 <= index < len(synsets) else f"class {index}"


def render_log(point: str, log: dict[str, Any], synsets: Sequence[Synset] | None = None) -> str:
    synsets = synsets if synsets is not None else load_synsets(default_synsets_path())
    images = log["images"]
    top1 = sum(1 for im in images if im.get("top5") and im["top5"][0] in im.get("expected", []))
    lines = [f"point {point}: {len(images)} image(s) of {log.get('dataset', '?')}, model {log.get('model', '?')}; "
             f"top-1 {top1}/{len(images)}"
             + ("" if log.get("same_in_every_repetition", True) else
                f" (last of {log.get('repetitions')} repetitions; they differed)")]
    for image in images:
        expected = image.get("expected", [])
        best = image.get("top5", [])
        mark = "ok " if best and best[0] in expected else ("top5" if set(best) & set(expected) else "MISS")
        lines.append(f"  {mark}  {image.get('file', '?')}  expected: "
                     + ", ".join(f"{c} {_name(synsets, c)}" for c in expected))
        lines.append("        top-5: " + "; ".join(f"{c} {_name(synsets, c)} ({s:.4g})"
                                                   for c, s in zip(best, image.get("scores", []))))
    return "\n".join(for_terminal(line) for line in lines)


def render_entry(entry_dir: Path, entry_name: str) -> str:
    files = prediction_files(entry_dir)
    if not files:
        raise RequestError(f"experiment:{entry_name}", "keeps no per-image predictions",
                           "record an accuracy run: ck benchmark ... --env.CK_REQUEST_MODE=accuracy --record "
                           f"--record_uoa={entry_dir.name} (real weights; synthetic ones have no accuracy)")
    synsets = load_synsets(default_synsets_path())
    return "\n".join(render_log(path.name[len("ckp-"):].split(".")[0], load_log(path), synsets) for path in files)
