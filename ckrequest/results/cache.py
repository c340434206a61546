"""Normalised points kept between runs (stdlib sqlite3), one row per experiment entry.

A row is keyed by the entry's folder and the repository name its points carry, and holds a
signature of the files the points were read from (``digest.file_identity`` of ``.cm/meta.json``,
``pipeline.json`` and each ``ckp-*.flat.json``; how many other point files there are, which says
whether the points are whole), of the code that read them (the package's version
and the source of the reader, the schema and every module of ours they import: ``digest.code_digest``),
and of what the caller's ``finish`` step depends on (the platform descriptions the board attaches, and
the code that attaches them): the points are kept as ``finish`` left them. An entry whose signature
differs, because a file or the code changed, appeared or went, is read again; a removed entry is never
looked up (its row is dropped at the end of the read). A cache that cannot be opened or written
(read-only, locked) costs time, never correctness.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Callable, Iterable

import orjson

from ..digest import code_digest, file_identity
from .entry import META_FILE, PIPELINE_FILE, POINT_SUFFIX
from .reader import Dependency, EntryInfo, ResultPoint, SkippedEntry, entry_dirs, read_entry

READER_MODULES = (__name__, "ckrequest.results.reader")  # the code whose output the cache keeps


def code_format() -> str:
    """Changes with the code that reads and encodes points (the schema's keys among it)."""
    return code_digest(*READER_MODULES)


def signature(entry_dir: Path, context: str = "", code: str = "") -> str:
    parts = [code or code_format(), context]
    try:
        parts.append(file_identity(META_FILE, (entry_dir / META_FILE).stat()))
    except OSError:
        parts.append("meta:-")
    others = 0  # CK's other point files: written once, whole (atomic saves): how many there are says enough
    with os.scandir(entry_dir) as found:
        files = []
        for item in found:
            name = item.name
            if name.endswith(POINT_SUFFIX) or name == PIPELINE_FILE:
                files.append((name, item))
            elif name.startswith("ckp-") and name.endswith(".json"):
                others += 1
    files.sort()
    parts += [file_identity(name, item.stat()) for name, item in files]
    parts.append(f"others:{others}")
    return "\n".join(parts)


Finish = Callable[[list[ResultPoint]], list[ResultPoint]]


class PointCache:
    def __init__(self, path: Path | None, finish: Finish = list, context: str = "") -> None:
        self.path = path
        self.finish = finish
        self.context = context
        self._code = code_format()
        self._db: sqlite3.Connection | None = None
        self._rows: dict[tuple[str, str], tuple[str, str]] = {}
        self._fresh: list[tuple[str, str, str, str]] = []
        self._seen: set[tuple[str, str]] = set()
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), timeout=5)
            self._db.execute("CREATE TABLE IF NOT EXISTS entries (repo TEXT, path TEXT, signature TEXT, "
                             "data TEXT, PRIMARY KEY (repo, path))")
            self._rows = {(r, p): (s, d) for r, p, s, d in self._db.execute("SELECT * FROM entries")}
        except (OSError, sqlite3.Error):
            self._db = None

    def read(self, entry_dir: Path, repo: str) -> tuple[EntryInfo | None, list[ResultPoint | SkippedEntry]]:
        key = (repo, str(entry_dir))
        self._seen.add(key)
        sig = signature(entry_dir, self.context, self._code)
        row = self._rows.get(key)
        if row is not None and row[0] == sig:
            return self._decode(entry_dir, repo, row[1])
        info, items = read_entry(entry_dir, repo)
        finished = iter(self.finish([p for p in items if isinstance(p, ResultPoint)]))
        items = [next(finished) if isinstance(p, ResultPoint) else p for p in items]
        self._fresh.append((repo, str(entry_dir), sig, self._encode(info, items)))
        return info, items

    @staticmethod
    def _encode(info: EntryInfo | None, items: list[ResultPoint | SkippedEntry]) -> str:
        described = None if info is None else [list(info.tags), [[d.name, d.version] for d in info.deps],
                                                info.validated, list(info.validations)]
        return orjson.dumps([described, [p.compact() if isinstance(p, ResultPoint) else str(p.path) + "\0" + p.reason
                                         for p in items]]).decode()

    @staticmethod
    def _decode(entry_dir: Path, repo: str, data: str) -> tuple[EntryInfo | None, list[ResultPoint | SkippedEntry]]:
        described, items = orjson.loads(data)
        name = entry_dir.name
        info = None if described is None else EntryInfo(
            repo, name, {}, tuple(described[0]), tuple(Dependency(*d) for d in described[1]), described[2],
            tuple(described[3]))
        decoded: list[ResultPoint | SkippedEntry] = []
        for item in items:
            if isinstance(item, str):
                path, _, reason = item.partition("\0")
                decoded.append(SkippedEntry(Path(path), reason))
            else:
                decoded.append(ResultPoint.from_compact(repo, name, item))
        return info, decoded

    def close(self) -> None:
        """Store what was read afresh; forget entries that are gone."""
        if self._db is None:
            return
        try:
            with closing(self._db), self._db:
                self._db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)", self._fresh)
                gone = [key for key in self._rows if key not in self._seen]
                self._db.executemany("DELETE FROM entries WHERE repo = ? AND path = ?", gone)
        except sqlite3.Error:
            pass
        self._db = None


def read_repos(repos: Iterable[tuple[str, Path]], cache_path: Path | None, finish: Finish = list,
               context: str = "") -> tuple[list[ResultPoint], list[SkippedEntry], list[EntryInfo]]:
    """Every point of the repositories (name, folder), through the cache at ``cache_path`` (None: none),
    each entry's points passed through ``finish``, whose inputs ``context`` names."""
    cache = PointCache(cache_path, finish, context)
    points: list[ResultPoint] = []
    skipped: list[SkippedEntry] = []
    infos: list[EntryInfo] = []
    try:
        for name, path in repos:
            for entry_dir in entry_dirs(path):
                info, items = cache.read(entry_dir, name)
                if info is not None:
                    infos.append(info)
                for item in items:
                    (skipped if isinstance(item, SkippedEntry) else points).append(item)
    finally:
        cache.close()
    return points, skipped, infos
