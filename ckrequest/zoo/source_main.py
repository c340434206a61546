"""The command-line frame the Keras and Gluon weight sources share: run, then a JSON report or one error line."""

from __future__ import annotations

import argparse
import json
from typing import Any, Callable

from ..errors import RequestError, print_error


def run_and_report(run: Callable[[argparse.Namespace], dict[str, Any]], args: argparse.Namespace) -> int:
    """``run(args)``; its report goes to ``args.report``. A RequestError is one line on stderr and exit 2."""
    try:
        report = run(args)
    except RequestError as err:
        return print_error(err)
    args.report.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return 0
