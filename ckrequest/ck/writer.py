"""Write CK entries on disk the way `ck add` does: .cm/{meta,info,desc}.json plus the alias files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .. import atomic

# UIDs of the CK kernel's own modules (ck 2.6.4), as its default repository records them.
MODULE_UIDS = {"os": "0440cb72c2bc5cc6", "soft": "5e1100048ab875d7", "env": "9b9b3208ac44b891",
               "package": "1dc07ee0f4742028", "program": "b0ac08fe1d3c2615", "experiment": "bc0409fb61f0aa82",
               "module": "032630d041b4fd8a", "dataset": "8a7141c59cd335f5", "script": "84e27ad9dd12e734",
               "request.space": "fcef2f084aaaff70"}


def stable_uid(module: str, alias: str) -> str:
    """A UID derived from the entry's name, so a generated entry keeps its UID when regenerated."""
    return hashlib.sha256(f"ck-request:{module}:{alias}".encode()).hexdigest()[:16]


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def entry_files(module: str, alias: str, uid: str, meta: dict[str, Any], name: str) -> dict[str, str]:
    """The files of one entry, relative to the repository root."""
    info = {"backup_data_uid": uid, "backup_module_uid": MODULE_UIDS.get(module, ""), "backup_module_uoa": module,
            "control": {"author": "ck-request developers", "engine": "CK", "version": ["2", "6", "4"]},
            "data_name": name}
    return {f"{module}/{alias}/.cm/meta.json": _json(meta), f"{module}/{alias}/.cm/info.json": _json(info),
            f"{module}/{alias}/.cm/desc.json": _json({}), f"{module}/.cm/alias-a-{alias}": uid + "\n",
            f"{module}/.cm/alias-u-{uid}": alias + "\n"}


def write_entry(repo_root: Path, module: str, alias: str, uid: str, meta: dict[str, Any], name: str) -> None:
    for relative, text in entry_files(module, alias, uid, meta, name).items():
        atomic.write_text(repo_root / relative, text)
