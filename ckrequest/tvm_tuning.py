"""MetaSchedule tuning of an installed ONNX model for this host: the database the TVM backend applies.

    python -m ckrequest.install tvm-tuning --model-info <model-info.json> --out <folder> --trials 24

The folder gets MetaSchedule's JSON database (workloads and records), its logs, and
``tuning.json`` (what it was tuned for: model digest, batch, target, budget), written last.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import platform
import sys
import time
import types
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import atomic
from .backends.base import import_framework
from .backends.tvm import host_target, import_relax
from .digest import file_sha256
from .errors import RequestError, ck_failure
from .records import ModelInfo

SEARCHES = ("evolutionary", "replay-trace")
_HOST_INTRINSICS = {"x86_64": "x86", "AMD64": "x86", "aarch64": "arm_cpu", "arm64": "arm_cpu"}


@dataclass(frozen=True)
class TuningPlan:
    trials: int = 24  # MetaSchedule's global budget: ~1 per task of MobileNet-v1 0.25/128, ~2 min here
    trials_per_round: int = 1  # candidates measured each time the scheduler picks a task
    batch: int = 1
    search: str = "evolutionary"
    population: int = 64  # of the evolutionary search (MetaSchedule's default, 512, takes ~20 s a task here)
    seed: int = 1

    @classmethod
    def parse(cls, trials: object, trials_per_round: object, batch: object, search: object,
              population: object) -> TuningPlan:
        """From the package's install variables (CK_REQUEST_TVM_*), as strings."""
        values = {"CK_REQUEST_TVM_TRIALS": trials, "CK_REQUEST_TVM_TRIALS_PER_ROUND": trials_per_round,
                  "CK_REQUEST_TVM_BATCH": batch, "CK_REQUEST_TVM_POPULATION": population}
        numbers = {}
        for name, text in values.items():
            try:
                numbers[name] = int(str(text).strip())
            except ValueError:
                raise RequestError(f"{name}={text!r}", "is not an integer", f"pass e.g. --env.{name}=64") from None
        return cls(numbers["CK_REQUEST_TVM_TRIALS"], numbers["CK_REQUEST_TVM_TRIALS_PER_ROUND"],
                   numbers["CK_REQUEST_TVM_BATCH"], str(search).strip(), numbers["CK_REQUEST_TVM_POPULATION"])

    def __post_init__(self) -> None:
        if min(self.trials, self.trials_per_round, self.batch) < 1 or self.population < 2:
            raise RequestError("TVM tuning plan", f"trials, trials per round and batch must be >= 1 ({self})",
                               "pass e.g. --env.CK_REQUEST_TVM_TRIALS=64")
        if self.search not in SEARCHES:
            raise RequestError(f"TVM search strategy {self.search!r}", f"is not one of {SEARCHES}",
                               "pass --env.CK_REQUEST_TVM_SEARCH=evolutionary")


def register_host_intrinsics() -> None:
    """Register only this CPU's tensor intrinsics before MetaSchedule imports them all.

    ``tvm.s_tir.tensor_intrin`` parses every intrinsic (CUDA, ROCm, Hexagon...) on import: 40-70 s
    on this machine, paid again by each builder process; an llvm target uses its own CPU's only.
    """
    name = "tvm.s_tir.tensor_intrin"
    own = _HOST_INTRINSICS.get(platform.machine())
    if name in sys.modules or own is None:
        return
    spec = importlib.util.find_spec(name)
    package = types.ModuleType(name)
    package.__path__ = list(spec.submodule_search_locations or [])
    package.__spec__ = spec
    package.__package__ = name
    sys.modules[name] = package
    importlib.import_module(f"{name}.{own}")


def build_for_host(mod: Any, target: Any, _params: Any) -> Any:
    """MetaSchedule's default builder function, without importing every tensor intrinsic."""
    register_host_intrinsics()
    from tvm.driver import build as tvm_build
    from tvm.s_tir.transform import RemoveWeightLayoutRewriteBlock

    return tvm_build(RemoveWeightLayoutRewriteBlock(skip_tensor_rewrite=True)(mod), target=target)


def _strategy(plan: TuningPlan) -> tuple[Any, str]:
    from tvm.s_tir import meta_schedule as ms

    if plan.search == "replay-trace":
        return "replay-trace", "random"
    search = ms.search_strategy.EvolutionarySearch(population_size=plan.population,
                                                   init_min_unmeasured=min(50, plan.population // 2))
    return search, "xgb"


def tune_model(info_path: Path, dest: Path, plan: TuningPlan) -> Path:
    """Tune every task of the model at ``plan.batch``; ``dest/tuning.json`` appears only when done."""
    info = ModelInfo.load(info_path)
    if info.format != "onnx":
        raise RequestError(f"model {info.design_name}", f"is in {info.format} format; TVM tunes ONNX models",
                           "pass an ONNX model: --dep_add_tags.model=<tags of an onnx model>")
    model_path = info.model_path(info_path)
    tvm = import_framework("tvm", "lib-tvm")
    register_host_intrinsics()
    from tvm.s_tir import meta_schedule as ms

    target = host_target(tvm)
    module = import_relax(tvm, model_path, info.input_name, info.preprocessing.input_shape(plan.batch))
    strategy, cost_model = _strategy(plan)
    started = time.perf_counter()
    with atomic.publishing(dest, last="tuning.json") as staging:
        workers = max(1, min(int(target.attrs["num-cores"]), plan.trials_per_round))
        builder = ms.builder.LocalBuilder(max_workers=workers, timeout_sec=120, f_build=build_for_host)
        database = ms.relax_integration.tune_relax(
            module, {}, target, str(staging), plan.trials, num_trials_per_iter=plan.trials_per_round,
            builder=builder, strategy=strategy, cost_model=cost_model, seed=plan.seed)
        records = len(database.get_all_tuning_records())
        if records == 0:
            raise RequestError(f"TVM tuning of {model_path}", "no candidate built and ran",
                               "check that gcc works (MetaSchedule links every candidate) and rerun")
        atomic.write_json(staging / "tuning.json", {
            "model_sha256": file_sha256(model_path), "model": info.design_name, "batch": plan.batch,
            "format": 1, "target": str(target), "tvm": tvm.__version__, "trials": plan.trials, "records": records,
            "tasks": len(ms.relax_integration.extract_tasks(module, target)), "plan": asdict(plan),
            "seconds": round(time.perf_counter() - started, 1)})
    return dest


# ---------------------------------------------------------------- CK hooks (package pre_path, soft detector)

_GENERIC_TAGS = {"model", "image-classification", "onnx", "64bits"}


def _model_tags(tags: list[str]) -> list[str]:
    return [t for t in tags if t not in _GENERIC_TAGS and not t.startswith(("host-os-", "target-os-"))
            and not (t.startswith("v") and t[1:2].isdigit())]


def package_pre_path(i: dict[str, Any]) -> dict[str, Any]:
    """One database per model and budget: the model's tags and digest go into the env tags and path."""
    model = (i.get("deps") or {}).get("model", {}).get("dict", {})
    info_path = model.get("env", {}).get("CK_ENV_MODEL_INFO", "")
    env, default = i["install_env"], TuningPlan()
    try:
        info = ModelInfo.load(info_path)
        digest = file_sha256(info.model_path(info_path))[:12]
        plan = TuningPlan.parse(env.get("CK_REQUEST_TVM_TRIALS", default.trials),
                                env.get("CK_REQUEST_TVM_TRIALS_PER_ROUND", default.trials_per_round),
                                env.get("CK_REQUEST_TVM_BATCH", default.batch),
                                env.get("CK_REQUEST_TVM_SEARCH", default.search),
                                env.get("CK_REQUEST_TVM_POPULATION", default.population))
    except RequestError as err:
        return ck_failure(err)
    identity = [*_model_tags(model.get("tags", [])), f"model-{digest}", f"trials-{plan.trials}", f"batch-{plan.batch}"]
    i["tags"].extend(t for t in identity if t not in i["tags"])
    i["customize"]["extra_suggested_path"] = "-" + "-".join(identity)
    return {"return": 0}


def soft_dirs(i: dict[str, Any]) -> dict[str, Any]:
    from .ck_soft import model_dirs

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
    prefix = cus["env_prefix"]
    env[prefix + "_DB"] = str(Path(full_path).parent)
    env[prefix + "_MODEL"] = str(about.get("model", ""))
    env[prefix + "_TRIALS"] = str(about.get("trials", ""))
    env[prefix + "_BATCH"] = str(about.get("batch", ""))
    env[prefix + "_TARGET"] = str(about.get("target", ""))
    return {"return": 0, "bat": ""}
