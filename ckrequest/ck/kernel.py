"""The one file that talks to the CK kernel (`ck` 2.6.4) in-process."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import atomic
from ..errors import RequestError

REPO_ALIAS = "ck-request"
_ATOMIC = "_ckrequest_atomic"


def make_saves_atomic() -> None:
    """Every file CK saves (its JSON through ``save_json_to_file`` included) goes to a temporary file in
    the same folder, is flushed and renamed: a kill leaves the old file or the new one, never half of one.
    CK 2.6.4 writes them in place (``ck.files.save_text_file``); appends stay as CK does them."""
    import ck.files

    plain = ck.files.save_text_file
    if getattr(plain, _ATOMIC, False):
        return

    def save_text_file(i: dict[str, Any]) -> dict[str, Any]:
        if i.get("append", "") == "yes":
            return plain(i)
        text = i["string"]
        data = (text.encode("utf8") if isinstance(text, str) else bytes(text)).replace(b"\r", b"")
        try:
            atomic.write_bytes(i["text_file"], data)
        except OSError as err:
            return {"return": 1, "error": f"problem writing text file={i['text_file']} ({err})"}
        return {"return": 0}

    setattr(save_text_file, _ATOMIC, True)
    ck.files.save_text_file = save_text_file  # CK's save_json_to_file and the kernel's save_text_file call this one


def access(request: dict[str, Any]) -> dict[str, Any]:
    """Call a CK action silently; a CK error becomes a RequestError."""
    import ck.kernel as ck  # imported here so the library works without CK initialised

    chatter = io.StringIO()  # CK prints progress even when asked not to
    with contextlib.redirect_stdout(chatter):
        result = ck.access({"out": "", **request})
    if result.get("return", 1) > 0:
        action = f"ck {request.get('action')} {request.get('module_uoa')}:{request.get('data_uoa', '')}"
        raise RequestError(action.rstrip(":"), str(result.get("error", "failed")).strip(),
                           "run it by hand to see CK's output")
    return result


def find_repo_path(alias: str = REPO_ALIAS) -> Path | None:
    import ck.kernel as ck

    result = ck.access({"action": "load", "module_uoa": "repo", "data_uoa": alias, "out": ""})
    if result.get("return", 1) > 0:
        return None
    path = result.get("dict", {}).get("path", "")
    return Path(path) if path else None


def register_repo(path: Path, move: bool = False) -> str:
    """Register the checkout at ``path`` as the CK repository ck-request (idempotent).

    A registration whose folder is gone or no longer a CK repository is stale and is replaced; one
    that points at another live checkout is replaced only with ``move`` (its files are left alone).
    """
    path = path.resolve()
    if not (path / ".ckr.json").is_file():
        raise RequestError(f"CK repository at {path}", "has no .ckr.json",
                           "run ckrequest setup from a ck-request checkout")
    current = find_repo_path()
    note = ""
    if current is not None:
        if current.resolve() == path:
            return f"CK repository {REPO_ALIAS} already registered at {path}"
        stale = not (current / ".ckr.json").is_file()
        if not stale and not move:
            raise RequestError(f"CK repository {REPO_ALIAS}", f"already registered at {current}, not {path}",
                               "run `ckrequest setup --move` to point it at this checkout "
                               "(the other checkout's files are kept)")
        # force without with_files: CK forgets the registration and never touches the folder
        access({"action": "rm", "module_uoa": "repo", "data_uoa": REPO_ALIAS, "force": "yes"})
        note = f" (was {current}{', which no longer exists' if stale else ''})"
    access({"action": "import", "module_uoa": "repo", "path": str(path), "quiet": "yes"})
    return f"CK repository {REPO_ALIAS} registered at {path}{note}"


def registered_pythons() -> list[dict[str, Any]]:
    result = access({"action": "search", "module_uoa": "env", "tags": "compiler,python",
                     "add_meta": "yes"})
    return result.get("lst", [])


def register_python(executable: str) -> str:
    """Register ``executable`` as soft:compiler.python unless an env entry already points at it.

    CK keeps one entry per Python version: one of this version for another interpreter (a venv made
    anew) is re-pointed here in place, so what was installed with it keeps its dependency."""
    executable = os.path.abspath(executable)
    pythons = registered_pythons()
    for entry in pythons:
        if entry.get("meta", {}).get("env", {}).get("CK_ENV_COMPILER_PYTHON_FILE") == executable:
            return f"Python {executable} already registered (env:{entry['data_uid']})"
    # asked only when it is not registered: it costs starting that Python
    version = subprocess.run([executable, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, stdin=subprocess.DEVNULL).stdout.strip()
    same_version = ""
    for entry in pythons:
        if entry.get("meta", {}).get("customize", {}).get("version") == version:
            same_version = entry["data_uid"]
    access({"action": "detect", "module_uoa": "soft", "data_uoa": "compiler.python", "full_path": executable,
            "quiet": "yes", **({"force_env_data_uoa": same_version} if same_version else {})})
    instead = f" (env:{same_version}, re-pointed from another Python {version})" if same_version else ""
    return f"Python {executable} registered as soft:compiler.python{instead}"


def repo_paths() -> list[tuple[str, Path]]:
    """(alias, folder) of the local repository and every registered one."""
    import ck.kernel as ck

    access({"action": "list", "module_uoa": "repo"})  # initialises the kernel
    found: list[tuple[str, Path]] = []
    local = ck.work.get("dir_local_repo", "")
    if local:
        found.append(("local", Path(local)))
    for item in access({"action": "list", "module_uoa": "repo"}).get("lst", []):
        alias = item.get("data_uoa", "")
        if alias in ("default", "local", "remote-ck"):
            continue
        path = find_repo_path(alias)
        if path is not None:
            found.append((alias, path))
    return found


@dataclass(frozen=True)
class EntryLocation:
    """Where CK keeps one entry, and the names that reach it unambiguously."""

    path: Path
    repo_uoa: str
    repo_uid: str
    data_uoa: str
    data_uid: str

    @property
    def name(self) -> str:
        return f"{self.repo_uoa}:{self.data_uoa}"


def find_entry(module: str, name: str) -> EntryLocation:
    """``name`` is ``<alias or uid>`` or ``<repo>:<alias or uid>``; the first match in CK's search order."""
    repo, _, data = name.rpartition(":")
    result = access({"action": "find", "module_uoa": module, "data_uoa": data, "repo_uoa": repo})
    return EntryLocation(Path(result["path"]), result["repo_uoa"], result["repo_uid"],
                         result["data_uoa"], result["data_uid"])


def ensure_entry(module: str, repo: str, name: str) -> EntryLocation:
    """The entry ``repo:module:name``, made empty (as `ck add` makes it) when it does not exist yet."""
    try:
        return find_entry(module, f"{repo}:{name}")
    except RequestError:
        access({"action": "add", "module_uoa": module, "repo_uoa": repo, "data_uoa": name, "common_func": "yes",
                "dict": {"meta": {}}})
        return find_entry(module, f"{repo}:{name}")


def entry_meta(module: str, name: str) -> dict[str, Any]:
    """The meta of ``module:name`` (``name`` may be ``repo:name``)."""
    repo, _, data = name.rpartition(":")
    return access({"action": "load", "module_uoa": module, "data_uoa": data, "repo_uoa": repo}).get("dict", {})


def benchmark(request: dict[str, Any]) -> dict[str, Any]:
    """CK's own ``ck benchmark program:<program>`` inside this process (its output is the caller's to route)."""
    import ck.kernel as ck

    return ck.access({**request, "action": "benchmark", "module_uoa": "program"})


def remove_entry(module: str, location: EntryLocation) -> None:
    """``ck rm <module>:<entry> --force``: the folder and CK's alias files."""
    access({"action": "rm", "module_uoa": module, "repo_uoa": location.repo_uid, "data_uoa": location.data_uid,
            "force": "yes"})


def record_point(repo: str, name: str, characteristics: list[dict[str, Any]], features: dict[str, Any],
                 meta: dict[str, Any], tags: list[str]) -> tuple[EntryLocation, str]:
    """One point (one characteristics dict per repetition) recorded into experiment ``repo:name`` by CK's
    experiment module, as ``ck benchmark --record`` records one; (the entry, the point's UID)."""
    point = {"meta": meta, "tags": tags, "features": {**features, "meta": meta}, "choices": {},
             "characteristics_list": [{"run": run} for run in characteristics]}
    return add_point(repo, name, point)


def add_point(repo: str, name: str, point: dict[str, Any]) -> tuple[EntryLocation, str]:
    """A point in CK's experiment ``add`` form (meta, tags, features, choices, characteristics_list,
    pipeline, ...) recorded into experiment ``repo:name``; (the entry, the point's UID)."""
    import ck.kernel as ck

    from .recording import install

    install(ck)  # ck-request's guard around CK's recording: stale locks, the scenario module in the entry's meta
    result = access({"action": "add", "module_uoa": "experiment", "experiment_uoa": name,
                     "experiment_repo_uoa": repo, "dict": point, "sort_keys": "yes"})
    return find_entry("experiment", f"{repo}:{result['recorded_uid']}"), str(result["point"])


def replay(repo_uid: str, data_uid: str, options: dict[str, Any]) -> dict[str, Any]:
    """CK's own ``replay`` action, printing as ``ck replay`` does."""
    import ck.kernel as ck

    return ck.access({**options, "action": "replay", "module_uoa": "experiment", "repo_uoa": repo_uid,
                      "data_uoa": data_uid, "out": "con"})


def env_variables(uid: str) -> dict[str, str]:
    """The variables an env entry records (its meta's ``env``); {} when this machine has no such entry."""
    if not uid:
        return {}
    try:
        loaded = access({"action": "load", "module_uoa": "env", "data_uoa": uid})
    except RequestError:
        return {}
    env = loaded.get("dict", {}).get("env", {})
    return {str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {}


def env_entries(tags: str) -> list[dict[str, Any]]:
    """The env entries (installed or detected software) carrying every one of ``tags``."""
    return access({"action": "search", "module_uoa": "env", "tags": tags}).get("lst", [])


def install(request: dict[str, Any]) -> dict[str, Any]:
    """CK's own ``ck install package:<data_uoa>`` inside this process, printing as it does."""
    import ck.kernel as ck

    return ck.access({**request, "action": "install", "module_uoa": "package", "quiet": "yes", "out": "con"})


def env_entry(tags: str) -> tuple[str, dict[str, Any]]:
    """(folder, meta) of the first env entry with ``tags``, in CK's order; RequestError if none."""
    found = access({"action": "search", "module_uoa": "env", "tags": tags, "add_meta": "yes"}).get("lst", [])
    if not found:
        raise RequestError(f"CK env entry with tags {tags}", "is not registered",
                           f"install it: ck install package --tags={tags} --quiet")
    return found[0]["path"], found[0]["meta"]


def environment_of(tags: str) -> dict[str, str]:
    """The process environment an env entry (with its dependencies) sets up, e.g. its PYTHONPATH."""
    import subprocess

    folder, _ = env_entry(tags)
    out = subprocess.run(["bash", "-c", f'. "{Path(folder) / "env.sh"}" 1 && env -0'], capture_output=True,
                         check=True, stdin=subprocess.DEVNULL).stdout
    return dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)
