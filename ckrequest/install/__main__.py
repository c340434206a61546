"""`python -m ckrequest.install <what> ...`: the one entry point of our package install scripts."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..errors import RequestError, missing_extra, print_error


def _pip_lib(args: argparse.Namespace) -> None:
    from .pip_lib import PipLibrary, install_library

    library = PipLibrary(tuple(args.requirements.split()), tuple(args.no_deps_requirements.split()),
                         with_deps=args.with_deps == "yes", venv=args.venv == "yes")
    if not args.install_dir:
        raise RequestError("pip-lib", "no --install-dir given", "pass CK's INSTALL_DIR")
    install_library(library.pinned(args.version), Path(args.install_dir))


def _sample_photos(args: argparse.Namespace) -> None:
    from ..datasets.sample_photos import install_sample_photos

    install_sample_photos(Path(args.labels), Path(args.out))


def _model(args: argparse.Namespace) -> None:
    from ..zoo.build import build_model
    from ..zoo.canonical import ModelSpec

    spec = ModelSpec(args.arch, args.weights, float(args.multiplier) if args.multiplier else None,
                     int(args.resolution) if args.resolution else None, int(args.seed or 1))
    build_model(args.format, args.precision or "fp32", spec, Path(args.out),
                Path(args.weights_file) if args.weights_file else None)


def _debian_lib(args: argparse.Namespace) -> None:
    from .debian_lib import DebianLibrary, install_debian_library

    install_debian_library(DebianLibrary(tuple(args.packages.split()), args.version, tuple(args.skip.split())),
                           Path(args.out))


def _tvm_tuning(args: argparse.Namespace) -> None:
    from ..backends.tvm_tuning import PLAN_FIELDS, TuningPlan, tune_model

    given = {TuningPlan.env_name(name): getattr(args, name) for name in PLAN_FIELDS if getattr(args, name)}
    plan = TuningPlan.from_env({**os.environ, **given})  # the package's install variables, then the options
    tune_model(Path(args.model_info), Path(args.out), plan)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ckrequest.install")
    parser.add_argument("--install-dir", help="CK's INSTALL_DIR: removed if the install fails and leaves it empty")
    commands = parser.add_subparsers(dest="what", required=True)
    pip_lib = commands.add_parser("pip-lib", help="a pinned Python library into <install-dir>/python or /venv")
    pip_lib.add_argument("--version", required=True, help="replaces {version} in the requirements")
    pip_lib.add_argument("--requirements", required=True, help="e.g. 'onnxruntime=={version}'")
    pip_lib.add_argument("--no-deps-requirements", default="", help="installed after, without dependencies")
    pip_lib.add_argument("--with-deps", choices=("yes", "no"), default="no")
    pip_lib.add_argument("--venv", choices=("yes", "no"), default="no")
    pip_lib.set_defaults(handler=_pip_lib)
    photos = commands.add_parser("dataset-sample-photos", help="scikit-image photos with ImageNet labels")
    photos.add_argument("--labels", required=True, help="val.txt listing the photos and their classes")
    photos.add_argument("--out", required=True)
    photos.set_defaults(handler=_sample_photos)
    model = commands.add_parser("model", help="a model of the zoo in one format and precision")
    model.add_argument("--format", required=True)
    model.add_argument("--arch", required=True)
    model.add_argument("--weights", required=True, help="imagenet or synthetic")
    model.add_argument("--precision", default="fp32")
    model.add_argument("--multiplier", default="", help="MobileNet-v1 only")
    model.add_argument("--resolution", default="", help="MobileNet-v1 only")
    model.add_argument("--seed", default="1", help="synthetic weights only")
    model.add_argument("--weights-file", default="", help="weights you already have (skips the download)")
    model.add_argument("--out", required=True)
    model.set_defaults(handler=_model)
    debian = commands.add_parser("debian-lib", help="Debian packages and missing dependencies, unpacked")
    debian.add_argument("--packages", required=True, help="e.g. 'python3-pyarmnn libarmnn-cpuref-backend22'")
    debian.add_argument("--version", default="", help="the upstream version the packages must have, e.g. 20.08")
    debian.add_argument("--skip", default="", help="dependencies not to unpack (provided otherwise), e.g. python3")
    debian.add_argument("--out", required=True)
    debian.set_defaults(handler=_debian_lib)
    tuning = commands.add_parser("tvm-tuning", help="a MetaSchedule tuning database for an ONNX model on this host")
    tuning.add_argument("--model-info", required=True, help="model-info.json of an installed ONNX model")
    # each option defaults to its install variable (CK_REQUEST_TVM_TRIALS ...), else to TuningPlan's default
    tuning.add_argument("--trials", help="global trial budget")
    tuning.add_argument("--trials-per-round", help="candidates measured per pick of a task")
    tuning.add_argument("--batch")
    tuning.add_argument("--search", help="evolutionary or replay-trace")
    tuning.add_argument("--population", help="population of the evolutionary search")
    tuning.add_argument("--out", required=True)
    tuning.set_defaults(handler=_tvm_tuning)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        try:
            args.handler(args)
        except ImportError as err:  # pip install -e . without the run extra: say so, not CK's 20-line traceback
            raise missing_extra(err) or err from None
    except RequestError as err:
        _remove_if_empty(args.install_dir)
        return print_error(err)
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
