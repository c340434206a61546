"""The logic behind our CK `soft` entries (detectors), called from their one-line customize.py.

CK calls customize functions with a dict and expects ``{'return': 0, ...}``; these functions
translate between that convention and plain Python. The CK kernel is not imported here: what
CK passes in (env, customize, deps) is all we use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .. import places
from ..errors import RequestError, ck_failure
from ..install.debian_lib import UnpackedLibrary, probe_pyarmnn
from ..models.model_info import MODEL_INFO_FILE, ModelInfo
from . import pauses

CkDict = dict[str, Any]


def _ok(**values: Any) -> CkDict:
    return {"return": 0, **values}


def dep_python(i: CkDict) -> str:
    """The interpreter registered as the `python` dependency, else the one running CK."""
    for dep in (i.get("deps") or {}).values():
        env = dep.get("dict", {}).get("env", {})
        if env.get("CK_ENV_COMPILER_PYTHON_FILE"):
            return env["CK_ENV_COMPILER_PYTHON_FILE"]
    return sys.executable


# ---------------------------------------------------------------- soft:compiler.python


def python_parse_version(i: CkDict) -> CkDict:
    # CK rechecks the Python's version in every command that resolves it, before the pipeline's first pause
    pauses.skip_in_this_process()
    for line in i.get("output", []):
        if line.startswith("Python "):
            return _ok(version=line.split()[1])
    return _ok(version="")


def python_setup(i: CkDict) -> CkDict:
    full_path = i["customize"].get("full_path", "")
    prefix = i["customize"]["env_prefix"]
    env = i["env"]
    env[prefix + "_FILE"] = full_path
    env[prefix + "_BIN"] = os.path.dirname(full_path)
    env[prefix] = os.path.dirname(os.path.dirname(full_path))
    return _ok(bat="")


# ---------------------------------------------------------------- soft:lib.* (Python libraries)

_PROBE = (
    "import sys, importlib\n"
    "root = sys.argv[1]\n"
    "default_path = [p for p in sys.path if p]\n"
    "sys.path.insert(0, root)\n"
    "m = importlib.import_module(sys.argv[2])\n"
    "import os\n"
    "assert os.path.realpath(m.__file__).startswith(os.path.realpath(root) + os.sep), m.__file__\n"
    "import json\n"
    "print(json.dumps([str(getattr(m, '__version__', '')),\n"
    "                  os.path.realpath(root) in [os.path.realpath(p) for p in default_path]]))\n"
)


def probe_python_library(python: str, root: str, module: str) -> tuple[str, bool]:
    """Import ``module`` from ``root`` with ``python``: (version, root is on its default path)."""
    proc = subprocess.run([python, "-c", _PROBE, root, module], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RequestError(f"{module} in {root}", f"not importable by {python}: {last}",
                           f"reinstall it: ck install package --tags=lib,{module} --quiet")
    try:  # the last line: what the import printed before it does not count
        version, on_path = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise RequestError(f"{module} in {root}", f"gave no version when imported by {python}",
                           f"reinstall it: ck install package --tags=lib,{module} --quiet") from None
    return str(version), bool(on_path)


def _library_root(full_path: str, module: str) -> str:
    """.../<root>/<module>/__init__.py -> <root>."""
    return str(Path(full_path).parents[len(module.split("."))])


def library_dirs(i: CkDict) -> CkDict:
    """Where to look for an installed Python library: this interpreter's paths and $CK_TOOLS."""
    dirs = [p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p]
    return _ok(dirs=dirs + places.ck_tools_if_set())


def _library_python(i: CkDict, root: str) -> str:
    """The interpreter that imports the library: a venv's own (site-packages/../../../bin) or the registered one."""
    if i["customize"].get("python_in_venv") == "yes":
        return str(Path(root).resolve().parents[2] / "bin" / "python")
    return dep_python(i)


def library_version_cmd(i: CkDict) -> CkDict:
    module = i["customize"]["python_module"]
    root = _library_root(i["full_path"], module)
    try:
        version, _ = probe_python_library(_library_python(i, root), root, module)
        if not version:  # a folder of that name inside another package (ray/train/tensorflow), not the library
            raise RequestError(f"{module} in {root}", "has no __version__: not a release of the library",
                               f"install it: ck install package --tags=lib,{module} --quiet")
    except RequestError as err:
        return ck_failure(err)
    return _ok(version=version, cmd="")


def library_setup(i: CkDict) -> CkDict:
    cus = i["customize"]
    module = cus["python_module"]
    root = _library_root(cus.get("full_path", ""), module)
    prefix = cus["env_prefix"]
    env = i["env"]
    python = _library_python(i, root)
    try:
        version, on_default_path = probe_python_library(python, root, module)
    except RequestError as err:
        return ck_failure(err)
    env[prefix] = root
    env[prefix + "_VERSION"] = version
    env[prefix + "_MODULE"] = module
    env[prefix + "_PYTHON"] = python  # the interpreter a program must run this library with
    bat = "" if on_default_path else f'\nexport PYTHONPATH="{root}:${{PYTHONPATH}}"\n'
    return _ok(bat=bat)


# ---------------------------------------------------------------- soft:model.*


def model_dirs(i: CkDict) -> CkDict:
    return _ok(dirs=places.ck_tools_if_set())


def model_version_cmd(i: CkDict) -> CkDict:
    try:
        info = ModelInfo.load(i["full_path"])
    except RequestError as err:
        return ck_failure(err)
    return _ok(version=str(info.source.get("version", "1")), cmd="")


def model_setup(i: CkDict) -> CkDict:
    info_path = i["customize"].get("full_path", "")
    try:
        info = ModelInfo.load(info_path)
        model_file = info.model_path(info_path)
        if not model_file.exists():
            raise RequestError(f"model file not found: {model_file}", f"{MODEL_INFO_FILE} names it",
                               "reinstall the model package")
    except RequestError as err:
        return ck_failure(err)
    prefix = i["customize"]["env_prefix"]
    env = i["env"]
    env[prefix] = str(Path(info_path).parent)
    env[prefix + "_INFO"] = info_path
    env[prefix + "_FILE"] = str(model_file)
    env[prefix + "_ARCH"] = info.arch
    env[prefix + "_FORMAT"] = info.format
    env[prefix + "_PRECISION"] = info.precision
    env[prefix + "_WEIGHTS"] = info.weights
    return _ok(bat="")


# ---------------------------------------------------------------- soft:dataset.*

_IMAGE_FOLDER_NAMES = ("ILSVRC2012_img_val", "val", "images")


def locate_dataset(val_txt: Path) -> tuple[Path, Path | None]:
    """(image folder, synset list or None) for a ground-truth file: images next to it, or in a
    sibling folder with a usual ImageNet name; synset_words.txt next to it if present."""
    first = next((line.split()[0] for line in val_txt.read_text(encoding="utf-8").splitlines()
                  if line.split("#", 1)[0].strip()), "")
    candidates = [val_txt.parent] + [val_txt.parent / name for name in _IMAGE_FOLDER_NAMES]
    root = next((c for c in candidates if first and (c / first).is_file()), val_txt.parent)
    synsets = val_txt.parent / "synset_words.txt"
    return root, synsets if synsets.is_file() else None


def dataset_dirs(i: CkDict) -> CkDict:
    return model_dirs(i)


def dataset_version_cmd(i: CkDict) -> CkDict:
    return _ok(version=str(i["customize"].get("dataset_version", "1")), cmd="")


def dataset_setup(i: CkDict) -> CkDict:
    from ..datasets import load_dataset

    cus = i["customize"]
    val_txt = Path(cus.get("full_path", ""))
    if val_txt.is_dir():
        val_txt = val_txt / "val.txt"
    try:
        if not val_txt.is_file():
            raise RequestError(f"data set ground truth not found: {val_txt}", "no such file",
                               "pass --full_path=<folder with the images>/val.txt")
        root, synsets = locate_dataset(val_txt)
        dataset = load_dataset(root, val_txt, synsets, name=cus.get("dataset_name", root.name))
    except RequestError as err:
        return ck_failure(err)
    prefix = cus["env_prefix"]
    env = i["env"]
    env[prefix] = str(root)
    env[prefix + "_VAL_TXT"] = str(val_txt)
    if synsets:
        env[prefix + "_SYNSETS"] = str(synsets)
    env[prefix + "_NAME"] = dataset.name
    env[prefix + "_SIZE"] = str(len(dataset.images))
    return _ok(bat="")


# ---------------------------------------------------------------- soft:lib.armnn (Debian's packages unpacked)


def armnn_dirs(i: dict[str, Any]) -> dict[str, Any]:
    return _ok(dirs=places.ck_tools_if_set())


def armnn_version_cmd(i: dict[str, Any]) -> dict[str, Any]:
    library = UnpackedLibrary.from_python_file(i["full_path"], "pyarmnn")
    try:
        api = probe_pyarmnn(dep_python(i), library)
    except RequestError as err:
        return ck_failure(err)
    return {"return": 0, "version": library.version("python3-pyarmnn") or api, "cmd": ""}


def armnn_setup(i: dict[str, Any]) -> dict[str, Any]:
    cus, env = i["customize"], i["env"]
    library = UnpackedLibrary.from_python_file(cus.get("full_path", ""), "pyarmnn")
    try:
        api = probe_pyarmnn(dep_python(i), library)
    except RequestError as err:
        return ck_failure(err)
    prefix = cus["env_prefix"]
    env[prefix] = str(library.root)
    env[prefix + "_VERSION"] = library.version("python3-pyarmnn") or api
    env[prefix + "_API_VERSION"] = api
    env[prefix + "_LIB"] = str(library.lib)
    env[prefix + "_BACKENDS"] = str(library.plugin_dir("armnn"))
    bat = (f'\nexport PYTHONPATH="{library.site}:${{PYTHONPATH}}"\n'
           f'export LD_LIBRARY_PATH="{library.lib}:${{LD_LIBRARY_PATH}}"\n')
    return {"return": 0, "bat": bat}
