"""Run scripts of programs made from the `request-classification` template.

A program ``request-<framework>-classification`` runs the backend ``<framework>``: the module
``ckrequest/backends/<framework>.py``, or ``backends/<framework>.py`` inside the program entry
itself (it joins the ``ckrequest.backends`` package, so a file written for one place works
unchanged in the other).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

from . import backends
from .errors import RequestError, print_error
from .harness import main as harness_main

PROGRAM_NAME = re.compile(r"^request-(?P<framework>[a-z0-9_]+)-classification$")


def framework_of(program_dir: Path) -> str:
    match = PROGRAM_NAME.match(program_dir.name)
    if not match:
        raise RequestError(f"program {program_dir.name}", "is not named request-<framework>-classification",
                           "add it as: ck add <repo>:program:request-<framework>-classification "
                           "--template=request-classification")
    return match.group("framework")


def add_program_backends(program_dir: Path) -> None:
    local = program_dir / "backends"
    if local.is_dir() and str(local) not in backends.__path__:
        backends.__path__.append(str(local))


def main(program_dir: Path, argv: Sequence[str]) -> int:
    """``python ../run.py [performance|accuracy]`` from the program's tmp folder."""
    try:
        framework = framework_of(program_dir)
        add_program_backends(program_dir)
        if framework not in backends.available_backends():
            raise RequestError(f"framework backend {framework!r}", "not found",
                               f"write {program_dir / 'backends' / (framework + '.py')} "
                               f"(or ckrequest/backends/{framework}.py) defining BACKEND")
    except RequestError as err:
        return print_error(err)
    return harness_main([framework, *argv])
