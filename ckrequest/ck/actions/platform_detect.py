"""ck detect request.platform: the platform description that matches this host.

Prints the host as ckrequest sees it and the request.platform entry it matches, or a nominal
description made from the host when none does. ``--format=json`` prints the same as JSON.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from ...board.scoreboard import report_skipped
from ...platforms.catalog import describe_host, load_platforms
from ...run import host as platform_info
from .. import flags as ck_flags
from .. import kernel as ck_kernel


def run(i: dict[str, Any]) -> int:
    fmt = ck_flags.choice(i, "format", ("text", "json"), "text")
    platforms, skipped = load_platforms(path for _, path in ck_kernel.repo_paths())
    report_skipped(skipped)
    host = platform_info.describe_host()
    platform = describe_host(host, platforms)
    if fmt == "json":
        print(json.dumps({"host": host.as_dict(), "platform": asdict(platform)}, indent=1))
        return 0
    print(f"host      {host.cpu_name}, {host.logical_cpus} logical CPUs, {host.plat_name}")
    matched = "no request.platform entry matches: nominal description" if platform.alias == "this-host" \
        else f"request.platform:{platform.alias}"
    print(f"platform  {platform.name} ({matched})")
    for label, value in (("species", platform.species), ("price $", platform.price_usd),
                         ("price date", platform.price_date), ("peak power W", platform.peak_power_w),
                         ("cloud $/hour", platform.cloud_usd_per_hour),
                         ("peak FLOP/s", {k: f"{v:.4g}" for k, v in platform.peak_flops.items()} or None)):
        if value not in (None, ""):
            mark = "~" if platform.nominal and not isinstance(value, str) else ""
            print(f"  {label:<13} {mark}{value}")
    if platform.nominal:
        print("  ~ nominal: typical figures, not the owner's record")
    return 0
