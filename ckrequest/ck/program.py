"""Run scripts of programs made from the `request-classification` template.

A program ``request-<framework>-classification`` runs the backend ``<framework>``: the module
``ckrequest/backends/<framework>.py``, or ``backends/<framework>.py`` inside the program entry
itself (it joins the ``ckrequest.backends`` package, so a file written for one place works
unchanged in the other).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Sequence

from .. import backends
from ..errors import RequestError, missing_extra, print_error
from ..results.writer import LOADGEN_DIR, REQUEST_FILE, TIMER_FILE, output_folder, summary_lines, write_outputs
from ..run.config import RunConfig, config_from_env
from ..run.harness import inputs_from_env, run_benchmark

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
    return run_and_report([framework, *argv])


def run_and_report(argv: Sequence[str] | None = None) -> int:
    """``python run.py`` in a program: ``main([backend])``; the mode comes from CK_REQUEST_MODE.

    A program made from an older template passes the mode as a second argument; it overrides the variable.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    folder = output_folder()
    for stale in (TIMER_FILE, REQUEST_FILE):
        (folder / stale).unlink(missing_ok=True)
    try:
        if not args:
            raise RequestError("harness", "no framework backend given", "call run_and_report(['onnxruntime'])")
        env = dict(os.environ)
        if len(args) > 1:
            env[RunConfig.env_name("mode")] = args[1]
        config = config_from_env(env)
        try:
            result = run_benchmark(args[0], config, inputs_from_env(), folder / LOADGEN_DIR)
        except ImportError as err:  # pip install -e . without the run extra
            raise missing_extra(err) or err from None
        write_outputs(result, folder)
    except RequestError as err:
        return print_error(err)
    for line in summary_lines(result):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(run_and_report())
