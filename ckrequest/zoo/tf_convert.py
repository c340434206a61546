"""ONNX -> TensorFlow SavedModel (onnx2tf, NHWC) -> TFLite fp32 / fp16 / int8 (full integer).

Runs where TensorFlow imports: the lib-tensorflow environment (PYTHONPATH from its CK env).
"""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..backends.base import import_framework
from ..errors import RequestError

_NON_NEGATIVE = ("Relu", "Clip")  # Clip here is ReLU6: its minimum is 0 in every graph we build


def zero_pad_max_pools(model: onnx.ModelProto) -> int:
    """Give padded max-pools after a ReLU an explicit zero Pad instead (the same values there).

    onnx2tf turns a padded MaxPool into PADV2 with -inf, which int8 TFLite cannot quantize
    (ResNet's stem crashes the interpreter); 0 is as good as -inf for non-negative inputs.
    """
    producers = {out: node for node in model.graph.node for out in node.output}
    nodes, changed = [], 0
    for node in model.graph.node:
        pads = next((list(a.ints) for a in node.attribute if a.name == "pads"), [])
        source = producers.get(node.input[0]) if node.input else None
        if node.op_type != "MaxPool" or not any(pads) or source is None or source.op_type not in _NON_NEGATIVE:
            nodes.append(node)
            continue
        half = len(pads) // 2
        name = f"{node.name or node.output[0]}_zero_pad"
        model.graph.initializer.append(numpy_helper.from_array(
            np.array([0, 0, *pads[:half], 0, 0, *pads[half:]], dtype=np.int64), f"{name}_amounts"))
        nodes.append(helper.make_node("Pad", [node.input[0], f"{name}_amounts"], [f"{name}_out"], name=name))
        attributes = [a for a in node.attribute if a.name != "pads"]
        pooled = helper.make_node("MaxPool", [f"{name}_out"], list(node.output), name=node.name)
        pooled.attribute.extend(attributes)
        nodes.append(pooled)
        changed += 1
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return changed


def onnx_to_saved_model(source: Path, dest: Path) -> Path:
    """A SavedModel (signature serving_default: NHWC float "input" with a dynamic batch -> logits).

    onnx2tf builds the Keras graph; we export it ourselves, since onnx2tf's own saving also
    converts two TFLite files we don't need (most of its time).
    """
    onnx2tf = import_framework("onnx2tf", "lib-tensorflow")
    tf = import_framework("tensorflow", "lib-tensorflow")
    graph = onnx.load(str(source))
    zero_pad_max_pools(graph)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            model = onnx2tf.convert(onnx_graph=graph, output_folder_path=str(dest), non_verbose=True,
                                    disable_model_save=True)
        signature = tf.TensorSpec([None, *model.inputs[0].shape[1:]], tf.float32, name="input")
        module = tf.Module()
        # the variables, not the Keras model: saving a model makes Keras JSON-encode every layer's
        # config, and onnx2tf's layers hold their constants there (VGG16: 18 GB and 15 min, then OOM)
        module.model_variables = list(model.variables)
        module.serve = tf.function(lambda images: {"logits": model(images)}, input_signature=[signature])
        tf.saved_model.save(module, str(dest), signatures={"serving_default": module.serve})
    except Exception as err:
        raise RequestError(f"onnx2tf conversion of {source}", f"{type(err).__name__}: {err}".split("\n")[0][:300],
                           "report the model and the onnx2tf version") from None
    return dest


def saved_model_to_tflite(saved_model: Path, dest: Path, precision: str, calibration: np.ndarray | None) -> None:
    """fp32; fp16 weights; or full-integer int8 (int8 input and output) calibrated on NHWC images."""
    tf = import_framework("tensorflow", "lib-tensorflow")
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    if precision == "fp16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif precision == "int8":
        if calibration is None:
            raise RequestError("int8 TFLite conversion", "has no calibration images", "pass a calibration set")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([calibration[k:k + 1]] for k in range(len(calibration)))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    dest.write_bytes(converter.convert())


def copy_saved_model(source: Path, dest: Path) -> None:
    shutil.copytree(source, dest)
