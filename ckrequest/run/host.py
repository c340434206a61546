"""What machine a measurement ran on, without hostnames or user paths."""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class PlatformInfo:
    cpu_name: str
    plat_name: str
    os_name: str
    machine: str
    logical_cpus: int
    physical_cpus: int
    memory_bytes: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").strip().strip("\x00")
    except OSError:
        return ""


def cpu_name(cpuinfo: str | None = None) -> str:
    text = _read("/proc/cpuinfo") if cpuinfo is None else cpuinfo
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Model", "Hardware", "cpu model") and value.strip():
            return value.strip()
    return platform.processor() or platform.machine()


def plat_name() -> str:
    vendor = _read("/sys/class/dmi/id/sys_vendor")
    product = _read("/sys/class/dmi/id/product_name")
    model = _read("/proc/device-tree/model")
    name = " ".join(part for part in (vendor, product) if part) or model
    return name or "unknown platform"


def os_name() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return f"{platform.system()} {platform.release()}"


def describe_host() -> PlatformInfo:
    import psutil

    logical = psutil.cpu_count(logical=True) or os.cpu_count() or 1
    return PlatformInfo(cpu_name=cpu_name(), plat_name=plat_name(), os_name=os_name(),
                        machine=platform.machine(), logical_cpus=logical,
                        physical_cpus=psutil.cpu_count(logical=False) or logical,
                        memory_bytes=psutil.virtual_memory().total)
