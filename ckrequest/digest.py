"""Content digests of files and of models made of several files or folders."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable


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


def _identity(path: Path) -> str:
    """What changes whenever a file's bytes do (ctime moves on every write, and cannot be set back)."""
    stat = path.stat()
    return f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0{stat.st_ctime_ns}\0{stat.st_ino}\n"


def cached_tree_sha256(paths: Iterable[str | Path], cache_dir: Path) -> str:
    """``tree_sha256``, remembered per identity of every file: a large model is hashed once, not every run."""
    paths = [Path(p) for p in paths]
    files = [f for p in paths for f in (sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p])]
    key = hashlib.sha256("".join(_identity(f) for f in files).encode()).hexdigest()
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
