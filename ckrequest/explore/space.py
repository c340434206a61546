"""A stack space: the dimensions an exploration chooses from, read from JSON and checked field by field.

    {
      "description": "what this space is for",
      "programs": ["request-onnxruntime-classification", "request-tflite-classification"],
      "models": [["mobilenet-v1", "synthetic"]],
      "model_variants": {"multiplier": ["multiplier-0.25", "multiplier-1.0"],
                         "resolution": ["resolution-128", "resolution-224"]},
      "precisions": ["fp32", "int8"],
      "libraries": [[], ["v2.2.0"]],
      "env": {"CK_REQUEST_BATCH_SIZE": [1, 8], "CK_REQUEST_THREADS": [1, 2]},
      "platforms": ["rpi4", "xeon-vm"],
      "exclude": [{"program": "request-onnxruntime-classification", "library": ["v2.2.0"]}],
      "objectives": ["latency_p50_s:min", "inference_throughput:max"],
      "constraints": ["peak_memory_bytes <= 2e9"],
      "measure_accuracy": false,
      "repetitions": 1
    }

``programs`` and ``models`` are required. ``models`` are tag sets (what ``--dep_add_tags.model=``
takes); ``model_variants`` are further dimensions of tags joined to every model's; ``precisions``
add a tag to each; ``libraries`` are tag sets of the library dependency (``--dep_add_tags.lib=``:
a version installed side by side); ``env`` sets run variables; ``platforms`` (with ``ck explore
--ray=``) names the Ray nodes' platforms a stack may run on (the resource ``request-platform:<name>``
a node joined with). A stack is one choice per dimension; the space is every combination but
those an ``exclude`` rule matches (every condition of the rule: a dimension -> accepted values;
for ``model`` and ``library``, tags the choice carries). ``objectives`` and ``constraints`` name
schema keys; an accuracy among them (or ``measure_accuracy``) runs each stack with real weights in
accuracy mode too.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..errors import RequestError
from ..farm.cluster import PLATFORM_NAME
from ..models.model_info import PRECISIONS
from ..reproduce.recorded_choices import TAG
from ..results import schema
from ..run import run_vars
from ..run.config import MEASUREMENT_SETTINGS

DEFAULT_OBJECTIVES = ("inference_latency:min", "accuracy_top1:max")
TAG_DIMENSIONS = ("model", "library")  # choices that are tag sets: a rule names tags the choice must carry
ORDINAL_VALUE = re.compile(r"(?:^|-)(\d+(?:\.\d+)?)$")  # 8, 0.5, resolution-224, multiplier-0.25
CONSTRAINT = re.compile(r"^\s*([a-z0-9_]+)\s*(<=|>=|<|>)\s*([-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class Objective:
    key: str
    better: str  # min | max

    @property
    def direction(self) -> str:
        return "minimize" if self.better == "min" else "maximize"

    def __str__(self) -> str:
        return f"{self.key}:{self.better}"


@dataclass(frozen=True)
class Constraint:
    key: str
    op: str
    bound: float

    def violation(self, value: float | None) -> float:
        """<= 0 when satisfied (Optuna's convention), the distance to the bound otherwise."""
        if value is None:
            return math.inf
        return self.bound - value if self.op in (">=", ">") else value - self.bound

    def __str__(self) -> str:
        return f"{self.key} {self.op} {self.bound:g}"


@dataclass(frozen=True)
class Stack:
    """One point of a space: what one trial runs."""

    program: str
    model: tuple[str, ...]
    precision: str
    env: tuple[tuple[str, str], ...]
    library: tuple[str, ...] = ()
    platform: str = ""  # the cluster nodes it runs on ("": this machine)

    @property
    def model_tags(self) -> str:
        return ",".join(self.model + ((self.precision,) if self.precision else ()))

    def describe(self) -> str:
        """What the stack is (its measurement settings left out): ``onnxruntime mobilenet-v1,... batch_size=4``."""
        env = " ".join(f"{k.removeprefix('CK_REQUEST_').lower()}={Path(v).name if '/' in v else v}"
                       for k, v in self.env if k not in MEASUREMENT_SETTINGS)
        framework = self.program.removeprefix("request-").removesuffix("-classification")
        library = f" ({','.join(self.library)})" if self.library else ""
        platform = f" @{self.platform}" if self.platform else ""
        return f"{framework}{library} {self.model_tags}" + (f" {env}" if env else "") + platform

    def as_json(self) -> dict[str, Any]:
        return {"program": self.program, "model": list(self.model), "precision": self.precision,
                "library": list(self.library), "env": dict(self.env),
                **({"platform": self.platform} if self.platform else {})}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Stack:
        return Stack(str(data["program"]), tuple(data["model"]), str(data.get("precision", "")),
                     tuple((str(k), str(v)) for k, v in data.get("env", {}).items()), tuple(data.get("library", ())),
                     str(data.get("platform", "")))


@dataclass(frozen=True)
class Exclusion:
    """Stacks left out of a space: those matching every condition (a dimension -> accepted values;
    for ``model`` and ``library``, tags the choice carries)."""

    conditions: tuple[tuple[str, tuple[str, ...]], ...]

    def matches(self, choice: Mapping[str, str]) -> bool:
        for name, values in self.conditions:
            if name in TAG_DIMENSIONS:
                if not set(values) <= set(choice[name].split(",")):
                    return False
            elif choice[name] not in values:
                return False
        return True


@dataclass(frozen=True)
class Space:
    name: str
    programs: tuple[str, ...]
    models: tuple[tuple[str, ...], ...]
    # dimensions of tags added to every model (a family's variants: multiplier-0.25 ... and resolution-128 ...)
    model_variants: tuple[tuple[str, tuple[str, ...]], ...] = ()
    precisions: tuple[str, ...] = ("",)  # "" = the model package's default (fp32)
    libraries: tuple[tuple[str, ...], ...] = ((),)  # () = the library CK picks (the pinned one)
    env: tuple[tuple[str, tuple[str, ...]], ...] = ()
    platforms: tuple[str, ...] = ()  # () = this machine; else Ray nodes' platforms, one more dimension
    objectives: tuple[Objective, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    repetitions: int = 1
    exclude: tuple[Exclusion, ...] = ()
    measure_accuracy: bool = False  # also run each stack with real weights in accuracy mode
    description: str = ""
    source: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def dimensions(self) -> dict[str, tuple[str, ...]]:
        """Each dimension with its choices, as names Optuna suggests from (all of them categorical)."""
        dims = {"program": self.programs, "model": tuple(",".join(m) for m in self.models),
                **dict(self.model_variants),
                "precision": self.precisions, "library": tuple(",".join(t) for t in self.libraries)}
        dims.update({name: values for name, values in self.env})
        if self.platforms:
            dims["platform"] = self.platforms
        return dims

    def ordered(self) -> dict[str, tuple[str, ...] | None]:
        """Each dimension's choices in increasing order when they are ordinal (three or more numbers, or tags
        that differ only in a trailing number: batch sizes, multiplier-0.25 ... multiplier-1.0), else None."""
        return {name: ordinal_order(choices) for name, choices in self.dimensions.items()}

    @property
    def size(self) -> int:
        """How many stacks the space holds (the grid without the excluded ones)."""
        if not self.exclude:
            return math.prod(len(v) for v in self.dimensions.values())
        return sum(1 for _ in self.grid())

    def _with_variants(self, choice: Mapping[str, str]) -> Mapping[str, str]:
        """The choice with the variant tags joined to the model's (what a stack runs and a rule matches)."""
        if not self.model_variants:
            return choice
        tags = [t for t in choice["model"].split(",") if t] + [choice[name] for name, _ in self.model_variants]
        return {**choice, "model": ",".join(tags)}

    def allows(self, choice: Mapping[str, str]) -> bool:
        full = self._with_variants(choice)
        return not any(rule.matches(full) for rule in self.exclude)

    def needs_accuracy(self, objectives: tuple[Objective, ...]) -> bool:
        """Does a search for ``objectives`` run the stacks in accuracy mode too?"""
        keys = [o.key for o in objectives] + [c.key for c in self.constraints]
        return self.measure_accuracy or any(k in schema.ACCURACY_KEYS for k in keys)

    def stack(self, choice: Mapping[str, str]) -> Stack:
        choice = self._with_variants(choice)
        return Stack(choice["program"], tuple(t for t in choice["model"].split(",") if t), choice["precision"],
                     tuple((name, choice[name]) for name, _ in self.env),
                     tuple(t for t in choice.get("library", "").split(",") if t), choice.get("platform", ""))

    def choices(self) -> Iterator[dict[str, str]]:
        """Every allowed combination of choices, dimension by dimension."""
        names = list(self.dimensions)
        for values in itertools.product(*self.dimensions.values()):
            choice = dict(zip(names, values))
            if self.allows(choice):
                yield choice

    def grid(self) -> Iterator[Stack]:
        return (self.stack(choice) for choice in self.choices())


def ordinal_order(choices: tuple[str, ...]) -> tuple[str, ...] | None:
    if len(choices) < 3:
        return None
    found = [ORDINAL_VALUE.search(c) for c in choices]
    if not all(found) or len({c[:m.start()] for c, m in zip(choices, found) if m}) != 1:
        return None
    return tuple(sorted(choices, key=lambda c: float(ORDINAL_VALUE.search(c).group(1))))  # type: ignore[union-attr]


def _fail(where: str, field_name: str, why: str, fix: str) -> RequestError:
    return RequestError(f"space {where}: field {field_name}", why, fix)


def _strings(value: Any, where: str, field_name: str, example: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, (str, int, float)) for v in value) \
            or any(isinstance(v, bool) for v in value):
        raise _fail(where, field_name, "is not a non-empty list of values", f"write e.g. {example}")
    return tuple(str(v) for v in value)


def _tags(value: Any, where: str, field_name: str, example: str) -> tuple[str, ...]:
    """CK tags (what --dep_add_tags takes): each letters, digits and . _ + -, as CK's own tags are."""
    tags = _strings(value, where, field_name, example)
    for k, tag in enumerate(tags):
        if not TAG.fullmatch(tag):
            raise _fail(where, f"{field_name}[{k}] = {json.dumps(tag)}",
                        "is not a CK tag (letters, digits and . _ + -, starting with a letter or digit)",
                        f"write e.g. {example}")
    return tags


def _run_values(name: str, values: Any, where: str) -> tuple[str, ...]:
    """A run variable's choices: the variable declared (run/run_vars.py), each value one it may have,
    through the parser the programs use."""
    variable = run_vars.declared(name, f"space {where}: field env.{name}")
    example = variable.example if re.fullmatch(run_vars.NUMBER, variable.example) else json.dumps(variable.example)
    texts = _strings(values, where, f"env.{name}", f"[{example}]")
    for k, text in enumerate(texts):
        variable.value(text, f"space {where}: field env.{name}[{k}] = {json.dumps(text)}", f"write e.g. [{example}]")
    return texts


def parse_objective(text: str, where: str = "") -> Objective:
    """``key`` or ``key:min|max`` (the schema's axis rule); ``where`` names the space field it came from."""
    try:
        axis = schema.parse_axis(str(text), "objectives")
    except RequestError as err:
        if not where:
            raise
        raise RequestError(f"{where}: objective {text!r}", err.why, err.fix) from None
    return Objective(axis.key, axis.better)


def parse_constraint(text: Any, where: str) -> Constraint:
    match = CONSTRAINT.match(str(text))
    if not match or match.group(1) not in schema.BY_NAME or schema.BY_NAME[match.group(1)].kind != schema.NUMBER:
        raise _fail(where, "constraints", f"{str(text)!r} is not '<numeric result key> <op> <number>'",
                    "write e.g. \"accuracy_top1 >= 0.7\" (op: <=, >=, <, >)")
    return Constraint(match.group(1), match.group(2), float(match.group(3)))


def space_from_json(data: Any, where: str) -> Space:
    """A space from its JSON form; a malformed one is refused in one line naming the field."""
    if not isinstance(data, dict):
        raise _fail(where, "(the whole file)", "is not a JSON object", "see the space format in README.md")
    known = {"description", "programs", "models", "model_variants", "precisions", "libraries", "env", "objectives",
             "constraints", "repetitions", "exclude", "measure_accuracy", "platforms"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise _fail(where, unknown[0], "is not a field of a space", f"use only: {', '.join(sorted(known))}")
    programs = _strings(data.get("programs"), where, "programs", '["request-onnxruntime-classification"]')
    for program in programs:
        if not re.fullmatch(r"request-[a-z0-9_]+-classification", program):
            raise _fail(where, "programs", f"{program!r} is not a request-<framework>-classification program",
                        "list them: ck list program:request-*")
    models_raw = data.get("models")
    if not isinstance(models_raw, list) or not models_raw:
        raise _fail(where, "models", "is not a non-empty list of tag lists",
                    'write e.g. [["mobilenet-v1", "synthetic"]]')
    models = tuple(_tags(m if isinstance(m, list) else str(m).split(","), where, f"models[{k}]",
                         '["mobilenet-v1", "synthetic"]') for k, m in enumerate(models_raw))
    variants_raw = data.get("model_variants", {})
    if not isinstance(variants_raw, dict):
        raise _fail(where, "model_variants", "is not an object of dimension name -> list of tags",
                    'write e.g. {"multiplier": ["multiplier-0.25", "multiplier-1.0"]}')
    variants = []
    for name, tags in variants_raw.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(name)) or name in ("program", "model", "precision", "library"):
            raise _fail(where, f"model_variants.{name}", "is not a new dimension name (lower case, not a field's)",
                        "write e.g. multiplier or resolution")
        variants.append((str(name), _tags(tags, where, f"model_variants.{name}", '["resolution-128"]')))
    precisions = _strings(data["precisions"], where, "precisions", '["fp32", "int8"]') \
        if "precisions" in data else ("",)
    for precision in precisions:
        if precision and precision not in PRECISIONS:
            raise _fail(where, "precisions", f"{precision!r} is not one of {', '.join(PRECISIONS)}",
                        'write e.g. ["fp32", "int8"]')
    libraries = ((),)
    if "libraries" in data:
        if not isinstance(data["libraries"], list) or not data["libraries"]:
            raise _fail(where, "libraries", "is not a non-empty list of tag lists",
                        'write e.g. [[], ["v2.2.0"]] ([]: the version CK picks)')
        libraries = tuple(() if t == [] else _tags(t if isinstance(t, list) else str(t).split(","), where,
                                                   f"libraries[{k}]", '["v2.3.0"]')
                          for k, t in enumerate(data["libraries"]))
    env_raw = data.get("env", {})
    if not isinstance(env_raw, dict):
        raise _fail(where, "env", "is not an object of run variable -> list of values",
                    'write e.g. {"CK_REQUEST_BATCH_SIZE": [1, 8]}')
    env = [(str(name), _run_values(str(name), values, where)) for name, values in env_raw.items()]
    objectives = tuple(parse_objective(o, f"space {where}: field objectives")
                       for o in _strings(data.get("objectives", list(DEFAULT_OBJECTIVES)), where, "objectives",
                                         '["inference_latency:min", "accuracy_top1:max"]'))
    constraints_raw = data.get("constraints", [])
    if not isinstance(constraints_raw, list):
        raise _fail(where, "constraints", "is not a list", 'write e.g. ["accuracy_top1 >= 0.7"]')
    repetitions = data.get("repetitions", 1)
    if isinstance(repetitions, bool) or not isinstance(repetitions, int) or not 1 <= repetitions <= 100:
        raise _fail(where, "repetitions", f"{repetitions!r} is not a whole number 1..100", "write e.g. 3")
    platforms = _strings(data["platforms"], where, "platforms", '["rpi4", "xeon-vm"]') if "platforms" in data else ()
    for platform in platforms:
        if not PLATFORM_NAME.match(platform):
            raise _fail(where, "platforms", f"{platform!r} is not a platform name (letters, digits, . _ -)",
                        'write e.g. ["rpi4", "xeon-vm"]: the names nodes joined with as request-platform:<name>')
    measure_accuracy = data.get("measure_accuracy", False)
    if not isinstance(measure_accuracy, bool):
        raise _fail(where, "measure_accuracy", f"{measure_accuracy!r} is not true or false", "write true or false")
    space = Space(name=where, programs=programs, models=models, model_variants=tuple(variants),
                  precisions=precisions, libraries=libraries,
                  env=tuple(env), platforms=platforms, objectives=objectives,
                  constraints=tuple(parse_constraint(c, where) for c in constraints_raw), repetitions=repetitions,
                  exclude=_exclusions(data.get("exclude", []), where,
                                      ["program", *TAG_DIMENSIONS, "precision", *(name for name, _ in env),
                                       *(["platform"] if platforms else [])]),
                  measure_accuracy=measure_accuracy, description=str(data.get("description", "")), source=data)
    if space.size == 0:
        raise _fail(where, "exclude", "leaves no stack in the space", "exclude fewer stacks")
    return space


def _exclusions(raw: Any, where: str, dimensions: list[str]) -> tuple[Exclusion, ...]:
    example = 'write e.g. [{"program": "request-mxnet-classification", "precision": ["fp16", "int8"]}]'
    if not isinstance(raw, list):
        raise _fail(where, "exclude", "is not a list of rules", example)
    rules = []
    for k, rule in enumerate(raw):
        if not isinstance(rule, dict) or not rule:
            raise _fail(where, f"exclude[{k}]", "is not an object of dimension -> values", example)
        for name in rule:
            if name not in dimensions:
                raise _fail(where, f"exclude[{k}].{name}", "is not a dimension of this space",
                            f"use one of: {', '.join(dimensions)}")
        rules.append(Exclusion(tuple((name, _strings(v if isinstance(v, list) else [v], where, f"exclude[{k}].{name}",
                                                     '["fp16"]')) for name, v in rule.items())))
    return tuple(rules)


def load_space_file(path: Path) -> Space:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RequestError(f"space file {path}", "does not exist",
                           "name a file, or a named space: ck list request.space") from None
    except (OSError, ValueError) as err:
        raise RequestError(f"space file {path}", f"is not readable JSON ({err})", "fix the file") from None
    return space_from_json(data, str(path))
