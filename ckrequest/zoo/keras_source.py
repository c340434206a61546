"""Keras Applications weights (.h5) -> ONNX, run where TensorFlow is importable.

    python -m ckrequest.zoo.keras_source --model MobileNet --weights mobilenet_2_5_128_tf.h5 \\
        --resolution 128 --alpha 0.25 --inputs inputs.npz --out raw.onnx --reference reference.npz \\
        --kernels kernels.npz --report report.json

Builds ``keras.applications.<model>(weights=<file>, classifier_activation=None)`` (logits; the
load fails unless every layer and weight shape fits the file), converts it with tf2onnx (opset
17, NCHW input "input", dynamic batch) and writes Keras's own logits on the NCHW ``inputs`` for
the caller, who renames the output "logits", puts the Dense kernels back as initializers and
checks the ONNX against them. Of ours it imports only ``errors`` and ``source_main`` (standard library only).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import RequestError
from .source_main import run_and_report

OPSET = 17
INPUT_NAME = "input"


def build_keras_model(model: str, weights: Path, resolution: int, alpha: float | None) -> Any:
    """The Keras application with the weights file loaded, ending in logits."""
    import keras

    factory = getattr(keras.applications, model, None)
    if factory is None:
        raise RequestError(f"keras.applications.{model}", f"is not in keras {keras.__version__}",
                           "install ck-request's lib-tensorflow: ck install package:lib-tensorflow --quiet")
    extra = {} if alpha is None else {"alpha": alpha}
    try:
        return factory(weights=str(weights), input_shape=(resolution, resolution, 3),
                       classifier_activation=None, **extra)
    except (ValueError, OSError, KeyError, TypeError) as err:
        why = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise RequestError(f"weights file {weights}", f"does not fit keras.applications.{model} ({why})",
                           "use the official weights file of this model and variant") from None


def dense_kernels(net: Any) -> list[Any]:
    import keras

    return [layer.kernel for layer in net.layers if isinstance(layer, keras.layers.Dense)]


def convert(net: Any, resolution: int, out: Path, kernels_out: Path) -> None:
    """tf2onnx with the input transposed to NCHW inside the graph, batch left dynamic.

    Dense kernels enter the graph as inputs named ``dense_kernel_<i>`` (their values go to
    ``kernels_out``, for the caller to make them initializers again): tf2onnx keeps dozens of
    copies of every constant, and VGG16's 120 M classifier weights would need over 20 GB.
    """
    import keras
    import numpy as np
    import tensorflow as tf
    import tf2onnx

    kernels = dense_kernels(net)
    names = [f"dense_kernel_{i}" for i in range(len(kernels))]
    signature = (tf.TensorSpec((None, resolution, resolution, 3), tf.float32, name=INPUT_NAME),
                 *(tf.TensorSpec(k.shape, tf.float32, name=n) for k, n in zip(kernels, names)))

    def logits(images: Any, *values: Any) -> Any:
        with keras.StatelessScope(state_mapping=list(zip(kernels, values))):
            return net(images, training=False)

    np.savez(kernels_out, **{n: np.asarray(k.numpy(), dtype=np.float32) for k, n in zip(kernels, names)})
    function = tf.function(logits, input_signature=signature)
    tf2onnx.convert.from_function(function, input_signature=signature, opset=OPSET,
                                  inputs_as_nchw=[f"{INPUT_NAME}:0"], output_path=str(out))


def reference_logits(net: Any, inputs_nchw: Any) -> Any:
    import numpy as np

    outputs = net(np.ascontiguousarray(inputs_nchw.transpose(0, 2, 3, 1)), training=False)
    return np.asarray(outputs, dtype=np.float32)


def versions() -> dict[str, str]:
    import keras
    import tensorflow as tf
    import tf2onnx

    return {"tensorflow": tf.__version__, "keras": keras.__version__, "tf2onnx": tf2onnx.__version__}


def run(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    start = time.perf_counter()
    net = build_keras_model(args.model, args.weights, args.resolution, args.alpha)
    inputs = np.load(args.inputs)["inputs"]
    np.savez(args.reference, logits=reference_logits(net, inputs))
    convert(net, args.resolution, args.out, args.kernels)
    return {"framework": versions(), "convert_seconds": round(time.perf_counter() - start, 3)}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ckrequest.zoo.keras_source")
    parser.add_argument("--model", required=True, help="keras.applications class, e.g. MobileNet")
    parser.add_argument("--weights", required=True, type=Path, help="the .h5 weights file")
    parser.add_argument("--resolution", required=True, type=int)
    parser.add_argument("--alpha", type=float, default=None, help="MobileNet width multiplier")
    parser.add_argument("--inputs", required=True, type=Path, help=".npz with 'inputs' (N, 3, H, W)")
    parser.add_argument("--out", required=True, type=Path, help="the ONNX file to write")
    parser.add_argument("--reference", required=True, type=Path, help=".npz to write Keras's logits to")
    parser.add_argument("--kernels", required=True, type=Path, help=".npz to write the Dense kernels to")
    parser.add_argument("--report", required=True, type=Path, help=".json to write versions and timing to")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return run_and_report(run, parse(argv))


if __name__ == "__main__":
    sys.exit(main())
