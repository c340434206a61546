"""The model zoo as CK package entries: one per (format, architecture, weights), generated here.

    python -m ckrequest.ck.packages --write     # (re)writes package/model-* and soft/model.*

Precision (and MobileNet-v1's multiplier and resolution) are CK variations of each package, so
`ck install package --tags=model,tflite,resnet-50,int8,synthetic` finds one package and one
variation. A test checks the committed entries equal what this file generates.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .. import places
from ..models.architectures import ARCHITECTURES
from ..zoo.build import FORMATS
from .writer import stable_uid, write_entry

KERAS_FAMILY = ("mobilenet-v1", "mobilenet-v2", "resnet-50", "inception-v3", "vgg16")
GLUON_FAMILY = ("resnet-18", "alexnet", "squeezenet-1.1")
PYTHON = {"local": "yes", "name": "Python interpreter", "sort": 0, "tags": "compiler,python"}
LIBS = {"tensorflow": ("TensorFlow (converts ONNX to SavedModel/TFLite; Keras weights)", "lib,tensorflow"),
        "litert": ("LiteRT (runs the TFLite check)", "lib,litert"),
        "openvino": ("OpenVINO (converts and quantizes)", "lib,openvino"),
        "mxnet": ("MXNet (imports ONNX; Gluon weights)", "lib,mxnet")}
FORMAT_LIBS = {"onnx": (), "tf": ("tensorflow",), "tflite": ("tensorflow", "litert"), "openvino": ("openvino",),
               "mxnet": ("mxnet",)}
SOFT_UIDS = {"onnx": "9e5a1c7d3b2f4a80"}  # the first model detector keeps the UID it was published with
DEFAULT_MODEL = ("efficientnet-lite0", "imagenet", "fp32")  # what a program's bare command benchmarks, in its format


def soft_alias(fmt: str) -> str:
    return f"model.{fmt}"


def soft_uid(fmt: str) -> str:
    return SOFT_UIDS.get(fmt) or stable_uid("soft", soft_alias(fmt))


def soft_entry(fmt: str) -> tuple[dict[str, Any], str]:
    meta = {"soft_name": f"{fmt} model", "auto_detect": "no", "tags": ["model", "image-classification", fmt],
            "customize": {"env_prefix": "CK_ENV_MODEL", "soft_file_universal": "model-info.json",
                          "limit_recursion_dir_search": {"linux": 2}, "skip_add_dirs": "yes",
                          "skip_file_check": "yes", "only_for_host_os_tags": ["linux"],
                          "only_for_target_os_tags": ["linux"]}}
    return meta, f"Image-classification model in {fmt} format"


def _libraries(fmt: str, arch: str, weights: str) -> list[str]:
    libs = list(FORMAT_LIBS[fmt])
    if weights == "imagenet" and arch in KERAS_FAMILY and "tensorflow" not in libs:
        libs.insert(0, "tensorflow")
    if weights == "imagenet" and arch in GLUON_FAMILY and "mxnet" not in libs:
        libs.append("mxnet")
    return libs


def _variations(fmt: str, arch: str) -> dict[str, Any]:
    variations = {p: {"extra_env": {"CK_REQUEST_PRECISION": p}, **({"on_by_default": "yes"} if p == "fp32" else {})}
                  for p in FORMATS[fmt].precisions}
    if arch == "mobilenet-v1":
        spec = ARCHITECTURES[arch]
        for m in spec.multipliers:
            variations[f"multiplier-{m}"] = {"extra_env": {"CK_REQUEST_MULTIPLIER": str(m)},
                                             **({"on_by_default": "yes"} if m == 1.0 else {})}
        for r in spec.resolutions:
            variations[f"resolution-{r}"] = {"extra_env": {"CK_REQUEST_RESOLUTION": str(r)},
                                             **({"on_by_default": "yes"} if r == spec.default_resolution else {})}
    return variations


def default_model_dep(fmt: str) -> dict[str, Any]:
    """The format's default model, a dependency of every other model package of the format.

    CK takes an installed env whenever one matches a program's model tags, and installs a package only
    when none does: so the default is installed before any other model of its format, and then wins
    CK's choice among installed envs by its ``customize.sort`` (``_priority``)."""
    return {"local": "yes", "name": "the format's default model (what the bare commands benchmark)", "sort": 100,
            "tags": ",".join(("model", "image-classification", fmt, *DEFAULT_MODEL))}


def _priority(fmt: str, arch: str, weights: str) -> int:
    """Among several models CK picks the highest: the real EfficientNet-Lite0 first.

    CK sorts packages to install on the meta's top-level ``sort`` and installed env entries on
    ``customize.sort`` (copied from the package): both carry this, so the two choices agree."""
    if (arch, weights) == DEFAULT_MODEL[:2]:
        return 100
    if weights == "imagenet":
        return 50
    return 10


def package_entry(fmt: str, arch: str, weights: str) -> tuple[str, dict[str, Any], str]:
    alias = f"model-{fmt}-{arch}-{weights}"
    deps = {"python": PYTHON}
    for sort, lib in enumerate(_libraries(fmt, arch, weights), 1):
        name, tags = LIBS[lib]
        deps[lib] = {"local": "yes", "name": name, "sort": sort * 10, "tags": tags}
    if (arch, weights) != DEFAULT_MODEL[:2]:
        deps["default-model"] = default_model_dep(fmt)
    version = "0.1.0" if (arch, weights) == ("efficientnet-lite0", "imagenet") else "1"
    priority = _priority(fmt, arch, weights)
    meta = {
        "soft_uoa": soft_uid(fmt), "suggested_path": alias, "sort": priority,
        "tags": ["model", "image-classification", arch, fmt, weights],
        "deps": deps, "process_script": "install-model",
        "use_scripts_from_another_entry": {"module_uoa": "84e27ad9dd12e734", "data_uoa": "request-install"},
        "customize": {"version": version, "sort": priority, "install_env": {
            "CK_REQUEST_MODEL_FORMAT": fmt, "CK_REQUEST_ARCH": arch, "CK_REQUEST_WEIGHTS": weights,
            "CK_REQUEST_PRECISION": "fp32", "CK_REQUEST_MULTIPLIER": "", "CK_REQUEST_RESOLUTION": "",
            "CK_REQUEST_SEED": "1", "CK_REQUEST_WEIGHTS_FILE": ""}},
        "variations": _variations(fmt, arch),
        "end_full_path_universal": "model-info.json",
    }
    name = f"{ARCHITECTURES[arch].display_name}, {fmt}, {weights} weights"
    return alias, meta, name


def all_entries() -> list[tuple[str, str, str, dict[str, Any], str]]:
    """(module, alias, uid, meta, name) of every generated entry."""
    entries = []
    for fmt in FORMATS:
        meta, name = soft_entry(fmt)
        entries.append(("soft", soft_alias(fmt), soft_uid(fmt), meta, name))
        for arch in ARCHITECTURES:
            for weights in ("imagenet", "synthetic"):
                alias, meta, name = package_entry(fmt, arch, weights)
                entries.append(("package", alias, stable_uid("package", alias), meta, name))
    return entries


SOFT_CUSTOMIZE = '''# The logic lives in ckrequest.ck.soft (one place for all our model detectors).
from ckrequest.ck.soft import model_dirs as dirs  # noqa: F401
from ckrequest.ck.soft import model_setup as setup  # noqa: F401
from ckrequest.ck.soft import model_version_cmd as version_cmd  # noqa: F401
'''


def write(repo_root: Path) -> int:
    count = 0
    for module, alias, uid, meta, name in all_entries():
        write_entry(repo_root, module, alias, uid, meta, name)
        if module == "soft":
            (repo_root / module / alias / "customize.py").write_text(SOFT_CUSTOMIZE)
        count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ckrequest.ck.packages")
    parser.add_argument("--write", action="store_true", help="write the entries into this checkout")
    args = parser.parse_args(argv)
    root = places.CHECKOUT
    if args.write:
        print(f"wrote {write(root)} entries under {root}")
    else:
        for module, alias, *_ in all_entries():
            print(f"{module}:{alias}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
