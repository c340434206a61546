"""Small builders tests use to make their own data (never the original ReQuEST entries)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from PIL import Image

from ckrequest.datasets import default_synsets_path
from ckrequest.records import ModelInfo, Preprocessing


def make_imagenet_dir(root: Path, count: int = 6, synsets: bool = True) -> Path:
    """An ImageNet-validation-format folder: ILSVRC2012_val_*.JPEG, val.txt, synset_words.txt."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    lines = []
    for k in range(1, count + 1):
        name = f"ILSVRC2012_val_{k:08d}.JPEG"
        pixels = rng.integers(0, 256, size=(40 + k, 60, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / name, quality=90)
        lines.append(f"{name} {(k * 131) % 1000}")
    (root / "val.txt").write_text("\n".join(lines) + "\n")
    if synsets:
        (root / "synset_words.txt").write_text(default_synsets_path().read_text())
    return root / "val.txt"


def make_tiny_onnx_model(folder: Path, resolution: int = 32, seed: int = 0) -> Path:
    """A small real ONNX classifier (conv, pool, dense) with its model-info.json; synthetic weights."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    conv = numpy_helper.from_array(rng.standard_normal((16, 3, 3, 3)).astype(np.float32), "conv")
    dense = numpy_helper.from_array(rng.standard_normal((1000, 16)).astype(np.float32), "dense")
    nodes = [helper.make_node("Conv", ["input", "conv"], ["c"], strides=[2, 2]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("GlobalAveragePool", ["r"], ["p"]),
             helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("Gemm", ["f", "dense"], ["logits"], transB=1)]
    shape = ["batch", 3, resolution, resolution]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1000])], [conv, dense])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, folder / "model.onnx")
    info = ModelInfo(arch="tiny-test-net", format="onnx", precision="fp32", weights="synthetic",
                     design_name="tiny test network", file="model.onnx", input_name="input", output_name="logits",
                     preprocessing=Preprocessing(resolution), seed=seed, parameters=16 * 27 + 16000,
                     sha256=hashlib.sha256((folder / "model.onnx").read_bytes()).hexdigest())
    (folder / "model-info.json").write_text(json.dumps(info.to_json(), indent=1))
    return folder / "model-info.json"
