"""The run variables of a benchmark (CK `run_vars`, read from the environment), validated."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Mapping

from ..backends.base import BackendOptions
from ..errors import RequestError

MODES = ("performance", "accuracy")
NATIVE = "native"  # our own harness's timed loop; the others are MLPerf LoadGen's scenarios
SCENARIOS = (NATIVE, "SingleStream", "MultiStream", "Server", "Offline")


@dataclass(frozen=True)
class RunConfig:
    mode: str = "performance"  # CK_REQUEST_MODE: timed queries, or every image once for accuracy
    batch_size: int = 1  # CK_REQUEST_BATCH_SIZE: images per query
    max_images: int = 0  # CK_REQUEST_MAX_IMAGES: first N images of the data set (0 = all)
    threads: int = 0  # CK_REQUEST_THREADS: intra-op threads (0 = the framework's default)
    warmup: int = 5  # CK_REQUEST_WARMUP: untimed queries before measuring
    min_queries: int = 100  # CK_REQUEST_MIN_QUERIES: timed queries at least (p99 needs 100)
    min_duration_s: float = 1.0  # CK_REQUEST_MIN_DURATION_S: and at least this long
    scenario: str = NATIVE  # CK_REQUEST_SCENARIO: our timed loop, or an MLPerf LoadGen scenario
    target_qps: float = 0.0  # CK_REQUEST_TARGET_QPS: Server's arrival rate, Offline's expected rate (0: estimated)
    target_latency_ms: float = 0.0  # CK_REQUEST_TARGET_LATENCY_MS: Server's bound, SingleStream's expected (0: auto)
    mlperf_conf: str = ""  # CK_REQUEST_MLPERF_CONF: an mlperf.conf LoadGen reads over the run variables
    user_conf: str = ""  # CK_REQUEST_USER_CONF: a user.conf LoadGen reads last
    # the backend's own: other CK_REQUEST_* run variables (CK_REQUEST_OV_HINT) and the CK dependencies'
    # CK_ENV_* variables (CK_ENV_TVM_TUNING_DB); each backend validates those it reads
    backend_settings: Mapping[str, str] = field(default_factory=dict, compare=False)

    @staticmethod
    def env_name(field_name: str) -> str:
        return "CK_REQUEST_" + field_name.upper()

    def backend_options(self) -> BackendOptions:
        return BackendOptions(self.threads, dict(self.backend_settings))

    @property
    def loadgen(self) -> bool:
        """Driven by MLPerf LoadGen (any scenario but native)."""
        return self.scenario != NATIVE


# How long and how much a run measures, not what the measured stack is
MEASUREMENT_SETTINGS = tuple(RunConfig.env_name(name) for name in ("warmup", "min_queries", "min_duration_s",
                                                                   "max_images"))

_LIMITS = {"batch_size": (1, 4096), "max_images": (0, 10**7), "threads": (0, 1024), "warmup": (0, 10**6),
           "min_queries": (1, 10**8), "min_duration_s": (0.0, 86400.0), "target_qps": (0.0, 1e7),
           "target_latency_ms": (0.0, 86400e3)}
TEXTS = ("mode", "scenario", "mlperf_conf", "user_conf", "backend_settings")  # parsed by functions of their own


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


def _scenario(text: str) -> str:
    """One of SCENARIOS, in any letter case (LoadGen spells them SingleStream, ...)."""
    by_lower = {name.lower(): name for name in SCENARIOS}
    scenario = by_lower.get(text.strip().lower() or NATIVE)
    if scenario is None:
        var = RunConfig.env_name("scenario")
        raise RequestError(f"run variable {var}={text!r}", f"is not one of {', '.join(SCENARIOS)}",
                           f"pass e.g. --env.{var}=SingleStream")
    return scenario


def _conf_file(name: str, text: str) -> str:
    """A LoadGen configuration file that exists ('' for none)."""
    path = text.strip()
    if path and not Path(path).is_file():
        var = RunConfig.env_name(name)
        raise RequestError(f"run variable {var}={text!r}", "is not a file",
                           f"pass the path of an existing {'mlperf.conf' if name == 'mlperf_conf' else 'user.conf'}")
    return str(Path(path).resolve()) if path else ""


def _check_together(config: RunConfig) -> RunConfig:
    """What one variable means depends on another: LoadGen's SingleStream sends one image per query."""
    if config.scenario == "SingleStream" and config.batch_size != 1:
        raise RequestError(f"run variable {RunConfig.env_name('batch_size')}={config.batch_size} with "
                           f"{RunConfig.env_name('scenario')}=SingleStream",
                           "SingleStream sends one image per query, so it has no batch to fill",
                           "use --env.CK_REQUEST_BATCH_SIZE=1, or batch in Offline, MultiStream or Server")
    return config


def config_from_env(env: Mapping[str, str] | None = None) -> RunConfig:
    env = os.environ if env is None else env
    values: dict[str, object] = {"mode": _mode(env.get(RunConfig.env_name("mode"), "")),
                                 "scenario": _scenario(env.get(RunConfig.env_name("scenario"), ""))}
    for name in ("mlperf_conf", "user_conf"):
        values[name] = _conf_file(name, env.get(RunConfig.env_name(name), ""))
    for item in fields(RunConfig):
        if item.name in TEXTS:
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
    return _check_together(RunConfig(**values))
