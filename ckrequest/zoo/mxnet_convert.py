"""ONNX -> MXNet symbol + params, run inside MXNet's own venv (numpy 1.23.5, onnx 1.13).

    $CK_ENV_LIB_MXNET_PYTHON -m ckrequest.zoo.mxnet_convert <model.onnx> <dest folder> <check.npy>

writes model-symbol.json, model-0000.params and the outputs on check.npy (for the caller to compare).
Imports nothing of ours that needs onnxruntime or a recent numpy.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def _initializers_as_inputs(path: Path, out: Path) -> None:
    """MXNet's ONNX importer wants initializers listed as graph inputs (the old IR convention)."""
    import onnx
    from onnx import helper

    model = onnx.load(str(path))
    listed = {value.name for value in model.graph.input}
    for tensor in model.graph.initializer:
        if tensor.name not in listed:
            model.graph.input.append(helper.make_tensor_value_info(tensor.name, tensor.data_type, list(tensor.dims)))
    onnx.save(model, str(out))


def convert(source: Path, dest: Path, check: Path) -> None:
    import mxnet as mx
    from mxnet.contrib import onnx as onnx_mxnet

    legacy = dest / "legacy.onnx"
    _initializers_as_inputs(source, legacy)
    symbol, args, auxs = onnx_mxnet.import_model(str(legacy))
    legacy.unlink()
    symbol.save(str(dest / "model-symbol.json"))
    params = {f"arg:{k}": v for k, v in args.items()} | {f"aux:{k}": v for k, v in auxs.items()}
    mx.nd.save(str(dest / "model-0000.params"), params)
    net = mx.gluon.nn.SymbolBlock.imports(str(dest / "model-symbol.json"), ["input"],
                                          str(dest / "model-0000.params"), ctx=mx.cpu())
    outputs = net(mx.nd.array(np.load(check))).asnumpy()
    np.save(dest / "check-output.npy", outputs)


if __name__ == "__main__":
    convert(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
