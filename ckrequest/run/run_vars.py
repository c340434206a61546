"""Every variable a program run may be given, declared once: its name, what its value may be, how it is parsed.

The programs (``run/config.py``), the spaces of ``ck explore``, the pre-process hook that sees CK's run
script before it runs, and ``ck replay`` / ``ck validate`` of a recorded pipeline all check values here.
CK writes each one into the run script as ``export NAME=value`` (quoting only values with spaces), so a
value is checked against what it may be (a pattern per variable), never against what it must not be.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from ..backends.openvino import HINTS
from ..errors import RequestError

NATIVE = "native"  # our own harness's timed loop; the others are MLPerf LoadGen's scenarios
SCENARIOS = (NATIVE, "SingleStream", "MultiStream", "Server", "Offline")
MODES = ("performance", "accuracy")

WHOLE = r"[-+]?[0-9]+"
NUMBER = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
PATH = r"[A-Za-z0-9_.+@/-]+"  # a file path without spaces, quotes or anything a shell expands
SAFE_TEXT = re.compile(r"[A-Za-z0-9_.,:/+=@%-]*")  # any other value CK writes into a run script


def _one_of(names: tuple[str, ...]) -> Callable[[str], str]:
    by_lower = {name.lower(): name for name in names}
    return lambda text: by_lower[text.lower()]


def _existing_file(text: str) -> str:
    if not Path(text).is_file():
        raise ValueError("is not a file")
    return str(Path(text).resolve())


@dataclass(frozen=True)
class RunVariable:
    name: str
    may_be: str  # a regular expression the whole value matches (an empty value is the program's default)
    says: str  # what the value may be, in words: "a whole number"
    example: str
    doc: str
    parse: Callable[[str], object] = str  # the text (matching may_be) as the program takes it
    limits: tuple[float, float] | None = None
    backend: str = ""  # a backend option: the one backend that reads it ("" = a run variable of every program)

    def value(self, text: object, where: str = "", fix: str = "") -> object:
        """The value the program runs with ("" for none: the program's default); a value it may not have is
        refused in one line naming ``where`` (default: the run variable) and the ``fix`` (default: a flag)."""
        where = where or f"run variable {self.name}={str(text)!r}"
        stripped = str(text).strip(" ")  # CK quotes a value with spaces; a newline or tab would end its line
        if stripped == "":
            return ""
        if not re.fullmatch(self.may_be, stripped, re.IGNORECASE):
            raise RequestError(where, f"is not {self.says}", fix or f"pass e.g. --env.{self.name}={self.example}")
        try:
            value = self.parse(stripped)
        except ValueError as err:  # a parser's own rule beyond the pattern (a file that exists)
            raise RequestError(where, str(err), fix or f"pass e.g. --env.{self.name}={self.example}") from None
        if self.limits is not None and not self.limits[0] <= value <= self.limits[1]:  # type: ignore[operator]
            raise RequestError(where, f"is outside {self.limits[0]}..{self.limits[1]}",
                               fix or f"pass a value in that range, e.g. --env.{self.name}={self.example}")
        return value


def _whole(name: str, low: int, high: int, example: str, doc: str) -> RunVariable:
    return RunVariable(name, WHOLE, "a whole number", example, doc, int, (low, high))


def _number(name: str, low: float, high: float, example: str, doc: str) -> RunVariable:
    return RunVariable(name, NUMBER, "a number", example, doc, float, (low, high))


# RunConfig's fields, by field name (CK_REQUEST_<FIELD>); their defaults are RunConfig's
RUN_VARIABLES = {
    "mode": RunVariable("CK_REQUEST_MODE", "|".join(MODES), f"one of {', '.join(MODES)}", "accuracy",
                        "timed queries, or every image once for accuracy", _one_of(MODES)),
    "batch_size": _whole("CK_REQUEST_BATCH_SIZE", 1, 4096, "1", "images per query"),
    "max_images": _whole("CK_REQUEST_MAX_IMAGES", 0, 10**7, "100", "first N images of the data set (0 = all)"),
    "threads": _whole("CK_REQUEST_THREADS", 0, 1024, "1", "intra-op threads (0 = the framework's default)"),
    "warmup": _whole("CK_REQUEST_WARMUP", 0, 10**6, "5", "untimed queries before measuring"),
    "min_queries": _whole("CK_REQUEST_MIN_QUERIES", 1, 10**8, "100", "timed queries at least (p99 needs 100)"),
    "min_duration_s": _number("CK_REQUEST_MIN_DURATION_S", 0.0, 86400.0, "1", "and at least this long"),
    "scenario": RunVariable("CK_REQUEST_SCENARIO", "|".join(SCENARIOS), f"one of {', '.join(SCENARIOS)}",
                            "SingleStream", "our timed loop, or an MLPerf LoadGen scenario", _one_of(SCENARIOS)),
    "target_qps": _number("CK_REQUEST_TARGET_QPS", 0.0, 1e7, "100",
                          "Server's arrival rate, Offline's expected rate (0: estimated)"),
    "target_latency_ms": _number("CK_REQUEST_TARGET_LATENCY_MS", 0.0, 86400e3, "100",
                                 "Server's bound, SingleStream's expected (0: auto)"),
    "mlperf_conf": RunVariable("CK_REQUEST_MLPERF_CONF", PATH, "a file path (letters, digits, _ . + @ / -)",
                               "/path/to/mlperf.conf", "an mlperf.conf LoadGen reads over the run variables",
                               _existing_file),
    "user_conf": RunVariable("CK_REQUEST_USER_CONF", PATH, "a file path (letters, digits, _ . + @ / -)",
                             "/path/to/user.conf", "a user.conf LoadGen reads last", _existing_file),
}

# The backends' own, documented options (handed to the backend in BackendOptions.settings)
BACKEND_OPTIONS = (
    RunVariable("CK_REQUEST_OV_HINT", "|".join(HINTS), f"one of {', '.join(HINTS)}", "THROUGHPUT",
                "OpenVINO's performance hint", str.upper, backend="openvino"),
    RunVariable("CK_REQUEST_OV_STREAMS", r"[0-9]+|AUTO|NUMA", "a number of streams, AUTO or NUMA", "2",
                "OpenVINO's streams (empty: the hint's)", str.upper, backend="openvino"),
    RunVariable("CK_ENV_TVM_TUNING_DB", "/" + PATH, "an absolute folder path (letters, digits, _ . + @ / -)",
                "$CK_TOOLS/tvm-tuning-.../db", "a MetaSchedule tuning database TVM applies (its env entry sets it)",
                backend="tvm"),
)

# What CK's own pipeline adds to a run's env (from its choices cpu_freq, gpu_freq)
CK_PIPELINE = tuple(RunVariable(name, r"max|min|[0-9]+", "max, min or a frequency", "max", "CK's own choice")
                    for name in ("CK_CPU_FREQUENCY", "CK_GPU_FREQUENCY"))

BY_NAME = {v.name: v for v in (*RUN_VARIABLES.values(), *BACKEND_OPTIONS)}  # what a space or a run may set


def declared(name: str, where: str) -> RunVariable:
    """The declaration of ``name``: a run variable of every program or a documented backend option."""
    if name in BY_NAME:
        return BY_NAME[name]
    near = difflib.get_close_matches(name, BY_NAME, n=1)
    raise RequestError(where, "is not a run variable of the programs nor a documented backend option",
                       f"did you mean {near[0]}?" if near else
                       "use one of those README.md lists: CK_REQUEST_BATCH_SIZE, CK_REQUEST_THREADS, ...")


def check_run_env(env: Mapping[str, object], where: str = "") -> None:
    """Every variable CK is about to write into a program's run script: declared, and a value it may have."""
    own = {v.name: v for v in CK_PIPELINE}
    for name, text in env.items():
        at = f"{where}: run variable {name}" if where else f"run variable {name}"
        variable = own.get(name) or declared(name, at)
        variable.value(text, f"{at}={str(text)!r}")
