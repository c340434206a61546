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
