"""CK's pauses for a reader, skipped where nobody asked for them.

CK 2.6.4's pipeline sleeps so that a person can read its progress: 0.5 s at each pipeline iteration
and ``--sleep`` seconds (3 by default) after showing the choices (``pipeline`` module, ``autotune``),
then 0.5 s before running the program (``program`` module, ``process_in_dir``). A `ck benchmark`
typed with no ``--sleep=`` runs without them: about 4 s per run otherwise, for nothing. Typed
``--sleep=<s>`` keeps every one of them (with ``<s>`` after the choices).
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from . import flags as ck_flags

# (CK module, function, seconds or None for any): the sleeps that only give a reader time
READER_PAUSES = (("pipeline", "autotune", None), ("program", "process_in_dir", 0.5))
_CK_MODULES = f"{os.sep}ck{os.sep}repo{os.sep}module{os.sep}"


def is_reader_pause(filename: str, function: str, seconds: float) -> bool:
    """Whether a sleep called from ``function`` of the file ``filename`` is one of CK's pauses for a reader."""
    if _CK_MODULES not in filename:
        return False
    module = filename.split(_CK_MODULES, 1)[1].split(os.sep, 1)[0]
    return any(module == m and function == f and (s is None or seconds == s) for m, f, s in READER_PAUSES)


def _skipping(real_sleep: Callable[[float], None]) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        caller = sys._getframe(1).f_code
        if not is_reader_pause(caller.co_filename, caller.co_name, seconds):
            real_sleep(seconds)

    sleep.skips_reader_pauses = True  # type: ignore[attr-defined]
    return sleep


def asked_for() -> bool:
    """The `ck` command line of this process asks for the pauses (``--sleep=<s>``)."""
    return "sleep" in ck_flags.typed_command_line()


def skip_in_this_process() -> None:
    """From now on, CK's pauses for a reader are skipped in this process, unless its command line asks for them.

    Called as early as our code runs in a `ck` command (the Python detector, before the pipeline's first
    pause) and again by the programs' pre-process hook; once is enough."""
    if getattr(time.sleep, "skips_reader_pauses", False) or asked_for():
        return
    time.sleep = _skipping(time.sleep)


@contextmanager
def skipped() -> Iterator[None]:
    """CK's pauses for a reader skipped while this is active, whatever the command line says (an explore
    trial has no one to read it); any other sleep is left alone."""
    real_sleep = time.sleep
    time.sleep = _skipping(real_sleep)
    try:
        yield
    finally:
        time.sleep = real_sleep
