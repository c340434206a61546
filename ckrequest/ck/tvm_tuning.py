"""The CK side of TVM tuning databases: the package's pre_path hook and the tvm.tuning detector.

The database itself is written by ckrequest.backends.tvm_tuning (python -m ckrequest.install tvm-tuning).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..backends.tvm import TUNING_DB_VAR
from ..backends.tvm_tuning import TuningPlan
from ..digest import file_sha256
from ..errors import RequestError, ck_failure
from ..models.model_info import ModelInfo
from .soft import model_dirs

_GENERIC_TAGS = {"model", "image-classification", "onnx", "64bits"}


def _model_tags(tags: list[str]) -> list[str]:
    return [t for t in tags if t not in _GENERIC_TAGS and not t.startswith(("host-os-", "target-os-"))
            and not (t.startswith("v") and t[1:2].isdigit())]


def package_pre_path(i: dict[str, Any]) -> dict[str, Any]:
    """One database per model and budget: the model's tags and digest go into the env tags and path."""
    model = (i.get("deps") or {}).get("model", {}).get("dict", {})
    info_path = model.get("env", {}).get("CK_ENV_MODEL_INFO", "")
    try:
        info = ModelInfo.load(info_path)
        digest = file_sha256(info.model_path(info_path))[:12]
        plan = TuningPlan.from_env(i.get("install_env") or {})
    except RequestError as err:
        return ck_failure(err)
    identity = [*_model_tags(model.get("tags", [])), f"model-{digest}", f"trials-{plan.trials}", f"batch-{plan.batch}"]
    i["tags"].extend(t for t in identity if t not in i["tags"])
    i["customize"]["extra_suggested_path"] = "-" + "-".join(identity)
    return {"return": 0, "install_env": plan.as_env()}  # CK adds them to the install's variables: the plan recorded


def soft_dirs(i: dict[str, Any]) -> dict[str, Any]:
    return model_dirs(i)


def _about(full_path: str) -> dict[str, Any]:
    path = Path(full_path)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise RequestError(f"TVM tuning description {path}", f"unreadable ({err})",
                           "reinstall it: ck install package:tvm-tuning-metaschedule --quiet") from None


def soft_version_cmd(i: dict[str, Any]) -> dict[str, Any]:
    try:
        about = _about(i["full_path"])
    except RequestError as err:
        return ck_failure(err)
    return {"return": 0, "version": str(about.get("format", 1)), "cmd": ""}


def soft_setup(i: dict[str, Any]) -> dict[str, Any]:
    cus, env = i["customize"], i["env"]
    full_path = cus.get("full_path", "")
    try:
        about = _about(full_path)
    except RequestError as err:
        return ck_failure(err)
    prefix = cus["env_prefix"]  # the soft entry's, of which TUNING_DB_VAR is the _DB
    env[TUNING_DB_VAR] = str(Path(full_path).parent)
    env[prefix + "_MODEL"] = str(about.get("model", ""))
    env[prefix + "_TRIALS"] = str(about.get("trials", ""))
    env[prefix + "_BATCH"] = str(about.get("batch", ""))
    env[prefix + "_TARGET"] = str(about.get("target", ""))
    return {"return": 0, "bat": ""}
