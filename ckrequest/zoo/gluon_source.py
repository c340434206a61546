"""MXNet Gluon model zoo weights (.params) -> ONNX, run inside MXNet's own venv.

    $CK_ENV_LIB_MXNET_PYTHON -m ckrequest.zoo.gluon_source --model squeezenet1.1 \\
        --weights squeezenet1.1-33ba0f93.params --resolution 224 --inputs inputs.npz \\
        --out raw.onnx --reference reference.npz --report report.json

``gluon.model_zoo.vision.get_model(name)`` + ``load_parameters`` (fails unless every parameter
is there with its shape), hybridized and exported to ONNX opset 13 (the newest mxnet 1.9's
exporter writes); writes MXNet's own outputs on ``inputs`` for the caller, who brings the graph
to the canonical contract (opset 17, "input" -> "logits", dynamic batch) and checks it against
them. The venv has numpy 1.23 and onnx 1.13 only: this imports nothing else of ours.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

from ..errors import RequestError
from .source_main import run_and_report

EXPORT_OPSET = 13
INPUT_NAME = "data"
# Below this many values a tensor is stored the exporter's own way.
_RAW_FROM = 1024


def load_gluon_model(name: str, weights: Path) -> Any:
    import mxnet as mx
    from mxnet import gluon

    try:
        net = gluon.model_zoo.vision.get_model(name)
    except ValueError as err:
        raise RequestError(f"Gluon model {name!r}", f"is not in mxnet {mx.__version__}'s model zoo ({err})",
                           "install ck-request's lib-mxnet: ck install package:lib-mxnet --quiet") from None
    try:
        net.load_parameters(str(weights), ctx=mx.cpu())
    except (AssertionError, ValueError, OSError, mx.base.MXNetError) as err:
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        why = (lines[-1] if isinstance(err, mx.base.MXNetError) else lines[0]) if lines else type(err).__name__
        raise RequestError(f"weights file {weights}", f"does not fit Gluon {name} ({why})",
                           "use the official .params file of this model") from None
    net.hybridize(static_alloc=True)
    return net


@contextlib.contextmanager
def _raw_tensors() -> Iterator[None]:
    """Let mxnet's exporter store weights as raw bytes: the venv's pure-Python protobuf 3.20 takes
    minutes to store millions of floats one by one."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    original = helper.make_tensor

    def make_tensor(name: str, data_type: int, dims: Any, vals: Any, raw: bool = False) -> Any:
        if raw or data_type == onnx.TensorProto.STRING or len(vals) < _RAW_FROM:
            return original(name, data_type, dims, vals, raw)
        array = np.asarray(vals, dtype=helper.tensor_dtype_to_np_dtype(data_type)).reshape(tuple(dims))
        return numpy_helper.from_array(array, name)

    onnx.helper.make_tensor = make_tensor
    try:
        yield
    finally:
        onnx.helper.make_tensor = original


def export_onnx(net: Any, resolution: int, out: Path) -> None:
    """The hybridized net as an ONNX graph with input "data" of shape (None, 3, r, r)."""
    import mxnet as mx
    import onnx
    from mxnet.onnx.mx2onnx._export_onnx import MXNetGraph
    from onnx import TensorProto, helper

    with tempfile.TemporaryDirectory(prefix="ck-gluon-") as tmp:
        prefix = str(Path(tmp) / "net")
        net.export(prefix)
        symbol, args, auxs = mx.model.load_checkpoint(prefix, 0)
    shape = (1, 3, resolution, resolution)
    with _raw_tensors():
        graph = MXNetGraph().create_onnx_graph_proto(
            symbol, {**args, **auxs}, [shape], [TensorProto.FLOAT], opset_version=EXPORT_OPSET,
            dynamic=True, dynamic_input_shapes=[(None, *shape[1:])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", EXPORT_OPSET)],
                              producer_name="mxnet", producer_version=mx.__version__)
    onnx.save(model, str(out))


def reference_logits(net: Any, inputs: Any) -> Any:
    import mxnet as mx
    import numpy as np

    return np.asarray(net(mx.nd.array(inputs, dtype="float32")).asnumpy(), dtype=np.float32)


def versions() -> dict[str, str]:
    import mxnet as mx
    import onnx

    return {"mxnet": mx.__version__, "onnx (export)": onnx.__version__}


def run(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    start = time.perf_counter()
    net = load_gluon_model(args.model, args.weights)
    inputs = np.load(args.inputs)["inputs"]
    np.savez(args.reference, logits=reference_logits(net, inputs))
    export_onnx(net, args.resolution, args.out)
    return {"framework": versions(), "convert_seconds": round(time.perf_counter() - start, 3)}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ckrequest.zoo.gluon_source")
    parser.add_argument("--model", required=True, help="Gluon model zoo name, e.g. squeezenet1.1")
    parser.add_argument("--weights", required=True, type=Path, help="the .params file")
    parser.add_argument("--resolution", required=True, type=int)
    parser.add_argument("--inputs", required=True, type=Path, help=".npz with 'inputs' (N, 3, H, W)")
    parser.add_argument("--out", required=True, type=Path, help="the ONNX file to write")
    parser.add_argument("--reference", required=True, type=Path, help=".npz to write MXNet's outputs to")
    parser.add_argument("--report", required=True, type=Path, help=".json to write versions and timing to")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return run_and_report(run, parse(argv))


if __name__ == "__main__":
    sys.exit(main())
