"""A Ray cluster on this machine's loopback interface, started and stopped by us.

What `ck farm` runs on when no --ray is given, what the tests and the farm benchmark run on, and
what `python -m ckrequest.farm.local --check` starts to see that Ray works here. Each node is a
`ray start --block` process leading a session of its own (everything it starts stays in it), so a node
is stopped, or killed to play a node dying, by its own session (the processes it started) and nothing else.
The nodes die with the process that started them, whatever ends it: ``stop()`` at a normal end, an error or
a signal (farm/signals.py), and a watcher of its own (farm/reaper.py) when it is killed outright.

Ray rewrites a head's 127.0.0.1 into the machine's routable address, so the head listens as
127.0.0.2 (another loopback address); the worker nodes it reaches from 127.0.0.1. Every node,
and every connection between them, stays on the loopback interface.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import psutil

from .. import places
from ..errors import RequestError, print_error
from .cluster import assigned_platform, import_ray, platform_resource
from .reaper import Reaper, kill_sessions, session_members

HEAD_IP = "127.0.0.2"
STARTED = "Ray runtime started"  # what `ray start` prints once its node has joined
START_TIMEOUT_S = 90.0
OBJECT_STORE_BYTES = 200_000_000  # per node; larger objects spill to the node's temporary folder
# a worker node's own processes hold about 0.4 GB (measured here: 383 MB resident, Ray 2.60 idle); its stage's
# worker and its object store come on top
NODE_MEMORY_BYTES = 1_000_000_000
# Ray's own settings (RAY_<name> for its C++ core): a killed node is noticed in about 2 s, not 15-30 s
RAY_SETTINGS = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_health_check_period_ms": "500",
                "RAY_health_check_timeout_ms": "500", "RAY_health_check_failure_threshold": "3"}


@dataclass
class LocalNode:
    platform: str  # "" for the head
    cpus: int
    process: subprocess.Popen
    log: Path

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class LocalCluster:
    """Start with ``LocalCluster.start()``; ``add_node(platform, cpus)``; ``stop()`` (or ``with``)."""

    root: Path
    port: int
    head: LocalNode | None = None
    workers: list[LocalNode] = field(default_factory=list)
    say: Callable[[str], None] = lambda line: None  # progress while nodes start
    reaper: Reaper | None = None
    started: list[subprocess.Popen] = field(default_factory=list)  # every node process, from the moment it starts

    @property
    def address(self) -> str:
        return f"{HEAD_IP}:{self.port}"

    @classmethod
    def start(cls, workers: Sequence[tuple[str, int]] = (), say: Callable[[str], None] | None = None) -> LocalCluster:
        """A head (no CPUs: it only coordinates) and one worker node per ``(platform, cpus)``; ``say`` hears of
        each node as it joins."""
        import_ray()
        # short: Ray's Unix sockets live under it (108 characters at most)
        root = Path(tempfile.mkdtemp(prefix="ckr-ray-", dir="/tmp"))
        cluster = cls(root=root, port=_free_port(HEAD_IP), **({"say": say} if say else {}))
        try:
            cluster.reaper = Reaper(root / "sessions", root)
            t0 = time.monotonic()
            cluster.head = cluster._start_node(["--head", f"--node-ip-address={HEAD_IP}", f"--port={cluster.port}",
                                                "--num-cpus=0", "--include-dashboard=false"], "", 0)
            cluster.say(f"  Ray head started in {time.monotonic() - t0:.1f} s")
            for k, (platform, cpus) in enumerate(workers):
                t0 = time.monotonic()
                cluster.add_node(platform, cpus)
                cluster.say(f"  Ray node {k + 1} of {len(workers)} ({platform}, {cpus} CPU(s)) joined in "
                            f"{time.monotonic() - t0:.1f} s")
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_node(self, platform: str, cpus: int = 1, env: Mapping[str, str] | None = None) -> LocalNode:
        """A worker node of ``platform`` with ``cpus`` CPUs, joined once this returns; ``env``: variables of
        the node's own (its CK world: CK_REPOS, CK_TOOLS), which the work it runs sees."""
        # one node at a time: nodes starting together on one address race for the same free ports
        node = self._start_node([f"--address={self.address}", f"--num-cpus={cpus}",
                                 f"--resources={json.dumps({platform_resource(platform): 1})}"], platform, cpus, env)
        self.workers.append(node)
        return node

    def kill_node(self, node: LocalNode) -> None:
        """The node and everything it started die at once (SIGKILL), as when a board loses power."""
        _kill_group(node.process)
        if node.process.returncode is not None:  # its PID may soon be another process's
            self.started.remove(node.process)
            if self.reaper is not None:
                self.reaper.remove(node.process.pid)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by every live process of this cluster's nodes."""
        used = 0.0
        for process in session_members(node.process.pid for node in self._nodes()):
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue  # gone meanwhile
            used += times.user + times.system
        return used

    def _nodes(self) -> list[LocalNode]:
        return [*self.workers, *([self.head] if self.head else [])]

    def stop(self) -> None:
        """Every node of ours gone (those still starting too), and their folder."""
        for process in self.started:
            _kill_group(process)  # a graceful stop drains for up to 30 s: nothing to keep here
        self.started.clear()  # their PIDs may soon be other processes'
        if self.reaper is not None:
            self.reaper.close()
            self.reaper = None
        shutil.rmtree(self.root, ignore_errors=True)

    def _start_node(self, args: list[str], platform: str, cpus: int,
                    env: Mapping[str, str] | None = None) -> LocalNode:
        log = self.root / f"node-{len(self.workers) + (1 if self.head else 0)}.log"
        ray_cli = Path(sys.executable).with_name("ray")
        command = [str(ray_cli) if ray_cli.is_file() else "ray", "start", *args, "--block", "--disable-usage-stats",
                   f"--temp-dir={self.root}", f"--object-store-memory={OBJECT_STORE_BYTES}"]
        with open(log, "wb") as out:
            process = subprocess.Popen(command, env={**node_environment(), **(env or {})}, stdin=subprocess.DEVNULL,
                                       stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                       preexec_fn=_die_with_parent)
        self.started.append(process)
        if self.reaper is not None:
            self.reaper.add(process.pid)
        node = LocalNode(platform, cpus, process, log)
        deadline = time.monotonic() + START_TIMEOUT_S
        while STARTED not in _read(log):
            if not node.alive or time.monotonic() > deadline:
                _kill_group(process)
                tail = " | ".join(_read(log).strip().splitlines()[-3:])
                raise RequestError(f"a local Ray node ({platform or 'head'})", f"did not start ({tail[-400:]})",
                                   f"see {log}; is Ray installed and /dev/shm writable?")
            time.sleep(0.1)
        return node


def node_environment() -> dict[str, str]:
    """Our nodes import this checkout's ckrequest (the stage code), with Ray's settings for local clusters."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(places.CHECKOUT), env.get("PYTHONPATH", "")) if p)
    env.pop("RAY_ADDRESS", None)
    env.update(RAY_SETTINGS)
    return env


# Linux: a node dies with the process that started it, even when that one is killed outright (Ray's own
# processes already die with their `ray start`); the C library is loaded here, before any fork.
_LIBC = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True) if sys.platform == "linux" else None
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _kill_group(process: subprocess.Popen) -> None:
    """The node's whole session killed outright (its `ray start` leads one): Ray's processes and their workers."""
    kill_sessions([process.pid])
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass


def local_cpus() -> int:
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def most_local_nodes() -> int:
    """The most worker nodes a local cluster starts here: one per CPU (nodes sharing a core measure each other),
    and no more than the memory now available holds."""
    return max(1, min(local_cpus(), psutil.virtual_memory().available // NODE_MEMORY_BYTES))


def check_local_nodes(nodes: int, flag: str = "--stages") -> None:
    """RequestError in one line when a local cluster of ``nodes`` worker nodes would not fit this machine."""
    most = most_local_nodes()
    if nodes > most:
        raise RequestError(f"{flag}={nodes}", f"needs {nodes} local Ray nodes and this machine holds at most {most} "
                           f"({local_cpus()} CPU(s), {psutil.virtual_memory().available / 1e9:.1f} GB available, "
                           f"one CPU and about {NODE_MEMORY_BYTES / 1e9:.0f} GB per node)",
                           f"pass {flag}={most} or fewer, or --ray=<address> to run on a cluster of your own")


def check() -> str:
    """Start a head and one worker on loopback, run a function on the worker's platform, stop them."""
    from .cluster import connect

    started = time.monotonic()
    with LocalCluster.start([("check", 1)]) as cluster, connect(cluster.address) as connection:
        nodes = connection.nodes()
        answer = connection.result(connection.run_on_platform(assigned_platform, platform="check"), "Ray check", 120)
        if answer != "check" or [n.platform for n in nodes] != ["check"]:
            raise RequestError("Ray check", f"the function ran on {answer!r}, nodes {nodes}", "report it")
        addresses = sorted({n.address for n in nodes})
    return (f"Ray works here: a head and a worker started on loopback ({', '.join(addresses)}), a function ran on "
            f"the worker and both stopped, in {time.monotonic() - started:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ckrequest.farm.local", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="start and stop a two-node cluster on loopback")
    args = parser.parse_args(argv)
    if not args.check:
        parser.print_help()
        return 0
    try:
        print(check(), flush=True)
    except RequestError as err:
        return print_error(err)
    return 0


if __name__ == "__main__":
    sys.exit(main())
