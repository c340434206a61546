"""MetaSchedule tuning of an installed ONNX model for this host: the database the TVM backend applies.

    python -m ckrequest.install tvm-tuning --model-info <model-info.json> --out <folder> --trials 24

The folder gets MetaSchedule's JSON database (workloads and records), its logs, and
``tuning.json`` (what it was tuned for: model digest, batch, target, budget), written last.
"""

from __future__ import annotations

import importlib
import importlib.util
import platform
import sys
import time
import types
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

from .. import atomic
from ..digest import file_sha256
from ..errors import RequestError
from ..models.model_info import ModelInfo
from .base import import_framework
from .tvm import host_target, import_relax

SEARCHES = ("evolutionary", "replay-trace")
PLAN_FIELDS = ("trials", "trials_per_round", "batch", "search", "population")  # set by install variables
_HOST_INTRINSICS = {"x86_64": "x86", "AMD64": "x86", "aarch64": "arm_cpu", "arm64": "arm_cpu"}


@dataclass(frozen=True)
class TuningPlan:
    trials: int = 24  # MetaSchedule's global budget: ~1 per task of MobileNet-v1 0.25/128, ~2 min here
    trials_per_round: int = 1  # candidates measured each time the scheduler picks a task
    batch: int = 1
    search: str = "evolutionary"
    population: int = 64  # of the evolutionary search (MetaSchedule's default, 512, takes ~20 s a task here)
    seed: int = 1

    @staticmethod
    def env_name(field_name: str) -> str:
        """The package's install variable of a field (CK_REQUEST_TVM_TRIALS), the one place it is spelt."""
        return "CK_REQUEST_TVM_" + field_name.upper()

    @classmethod
    def from_env(cls, env: Mapping[str, object]) -> TuningPlan:
        """From the package's install variables (CK_REQUEST_TVM_*, as strings); one not set keeps its default."""
        values: dict[str, Any] = {}
        for name in PLAN_FIELDS:
            var = cls.env_name(name)
            text = env.get(var)
            if text is None or str(text).strip() == "":
                continue
            if name == "search":
                values[name] = str(text).strip()
                continue
            try:
                values[name] = int(str(text).strip())
            except ValueError:
                raise RequestError(f"{var}={text!r}", "is not an integer", f"pass e.g. --env.{var}=64") from None
        return cls(**values)

    def as_env(self) -> dict[str, str]:
        """The install variables that give this plan (what the package records in its env entry)."""
        return {self.env_name(name): str(getattr(self, name)) for name in PLAN_FIELDS}

    def __post_init__(self) -> None:
        if min(self.trials, self.trials_per_round, self.batch) < 1 or self.population < 2:
            raise RequestError("TVM tuning plan", f"trials, trials per round and batch must be >= 1 ({self})",
                               f"pass e.g. --env.{self.env_name('trials')}=64")
        if self.search not in SEARCHES:
            raise RequestError(f"TVM search strategy {self.search!r}", f"is not one of {SEARCHES}",
                               f"pass --env.{self.env_name('search')}=evolutionary")


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
