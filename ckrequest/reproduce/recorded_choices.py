"""What a replay would run again, checked before it runs: a recorded entry is input from a stranger.

``ck replay`` runs the pipeline of ``pipeline.json`` with the replayed point's ``ckp-<uid>.features.json``
put over it and its ``ckp-<uid>.deps.json`` merged into the dependencies. Their run variables become
``export NAME=value`` lines of a shell script, their tags and program name pick what CK resolves,
and a run dependency's ``bat`` is sourced by that script. Each is checked against what it may be:
run variables by their declarations (run/run_vars.py), tags and names by CK's own alphabet, a
dependency's script by the one line CK writes (``. <env entry>/env.sh``), anything else by a plain
value without shell metacharacters.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping

from ..errors import RequestError
from ..run.run_vars import PATH, SAFE_TEXT, check_run_env

# What CK records in a pipeline of our programs and a point's choices: CK's program pipeline takes more
# (extra_run_cmd, extra_env, run_cmd_substitutes, ...) and writes them into the run script, so nothing else
PIPELINE_KEYS = ("characteristics", "choices", "choices_desc", "dependencies", "features", "quiet", "repetitions",
                 "state", "record", "record_uoa", "record_repo", "record_failed", "ready", "fail", "preset_deps",
                 "sleep", "out")
CHOICE_KEYS = ("cmd_key", "compile_type", "compiler_flags", "console", "cpu_freq", "data_uoa", "dataset_file",
               "dataset_uoa", "device_id", "env", "gpu_freq", "host_os", "module_uoa", "no_state_check", "preset_deps",
               "repeat", "repo_uoa", "target", "target_os", "target_os_bits")
POINT_KEYS = ("choices", "choices_order", "features", "sub_points")  # of ckp-<uid>.features.json
CK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # an entry's alias or UID
TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")  # a CK tag (what --dep_add_tags takes)
TAGS = re.compile(rf"{TAG.pattern}(?:,{TAG.pattern})*")
# how CK sources a resolved dependency's env
ENV_SCRIPT = re.compile(rf"(?:\. {PATH}/env\.sh\n)*(?:\. {PATH}/env\.sh)?")


def _plain(value: Any, where: str) -> None:
    """Every string in ``value`` (a JSON value) is a plain value, no shell metacharacter."""
    if isinstance(value, dict):
        for key, item in value.items():
            _plain(key, where)
            _plain(item, _join(where, str(key)))
    elif isinstance(value, list):
        for k, item in enumerate(value):
            _plain(item, f"{where}[{k}]")
    elif isinstance(value, str) and not SAFE_TEXT.fullmatch(value):
        raise RequestError(f"{where} = {json.dumps(value)}",
                           "is not a plain value (letters, digits, _ . , : / + = @ % -)",
                           "replay only entries whose choices are plain values")


def _join(where: str, key: str) -> str:
    """``where.key``, or ``where: key`` after a file's name."""
    return f"{where} {key}" if where.endswith(":") else f"{where}.{key}"


def _known(data: Mapping[str, Any], keys: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(data) - set(keys))
    if unknown:
        raise RequestError(_join(where, unknown[0]), "is not a key CK records for a program of "
                           "ck-request (CK's pipeline would run with it)",
                           "replay only entries recorded by ck benchmark of a request-* program")


def check_choices(choices: Any, where: str) -> None:
    """A pipeline's or a point's ``choices``: the program, the run variables, CK's other choices."""
    if not isinstance(choices, dict):
        return
    _known(choices, CHOICE_KEYS, where)
    program = choices.get("data_uoa", "")
    if program and not (isinstance(program, str) and CK_NAME.fullmatch(program)):
        raise RequestError(f"{where}.data_uoa = {json.dumps(program)}", "is not a CK program name",
                           "replay only entries of programs that exist: ck list program")
    env = choices.get("env", {})
    if not isinstance(env, dict):
        raise RequestError(f"{where}.env", "is not an object of run variables", "record the entry again")
    check_run_env(env, f"{where}.env")
    _plain({k: v for k, v in choices.items() if k != "env"}, where)


def check_pipeline(pipeline: Mapping[str, Any], where: str) -> None:
    """A recorded ``pipeline.json``: its choices, the tags it adds to dependencies, the dependencies."""
    _known({k: v for k, v in pipeline.items() if not k.startswith("dep_add_tags.")}, PIPELINE_KEYS, f"{where}:")
    check_choices(pipeline.get("choices", {}), f"{where}: choices")
    _plain({k: pipeline[k] for k in ("state", "repetitions", "quiet", "sleep", "out") if k in pipeline}, f"{where}:")
    for key, value in pipeline.items():
        if key.startswith("dep_add_tags.") and not (isinstance(value, str) and TAGS.fullmatch(value)):
            raise RequestError(f"{where}: {key} = {json.dumps(value)}", "is not a list of CK tags",
                               "replay only entries whose tags are CK tags (letters, digits, . _ + -)")
    _check_dependencies(pipeline.get("dependencies", {}), f"{where}: dependencies")


def _check_dependencies(deps: Any, where: str) -> None:
    """Run dependencies as CK records them: tags, entry names, the line sourcing each one's env."""
    for name, dep in (deps.items() if isinstance(deps, dict) else ()):
        if not isinstance(dep, dict):
            continue
        tags = dep.get("tags", "")
        if tags and not (isinstance(tags, str) and TAGS.fullmatch(tags)):
            raise RequestError(f"{_join(where, name)}.tags = {json.dumps(tags)}", "is not a list of CK tags",
                               "replay only entries whose tags are CK tags (letters, digits, . _ + -)")
        script = dep.get("bat", "")
        if script and not (isinstance(script, str) and ENV_SCRIPT.fullmatch(script)):
            raise RequestError(f"{_join(where, name)}.bat = {json.dumps(script)}",
                               "is not CK's line sourcing an env entry", "make the entry portable first: "
                               "ck check request.asplos18 --experiment=<entry> --fix")
        for key in ("uoa", "package_uoa"):
            value = dep.get(key, "")
            if value and not (isinstance(value, str) and CK_NAME.fullmatch(value)):
                raise RequestError(f"{_join(where, name)}.{key} = {json.dumps(value)}",
                                   "is not a CK entry name", "record the entry again")


def check_entry(entry: Path, name: str, point: str = "") -> None:
    """Everything a replay of ``entry`` (one point, or every point) would run, before it runs: CK puts a point's
    ``features.json`` over the pipeline and merges its ``deps.json`` into the pipeline's dependencies."""
    pipeline_file = entry / "pipeline.json"
    if pipeline_file.is_file():
        check_pipeline(_load(pipeline_file), f"experiment:{name} pipeline.json")
    for path in sorted(entry.glob(f"ckp-{point or '*'}.features.json")):
        data, where = _load(path), f"experiment:{name} {path.name}"
        _known(data, POINT_KEYS, f"{where}:")
        check_choices(data.get("choices", {}), f"{where}: choices")
        _plain(data.get("choices_order", []), f"{where}: choices_order")
    for path in sorted(entry.glob(f"ckp-{point or '*'}.deps.json")):
        _check_dependencies(_load(path), f"experiment:{name} {path.name}:")


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise RequestError(str(path), f"is not readable JSON ({err})", "record the entry again") from None
    return data if isinstance(data, dict) else {}
