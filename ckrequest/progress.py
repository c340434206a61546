"""Progress on the long steps (installs, conversions, accuracy over many images), on stderr.

Lines, not redrawn bars, when the output is not a terminal (CK logs, CI): tqdm's ``mininterval``
keeps them to one every few seconds.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


def bar(items: Iterable[T], total: int, what: str, unit: str, show: bool = True) -> Iterator[T]:
    """``items`` with a tqdm progress bar (when ``show``: short jobs finish before a bar tells anything)."""
    if not show:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=f"ck-request: {what}", unit=unit, file=sys.stderr,
                    mininterval=5.0 if not sys.stderr.isatty() else 0.5, dynamic_ncols=True)


@contextmanager
def step(what: str) -> Iterator[None]:
    """``ck-request: <what> ...`` now, ``... done in N s`` at the end."""
    print(f"ck-request: {what} ...", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    yield
    print(f"ck-request: {what}: done in {time.monotonic() - t0:.1f} s", file=sys.stderr, flush=True)
