"""A Ray cluster of measuring nodes: connect to it, see its nodes and their platforms, run work there.

A node joins with a resource naming its platform, one unit of it:

    ray start --address=<head>:6379 --resources='{"request-platform:<name>": 1}'

That unit is also the node's measuring slot: everything sent here asks for it, so one measurement
at a time runs on a node (two measurements sharing a machine would measure each other). Nodes
without such a resource (a head that only coordinates) are never given work.
"""

from __future__ import annotations

import logging
import re
import socket
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

from ..errors import RequestError

PLATFORM_PREFIX = "request-platform:"
PLATFORM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
INSTALL_FIX = "pip install 'ckrequest[farm]' (Ray) on this machine and on every node"
JOIN_FIX = "join a node: ray start --address=<head>:6379 --resources='{\"request-platform:<name>\": 1}'"
CONNECT_TIMEOUT_S = 5.0


def import_ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise RequestError("Ray", "is not installed in this Python", INSTALL_FIX) from None
    return ray


def platform_resource(name: str) -> str:
    """The Ray resource of platform ``name`` (a request.platform alias or any short name)."""
    if not PLATFORM_NAME.match(name):
        raise RequestError(f"platform {name!r}", "is not a platform name (letters, digits, . _ -)",
                           "name it like request.platform entries, e.g. rpi4 or azure-d4-v2")
    return PLATFORM_PREFIX + name


def assigned_platform() -> str:
    """Inside work Ray runs on a node: the platform whose slot it holds ("" when none)."""
    import ray

    resources = ray.get_runtime_context().get_assigned_resources()
    return next((k[len(PLATFORM_PREFIX):] for k in resources if k.startswith(PLATFORM_PREFIX)), "")


@dataclass(frozen=True)
class FarmNode:
    """A live node of the cluster that takes measurements: where it is, its platform(s), its CPUs."""

    node_id: str
    address: str  # the node's IP address as Ray knows it
    platforms: tuple[str, ...]
    cpus: float

    @property
    def platform(self) -> str:
        return self.platforms[0]

    @property
    def slot(self) -> dict[str, float]:
        """The resource that makes a measurement on this node the only one there."""
        return {platform_resource(self.platform): 1.0}

    @property
    def threads(self) -> int:
        """How many threads a measurement here uses: the CPUs the node declared to Ray (at least 1)."""
        return max(1, int(self.cpus))


def farm_nodes(ray_nodes: list[dict[str, Any]]) -> list[FarmNode]:
    """The live nodes with a platform resource, in a stable order (platform, then node id)."""
    found = []
    for node in ray_nodes:
        resources = node.get("Resources") or {}
        platforms = tuple(sorted(k[len(PLATFORM_PREFIX):] for k in resources if k.startswith(PLATFORM_PREFIX)))
        if node.get("Alive") and platforms:
            found.append(FarmNode(node_id=str(node["NodeID"]), address=str(node.get("NodeManagerAddress", "")),
                                  platforms=platforms, cpus=float(resources.get("CPU", 0.0))))
    return sorted(found, key=lambda n: (n.platform, n.node_id))


class NodeLost(RequestError):
    """A node (or the worker on it) died while it held work of ours."""


class Connection:
    """This process, connected to a Ray cluster as a driver (``with connect(address) as cluster: ...``)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._ray = import_ray()
        _check_reachable(address)
        try:
            # our own lines are the command's output: Ray's workers' output and Ray's chatter are not
            self._ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise RequestError(f"--ray={address}", f"no Ray cluster answers there ({_first_line(err)})",
                               "start one (docs/FARM.md), pass its head's <ip>:<port> or auto, "
                               "or leave --ray out to run on a local cluster") from None

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._ray.is_initialized():
            self._ray.shutdown()

    @property
    def ray(self) -> ModuleType:
        return self._ray

    def nodes(self, platforms: tuple[str, ...] = ()) -> list[FarmNode]:
        """The live measuring nodes, only those of ``platforms`` when given."""
        found = farm_nodes(self._ray.nodes())
        return [n for n in found if not platforms or set(n.platforms) & set(platforms)]

    def platforms(self) -> dict[str, list[FarmNode]]:
        """Platform name -> its live nodes."""
        by_platform: dict[str, list[FarmNode]] = {}
        for node in self.nodes():
            for name in node.platforms:
                by_platform.setdefault(name, []).append(node)
        return by_platform

    def run_on_platform(self, function: Callable[..., Any], *args: Any, platform: str, retries: int = 0,
                        **kwargs: Any) -> Any:
        """Start ``function(*args, **kwargs)`` on a node of ``platform``, alone on it; the result's ObjectRef.

        It waits for a free node of the platform; ``retries``: how many times Ray runs it again on another
        node of the platform when its node dies (never when the function itself raises)."""
        remote = self._ray.remote(function).options(num_cpus=0, resources={platform_resource(platform): 1.0},
                                                    max_retries=retries, retry_exceptions=False)
        return remote.remote(*args, **kwargs)

    def actor_on(self, cls: type, node: FarmNode, *args: Any) -> Any:
        """An actor of ``cls`` on ``node`` (and nowhere else), holding the node's measuring slot while it lives."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        actor = self._ray.remote(cls).options(num_cpus=0, resources=node.slot, max_restarts=0,
                                              scheduling_strategy=NodeAffinitySchedulingStrategy(node.node_id,
                                                                                                 soft=False))
        return actor.remote(*args)

    def result(self, ref: Any, what: str, timeout_s: float | None = None) -> Any:
        """``ray.get(ref)``, Ray's failures as one-line errors naming ``what`` was running."""
        return self.results([ref], what, timeout_s)[0]

    def results(self, refs: list[Any], what: str, timeout_s: float | None = None) -> list[Any]:
        exceptions = self._ray.exceptions
        try:
            return self._ray.get(refs, timeout=timeout_s)
        except exceptions.GetTimeoutError:
            raise RequestError(what, f"gave no result within {timeout_s:g} s",
                               "check the nodes (ray status) or allow more time with --timeout=<seconds>") from None
        except exceptions.RayTaskError as err:  # the function itself raised on the node
            cause = err.cause if isinstance(getattr(err, "cause", None), BaseException) else None
            if isinstance(cause, RequestError):
                raise RequestError(what, cause.why, cause.fix) from None
            raise RequestError(what, f"failed on its node ({_first_line(cause or err)})",
                               "run it on its own to see why") from None
        except (exceptions.RayActorError, exceptions.NodeDiedError, exceptions.WorkerCrashedError,
                exceptions.ObjectLostError, exceptions.OwnerDiedError) as err:
            raise NodeLost(what, f"its node died or left the cluster ({type(err).__name__})",
                           "nothing was recorded: check the node (ray status) and run again") from None


def connect(address: str) -> Connection:
    """Connect to the cluster at ``address`` (``<ip>:<port>`` of its head, or ``auto``: the one this machine joined)."""
    if not address:
        raise RequestError("--ray", "needs the address of a Ray cluster",
                           "pass --ray=<head ip>:<port> or --ray=auto")
    return Connection(address)


def _check_reachable(address: str) -> None:
    """A head that does not answer is named at once (Ray itself retries for a minute, printing as it goes)."""
    if address == "auto":
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise RequestError(f"--ray={address}", "is not <host>:<port> or auto", "pass e.g. --ray=192.168.1.2:6379")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as err:
        raise RequestError(f"--ray={address}", f"no Ray cluster answers there ({err.strerror or err})",
                           "start one (docs/FARM.md), pass its head's <ip>:<port> or auto, "
                           "or leave --ray out to run on a local cluster") from None


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__
