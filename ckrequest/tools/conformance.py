"""Run one backend on one installed model over saved inputs; print what it predicts (JSON).

    python -m ckrequest.tools.conformance --backend tflite --model-info <model-info.json> --inputs images.npy

`images.npy` holds NCHW float inputs already preprocessed for the model; they are transposed for
NHWC models. Runs in the framework's own environment (e.g. MXNet's venv), so it imports no more
than the harness does.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

from ..backends import backend_class
from ..errors import RequestError, print_error
from ..models.model_info import ModelInfo
from ..run.config import config_from_env


def predict(backend_name: str, info_path: Path, inputs_nchw: np.ndarray, batch: int = 4) -> dict:
    info = ModelInfo.load(info_path)
    inputs = inputs_nchw if info.preprocessing.layout == "NCHW" else inputs_nchw.transpose(0, 2, 3, 1)
    # a tool run in a CK environment: its dependencies' variables (a TVM tuning database) are the settings
    backend = backend_class(backend_name)(info.model_path(info_path), info, config_from_env().backend_options())
    logits = np.concatenate([backend.logits(backend.run(backend.prepare(np.ascontiguousarray(inputs[k:k + batch]))))
                             for k in range(0, len(inputs), batch)])
    described = backend.describe()
    return {"backend": backend_name, "library": described.library_name, "device": described.device,
            "precision": info.precision, "top1": [int(v) for v in logits.argmax(axis=1)],
            "logits": logits.astype(float).round(6).tolist(), "describe": dataclasses.asdict(described)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ckrequest.tools.conformance")
    parser.add_argument("--backend", required=True)
    parser.add_argument("--model-info", required=True)
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--batch", type=int, default=4)
    args = parser.parse_args(argv)
    try:
        result = predict(args.backend, Path(args.model_info), np.load(args.inputs), args.batch)
    except RequestError as err:
        return print_error(err)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
