"""Do the formats agree? Build one architecture in every format and compare their outputs.

    ck virtual env --tag_groups="lib,tensorflow lib,litert lib,openvino" \\
        --shell_cmd="python -m ckrequest.zoo.agreement mobilenet-v1 squeezenet-1.1"

For each architecture (synthetic weights), ONNX, TF, TFLite and OpenVINO fp32 must give softmax
within 1e-4 of ONNX Runtime on the canonical graph and the same top-1 on every image where it is
decided (near ties are counted and shown); the int8 and fp16 models' agreement with fp32 is
printed, not required.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import RequestError, print_error
from .build import build_and_run, compare, fp32_agrees
from .calibration import calibration_set, pattern_set
from .canonical import ModelSpec, canonical_onnx

FP32_FORMATS = ("onnx", "tf", "tflite", "openvino")
REPORTED = (("onnx", "int8"), ("tflite", "int8"), ("openvino", "int8"), ("tflite", "fp16"))


@dataclass(frozen=True)
class Agreement:
    arch: str
    fmt: str
    precision: str
    images: int
    max_abs_softmax_diff: float
    top1_agreement: float
    near_ties: int  # images whose reference top-1 is within the tolerance of the runner-up
    top1_agreement_decided: float  # over the other images

    @property
    def required(self) -> bool:
        return self.precision == "fp32"

    @property
    def passed(self) -> bool:
        return fp32_agrees(asdict(self))


def images_for(nchw_spec, count: int = 32) -> np.ndarray:
    """Seeded pattern images plus the calibration photos: `count` inputs, NCHW."""
    photos = calibration_set(nchw_spec).inputs
    return np.concatenate([pattern_set(nchw_spec, count - count // 2, seed=11), photos[: count // 2]])


def check_architecture(arch: str, folder: Path, multiplier: float | None = None,
                       resolution: int | None = None, count: int = 32) -> list[Agreement]:
    """Each format is built and run in a process of its own: converters never give memory back, and
    one process converting AlexNet and VGG16 in every format grows past 24 GiB."""
    spec = ModelSpec(arch, "synthetic", multiplier, resolution)
    nchw = images_for(canonical_onnx(spec).preprocessing, count)
    reference = None
    results = []
    spawn = multiprocessing.get_context("spawn")
    for fmt, precision in [(f, "fp32") for f in FP32_FORMATS] + list(REPORTED):
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as worker:
            outputs = worker.submit(build_and_run, spec, fmt, precision, folder / f"{fmt}-{precision}", nchw).result()
        if reference is None:
            reference = outputs  # ONNX Runtime on the fp32 canonical graph
        found = compare(reference, outputs)
        results.append(Agreement(arch, fmt, precision, **found))
    return results


def print_table(rows: list[Agreement]) -> None:
    print(f"{'arch':<18} {'format':<9} {'prec':<5} {'images':>6} {'max |dsoftmax|':>15} {'top-1 agree':>11} "
          f"{'near ties':>9}  verdict")
    for row in rows:
        verdict = ("pass" if row.passed else "FAIL") if row.required else "reported"
        print(f"{row.arch:<18} {row.fmt:<9} {row.precision:<5} {row.images:>6} {row.max_abs_softmax_diff:>15.2e} "
              f"{row.top1_agreement:>11.1%} {row.near_ties:>9}  {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ckrequest.zoo.agreement")
    parser.add_argument("archs", nargs="+")
    parser.add_argument("--multiplier", type=float)
    parser.add_argument("--resolution", type=int)
    parser.add_argument("--images", type=int, default=32)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="ck-agreement-") as tmp:
        try:
            for arch in args.archs:
                rows += check_architecture(arch, Path(tmp) / arch, args.multiplier, args.resolution, args.images)
        except RequestError as err:
            return print_error(err)
    print_table(rows)
    return 0 if all(row.passed for row in rows if row.required) else 1


if __name__ == "__main__":
    sys.exit(main())
