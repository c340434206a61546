"""Where things live on this machine: CK_TOOLS, ck-request's caches and this checkout. Declared once."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

CHECKOUT = Path(__file__).resolve().parents[1]  # the ck-request checkout this library runs from


def home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("HOME", "").strip() or Path.home())


def ck_tools(env: Mapping[str, str] | None = None) -> Path:
    """CK's install folder: $CK_TOOLS, else CK's own default ~/CK-TOOLS."""
    env = os.environ if env is None else env
    return Path(env.get("CK_TOOLS", "").strip() or home(env) / "CK-TOOLS")


def ck_repos(env: Mapping[str, str] | None = None) -> Path:
    """CK's repositories folder: $CK_REPOS, else CK's own default ~/CK."""
    env = os.environ if env is None else env
    return Path(env.get("CK_REPOS", "").strip() or home(env) / "CK")


def ck_tools_if_set(env: Mapping[str, str] | None = None) -> list[str]:
    """[$CK_TOOLS] when it names an existing folder (where our detectors look), else []."""
    env = os.environ if env is None else env
    tools = env.get("CK_TOOLS", "").strip()
    return [tools] if tools and os.path.isdir(tools) else []


def cache(name: str, override_var: str = "", env: Mapping[str, str] | None = None) -> Path:
    """The folder of one of our caches: ``$<override_var>`` if set, else ``$CK_TOOLS/request-<name>``."""
    env = os.environ if env is None else env
    if override_var and env.get(override_var, "").strip():
        return Path(env[override_var])
    return ck_tools(env) / f"request-{name}"
