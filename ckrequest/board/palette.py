"""How a board tells groups apart (a library, a platform ...): a colour and a marker shape per group, each pair
used once, the same in the page and in the PNG.

Every group gets a colour of its own: twenty listed (Tableau's ten, then ten darker or brighter ones), past
them made by stepping the hue by the golden angle, each checked unused. The shape cycles through seven, a
period prime to the list's twenty, so groups whose colours are alike (k and k+10: blue and navy) and
neighbours in the legend differ in shape too.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from typing import Iterable

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf",  # Tableau 10
           "#000075", "#808000", "#800000", "#469990", "#f032e6", "#b8860b", "#2f4f4f", "#6a3d9a", "#00c957",
           "#fa8072")
SHAPES = ("circle", "square", "triangle-up", "diamond", "triangle-down", "pentagon", "hexagon")
MATPLOTLIB_MARKERS = {"circle": "o", "square": "s", "triangle-up": "^", "diamond": "D", "triangle-down": "v",
                      "pentagon": "p", "hexagon": "h"}
UNNAMED = "?"  # the group of a point that names none


@dataclass(frozen=True)
class Style:
    colour: str  # #rrggbb
    shape: str  # one of SHAPES

    @property
    def marker(self) -> str:
        return MATPLOTLIB_MARKERS[self.shape]


def _made_colour(k: int, used: set[str]) -> str:
    """The k-th colour past the list: hue stepped by the golden angle, dark enough to read on white."""
    hue = (k * 0.381966) % 1.0
    while True:
        red, green, blue = colorsys.hls_to_rgb(hue, 0.42 + 0.12 * (k % 2), 0.75)
        colour = f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"
        if colour not in used:
            return colour
        hue = (hue + 0.003) % 1.0


def styles(groups: Iterable[str]) -> dict[str, Style]:
    """Each distinct group (sorted) with a style of its own: no two share a colour, neighbours differ in shape."""
    out: dict[str, Style] = {}
    used: set[str] = set()
    for k, group in enumerate(sorted(set(groups))):
        colour = COLOURS[k] if k < len(COLOURS) else _made_colour(k, used)
        used.add(colour)
        out[group] = Style(colour, SHAPES[k % len(SHAPES)])
    return out


def group_of(value: object) -> str:
    """The group a point's value names (the page and the PNG group alike)."""
    return str(value) if value not in (None, "") else UNNAMED
