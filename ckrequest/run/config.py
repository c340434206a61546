"""The run variables of a benchmark (CK `run_vars`, read from the environment), validated by their declarations
(run/run_vars.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Mapping

from ..backends.base import BackendOptions
from ..errors import RequestError
from .run_vars import BACKEND_OPTIONS, MODES, NATIVE, RUN_VARIABLES, SCENARIOS

__all__ = ["MODES", "NATIVE", "SCENARIOS", "RunConfig", "config_from_env"]


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


def _parsed(name: str, env: Mapping[str, str]) -> object:
    """A field's value from its run variable, through the variable's one declaration ("": unset)."""
    return RUN_VARIABLES[name].value(env.get(RunConfig.env_name(name), ""))


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
    values = {item.name: _parsed(item.name, env) for item in fields(RunConfig) if item.name in RUN_VARIABLES}
    for option in BACKEND_OPTIONS:  # the backend reads the text; a user's option is checked with the rest
        if option.name.startswith("CK_REQUEST_"):  # (CK_ENV_* come from CK's env entries)
            option.value(env.get(option.name, ""))
    declared = {RunConfig.env_name(item.name) for item in fields(RunConfig)}
    values = {name: value for name, value in values.items() if value != ""}
    values["backend_settings"] = {name: value for name, value in env.items()
                                  if (name.startswith("CK_REQUEST_") and name not in declared)
                                  or name.startswith("CK_ENV_")}
    return _check_together(RunConfig(**values))
