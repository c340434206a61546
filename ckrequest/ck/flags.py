"""The one reader of CK's flag values, for every action of module request.asplos18.

CK turns ``--name=value`` into ``{"name": "value"}`` and a bare ``--name`` into ``{"name": "yes"}``;
everything arrives as a string. Booleans, texts, numbers and ports are read here, and a value
that is none of what the flag takes is refused with one line naming the flag.
"""

from __future__ import annotations

import sys
from typing import Any, Mapping, Sequence

from ..errors import RequestError

TRUE_WORDS = ("yes", "true", "1", "on")
FALSE_WORDS = ("no", "false", "0", "off", "")
BARE = "yes"  # what CK gives for a flag typed without a value


def _raw(i: Mapping[str, Any], name: str) -> str:
    value = i.get(name, "")
    if value is True or value is False:
        return "yes" if value else "no"
    return "" if value is None else str(value).strip()


def flag(i: Mapping[str, Any], name: str) -> bool:
    """``--name``, ``--name=yes|no|true|false|1|0|on|off``; absent is False."""
    text = _raw(i, name).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise RequestError(f"--{name}={_raw(i, name)}", "is neither yes nor no", f"write --{name} or --{name}=no")


def text(i: Mapping[str, Any], name: str, default: str = "") -> str:
    """``--name=value``; a bare ``--name`` (no value) is refused."""
    value = _raw(i, name)
    if value == BARE:
        raise RequestError(f"--{name}", "needs a value", f"write --{name}=<value>")
    return value or default


def texts(i: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """``--name=a,b,c``: the non-empty items."""
    return tuple(t.strip() for t in text(i, name).split(",") if t.strip())


def required(i: Mapping[str, Any], name: str, command: str) -> str:
    value = text(i, name)
    if not value:
        raise RequestError(command, f"--{name} is missing", f"name it: {command} --{name}=<value>")
    return value


def flag_or_text(i: Mapping[str, Any], name: str) -> tuple[bool, str]:
    """``--name`` (on, no value), ``--name=value`` (on, value) or absent/``--name=no`` (off)."""
    value = _raw(i, name)
    if value.lower() in FALSE_WORDS:
        return False, ""
    return True, "" if value.lower() in TRUE_WORDS else value


def number(i: Mapping[str, Any], name: str, kind: type, low: float, high: float) -> float | int | None:
    """``--name=<number>`` of ``kind`` (int or float) within low..high; None when absent."""
    value = text(i, name)
    if not value:
        return None
    try:
        parsed = kind(value)
    except ValueError:
        parsed = None
    if parsed is None or not low <= parsed <= high:
        what = "a whole number" if kind is int else "a number"
        raise RequestError(f"--{name}={value}", f"is not {what} in {low:g}..{high:g}",
                           f"write e.g. --{name}={kind(low)}")
    return parsed


def count(i: Mapping[str, Any], name: str, default: int) -> int:
    """``--name=N``, a whole number of at least 1."""
    value = number(i, name, int, 1, 1_000_000)
    return default if value is None else int(value)


def port(i: Mapping[str, Any], name: str, default: int) -> int:
    value = text(i, name) or str(default)
    if not value.isdigit() or int(value) > 65535:
        raise RequestError(f"--{name}={value}", "is not a TCP port number", "pass 0..65535 (0: any free port)")
    return int(value)


def choice(i: Mapping[str, Any], name: str, choices: tuple[str, ...], default: str) -> str:
    value = text(i, name) or default
    if value not in choices:
        raise RequestError(f"--{name}={value}", f"is not a known {name}", f"use one of: {', '.join(choices)}")
    return value


def typed_command_line(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """The flags of the `ck` command this process runs, as CK parses them ({} if not a `ck` command line).

    A CK ``script`` entry's function is given only ``--dict``; a workflow reads its own flags here."""
    import ck.kernel as ck

    parsed = ck.convert_ck_list_to_dict(list(sys.argv[1:] if argv is None else argv))
    return parsed.get("ck_dict", {}) if parsed.get("return") == 0 else {}
