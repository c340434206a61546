"""Make a recorded pipeline replayable anywhere, and free of this machine's paths.

What CK 2.6.4 records in ``pipeline.json`` binds a replay to the recording machine: every run
dependency is marked ``for_run_time`` with the UID of a local env entry, its paths and its
env script. ``ck replay`` then re-resolves those dependencies inside the run step, which CK calls
without ``quiet``: on a machine where an env UID is missing it asks on stdin (and crashes with
stdin closed). The portable form instead

- drops ``for_run_time`` so CK resolves the run dependencies once, in the pipeline's prepare step,
  which honours the pipeline's ``quiet: yes`` (the first match wins instead of a question);
- adds each env's identity tags (``efficientnet-lite0``, ``sample-photos``, ...; not versions, not
  the platform) as ``dep_add_tags.<dep>`` so the search by tags finds the same kind of dependency
  on any machine (versions are not pinned: a replay where the recorded version is missing still
  runs, and `ck validate` reports the mismatch);
- runs the program's one command with the recorded mode: entries recorded before the programs had
  one command name the mode as the command (``cmd_key`` performance or accuracy);
- keeps per dependency its name, tags, version and recorded env UID (what ``ck check`` and
  ``ck validate`` read), and nothing that names a path.

Env UIDs are deliberately not preset (``preset_deps``): CK re-applies them in every run step,
where it resolves without ``quiet``, so a UID missing on another machine would bring the
question back.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from .. import places
from ..run.config import RunConfig

KEPT_DEPENDENCY_KEYS = ("name", "tags", "local", "sort", "uoa", "ver", "detected_ver", "package_uoa",
                        "version_from", "version_to", "no_tags", "or_tags")
VERSION_TAG = r"v\d[\w.-]*"  # the tag a library's version gives its env entry (v2.2.0)
NON_IDENTITY_TAG = re.compile(rf"^(\d+bits|host-os-.*|target-os-.*|{VERSION_TAG})$")
DROPPED_PIPELINE_KEYS = ("record", "record_uoa", "record_repo", "record_failed", "ready", "fail", "preset_deps")
USER_HOME = re.compile(r"(?<![\w.~-])(/home/[^/\s\"']+|/Users/[^/\s\"']+|/root(?=[/\s\"']|$)"
                       r"|[A-Za-z]:\\Users\\[^\\\s\"']+)")


def identity_tags(dependency: Mapping[str, Any]) -> list[str]:
    """Tags of the resolved env entry that say what it is, beyond the tags asked for."""
    env_tags = dependency.get("dict", {}).get("tags", []) if isinstance(dependency.get("dict"), dict) else []
    asked = set(str(dependency.get("tags", "")).split(","))
    return [t for t in env_tags if isinstance(t, str) and t not in asked and not NON_IDENTITY_TAG.match(t)]


def _merge_tags(existing: str, extra: Iterable[str]) -> str:
    tags = [t for t in existing.split(",") if t]
    tags += [t for t in extra if t not in tags]
    return ",".join(tags)


def is_portable(pipeline: Mapping[str, Any]) -> bool:
    deps = pipeline.get("dependencies", {})
    bound = any(isinstance(d, dict) and (d.get("for_run_time") == "yes" or "dict" in d) for d in deps.values())
    return pipeline.get("quiet") == "yes" and not bound and "preset_deps" not in pipeline


PRESET_CHOICE = "##choices#preset_deps#"


def point_presets_deps(point_file: Mapping[str, Any]) -> bool:
    """Does a ckp-* file pin env UIDs (``--deps.<dep>=<uid>`` at record time)? CK replays those too."""
    choices = point_file.get("choices", {})
    return (isinstance(choices, dict) and "preset_deps" in choices) or any(
        isinstance(k, str) and k.startswith(PRESET_CHOICE) for k in point_file)


def portable_point_file(point_file: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in point_file.items() if not (isinstance(k, str) and k.startswith(PRESET_CHOICE))}
    if isinstance(out.get("choices"), dict):
        out["choices"] = one_command({k: v for k, v in out["choices"].items() if k != "preset_deps"})
    if out.get("##choices#cmd_key") in LEGACY_COMMANDS:  # a flat file of the point
        out[f"##choices#env#{MODE_VAR}"] = out["##choices#cmd_key"]
        out["##choices#cmd_key"] = "default"
    return out


LEGACY_COMMANDS = ("performance", "accuracy")  # the commands of programs before CK_REQUEST_MODE
MODE_VAR = RunConfig.env_name("mode")


def one_command(choices: Mapping[str, Any]) -> dict[str, Any]:
    """``choices`` naming the program's one command, with a legacy command's mode as its run variable."""
    out = dict(choices)
    mode = out.get("cmd_key")
    if mode in LEGACY_COMMANDS:
        env = dict(out.get("env") or {})
        env.setdefault(MODE_VAR, mode)
        out.update(cmd_key="default", env=env)
    return out


def portable_pipeline(pipeline: Mapping[str, Any]) -> dict[str, Any]:
    """The portable form described above; applying it twice changes nothing more."""
    out = copy.deepcopy(dict(pipeline))
    deps = out.get("dependencies", {}) if isinstance(out.get("dependencies"), dict) else {}
    kept: dict[str, Any] = {}
    for key, dep in deps.items():
        if not isinstance(dep, dict):
            continue
        extra = identity_tags(dep)
        if extra:
            out[f"dep_add_tags.{key}"] = _merge_tags(str(out.get(f"dep_add_tags.{key}", "")), extra)
        kept[key] = {k: dep[k] for k in KEPT_DEPENDENCY_KEYS if k in dep}
    out["dependencies"] = kept
    out["quiet"] = "yes"
    if isinstance(out.get("choices"), dict):
        out["choices"] = one_command(out["choices"])
    for key in DROPPED_PIPELINE_KEYS:
        out.pop(key, None)
    if isinstance(out.get("state"), dict):
        out["state"] = {k: v for k, v in out["state"].items() if k not in ("cur_dir", "tmp_dir")}
    return out


def replay_update(pipeline: Mapping[str, Any]) -> dict[str, Any]:
    """A ``pipeline_update`` for ``ck replay`` giving the portable behaviour without editing the entry."""
    portable = portable_pipeline(pipeline)
    update: dict[str, Any] = {k: v for k, v in portable.items() if k.startswith("dep_add_tags.")}
    update["quiet"] = "yes"
    if "choices" in portable:
        update["choices"] = portable["choices"]
    # merge_dicts cannot delete a key: an empty value is "not for run time" to CK
    update["dependencies"] = {key: {"for_run_time": ""} for key in portable.get("dependencies", {})}
    return update


@dataclass(frozen=True)
class MachineRoot:
    """A folder whose absolute path is particular to this machine, and what stands for it in a record."""

    path: str
    placeholder: str


def machine_roots(repo_paths: Iterable[tuple[str, Path]] = (),
                  environ: Mapping[str, str] | None = None) -> list[MachineRoot]:
    """This machine's home, CK folders and registered repositories, longest first."""
    environ = os.environ if environ is None else environ
    candidates = [(str(places.home(environ)), "~"), (str(places.ck_tools(environ)), "$CK_TOOLS"),
                  (str(places.ck_repos(environ)), "$CK_REPOS")]
    candidates += [(str(path), f"$CK_REPO({alias})") for alias, path in repo_paths]
    roots = {}
    for path, placeholder in candidates:
        path = path.rstrip("/")
        if len(path) > 1 and path not in roots:
            roots[path] = placeholder
    return [MachineRoot(p, roots[p]) for p in sorted(roots, key=len, reverse=True)]


def _root_pattern(root: str) -> re.Pattern[str]:
    return re.compile(re.escape(root) + r"(?=[/\\\s\"':;,]|$)")


PATH_TOKEN = re.compile(r"[^\s\"',;:]*")


def leaked_paths(text: str, roots: Iterable[MachineRoot]) -> list[str]:
    """Absolute paths in ``text`` under this machine's roots or under any user's home."""
    starts = {m.start() for r in roots for m in _root_pattern(r.path).finditer(text)}
    starts |= {m.start(1) for m in USER_HOME.finditer(text)}
    return sorted({PATH_TOKEN.match(text, start).group(0) for start in starts})


def scrub_text(text: str, roots: Iterable[MachineRoot]) -> str:
    """Replace this machine's roots by placeholders and any user's home by ``~``."""
    for root in roots:
        text = _root_pattern(root.path).sub(lambda _m, r=root: r.placeholder, text)
    return USER_HOME.sub("~", text)


def scrub(value: Any, roots: list[MachineRoot] | None, hostnames: Iterable[str] = ()) -> Any:
    """``scrub_text`` (unless ``roots`` is None) and host-name removal on every string of a JSON value."""
    names = [h for h in hostnames if h]
    if isinstance(value, str):
        text = value if roots is None else scrub_text(value, roots)
        for name in names:
            text = hostname_pattern(name).sub("<hostname>", text)
        return text
    if isinstance(value, list):
        return [scrub(v, roots, names) for v in value]
    if isinstance(value, dict):
        return {scrub(k, roots, names): scrub(v, roots, names) for k, v in value.items()}
    return value


def hostname_pattern(name: str) -> re.Pattern[str]:
    """``name`` as a whole word (``vm`` matches in ``ssh vm:22``, not in ``vme``)."""
    return re.compile(r"(?<![A-Za-z0-9_-])" + re.escape(name) + r"(?![A-Za-z0-9_-])", re.IGNORECASE)
