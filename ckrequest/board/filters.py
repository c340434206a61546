"""Which points a board shows (filters), and the results repositories it reads besides CK's."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..errors import RequestError
from ..results.reader import ResultPoint


@dataclass(frozen=True)
class Filters:
    tags: tuple[str, ...] = ()  # the entry carries every one of them
    model: str = ""  # substring of the model's architecture or description
    library: str = ""
    platform: str = ""  # substring of the platform alias, its name, plat_name or cpu_name
    precision: str = ""  # fp32 / fp16 / int8, exactly

    def keep(self, point: ResultPoint) -> bool:
        def has(needle: str, *texts: str) -> bool:
            return not needle or any(needle.lower() in t.lower() for t in texts)

        return (set(self.tags) <= set(point.tags)
                and has(self.model, point.model_arch, point.model_design_name)
                and has(self.library, point.library_name)
                and has(self.platform, point.platform, point.platform_name, point.plat_name, point.cpu_name)
                and (not self.precision or self.precision.lower() == point.model_precision.lower()))


def check_results_repo(path: Path) -> None:
    if not path.is_dir():
        raise RequestError(f"--results_repo={path}", "is not a folder",
                           "pass the folder of a CK results repository, e.g. a clone of ck-request-asplos18-results")
    if not (path / "experiment").is_dir():
        raise RequestError(f"--results_repo={path}", "has no experiment/ folder",
                           "pass the root of a CK repository (the folder holding .ckr.json and experiment/)")


def repo_name(path: Path) -> str:
    """The repository's alias from its .ckr.json, else the folder's name."""
    try:
        alias = json.loads((path / ".ckr.json").read_text(encoding="utf-8")).get("data_alias")
    except (OSError, ValueError, AttributeError):
        alias = None
    return str(alias) if alias else path.name


def all_repos(registered: Iterable[tuple[str, Path]], results_repos: Iterable[Path]) -> list[tuple[str, Path]]:
    """The registered repositories, then the results repositories read from disk; each folder once."""
    seen: set[Path] = set()
    found = []
    for name, path in [*registered, *((repo_name(p), p) for p in results_repos)]:
        key = Path(path).resolve()
        if key not in seen:
            seen.add(key)
            found.append((name, Path(path)))
    return found
