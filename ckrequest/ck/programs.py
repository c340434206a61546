"""One CK program per framework, generated here: the same harness, run_cmds, run_vars and dep
keys for all of them, so one command line works for every framework by changing its name.

    python -m ckrequest.ck.programs --write   # (re)writes program/request-<framework>-classification
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .. import atomic, places
from ..run.config import RunConfig
from .writer import entry_files, stable_uid

RUN_VARS = {RunConfig.env_name(f.name): f.default for f in fields(RunConfig)  # the defaults, declared there
            if f.name != "backend_settings"}
REGISTERED_PYTHON = "$<<CK_ENV_COMPILER_PYTHON_FILE>>$"
RUN_PY = '''"""Run script of a request-<framework>-classification program: CK calls it from the program's folder.

The program's name picks the backend (ckrequest/backends/<framework>.py); CK_REQUEST_MODE picks
performance or accuracy.
"""
import sys
from pathlib import Path

from ckrequest.ck.program import main

sys.exit(main(Path(__file__).resolve().parent, sys.argv[1:]))
'''
HOOKS = "ck_hooks"  # the program's hook file, for CK's pre_process_via_ck and post_process_via_ck
HOOKS_PY = '''# CK calls ck_preprocess before each run (the run gets a folder of its own) and ck_postprocess
# after it (the harness's features and meta go into the experiment point).
from ckrequest.ck.hooks import ck_postprocess, ck_preprocess  # noqa: F401
'''


@dataclass(frozen=True)
class Framework:
    name: str  # the backend's name: ckrequest/backends/<name>.py
    display: str
    lib_tags: str
    model_format: str
    python: str = REGISTERED_PYTHON  # the interpreter the run script runs with
    run_vars: dict[str, Any] = field(default_factory=dict)
    uid: str = ""
    model_tags: str = ""  # extra tags the model must have (e.g. a precision the framework runs)

    @property
    def alias(self) -> str:
        return f"request-{self.name}-classification"


FRAMEWORKS = (
    Framework("onnxruntime", "ONNX Runtime", "lib,onnxruntime", "onnx", uid="1c3e5a7b9d0f2a64"),
    Framework("tensorflow", "TensorFlow", "lib,tensorflow", "tf"),
    Framework("tflite", "TFLite (LiteRT)", "lib,litert", "tflite"),
    Framework("openvino", "OpenVINO", "lib,openvino", "openvino",
              run_vars={"CK_REQUEST_OV_HINT": "LATENCY", "CK_REQUEST_OV_STREAMS": ""}),
    Framework("mxnet", "MXNet", "lib,mxnet", "mxnet", python="$<<CK_ENV_LIB_MXNET_PYTHON>>$"),
    Framework("tvm", "Apache TVM", "lib,tvm", "onnx"),
    # Arm NN 20.08's TFLite parser takes fp32 models; its CpuRef backend (x86) is slow: fewer queries
    Framework("armnn", "Arm NN", "lib,armnn", "tflite", model_tags=",fp32", run_vars={"CK_REQUEST_MIN_QUERIES": 10}),
)


# The template `ck add ... --template=request-classification` copies: a framework of the user's own.
TEMPLATE = Framework("template", "", "", "onnx", uid="1e7eac0d83749763")
TEMPLATE_ALIAS = "request-classification"
TEMPLATE_NAME = "Template: image classification with the ck-request harness (add a backend file)"


def run_command(fw: Framework) -> dict[str, Any]:
    """The one command of every program (CK asks nothing when there is one): the mode is a run variable.

    CK runs it in the program's own folder (``process_in_tmp: no``): a shared ``tmp/`` emptied by each
    run would mix concurrent runs; the pre-process hook gives each run a folder of its own instead.
    """
    return {"run_time": {"run_cmd_main": f"{fw.python} run.py", "fine_grain_timer_file": "tmp-ck-timer.json",
                         "skip_print_timers": "yes", "pre_process_via_ck": {"script_name": HOOKS},
                         "post_process_via_ck": {"script_name": HOOKS}}}


def program_meta(fw: Framework) -> dict[str, Any]:
    deps = {
        "python": {"local": "yes", "name": "Python interpreter", "sort": 0, "tags": "compiler,python"},
        "lib": {"local": "yes", "name": fw.display, "sort": 10, "tags": fw.lib_tags},
        "model": {"local": "yes", "name": f"{fw.model_format} image-classification model", "sort": 20,
                  "tags": f"model,image-classification,{fw.model_format}{fw.model_tags}"},
        "dataset": {"local": "yes", "name": "Labelled images", "sort": 30, "tags": "dataset,image-classification"},
    }
    meta: dict[str, Any] = {
        "program": "yes", "no_compile": "yes", "no_target_file": "yes", "process_in_tmp": "no",
        "tags": ["request", "program", "image-classification", "request-classification", fw.name],
        "run_deps": deps, "run_vars": {**RUN_VARS, **fw.run_vars}, "run_cmds": {"default": run_command(fw)},
    }
    if fw is TEMPLATE:  # no library of its own: the backend file of the new program imports what it needs
        del deps["lib"]
        deps["model"]["name"] = "Image-classification model"
        meta["template"] = "yes"
    return meta


def program_files(fw: Framework) -> dict[str, str]:
    alias = TEMPLATE_ALIAS if fw is TEMPLATE else fw.alias
    uid = fw.uid or stable_uid("program", alias)
    name = TEMPLATE_NAME if fw is TEMPLATE else f"Image classification with {fw.display} (ReQuEST harness)"
    files = entry_files("program", alias, uid, program_meta(fw), name)
    files[f"program/{alias}/run.py"] = RUN_PY
    files[f"program/{alias}/{HOOKS}.py"] = HOOKS_PY
    return files


def write(repo_root: Path) -> int:
    for fw in (*FRAMEWORKS, TEMPLATE):
        for stale in (repo_root / "program" / (TEMPLATE_ALIAS if fw is TEMPLATE else fw.alias)).glob("postprocess.py"):
            stale.unlink()
        for relative, text in program_files(fw).items():
            atomic.write_text(repo_root / relative, text)
    return len(FRAMEWORKS) + 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ckrequest.ck.programs")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    root = places.CHECKOUT
    if args.write:
        print(f"wrote {write(root)} programs under {root / 'program'}")
    else:
        for fw in FRAMEWORKS:
            print(f"program:{fw.alias}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
