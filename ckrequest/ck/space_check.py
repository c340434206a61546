"""A space resolved against CK before its first trial: each program exists, and for each program every model
tag set (with its variant and precision) and library tag set is an installed env entry or a package CK can
install. Its run variables were checked when the space was read (explore/space.py, run/run_vars.py)."""

from __future__ import annotations

import re
from typing import Any

from ..errors import RequestError
from ..explore.space import Space
from ..reproduce import portable
from . import kernel
from .package import LIB_VERSION_VAR

VERSION_TAG = re.compile(portable.VERSION_TAG)


def _dependency_tags(program: str, where: str) -> dict[str, str]:
    """The program's run dependencies by name -> the tags CK resolves them by."""
    try:
        meta = kernel.entry_meta("program", program)
    except RequestError:
        raise RequestError(f"space {where}: field programs", f"{program!r} is not a program of any registered "
                           "CK repository", "list them: ck list program:request-*") from None
    deps = meta.get("run_deps", {}) if isinstance(meta.get("run_deps"), dict) else {}
    return {name: str(dep.get("tags", "")) for name, dep in deps.items() if isinstance(dep, dict)}


def resolvable(tags: str) -> bool:
    """Is there an env entry with ``tags``, or a package (with its variations) CK would install for them?"""
    if kernel.env_entries(tags):
        return True
    found: dict[str, Any] = kernel.access({"action": "search_in_variations", "module_uoa": "misc",
                                           "query_module_uoa": "package", "tags": tags})
    return bool(found.get("lst"))


def check_resolvable(space: Space) -> None:
    """Refuse, in one line naming the field, a space whose programs, models or libraries CK cannot resolve."""
    deps = {program: _dependency_tags(program, space.name) for program in space.programs}
    checked: set[str] = set()  # CK searched once per tag set, however many stacks or programs share it
    for stack in space.grid():
        for dep, field_name, tags in (("model", "models", stack.model_tags),
                                      ("lib", "libraries", ",".join(stack.library))):
            asked = deps[stack.program].get(dep, "")
            wanted = f"{asked},{tags}".strip(",")
            if not tags or wanted in checked:
                continue
            checked.add(wanted)
            if not resolvable(wanted):
                raise RequestError(f"space {space.name}: field {field_name}",
                                   f"{stack.program} finds no {dep} tagged {tags} (no env entry nor package "
                                   f"has the tags {wanted})",
                                   f"list the packages there are: ck search package --tags={asked}"
                                   if dep == "model" else _install_hint(asked, tags))


def _install_hint(asked: str, tags: str) -> str:
    """How to install the library a space names by version (the package of its tags, with that version)."""
    found = kernel.access({"action": "search_in_variations", "module_uoa": "misc", "query_module_uoa": "package",
                           "tags": asked}).get("lst", [])
    package = found[0].get("data_uoa", "lib-<name>") if found else "lib-<name>"
    version = next((t[1:] for t in tags.split(",") if VERSION_TAG.fullmatch(t)), "<version>")
    return f"install it first: ck install package:{package} --env.{LIB_VERSION_VAR}={version} --quiet"
