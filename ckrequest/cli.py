"""`ckrequest` console command: setup and the benchmark tools that are not CK actions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import places
from .errors import RequestError, print_error


def cmd_setup(args: argparse.Namespace) -> int:
    from .ck import kernel as ck_kernel

    print(ck_kernel.register_repo(Path(args.repo) if args.repo else places.CHECKOUT, move=args.move))
    print(ck_kernel.register_python(args.python or sys.executable))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ckrequest", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    setup = commands.add_parser("setup", help="register this checkout and this Python with CK (idempotent)")
    setup.add_argument("--repo", help="path of the ck-request checkout (default: the one this library runs from)")
    setup.add_argument("--move", action="store_true",
                       help="re-point an existing ck-request registration at this checkout")
    setup.add_argument("--python", help="interpreter to register (default: the running one)")
    setup.set_defaults(handler=cmd_setup)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except RequestError as err:
        return print_error(err)


if __name__ == "__main__":
    sys.exit(main())
