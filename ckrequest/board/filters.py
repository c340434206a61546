"""Which points a board shows (filters), and the results repositories it reads besides CK's."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ..errors import RequestError
from ..models.names import canonical_arch
from ..results.reader import ResultPoint, dataset_name

DEFAULT_ACCURACY_DATASET = "imagenet"  # accuracies rank against ImageNet-scale ones unless --dataset says


@dataclass(frozen=True)
class AccuracyView:
    """Which accuracies a frontier compares: those measured on one data set, smoke tests only if asked."""

    dataset: str = DEFAULT_ACCURACY_DATASET
    smoke_tests: bool = False

    def ranks(self, point: ResultPoint) -> bool:
        return point.accuracy_dataset == self.dataset and (self.smoke_tests or not point.smoke_test)

    def describe(self) -> str:
        return self.dataset + ("" if self.smoke_tests else " (ImageNet-scale sets: 500 images or more)"
                               if self.dataset == DEFAULT_ACCURACY_DATASET else " (500 images or more)")


DEFAULT_VIEW = AccuracyView()


@dataclass(frozen=True)
class Filters:
    tags: tuple[str, ...] = ()  # the entry carries every one of them
    model: str = ""  # the architecture (any of its names: resnet50, ResNet-50) or a part of the description
    library: str = ""
    platform: str = ""  # substring of the platform alias, its name, plat_name or cpu_name
    precision: str = ""  # fp32 / fp16 / int8, exactly
    dataset: str = ""  # the data set the points ran on (imagenet, sample-photos); its accuracies rank together
    entry: str = ""  # the experiment entry, by name (an exploration's or a workflow's points)
    scenario: str = ""  # native or an MLPerf LoadGen scenario (SingleStream, ...), in any letter case

    def keep(self, point: ResultPoint) -> bool:
        if self == NO_FILTERS:
            return True

        def has(needle: str, *texts: str) -> bool:
            return not needle or any(needle.lower() in t.lower() for t in texts)

        arch = canonical_arch(self.model)
        return (set(self.tags) <= set(point.tags)
                and ((arch and arch == point.model_arch) or has(self.model, point.model_arch, point.model_design_name))
                and has(self.library, point.library_name)
                and has(self.platform, point.platform, point.platform_name, point.plat_name, point.cpu_name)
                and (not self.precision or self.precision.lower() == point.model_precision.lower())
                and (not self.entry or self.entry == point.entry)
                and (not self.dataset or dataset_name(self.dataset) == dataset_name(point.dataset_species))
                and (not self.scenario or self.scenario.lower() == point.scenario.lower()))

    def accuracy_view(self) -> AccuracyView:
        if self.dataset:
            return AccuracyView(dataset_name(self.dataset), smoke_tests=True)
        return DEFAULT_VIEW


NO_FILTERS = Filters()

# per filter: what a point offers it (the values an unknown one's error names); the scenario is checked on parsing
OFFERED: dict[str, Callable[[ResultPoint], Iterable[str]]] = {
    "tags": lambda p: p.tags,
    "model": lambda p: (p.model_arch,),
    "library": lambda p: (p.library_name,),
    "platform": lambda p: (p.platform or p.plat_name,),
    "precision": lambda p: (p.model_precision,),
    "dataset": lambda p: (dataset_name(p.dataset_species),),
    "entry": lambda p: (p.entry,),
}
_LISTED = 8  # known values named in full up to this many, else the closest


def _known(value: str, known: Sequence[str]) -> str:
    if len(known) <= _LISTED:
        return "known: " + ", ".join(known)
    close = difflib.get_close_matches(value, known, n=3, cutoff=0.4) or known[:3]
    return f"closest of {len(known)} known: " + ", ".join(close)


def check_known(filters: Filters, points: Sequence[ResultPoint], entries_without_points: Sequence[str] = ()) -> None:
    """Refuse a filter value that no recorded point has (a misspelt --entry would silently show nothing); an entry
    that exists without a whole point yet (a record under way or killed) is known: the board shows it empty."""
    if not points:
        return  # nothing recorded: the board says so itself
    for name, offered in OFFERED.items():
        wanted = getattr(filters, name)
        for value in (wanted if isinstance(wanted, tuple) else (wanted,) if wanted else ()):
            if name == "entry" and value in entries_without_points:
                continue
            alone = Filters(**{name: (value,) if name == "tags" else value})
            if any(alone.keep(p) for p in points):
                continue
            known = sorted({v for p in points for v in offered(p) if v})
            flag = f"--{name}={','.join(wanted) if name == 'tags' else value}"
            raise RequestError(flag, f"unknown {name} {value!r}: no recorded point has it", _known(value, known))


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
