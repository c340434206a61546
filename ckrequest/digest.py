"""Content digests of files and of models made of several files or folders; the one rule for "has this file
changed" (``file_identity``) and for "has the code that filled a cache changed" (``code_digest``), used by every
cache of ours (the results cache, the preprocessed-image cache and the digest cache below)."""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import os
from pathlib import Path
from typing import Iterable

PACKAGE = "ckrequest"
_PACKAGE_DIR = Path(__file__).resolve().parent


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_sha256(paths: Iterable[str | Path]) -> str:
    """One digest over files and folders: a single file gives its own sha256."""
    files: list[tuple[str, Path]] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += [(str(p.relative_to(path.parent)), p) for p in sorted(path.rglob("*")) if p.is_file()]
        else:
            files.append((path.name, path))
    if len(files) == 1:
        return file_sha256(files[0][1])
    digest = hashlib.sha256()
    for name, path in files:
        digest.update(f"{name}\0{file_sha256(path)}\n".encode())
    return digest.hexdigest()


def file_identity(path: str | Path, stat: os.stat_result | None = None) -> str:
    """What changes whenever a file's bytes do, without reading them: its path (as given), size, mtime, inode, ctime.
    A rewrite that restores size and mtime (``touch -d``, ``os.utime``) still moves ctime, which no user call
    can set back; a replacement by rename changes the inode. Missed only: the clock set back, or a raw-device
    write beneath the file system."""
    stat = stat or os.stat(path)
    return f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0{stat.st_ino}\0{stat.st_ctime_ns}\n"


def _module_file(name: str) -> Path | None:
    """The source file of one of our modules (``ckrequest.results.reader``), None for a name that is not one."""
    parts = name.split(".")[1:]
    for candidate in (_PACKAGE_DIR.joinpath(*parts).with_suffix(".py") if parts else None,
                      _PACKAGE_DIR.joinpath(*parts, "__init__.py")):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


def _imported(name: str, path: Path) -> set[str]:
    """Our modules that ``name`` imports, at the top or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = importlib.util.resolve_name("." * node.level + base, package)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # a submodule, or a name in ``base``
    return {n for n in found if (n == PACKAGE or n.startswith(PACKAGE + ".")) and _module_file(n) is not None}


@functools.cache
def code_digest(*roots: str) -> str:
    """The package's version and a digest of the source of ``roots`` and of every module of ours they import,
    however deeply: a cache filled by that code is stale as soon as any of it changes."""
    from . import __version__

    seen: dict[str, Path] = {}
    pending = [n for n in roots if _module_file(n) is not None]
    while pending:
        name = pending.pop()
        path = _module_file(name)
        if name in seen or path is None:
            continue
        seen[name] = path
        pending.extend(_imported(name, path) - set(seen))
    digest = hashlib.sha256(f"{PACKAGE} {__version__}\n".encode())
    for name in sorted(seen):
        digest.update(f"{name}\0{hashlib.sha256(seen[name].read_bytes()).hexdigest()}\n".encode())
    return digest.hexdigest()[:16]


def cached_tree_sha256(paths: Iterable[str | Path], cache_dir: Path) -> str:
    """``tree_sha256``, remembered per identity of every file: a large model is hashed once, not every run."""
    paths = [Path(p) for p in paths]
    files = [f for p in paths for f in (sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p])]
    key = hashlib.sha256("".join(file_identity(f.resolve()) for f in files).encode()).hexdigest()
    remembered = cache_dir / f"{key}.sha256"
    try:
        return remembered.read_text().strip()
    except OSError:
        pass
    digest = tree_sha256(paths)
    try:
        from . import atomic

        atomic.write_text(remembered, digest + "\n")
    except OSError:
        pass  # a read-only cache costs time, not correctness
    return digest
