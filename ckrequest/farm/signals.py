"""SIGTERM, SIGINT and SIGHUP as an exception, so that every ``with`` around a cluster or a run unwinds and
stops what it started (Python's default for SIGTERM and SIGHUP ends the process at once, cleaning nothing)."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

STOPPING = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Stopped(BaseException):
    """A signal asked this process to stop (a BaseException: no ``except Exception`` on the way swallows it)."""

    def __init__(self, signum: int) -> None:
        self.signal = signal.Signals(signum).name
        super().__init__(f"stopped by {self.signal}")


@contextmanager
def stopped_by_signals() -> Iterator[None]:
    """Inside: a stopping signal raises Stopped once; later ones are ignored while the ``with`` blocks unwind
    (a second Ctrl-C must not cut a cluster's stop short)."""
    if threading.current_thread() is not threading.main_thread():  # Python delivers signals to the main thread
        yield
        return

    def _stop(signum: int, _frame: object) -> None:
        for sig in STOPPING:
            signal.signal(sig, signal.SIG_IGN)
        raise Stopped(signum)

    previous = {sig: signal.signal(sig, _stop) for sig in STOPPING}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
