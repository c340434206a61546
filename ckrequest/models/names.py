"""Short architecture names and reference multiply-add counts, for points that do not record them.

The original ReQuEST entries name a model only in prose ("Caffe model (net and weights) (resnet50,
fp32) fp32"); the architecture is read from that text. Multiply-adds per image are the figures the
architectures' papers give at their reference resolution (MobileNet-v1 scaled by width multiplier
and resolution, as in its paper's tables); they feed `percent_of_peak`, which is nominal anyway.
"""

from __future__ import annotations

import re

_ARCH_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"efficientnet[-_ ]?lite[-_ ]?0", "efficientnet-lite0"),
    (r"mobilenet[-_ ]?v2", "mobilenet-v2"),
    (r"mobilenet", "mobilenet-v1"),
    (r"resnet[-_ ]?18\b", "resnet18"),
    (r"resnet[-_ ]?50\b", "resnet50"),
    (r"inception[-_ ]?v3", "inception-v3"),
    (r"vgg[-_ ]?16", "vgg16"),
    (r"alexnet", "alexnet"),
    (r"squeezenet", "squeezenet"),
    (r"googlenet", "googlenet"),
)

# multiply-adds per image at the reference resolution (papers' figures)
_REFERENCE_MACS = {
    "efficientnet-lite0": 407e6,
    "mobilenet-v1": 569e6,  # 1.0/224; other widths and resolutions scaled below
    "resnet18": 1.8e9,
    "resnet50": 3.8e9,
    "inception-v3": 5.7e9,
    "vgg16": 15.5e9,
    "alexnet": 0.72e9,
}
_MOBILENET_WIDTH_MACS = {1.0: 569e6, 0.75: 325e6, 0.5: 149e6, 0.25: 41e6}


def arch_of(design_name: str) -> str:
    """The architecture named in a model's description, or '' when none is recognised."""
    text = design_name.lower()
    for pattern, arch in _ARCH_PATTERNS:
        if re.search(pattern, text):
            return arch
    return ""


def _mobilenet_macs(design_name: str) -> float:
    match = re.search(r"(0\.25|0\.5|0\.75|1\.0)\D{1,3}(128|160|192|224)\b", design_name)
    if not match:
        return _REFERENCE_MACS["mobilenet-v1"]
    width, resolution = float(match.group(1)), int(match.group(2))
    return _MOBILENET_WIDTH_MACS[width] * (resolution / 224) ** 2


def reference_macs(arch: str, design_name: str = "") -> float | None:
    """Multiply-adds per image of a known architecture (None when unknown)."""
    if arch == "mobilenet-v1":
        return _mobilenet_macs(design_name)
    return _REFERENCE_MACS.get(arch)
