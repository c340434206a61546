"""Text from entries made safe for where it is shown: a terminal, a spreadsheet.

Entry names, model and platform names come from files anyone can contribute. On a terminal,
control characters (ANSI escape sequences, carriage returns, NUL) could rewrite what is shown;
in a spreadsheet, a cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR is run as a formula.
"""

from __future__ import annotations

import unicodedata

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def for_terminal(text: str) -> str:
    """``text`` without control or format characters (newlines and tabs become spaces)."""
    if text.isprintable():
        return text  # the usual case, first
    return "".join(" " if ch in "\t\n" else ch for ch in text
                   if ch in "\t\n" or not unicodedata.category(ch).startswith("C"))


def for_spreadsheet(text: str) -> str:
    """OWASP's CSV-injection rule: a cell that would start a formula is prefixed with a single quote."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
