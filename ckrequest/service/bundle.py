"""A CK experiment entry as one JSON document and back: what `ck submit` uploads and `ck pull` brings back.

The bundle carries every file of the entry (CK's point files, sidecars: per-query latencies, predictions, LoadGen
logs; pipeline.json, desc.json, .cm/meta.json), base64-encoded, each with its sha256. Names are checked both ways
(``safe_name``): a bundle can never name a file outside the entry, a hidden file other than CK's own ``.cm/``
three, or a name a terminal or a shell would read as anything but a name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .. import atomic
from ..errors import RequestError

FORMAT = "ck-request-bundle/1"
CK_OWN = (".cm/meta.json", ".cm/info.json", ".cm/desc.json")  # the only files below the entry's top level
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")  # a top-level file: no separator, no leading dot
ENTRY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MAX_FILES = 2000  # an entry of many points still fits; a bundle naming more is refused before it is decoded


@dataclass(frozen=True)
class BundleFile:
    path: str  # relative, POSIX
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Bundle:
    entry: str  # the entry's alias where it was recorded
    files: tuple[BundleFile, ...]

    def as_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "entry": self.entry,
                "files": [{"path": f.path, "sha256": f.sha256, "data": base64.b64encode(f.data).decode("ascii")}
                          for f in self.files]}

    def write(self, entry_dir: Path) -> list[Path]:
        """Every file written atomically into ``entry_dir`` (created); the paths written."""
        written = []
        for item in self.files:
            target = entry_dir / item.path
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_bytes(target, item.data)
            written.append(target)
        return written


def safe_name(path: str) -> str:
    """Why ``path`` may not be a file of a bundle ('' when it may)."""
    if path in CK_OWN:
        return ""
    if not isinstance(path, str) or not FILE_NAME.match(path):
        return ("is not a plain file name of the entry's top level (letters, digits, '.', '_', '-'; no folder, "
                "no leading dot)")
    return ""


def pack(entry_dir: Path, entry: str = "") -> Bundle:
    """The entry's files as a bundle (a file the bundle could not carry is an error naming it)."""
    files = []
    for path in sorted(p for p in entry_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(entry_dir).as_posix()
        if atomic.is_temporary(path.name):
            continue  # a write a kill cut short is no data (ck check names it)
        why = safe_name(relative)
        if why:
            raise RequestError(f"file {relative!r} of {entry_dir}", why,
                               "move it out of the entry; a bundle carries CK's files and ck-request's sidecars")
        files.append(BundleFile(relative, path.read_bytes()))
    return Bundle(entry or entry_dir.name, tuple(files))


def unpack(data: Any) -> Bundle:
    """A bundle from its JSON form, every field and name checked; RequestError says what is wrong, in one line."""
    what = "the bundle"
    if not isinstance(data, Mapping):
        raise RequestError(what, "is not a JSON object", f"send {{'format': '{FORMAT}', 'entry': ..., 'files': [...]}}")
    if data.get("format") != FORMAT:
        raise RequestError(what, f"has format {str(data.get('format'))[:40]!r}, not {FORMAT!r}",
                           "upload with this version's ck submit")
    entry = data.get("entry")
    if not isinstance(entry, str) or not ENTRY_NAME.match(entry):
        raise RequestError(f"{what}'s entry name", "is not a CK alias (letters, digits, '.', '_', '-')",
                           "submit an entry recorded by ck benchmark --record_uoa=<name>")
    items = data.get("files")
    if not isinstance(items, list) or not items:
        raise RequestError(f"{what}'s files", "are missing or not a list", "submit an entry that has points")
    if len(items) > MAX_FILES:
        raise RequestError(f"{what}'s files", f"number {len(items)}, more than {MAX_FILES}",
                           "submit the entry's points in smaller entries")
    files, seen = [], set()
    for number, item in enumerate(items, 1):
        where = f"{what}'s file {number}"
        if not isinstance(item, Mapping) or not isinstance(item.get("path"), str):
            raise RequestError(where, "has no path", "each file is {'path': ..., 'sha256': ..., 'data': base64}")
        path = item["path"]
        why = safe_name(path)
        if why:
            raise RequestError(f"{where} ({path[:60]!r})", why, "upload the entry as ck submit packs it")
        if path in seen:
            raise RequestError(f"{where} ({path})", "is named twice", "upload the entry as ck submit packs it")
        seen.add(path)
        try:
            content = base64.b64decode(str(item.get("data", "")), validate=True)
        except (binascii.Error, ValueError):
            raise RequestError(f"{where} ({path})", "is not base64", "upload the entry as ck submit packs it") from None
        made = BundleFile(path, content)
        if item.get("sha256") != made.sha256:
            raise RequestError(f"{where} ({path})", "does not match its sha256 (cut or altered in transit)",
                               "submit it again")
        files.append(made)
    return Bundle(entry, tuple(files))
