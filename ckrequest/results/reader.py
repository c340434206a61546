"""Every point of a repository's experiment entries under the unified keys (results/schema.py).

Ours and the original ReQuEST results are read by the same rules (results/entry.py). Quirks of
the originals handled here:

- names live in the entry meta (ours: ``##features#meta#<key>``);
- latency only at batch 1: ``inference_latency`` of a point at another batch size is dropped;
- accuracy recorded as 0 without a count of images (the IoT farm): not measured;
- the architecture only in prose ("Caffe model (net and weights) (resnet50, fp32)"): read from it and
  named as our zoo names it (models/names.py), so the originals' ResNet-50 and ours group together.

A point with synthetic weights never carries an accuracy. Every accuracy says on which data set
and how many images it was measured (``accuracy_dataset``, ``accuracy_images``). A malformed entry
or point is returned as a ``SkippedEntry`` naming it, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from ..models.names import canonical_arch
from ..run.config import NATIVE  # the scenario of a point that names none: our own harness
from . import schema
from .entry import (
    META_FILE,
    PIPELINE_FILE,
    POINT_SUFFIX,
    MalformedPoint,
    clean_text,
    data_files,
    dependencies_of,
    flag,
    number,
    point_files,
    read_json,
    repetition_count,
    repetition_values,
    some_of,
)

RESULT_KEYS = ("inference_latency", "inference_throughput", "prediction_time_avg_s", "accuracy_top1")
LOADGEN_CHECK_KEYS = tuple(k.name for k in schema.KEYS if k.name.startswith("loadgen_") and k.name.endswith("_met"))
SMOKE_TEST_BELOW = 500  # images: an accuracy over fewer is a smoke test, not an accuracy figure
NUMBER_KEYS = tuple(k for k in schema.KEYS if k.kind != schema.TEXT)
TEXT_KEYS = tuple(k for k in schema.KEYS if k.kind == schema.TEXT)


@dataclass(frozen=True)
class Dependency:
    name: str
    version: str


@dataclass(frozen=True)
class ResultPoint:
    """One experiment point under the unified keys: ``numbers`` and ``texts`` hold every schema key.

    A schema key reads as an attribute (``point.inference_latency``, ``point.model_arch``)."""

    repo: str
    entry: str
    point: str
    numbers: Mapping[str, float]  # the numeric keys recorded (a key not here was not)
    texts: Mapping[str, str]  # the text keys recorded
    platform: str = ""  # alias of the request.platform entry this point ran on, if one matched
    platform_name: str = ""
    synthetic: bool = False
    validated: bool = False
    tags: tuple[str, ...] = ()
    deps: tuple[Dependency, ...] = ()
    nominal: tuple[str, ...] = ()  # keys whose values are nominal (platform specifications), not measured
    notes: tuple[str, ...] = ()
    accuracy_dataset: str = ""  # the data set an accuracy was measured on ('' without accuracy)

    def __getattr__(self, name: str) -> Any:  # only for names that are not fields: the schema's keys
        key = schema.BY_NAME.get(name)
        if key is None:
            raise AttributeError(name)
        if key.kind == schema.TEXT:
            return self.__dict__["texts"].get(name, "")
        return self.__dict__["numbers"].get(name)

    @property
    def id(self) -> str:
        return f"{self.repo}:{self.entry}:{self.point}"

    def value(self, key: str) -> float | None:
        return self.numbers.get(key)

    @property
    def scenario(self) -> str:
        """native (our harness, and every point recorded before LoadGen scenarios), or LoadGen's scenario."""
        return self.__dict__["texts"].get("scenario") or NATIVE

    @property
    def invalid(self) -> bool:
        """LoadGen judged a repetition INVALID: shown, never on a frontier."""
        return self.__dict__["numbers"].get("loadgen_valid") == 0.0

    def invalid_because(self) -> str:
        """The LoadGen checks some repetition did not meet, in words ('' when VALID or not LoadGen's)."""
        if not self.invalid:
            return ""
        numbers = self.__dict__["numbers"]
        unmet = [k[len("loadgen_"):-len("_met")].replace("_", " ") for k in LOADGEN_CHECK_KEYS if numbers.get(k) == 0.0]
        return "; ".join(f"{name} not met" for name in unmet) or "LoadGen said INVALID"

    @property
    def smoke_test(self) -> bool:
        """An accuracy measured on a handful of images (the sample photos): shown, never ranked with others."""
        images = self.numbers.get("accuracy_images")
        return images is not None and images < SMOKE_TEST_BELOW

    @property
    def accuracy_group(self) -> str:
        """What an accuracy is comparable with: the data set, and whether it is a smoke test."""
        if not self.accuracy_dataset:
            return ""
        return f"{self.accuracy_dataset} (smoke test)" if self.smoke_test else self.accuracy_dataset

    def updated(self, **changes: Any) -> ResultPoint:
        """A copy with schema keys and fields changed alike."""
        keys = {k: v for k, v in changes.items() if k in schema.BY_NAME}
        rest = {k: v for k, v in changes.items() if k not in keys}
        numbers, texts = dict(self.numbers), dict(self.texts)
        for name, value in keys.items():
            (texts if schema.BY_NAME[name].kind == schema.TEXT else numbers)[name] = value
        return replace(self, numbers=numbers, texts=texts, **rest)

    def as_json(self) -> dict[str, Any]:
        """The point as plain JSON values: its id, every schema key (null or "" when not recorded), its fields."""
        data: dict[str, Any] = {"id": self.id, "repo": self.repo, "entry": self.entry, "point": self.point,
                                **NOT_RECORDED, **self.texts, **self.numbers}
        for name in POINT_FIELDS:
            value = getattr(self, name)
            data[name] = list(value) if isinstance(value, tuple) else value
        data["deps"] = [{"name": d.name, "version": d.version} for d in self.deps]
        data["accuracy_group"] = self.accuracy_group
        data["scenario"] = self.scenario
        data["invalid"] = self.invalid
        data["invalid_because"] = self.invalid_because()
        return data

    def compact(self) -> list[Any]:
        """The point in few bytes (the cache's form): only what was recorded."""
        return [self.point, self.numbers, self.texts, [getattr(self, name) for name in POINT_FIELDS],
                [[d.name, d.version] for d in self.deps]]

    @classmethod
    def from_compact(cls, repo: str, entry: str, data: list[Any]) -> ResultPoint:
        """The inverse of ``compact``, made without __init__ (100,000 of them in a second: the cache's job)."""
        point, numbers, texts, values, deps = data
        made = object.__new__(cls)
        made.__dict__.update(zip(POINT_FIELDS, values), repo=repo, entry=entry, point=point, numbers=numbers,
                             texts=texts, deps=tuple(Dependency(*d) for d in deps))
        for name in ("tags", "nominal", "notes"):
            made.__dict__[name] = tuple(made.__dict__[name])
        return made


NOT_RECORDED: dict[str, Any] = {**{k.name: "" for k in TEXT_KEYS}, **{k.name: None for k in NUMBER_KEYS}}
POINT_FIELDS = tuple(f.name for f in fields(ResultPoint) if f.name not in ("repo", "entry", "point", "numbers",
                                                                           "texts", "deps"))


@dataclass(frozen=True)
class SkippedEntry:
    path: Path
    reason: str


@dataclass(frozen=True)
class EntryInfo:
    """What an experiment entry says about all of its points."""

    repo: str
    name: str
    meta: Mapping[str, Any]
    tags: tuple[str, ...]
    deps: tuple[Dependency, ...]
    validated: bool
    validations: tuple[Mapping[str, Any], ...] = field(default=())  # verdicts this reproduction received


def _meta_value(flat: Mapping[str, Any], meta: Mapping[str, Any], key: schema.Key) -> Any:
    ours = flat.get(key.flat)
    return ours if ours not in (None, "") else meta.get(key.name)


CHARACTERISTIC_NUMBERS = tuple(k for k in NUMBER_KEYS if k.section == schema.CHARACTERISTIC)
OTHER_NUMBERS = tuple(k for k in NUMBER_KEYS if k.section != schema.CHARACTERISTIC)


def _numbers(flat: Mapping[str, Any], meta: Mapping[str, Any]) -> dict[str, float]:
    """The numeric keys the point recorded (ours in the flat file; the originals' names in the entry meta)."""
    values: dict[str, float] = {}
    count = repetition_count(flat)
    for key in CHARACTERISTIC_NUMBERS:
        reps = repetition_values(flat, key.name, count)
        if reps:
            values[key.name] = COMBINE.get(key.combine, _median)(reps)
    for key in OTHER_NUMBERS:
        raw = _meta_value(flat, meta, key)  # the originals keep names and some features in the entry meta
        if raw is None or raw == "":
            continue
        if key.kind == schema.FLAG:
            found = flag(raw)
            if found is not None:
                values[key.name] = float(found)
        else:
            found = number(raw, key.name)
            if found is not None:
                values[key.name] = found
    latency = (repetition_values(flat, "latency_p50_s", count)
               or repetition_values(flat, "inference_throughput", count))
    if latency:  # the repetitions the point holds, counted as validate counts them
        values["statistical_repetitions"] = float(len(latency))
    return values


def _median(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


COMBINE = {schema.MAXIMUM: max, schema.MINIMUM: min, schema.MEDIAN: _median}


def _texts(flat: Mapping[str, Any], meta: Mapping[str, Any]) -> dict[str, str]:
    """The text keys the point recorded, cleaned."""
    texts = {}
    for key in TEXT_KEYS:
        raw = _meta_value(flat, meta, key)
        if raw is not None and raw != "":
            text = clean_text(raw)
            if text:
                texts[key.name] = text
    arch = texts.get("model_arch", "")
    arch = canonical_arch(arch) or arch or canonical_arch(texts.get("model_design_name", ""))
    if arch:
        texts["model_arch"] = arch
    return texts


def _apply_quirks(values: dict[str, float], synthetic: bool, scenario: str) -> list[str]:
    """The original entries' quirks and the synthetic-weights rule; returns notes on what was dropped."""
    notes = []
    batch = values.get("batch_size")
    alone = scenario in (NATIVE, "SingleStream")  # Server's latency holds its queueing, MultiStream's 8 images
    if "inference_latency" not in values and batch in (None, 1.0) and "latency_p50_s" in values and alone:
        values["inference_latency"] = values["latency_p50_s"]
    if "inference_latency" in values and batch not in (None, 1.0):
        del values["inference_latency"]
        notes.append(f"latency recorded at batch {batch:g}: not a batch-1 latency")
    if synthetic:
        if any(k in values for k in schema.ACCURACY_KEYS):
            notes.append("synthetic weights: accuracy not reported")
        for key in schema.ACCURACY_KEYS:
            values.pop(key, None)
    for key in schema.ACCURACY_KEYS:
        if values.get(key) == 0.0 and not values.get("accuracy_images"):  # the originals' "not measured"
            del values[key]
            notes.append(f"{key} recorded as 0: not measured")
    return notes


def dataset_name(species: str) -> str:
    """One name per data set: the originals say 'ImageNet', an ImageNet-format folder 'imagenet-val'."""
    lowered = species.strip().lower()
    return "imagenet" if lowered.startswith("imagenet") or lowered == "ilsvrc2012" else lowered


def point_from_flat(entry: EntryInfo, point: str, flat: Mapping[str, Any]) -> ResultPoint:
    """Normalise one point; MalformedPoint when it is not a usable result."""
    values = _numbers(flat, entry.meta)
    if not any(key in values for key in RESULT_KEYS):
        raise MalformedPoint(f"no result keys (none of {', '.join(RESULT_KEYS)})")
    texts = _texts(flat, entry.meta)
    synthetic = texts.get("weights") == "synthetic"
    notes = _apply_quirks(values, synthetic, texts.get("scenario") or NATIVE)
    has_accuracy = any(k in values for k in schema.ACCURACY_KEYS)
    return ResultPoint(repo=entry.repo, entry=entry.name, point=point, numbers=values, texts=texts,
                       synthetic=synthetic, validated=entry.validated, tags=entry.tags, deps=entry.deps,
                       notes=tuple(notes),
                       accuracy_dataset=dataset_name(texts.get("dataset_species", "unnamed")) if has_accuracy else "")


def _deps(entry_dir: Path, meta: Mapping[str, Any]) -> tuple[Dependency, ...]:
    """Dependency versions: the originals' meta deps_summary, or the pipeline CK stored with ours."""
    summary = meta.get("deps_summary")
    if isinstance(summary, dict):
        return tuple(Dependency(clean_text(d.get("data_name") or d.get("name") or key), clean_text(d.get("version")))
                     for key, d in sorted(summary.items()) if isinstance(d, dict))
    try:
        pipeline = read_json(entry_dir / PIPELINE_FILE)
    except (OSError, ValueError):
        return ()
    if not isinstance(pipeline, dict):
        return ()
    return tuple(Dependency(d.name, clean_text(d.version)) for d in dependencies_of(pipeline).values())


def _validated(name: str, meta: Mapping[str, Any]) -> bool:
    """ReQuEST's artifact-evaluated entries are named validated-*; entries of ours recorded before
    verdicts moved to the reproductions keep theirs in ``validations``."""
    history = meta.get("validations")
    latest = history[-1] if isinstance(history, list) and history else None
    own = isinstance(latest, dict) and not latest.get("original") and latest.get("verdict") == "REPRODUCED"
    return name.startswith("validated-") or own


def read_entry_info(entry_dir: Path, repo: str) -> EntryInfo:
    meta_path = entry_dir / META_FILE
    whole = read_json(meta_path) if meta_path.is_file() else {}
    if not isinstance(whole, dict):
        raise ValueError(".cm/meta.json is not a JSON object")
    meta = whole.get("meta") or {}
    if not isinstance(meta, dict):
        raise ValueError(".cm/meta.json: 'meta' is not a JSON object")
    tags = whole.get("tags") or []
    tags = tuple(str(t) for t in tags) if isinstance(tags, list) else ()
    history = meta.get("validations")
    verdicts = tuple(v for v in history if isinstance(v, dict) and v.get("original")) \
        if isinstance(history, list) else ()
    return EntryInfo(repo=repo, name=entry_dir.name, meta=meta, tags=tags, deps=_deps(entry_dir, meta),
                     validated=_validated(entry_dir.name, meta), validations=verdicts)


def interrupted_fix(name: str) -> str:
    return f"ck check request.asplos18 --experiment={name} --fix removes it"


def read_entry(entry_dir: Path, repo: str) -> tuple[EntryInfo | None, list[ResultPoint | SkippedEntry]]:
    """The entry's description and its whole points (malformed and partial ones as SkippedEntry).

    An unreadable .cm/meta.json loses the entry's meta, never its points."""
    items: list[ResultPoint | SkippedEntry] = []
    try:
        info = read_entry_info(entry_dir, repo)
    except (OSError, ValueError) as err:
        reason = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        items.append(SkippedEntry(entry_dir, f"unreadable .cm/meta.json ({reason}); its points are read without it "
                                  f"(ck check request.asplos18 --experiment={entry_dir.name} --fix rebuilds it)"))
        info = EntryInfo(repo=repo, name=entry_dir.name, meta={}, tags=(), deps=_deps(entry_dir, {}),
                         validated=_validated(entry_dir.name, {}))
    points = point_files(entry_dir, sizes=False)  # the flat file is read below; CK's others are whole
    if not points:
        kept = data_files(entry_dir)
        if kept:  # an exploration whose trials measured nothing yet: its data stay
            items.append(SkippedEntry(entry_dir, f"no measured point; it keeps {some_of(kept)}"))
        else:
            items.append(SkippedEntry(entry_dir, f"no points: an interrupted record? "
                                                 f"({interrupted_fix(entry_dir.name)})"))
        return info, items
    for uid, files in points.items():
        flat_path = entry_dir / f"ckp-{uid}{POINT_SUFFIX}"
        partial = files.partial_because()
        if partial:
            items.append(SkippedEntry(entry_dir / files.names()[0], f"{partial}; {interrupted_fix(entry_dir.name)}"))
            continue
        try:
            flat = read_json(flat_path)
        except (OSError, ValueError) as err:  # a flat file CK wrote in place, cut by a kill
            items.append(SkippedEntry(flat_path, f"partial point: not readable JSON ({str(err)[:80]}); "
                                                 f"{interrupted_fix(entry_dir.name)}"))
            continue
        try:
            if not isinstance(flat, dict):
                raise MalformedPoint("not a JSON object")
            items.append(point_from_flat(info, uid, flat))
        except ValueError as err:  # MalformedPoint is a ValueError
            items.append(SkippedEntry(flat_path, str(err)))
    return info, items


def entry_dirs(repo_path: Path) -> list[Path]:
    root = Path(repo_path) / "experiment"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def iter_points(repo_path: Path, repo_name: str = "") -> Iterator[ResultPoint | SkippedEntry]:
    """Every point of every experiment entry of one repository folder; bad ones are reported, not raised."""
    for entry_dir in entry_dirs(repo_path):
        yield from read_entry(entry_dir, repo_name or Path(repo_path).name)[1]


def latest_verdicts(infos: Iterable[EntryInfo]) -> dict[str, str]:
    """``repo:entry`` of each validated original -> the latest verdict of `ck validate` about it.

    Verdicts live with the reproductions (``meta.validations``, each naming its ``original``)."""
    latest: dict[str, tuple[str, str]] = {}
    for info in infos:
        for record in info.validations:
            when = str(record.get("date", ""))
            if when >= latest.get(record["original"], ("", ""))[0]:
                latest[record["original"]] = (when, str(record.get("verdict", "")))
    return {original: verdict for original, (_, verdict) in latest.items()}


def mark_validated(points: Iterable[ResultPoint], verdicts: Mapping[str, str]) -> list[ResultPoint]:
    return [replace(p, validated=True) if verdicts.get(f"{p.repo}:{p.entry}") == "REPRODUCED" else p for p in points]
