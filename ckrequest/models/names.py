"""One name per architecture, shared by our zoo and the original ReQuEST results (one alias table).

The zoo names its architectures as ``models/architectures.py`` does (``resnet-50``). The original
entries name a model only in prose ("Caffe model (net and weights) (resnet50, fp32)", "VTA model
(resnet 18, int8)"); ``canonical_arch`` reads the architecture from such text and gives the zoo's
name, so `--model=resnet-50` finds both. Multiply-adds per image at the reference resolution (the
papers' figures) stand in for points that did not record ``model_macs`` (only the originals).
"""

from __future__ import annotations

import re

# pattern in a name or description -> the zoo's name (the first match wins: most specific first)
ALIASES: tuple[tuple[str, str], ...] = (
    (r"efficientnet[-_ ]?lite[-_ ]?0", "efficientnet-lite0"),
    (r"mobilenet[-_ ]?v2", "mobilenet-v2"),
    (r"mobilenet", "mobilenet-v1"),
    (r"resnet[-_ ]?18\b", "resnet-18"),
    (r"resnet[-_ ]?50\b", "resnet-50"),
    (r"inception[-_ ]?v3", "inception-v3"),
    (r"vgg[-_ ]?16", "vgg16"),
    (r"alexnet", "alexnet"),
    (r"squeezenet[-_ ]?1[._]?1", "squeezenet-1.1"),
    (r"squeezenet", "squeezenet"),
    (r"googlenet", "googlenet"),
)
_COMPILED = tuple((re.compile(pattern), name) for pattern, name in ALIASES)

# multiply-adds per image at the reference resolution (papers' figures)
REFERENCE_MACS = {
    "efficientnet-lite0": 407e6,
    "mobilenet-v1": 569e6,  # 1.0/224; other widths and resolutions scaled below
    "resnet-18": 1.8e9,
    "resnet-50": 3.8e9,
    "inception-v3": 5.7e9,
    "vgg16": 15.5e9,
    "alexnet": 0.72e9,
}
_MOBILENET_WIDTH_MACS = {1.0: 569e6, 0.75: 325e6, 0.5: 149e6, 0.25: 41e6}


def canonical_arch(text: str) -> str:
    """The zoo's name of the architecture ``text`` names or describes; '' when none is recognised."""
    lowered = text.lower()
    for pattern, name in _COMPILED:
        if pattern.search(lowered):
            return name
    return ""


def _mobilenet_macs(design_name: str) -> float:
    match = re.search(r"(0\.25|0\.5|0\.75|1\.0)\D{1,3}(128|160|192|224)\b", design_name)
    if not match:
        return REFERENCE_MACS["mobilenet-v1"]
    width, resolution = float(match.group(1)), int(match.group(2))
    return _MOBILENET_WIDTH_MACS[width] * (resolution / 224) ** 2


def reference_macs(arch: str, design_name: str = "") -> float | None:
    """Multiply-adds per image of a known architecture (None when unknown)."""
    if arch == "mobilenet-v1":
        return _mobilenet_macs(design_name)
    return REFERENCE_MACS.get(arch)
