"""Small builders tests use to make their own data (never the original ReQuEST entries)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from ckrequest.datasets import default_synsets_path
from ckrequest.datasets.preprocess import Preprocessing
from ckrequest.models.architectures import preprocessing_for
from ckrequest.models.model_info import ModelInfo
from ckrequest.zoo.calibration import calibration_set, pattern_set


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


def original_point(latency_s: list[float] | None = None, throughput: list[float] | None = None,
                   top1: float | None = 0.7, batch: int = 1, reps: int = 3, rerun_copies: int = 1, **extra) -> dict:
    """A point in the original ReQuEST layout: names live in the entry meta, and a re-run appends a
    copy of every `#all` list (rerun_copies=2 doubles them), as CK 1.9 did."""
    flat: dict = {"##features#batch_size#min": batch, "##features#statistical_repetitions#min": reps,
                  "##features#freq#min": 2600, "##features#cpu_freq#min": "", "##features#model_size#min": 102462397}

    def stat(key: str, values: list[float]) -> None:
        flat[f"##characteristics#run#{key}#all"] = list(values) * rerun_copies
        flat[f"##characteristics#run#{key}#min"] = min(values)

    if latency_s is not None:
        stat("inference_latency", latency_s)
    stat("inference_throughput", throughput or [batch / v for v in (latency_s or [0.05])])
    if top1 is not None:
        stat("accuracy_top1", [top1])
    flat.update(extra)
    return flat


def original_meta(**overrides) -> dict:
    """The entry meta of an original ReQuEST result (platform figures and names as they recorded them)."""
    meta = {"model_design_name": "Caffe model (net and weights) (resnet50, fp32) fp32", "model_precision": "fp32",
            "library_name": "BVLC Caffe framework (intel, request) request-92110fe", "cpu_name": "Some CPU",
            "plat_name": "Some Board", "platform_price": 800, "platform_peak_power": 105,
            "platform_price_date": "20180101", "platform_species": "server", "dataset_species": "ImageNet",
            "scenario_module_uoa": "a555738be4b65860",
            "deps_summary": {"lib-caffe": {"data_name": "BVLC Caffe framework", "version": "request-92110fe"}}}
    meta.update(overrides)
    return meta


def our_point(arch: str = "mobilenet-v1", latency_s: float = 0.004, top1: float | None = 0.75,
              weights: str = "imagenet", precision: str = "fp32", library: str = "onnxruntime 1.32.0",
              cpu_name: str = "Intel(R) Xeon(R) Processor", design_name: str = "", **extra) -> dict:
    """A point in ck-request's own layout: names as ##features#meta#<key>, three repetitions."""
    flat = {"##features#batch_size#min": 1, "##features#statistical_repetitions#min": 3,
            "##features#weights#min": weights, "##features#model_size#min": 17_000_000,
            "##features#meta#model_arch#min": arch, "##features#meta#model_design_name#min": design_name or arch,
            "##features#meta#model_precision#min": precision, "##features#meta#library_name#min": library,
            "##features#meta#cpu_name#min": cpu_name, "##features#meta#plat_name#min": "unknown platform",
            "##features#meta#cpu_threads#min": 2, "##features#meta#dataset_species#min": "imagenet-val",
            "##characteristics#run#inference_latency#all": [latency_s] * 3,
            "##characteristics#run#latency_p50_s#all": [latency_s] * 3,
            "##characteristics#run#inference_throughput#all": [1 / latency_s] * 3}
    if top1 is not None:
        flat["##characteristics#run#accuracy_top1#all"] = [top1] * 3
    flat.update(extra)
    return flat


def write_experiment(repo: Path, name: str, points: dict[str, dict | str], meta: dict | None = None,
                     tags: tuple[str, ...] = (), raw_meta: str | None = None) -> Path:
    """A CK experiment entry folder: .cm/meta.json and a whole point per flat file (a str is written as is)."""
    entry = repo / "experiment" / name
    (entry / ".cm").mkdir(parents=True, exist_ok=True)
    whole = {"meta": meta or {}, "tags": list(tags), "pipeline_uoa": "program"}
    (entry / ".cm" / "meta.json").write_text(raw_meta if raw_meta is not None else json.dumps(whole))
    for uid, flat in points.items():
        write_point(entry, uid, flat)
    return entry


def write_point(entry: Path, uid: str, flat: dict | str) -> Path:
    """A point as CK's experiment module writes it: the flat file (a str is written as is), a subpoint, the
    features; the flat file's path."""
    for part in ("0001", "features", "features_flat"):
        (entry / f"ckp-{uid}.{part}.json").write_text("{}")
    path = entry / f"ckp-{uid}.flat.json"
    path.write_text(flat if isinstance(flat, str) else json.dumps(flat))
    return path


def write_results_repo(root: Path, alias: str = "test-results") -> Path:
    """An empty CK results repository (read from disk, never registered)."""
    (root / "experiment").mkdir(parents=True, exist_ok=True)
    (root / ".ckr.json").write_text(json.dumps({"data_alias": alias, "data_uoa": alias,
                                                "dict": {"repo_deps": [{"repo_uoa": "ck-request"}]}}))
    return root


def record_synthetic_mobilenet(world, name: str) -> Path:
    """A real point recorded by `ck benchmark` (synthetic MobileNet-v1 0.25/128), once per CK world."""
    entry = world.repos / "local" / "experiment" / name
    if not entry.is_dir():
        world.ck("benchmark", "program:request-onnxruntime-classification", "--quiet",
                 "--dep_add_tags.model=mobilenet-v1,multiplier-0.25,resolution-128,synthetic",
                 "--env.CK_REQUEST_MIN_DURATION_S=0.2", "--repetitions=3", "--record", f"--record_uoa={name}")
    return entry


def write_original_results(root: Path) -> Path:
    """A small results repository in the original ReQuEST layout: a cloud server, two boards, an IoT farm
    (accuracy 0), a batch-8 point, a re-run with duplicated lists, and one malformed point."""
    repo = write_results_repo(root, "asplos18-like-results")
    cloud = original_meta(plat_name="Google (Google Compute Engine)", cpu_name="Intel(R) Xeon(R) CPU",
                          model_precision="int8", platform_price=1166)
    write_experiment(repo, "validated-caffe-resnet50-int8", {
        "c1": original_point([0.031, 0.032, 0.030], top1=0.704, **{
            "##characteristics#run#usage_cost#all": [1.7e-6] * 3,
            "##characteristics#run#usage_cost_per_hour#min": 0.19}),
        "c8": original_point(None, throughput=[36.4] * 3, batch=8, top1=0.704),
    }, cloud, tags=("request", "caffe"))
    board = original_meta(plat_name="HiKey960\x00 (HiKey960\x00)", library_name="TensorFlow library 1.7",
                          model_design_name="TensorFlow python model and weights (mobilenet-1.0-224) ImageNet",
                          platform_price=239, platform_peak_power=4.5)
    write_experiment(repo, "validated-mobilenets-tensorflow", {
        "t1": original_point([0.10, 0.09, 0.11], top1=0.7047, rerun_copies=2)}, board, tags=("request", "tensorflow"))
    fpga = original_meta(plat_name="Xilinx PYNQ-Z1 FPGA", library_name="TVM/VTA", model_precision="int8",
                         model_design_name="VTA model (resnet 18, int8)", platform_price=229, platform_peak_power=2.5)
    del fpga["platform_species"]  # filled in from request.platform:xilinx-pynq-z1
    write_experiment(repo, "validated-tvm-fpga-resnet18", {"f1": original_point([0.43] * 3, top1=0.37)}, fpga)
    farm = original_meta(plat_name="Raspberry Pi (Raspberry Pi 3 Model B)", library_name="TensorFlow library 1.5",
                         model_design_name="AlexNet (authors' implementation)", platform_price=200,
                         platform_peak_power=25)
    write_experiment(repo, "validated-iot-farm-alexnet", {"i1": original_point([0.18] * 3, top1=0.0)}, farm)
    write_experiment(repo, "broken-upload", {"x1": '{"##characteristics#run#inference_latency#all": [0.1,'})
    return repo


def save_mobilenet_128_inputs(path: Path, per_kind: int) -> Path:
    """``per_kind`` synthetic patterns and ``per_kind`` real photos, preprocessed for MobileNet-v1 /128."""
    spec = preprocessing_for("mobilenet-v1", 128)
    np.save(path, np.concatenate([pattern_set(spec, per_kind, seed=5), calibration_set(spec).inputs[::4][:per_kind]]))
    return path


def run_harness_without_ck(backend: str, model_info: Path, folder: Path,
                           env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The harness of ``backend`` on two made-up images, outside CK: only ``env`` on top of a bare PATH."""
    val = make_imagenet_dir(folder / "val", count=2)
    run_env = {"PATH": "/usr/bin:/bin", "CK_ENV_MODEL_INFO": str(model_info), "CK_ENV_DATASET": str(val.parent),
               "CK_REQUEST_CACHE_DIR": str(folder / "cache"), **(env or {})}
    return subprocess.run([sys.executable, "-c", "import sys; from ckrequest.ck.program import run_and_report; "
                           f"sys.exit(run_and_report([{backend!r}]))"], env=run_env, capture_output=True,
                          text=True, cwd=folder)


def run_conformance(backend: str, model_info: Path, inputs: Path, env: dict[str, str], batch: int = 4,
                    python: str = sys.executable) -> tuple[dict, str]:
    """``python -m ckrequest.tools.conformance`` in a library's environment: its JSON result and its stderr."""
    proc = subprocess.run([python, "-m", "ckrequest.tools.conformance", "--backend", backend,
                           "--model-info", str(model_info), "--inputs", str(inputs), "--batch", str(batch)],
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def single_error_line(proc: subprocess.CompletedProcess) -> str:
    """The one stderr line of a run that failed as bad input should: exit 2, nothing else said."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    (line,) = proc.stderr.strip().splitlines()
    return line
