"""Platform descriptions: CK entries of module request.platform that people contribute.

``request.platform/<alias>/.cm/meta.json`` holds ``name``, ``species``, ``price_usd``, ``price_date``,
``peak_power_w``, ``cloud_usd_per_hour``, ``peak_flops`` (operations per second, per precision),
``nominal`` (the figures are specifications or typical prices, not measurements) and ``match``
(regular expressions on ``cpu_name`` / ``plat_name``, and ``logical_cpus``) used to recognise the
platform a point ran on, and this host.

A point keeps what it recorded itself; its platform only fills what is missing, and every figure
taken from a nominal description is listed in the point's ``nominal`` keys. Derived figures:
``usage_cost`` ($ per image) = time per image x $/hour / 3600; ``percent_of_peak`` = model operations
per second (2 x multiply-adds x images/s) / the platform's peak for the point's precision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from ..models.names import reference_macs
from ..results.reader import ResultPoint, SkippedEntry, number, read_json
from ..run.host import PlatformInfo

MODULE = "request.platform"
MATCH_KEYS = ("cpu_name", "plat_name", "logical_cpus")


@dataclass(frozen=True)
class Platform:
    alias: str
    name: str
    species: str = ""
    price_usd: float | None = None
    price_date: str = ""
    peak_power_w: float | None = None
    cloud_usd_per_hour: float | None = None
    peak_flops: Mapping[str, float] = field(default_factory=dict)
    nominal: bool = False
    match: Mapping[str, Any] = field(default_factory=dict)
    notes: str = ""

    @classmethod
    def from_meta(cls, alias: str, meta: Mapping[str, Any]) -> Platform:
        """Validated on creation: ValueError names the field at fault."""
        if not isinstance(meta, dict) or not str(meta.get("name", "")).strip():
            raise ValueError("has no 'name'")
        flops = meta.get("peak_flops") or {}
        match = meta.get("match") or {}
        if not isinstance(flops, dict) or not isinstance(match, dict):
            raise ValueError("'peak_flops' and 'match' must be JSON objects")
        unknown = sorted(set(match) - set(MATCH_KEYS))
        if unknown:
            raise ValueError(f"'match' has unknown keys {unknown} (known: {', '.join(MATCH_KEYS)})")
        for key in ("cpu_name", "plat_name"):
            try:
                re.compile(str(match.get(key, "")))
            except re.error as err:
                raise ValueError(f"'match.{key}' is not a regular expression ({err})") from None
        return cls(alias=alias, name=str(meta["name"]), species=str(meta.get("species", "")),
                   price_usd=number(meta.get("price_usd"), "price_usd"), price_date=str(meta.get("price_date", "")),
                   peak_power_w=number(meta.get("peak_power_w"), "peak_power_w"),
                   cloud_usd_per_hour=number(meta.get("cloud_usd_per_hour"), "cloud_usd_per_hour"),
                   peak_flops={str(k): number(v, f"peak_flops.{k}") for k, v in flops.items() if v is not None},
                   nominal=meta.get("nominal") is True, match=dict(match), notes=str(meta.get("notes", "")))

    def matches(self, cpu_name: str, plat_name: str, logical_cpus: float | None) -> bool:
        if not self.match:
            return False
        for key, text in (("cpu_name", cpu_name), ("plat_name", plat_name)):
            if key in self.match and not re.search(str(self.match[key]), text, re.IGNORECASE):
                return False
        wanted = self.match.get("logical_cpus")
        return wanted is None or (logical_cpus is not None and float(wanted) == float(logical_cpus))


def iter_platforms(repo_path: Path) -> Iterator[Platform | SkippedEntry]:
    root = Path(repo_path) / MODULE
    if not root.is_dir():
        return
    for entry in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            yield Platform.from_meta(entry.name, read_json(entry / ".cm" / "meta.json"))
        except (OSError, ValueError) as err:
            yield SkippedEntry(entry, f"bad platform description ({err})")


def load_platforms(repo_paths: Iterable[Path]) -> tuple[list[Platform], list[SkippedEntry]]:
    found: dict[str, Platform] = {}
    skipped: list[SkippedEntry] = []
    for path in repo_paths:
        for item in iter_platforms(path):
            if isinstance(item, SkippedEntry):
                skipped.append(item)
            else:
                found.setdefault(item.alias, item)  # the first repository wins, as in CK's search order
    return list(found.values()), skipped


def find_platform(platforms: Iterable[Platform], cpu_name: str, plat_name: str,
                  logical_cpus: float | None = None) -> Platform | None:
    """The matching description with the most rules (the most specific one)."""
    candidates = [p for p in platforms if p.matches(cpu_name, plat_name, logical_cpus)]
    return max(candidates, key=lambda p: (len(p.match), p.alias), default=None)


def describe_host(host: PlatformInfo, platforms: Iterable[Platform]) -> Platform:
    """This host's description, or a nominal one made from what the host says about itself."""
    known = find_platform(platforms, host.cpu_name, host.plat_name, host.logical_cpus)
    if known is not None:
        return known
    return Platform(alias="this-host", name=f"{host.cpu_name} ({host.logical_cpus} logical CPUs)",
                    species="unknown", nominal=True,
                    notes="no request.platform entry matches this host: add one (see docs/SCOREBOARD.md)")


def _time_per_image(point: ResultPoint) -> float | None:
    if point.prediction_time_avg_s is not None:
        return point.prediction_time_avg_s
    if point.inference_throughput:
        return 1.0 / point.inference_throughput
    return None


def _derived(point: ResultPoint, known: dict[str, Any], platform: Platform | None) -> dict[str, Any]:
    """usage_cost and percent_of_peak where the point has none; `known` overrides the point's values."""
    def get(key: str) -> Any:
        return known[key] if key in known else getattr(point, key)

    changes: dict[str, Any] = {}
    rate = get("usage_cost_per_hour")
    if rate is None and platform is not None and platform.cloud_usd_per_hour is not None:
        rate = changes["usage_cost_per_hour"] = platform.cloud_usd_per_hour
    seconds = _time_per_image(point)
    if get("usage_cost") is None and rate is not None and seconds is not None:
        changes["usage_cost"] = seconds * rate / 3600
    macs = point.model_macs or reference_macs(point.model_arch, point.model_design_name)
    peak = platform.peak_flops.get(point.model_precision) if platform is not None else None
    if point.percent_of_peak is None and macs and peak and point.inference_throughput:
        changes["percent_of_peak"] = 2 * macs * point.inference_throughput / peak
    return changes


def with_platform(point: ResultPoint, platform: Platform | None) -> ResultPoint:
    """The point with its platform's figures where it recorded none, and the figures derived from them."""
    changes: dict[str, Any] = {}
    nominal: list[str] = []
    if platform is not None:
        changes.update(platform=platform.alias, platform_name=platform.name)
        for key, value in (("platform_species", platform.species), ("platform_price", platform.price_usd),
                           ("platform_price_date", platform.price_date),
                           ("platform_peak_power", platform.peak_power_w)):
            if value not in (None, "") and getattr(point, key) in (None, ""):
                changes[key] = value
                if platform.nominal and key != "platform_species":
                    nominal.append(key)
    derived = _derived(point, changes, platform)
    nominal += [k for k in derived if k == "percent_of_peak" or (platform is not None and platform.nominal)]
    if nominal:
        changes["nominal"] = tuple(sorted({*point.nominal, *nominal}))
    return point.updated(**changes, **derived) if changes or derived else point


def attach_platforms(points: Iterable[ResultPoint], platforms: list[Platform]) -> list[ResultPoint]:
    found: dict[tuple[str, str, float | None], Platform | None] = {}
    attached = []
    for point in points:
        key = (point.cpu_name, point.plat_name, point.cpu_threads)
        if key not in found:
            found[key] = find_platform(platforms, *key)
        attached.append(with_platform(point, found[key]))
    return attached
