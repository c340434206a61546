"""`python -m ckrequest.install <what> ...`: the one entry point of our package install scripts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import RequestError


def _pip_lib(args: argparse.Namespace) -> None:
    from .pip_lib import install_pip_library

    install_pip_library(args.requirement, Path(args.target))


def _sample_photos(args: argparse.Namespace) -> None:
    from .sample_photos import install_sample_photos

    install_sample_photos(Path(args.labels), Path(args.out))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ckrequest.install")
    parser.add_argument("--install-dir", help="CK's INSTALL_DIR: removed if the install fails and leaves it empty")
    commands = parser.add_subparsers(dest="what", required=True)
    pip_lib = commands.add_parser("pip-lib", help="a pinned Python library into a CK_TOOLS folder")
    pip_lib.add_argument("--requirement", required=True, help="e.g. onnxruntime==1.32.0")
    pip_lib.add_argument("--target", required=True)
    pip_lib.set_defaults(handler=_pip_lib)
    photos = commands.add_parser("dataset-sample-photos", help="scikit-image photos with ImageNet labels")
    photos.add_argument("--labels", required=True, help="val.txt listing the photos and their classes")
    photos.add_argument("--out", required=True)
    photos.set_defaults(handler=_sample_photos)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except RequestError as err:
        print(f"ckrequest: error: {err.line()}", file=sys.stderr)
        _remove_if_empty(args.install_dir)
        return 2
    return 0


def _remove_if_empty(folder: str | None) -> None:
    """CK creates the install folder before the script runs; a failed install leaves none."""
    if folder:
        try:
            Path(folder).rmdir()
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main())
