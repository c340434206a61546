"""The trials of `ck explore --ray=`: each one `ck benchmark` on a Ray node of its stack's platform.

A trial is a Ray task holding the slot of one node of the stack's platform (``request-platform:<name>``:
one measurement per node at a time). On the node it runs the same command a user would type there,

    ck benchmark program:<program> --dep_add_tags.model=<tags> --env.<VAR>=<value> ... --record --quiet

through the node's own CK (the same repository, the node's CK_REPOS and CK_TOOLS: it installs what
the trial needs there), recording into a scratch experiment entry of the node's. The point files come
back to the head and the scratch entry is removed; the head records the point into the exploration's
entry through its own CK (experiment ``add``: the same features, choices, characteristics and pipeline,
the node's host description among them, plus the node's platform), then its sidecar files
(predictions, per-query latencies, LoadGen logs). Nothing is written at the head before the whole
trial came back: a node that dies mid-trial leaves nothing half-written. Ray runs such a trial once
more on another node of the platform; when no node of the platform is left, or it dies again, the
trial is recorded as skipped with why.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import atomic
from ..errors import RequestError
from ..explore.search import TrialOutcome
from ..explore.space import Stack
from ..farm.cluster import Connection, NodeLost, assigned_platform
from ..farm.reaper import kill_sessions
from ..results.entry import META_FILE, PIPELINE_FILE, POINT_FILE
from . import kernel
from .explorer import ACCURACY_MODE, NODE_PLATFORM, CkTrials, Ran, why_it_failed

NODE_TIMEOUT_S = 3600.0  # one `ck benchmark` on a node (installs included)
LOG_CHARS = 200_000  # the end of a node's output kept in the trial's log
LIVENESS_CHECK_S = 2.0  # how often the head looks for trials whose platform has no live node left
ENTRY_FILES = (PIPELINE_FILE, str(META_FILE))  # of the scratch entry, besides its points
RETRIES = 1  # a trial whose node died runs once more on another node of its platform


def command_line(request: dict[str, Any]) -> list[str]:
    """``ck benchmark``'s flags for a trial request (CkTrials.request), its recording left to the node."""
    args = [f"program:{request['data_uoa']}"]
    for key, value in request.items():
        if key == "env":
            args += [f"--env.{name}={v}" for name, v in value.items()]
        elif key not in ("data_uoa", "record_uoa", "record_repo", "out"):
            args.append(f"--{key}={value}")
    return args


@dataclass(frozen=True)
class NodeRun:
    """One `ck benchmark` on a node: its exit code, the end of its output, the recorded entry's files."""

    returncode: int
    log: str
    files: dict[str, bytes] = field(default_factory=dict)  # name in the entry -> content


@dataclass(frozen=True)
class NodeTrial:
    runs: tuple[NodeRun, ...]
    host: str
    node_id: str
    platform: str

    @property
    def where(self) -> str:
        return f"{self.host} (Ray node {self.node_id[:12]}, platform {self.platform})"


def _ck(*args: str, cwd: str, timeout_s: float) -> subprocess.CompletedProcess:
    """`ck` in a process group of its own, which goes whole (the program it ran too, which would measure beside
    the next trial) on a timeout or when the trial is cancelled. A Ray worker that dies takes its descendants
    along itself (Ray's raylet is their subreaper)."""
    with subprocess.Popen([sys.executable, "-m", "ck", *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace", cwd=cwd, process_group=0) as proc:
        try:
            out, _ = proc.communicate(timeout=timeout_s)
        except BaseException as err:
            kill_sessions([proc.pid])
            out, _ = proc.communicate()
            if isinstance(err, subprocess.TimeoutExpired):
                raise subprocess.TimeoutExpired(proc.args, timeout_s, output=out) from None
            raise
        finally:
            if proc.returncode is not None:
                kill_sessions([proc.pid])  # whatever it left running in its group
    return subprocess.CompletedProcess(proc.args, proc.returncode, out)


def _entry_files(scratch: str, cwd: str) -> dict[str, bytes]:
    found = _ck("find", f"local:experiment:{scratch}", cwd=cwd, timeout_s=120)
    path = Path(found.stdout.strip().splitlines()[-1]) if found.returncode == 0 and found.stdout.strip() else None
    if path is None or not path.is_dir():
        return {}
    names = [p.name for p in path.glob("ckp-*")] + [n for n in ENTRY_FILES if (path / n).is_file()]
    return {name: (path / name).read_bytes() for name in names}


def trial_on_node(commands: list[list[str]], timeout_s: float = NODE_TIMEOUT_S) -> NodeTrial:
    """Runs on the node: each command as `ck benchmark` recorded into a scratch entry of the node's CK,
    whose files are returned and the entry removed. Stops at the first run that recorded nothing."""
    import ray

    runs = []
    with tempfile.TemporaryDirectory(prefix="ckr-trial-") as cwd:
        for args in commands:
            scratch = f"explore-trial-{uuid.uuid4().hex[:16]}"
            try:
                done = _ck("benchmark", *args, "--record_repo=local", f"--record_uoa={scratch}", cwd=cwd,
                           timeout_s=timeout_s)
                code, log = done.returncode, done.stdout
            except subprocess.TimeoutExpired as err:
                code, log = -1, f"{err.output or ''}\nck benchmark did not finish within {timeout_s:g} s"
            files = _entry_files(scratch, cwd)
            _ck("rm", f"local:experiment:{scratch}", "--force", cwd=cwd, timeout_s=120)
            runs.append(NodeRun(code, log[-LOG_CHARS:], files))
            if not any(POINT_FILE.match(name) for name in files):
                break
    return NodeTrial(tuple(runs), socket.gethostname(), ray.get_runtime_context().get_node_id(), assigned_platform())


def _json(files: dict[str, bytes], name: str) -> Any:
    return json.loads(files[name].decode()) if name in files else {}


def point_for_head(files: dict[str, bytes], node: NodeTrial) -> tuple[str, dict[str, Any]]:
    """The node's last recorded point in CK's experiment ``add`` form, with the node's platform in its meta
    (its host described by its own CK run: CPU, OS, memory; its host name only in the trial's log, as
    contributed points carry none); (its UID on the node, the point)."""
    parts = {name: m for name, m in zip(files, map(POINT_FILE.match, files)) if m}
    uid = max(m["uid"] for m in parts.values())
    described = _json(files, f"ckp-{uid}.features.json")
    characteristics = [run for name, m in sorted(parts.items()) if m["uid"] == uid and m["part"].isdigit()
                       for run in _json(files, name).get("characteristics_list", [])]
    entry = _json(files, str(META_FILE))
    features = dict(described.get("features", {}))
    features["meta"] = {**features.get("meta", {}), NODE_PLATFORM: node.platform}
    pipeline = _json(files, PIPELINE_FILE)
    point = {"meta": entry.get("meta", {}), "tags": entry.get("tags", []), "features": features,
             "choices": described.get("choices", {}), "choices_order": described.get("choices_order", []),
             "characteristics_list": characteristics,
             **({"pipeline": pipeline} if pipeline else {}),
             **{k: entry[k] for k in ("pipeline_uoa", "pipeline_uid") if entry.get(k)}}
    return uid, point


@dataclass
class RayTrials:
    """A pool of trials on a Ray cluster (explore.search.TrialPool): ``width`` at a time, each recorded at the
    head by ``head`` (the exploration's entry) when it comes back."""

    connection: Connection
    head: CkTrials
    width: int
    timeout_s: float = NODE_TIMEOUT_S
    running: dict[Any, tuple[int, Stack, float]] = field(default_factory=dict)  # Ray's ref -> number, stack, start
    decided: list[tuple[int, TrialOutcome]] = field(default_factory=list)  # outcomes known without a node

    def submit(self, stack: Stack, number: int) -> None:
        if not self.connection.nodes((stack.platform,)):
            self.decided.append((number, TrialOutcome(
                skipped=f"no live node of platform {stack.platform} in the cluster (join one: ray start "
                        f"--address=<head> --resources='{{\"request-platform:{stack.platform}\": 1}}')")))
            return
        commands = [command_line(self.head.request(stack))]
        if self.head.runs_accuracy(stack):
            commands.append(command_line(self.head.request(stack, ACCURACY_MODE, repetitions=1)))
        ref = self.connection.run_on_platform(trial_on_node, commands, self.timeout_s, platform=stack.platform,
                                              retries=RETRIES)
        self.running[ref] = (number, stack, time.monotonic())

    def next_done(self) -> tuple[int, TrialOutcome]:
        ray = self.connection.ray
        while not self.decided:
            ready, _ = ray.wait(list(self.running), num_returns=1, timeout=LIVENESS_CHECK_S)
            if ready:
                number, stack, t0 = self.running.pop(ready[0])
                return number, self._came_back(ready[0], number, stack, t0)
            self._give_up_orphans()
        return self.decided.pop(0)

    def _give_up_orphans(self) -> None:
        """Trials waiting for a platform none of whose nodes is alive any more (the one they ran on died)."""
        alive = {p for node in self.connection.nodes() for p in node.platforms}
        for ref, (number, stack, t0) in list(self.running.items()):
            if stack.platform not in alive:
                self.connection.ray.cancel(ref, force=True)
                del self.running[ref]
                self.decided.append((number, TrialOutcome(
                    skipped=f"its node died mid-trial and no other node of platform {stack.platform} is alive to "
                            "run it again; nothing was recorded", seconds=time.monotonic() - t0)))

    def _came_back(self, ref: Any, number: int, stack: Stack, t0: float) -> TrialOutcome:
        try:
            node = self.connection.result(ref, f"trial {number}")
        except NodeLost:
            return TrialOutcome(skipped=f"its node died mid-trial, and again on the node it was re-queued to "
                                        f"(platform {stack.platform}); nothing was recorded",
                                seconds=time.monotonic() - t0)
        except RequestError as err:
            return TrialOutcome(skipped=err.line(), seconds=time.monotonic() - t0)
        ran = [self._record(run, node, number, accuracy=k > 0) for k, run in enumerate(node.runs)]
        accuracy = ran[1] if len(ran) > 1 else \
            ((None, "not run: the performance run recorded nothing") if self.head.runs_accuracy(stack) else None)
        return self.head.settle(ran[0], accuracy, time.monotonic() - t0, node.where)

    def _record(self, run: NodeRun, node: NodeTrial, number: int, accuracy: bool) -> Ran:
        """The node's log kept at the head, then its point recorded into the exploration's entry."""
        log = self.head.log_path(number, accuracy)
        atomic.write_text(log, f"# ran on {node.where}\n{run.log}")
        if not any(POINT_FILE.match(name) for name in run.files):
            return None, f"{why_it_failed(run.log)} on {node.where} (log: {log})"
        node_uid, point = point_for_head(run.files, node)
        _, uid = kernel.add_point(self.head.record_repo or "local", self.head.record_uoa, point)
        for name, content in run.files.items():  # the sidecars: everything of the point CK did not write
            if name.startswith(f"ckp-{node_uid}.") and not POINT_FILE.match(name):
                atomic.write_bytes(self.head.entry / name.replace(node_uid, uid, 1), content)
        return self.head.read_point(uid), ""


def cluster_width(connection: Connection, platforms: tuple[str, ...]) -> int:
    """How many trials run at once: one per live node of these platforms."""
    return max(1, len(connection.nodes(platforms)))


def describe_cluster(connection: Connection, platforms: tuple[str, ...]) -> str:
    by_platform = connection.platforms()
    parts = [f"{p}: {len(by_platform.get(p, []))} node(s)" + ("" if by_platform.get(p) else " (its stacks skipped)")
             for p in platforms]
    return f"Ray cluster {connection.address}: " + ", ".join(parts)

