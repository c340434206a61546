"""The run variables of a benchmark (CK `run_vars`, read from the environment), validated."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Mapping

from ..backends.base import BackendOptions
from ..errors import RequestError

MODES = ("performance", "accuracy")


@dataclass(frozen=True)
class RunConfig:
    mode: str = "performance"  # CK_REQUEST_MODE: timed queries, or every image once for accuracy
    batch_size: int = 1  # CK_REQUEST_BATCH_SIZE: images per query
    max_images: int = 0  # CK_REQUEST_MAX_IMAGES: first N images of the data set (0 = all)
    threads: int = 0  # CK_REQUEST_THREADS: intra-op threads (0 = the framework's default)
    warmup: int = 5  # CK_REQUEST_WARMUP: untimed queries before measuring
    min_queries: int = 100  # CK_REQUEST_MIN_QUERIES: timed queries at least (p99 needs 100)
    min_duration_s: float = 1.0  # CK_REQUEST_MIN_DURATION_S: and at least this long
    # the backend's own: other CK_REQUEST_* run variables (CK_REQUEST_OV_HINT) and the CK dependencies'
    # CK_ENV_* variables (CK_ENV_TVM_TUNING_DB); each backend validates those it reads
    backend_settings: Mapping[str, str] = field(default_factory=dict, compare=False)

    @staticmethod
    def env_name(field_name: str) -> str:
        return "CK_REQUEST_" + field_name.upper()

    def backend_options(self) -> BackendOptions:
        return BackendOptions(self.threads, dict(self.backend_settings))


# How long and how much a run measures, not what the measured stack is
MEASUREMENT_SETTINGS = tuple(RunConfig.env_name(name) for name in ("warmup", "min_queries", "min_duration_s",
                                                                   "max_images"))

_LIMITS = {"batch_size": (1, 4096), "max_images": (0, 10**7), "threads": (0, 1024), "warmup": (0, 10**6),
           "min_queries": (1, 10**8), "min_duration_s": (0.0, 86400.0)}


def _parse(name: str, text: str, kind: type, low: float, high: float) -> int | float:
    var = RunConfig.env_name(name)
    try:
        value = kind(text.strip())
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise RequestError(f"run variable {var}={text!r}", f"is not {what}",
                           f"pass e.g. --env.{var}={kind(low) if low else 1}") from None
    if not low <= value <= high:
        raise RequestError(f"run variable {var}={text!r}", f"is outside {low}..{high}",
                           f"pass a value in that range, e.g. --env.{var}={kind(max(low, 1))}")
    return value


def _mode(text: str) -> str:
    mode = text.strip().lower() or RunConfig.mode
    if mode not in MODES:
        var = RunConfig.env_name("mode")
        raise RequestError(f"run variable {var}={text!r}", f"is not one of {', '.join(MODES)}",
                           f"pass --env.{var}=performance or --env.{var}=accuracy")
    return mode


def config_from_env(env: Mapping[str, str] | None = None) -> RunConfig:
    env = os.environ if env is None else env
    values: dict[str, object] = {"mode": _mode(env.get(RunConfig.env_name("mode"), ""))}
    for item in fields(RunConfig):
        if item.name in ("mode", "backend_settings"):
            continue
        text = env.get(RunConfig.env_name(item.name), "")
        if text.strip() == "":
            continue
        low, high = _LIMITS[item.name]
        kind = float if item.type in (float, "float") else int
        values[item.name] = _parse(item.name, text, kind, low, high)
    declared = {RunConfig.env_name(item.name) for item in fields(RunConfig)}
    values["backend_settings"] = {name: value for name, value in env.items()
                                  if (name.startswith("CK_REQUEST_") and name not in declared)
                                  or name.startswith("CK_ENV_")}
    return RunConfig(**values)
