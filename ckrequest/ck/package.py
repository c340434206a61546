"""The logic behind our CK package entries' customize.py (called by CK, dicts in and out)."""

from __future__ import annotations

from typing import Any

LIB_VERSION_VAR = "CK_REQUEST_LIB_VERSION"


def library_pre_path(i: dict[str, Any]) -> dict[str, Any]:
    """`--env.CK_REQUEST_LIB_VERSION=<v>` installs version <v> instead of the pinned default.

    CK has fixed the version before this hook runs, so the chosen one goes where CK reads it
    later: the install path (`extra_suggested_path`), the installer (PACKAGE_VERSION), the env
    entry's version (`customize.version`) and a version tag, which also keeps CK from updating
    the env entry of the default version instead of making a new one.
    """
    env, customize = i["install_env"], i["customize"]
    wanted = str(env.get(LIB_VERSION_VAR, "")).strip()
    if wanted and wanted != i.get("version"):
        customize["version"] = wanted
        customize["no_ver_in_suggested_path"] = "yes"
        customize["extra_suggested_path"] = f"-{wanted}"
        i["tags"].append(f"v{wanted}")
        return {"return": 0, "install_env": {"PACKAGE_VERSION": wanted}}
    return {"return": 0}
