"""`ck explore --ray=`: a sweep across a real 3-node Ray cluster on loopback, one node killed mid-trial.

Each node has a CK world of its own (its CK_REPOS and CK_TOOLS, this repository registered): the
trial's dependencies are installed there by the node's CK. MobileNet-v1 0.25/128 with synthetic
weights keeps each trial to seconds."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import psutil
import pytest

from ckrequest.farm.local import LocalCluster
from ckrequest.results.reader import ResultPoint, read_entry

from conftest import CkWorld, make_world

MODEL = ["mobilenet-v1", "synthetic", "multiplier-0.25", "resolution-128"]
BATCHES = [1, 2, 4]
PLATFORMS = ["explore-x", "explore-y", "explore-z"]  # explore-z: no node joined with it


def _space(path: Path) -> Path:
    path.write_text(json.dumps({
        "programs": ["request-onnxruntime-classification"], "models": [MODEL],
        "env": {"CK_REQUEST_BATCH_SIZE": BATCHES, "CK_REQUEST_MIN_DURATION_S": [0.3], "CK_REQUEST_WARMUP": [1]},
        "platforms": PLATFORMS, "objectives": ["latency_p50_s:min", "inference_throughput:max"]}))
    return path


def _benchmark_of(world: CkWorld) -> psutil.Process | None:
    """A `ck benchmark` a node runs in this CK world (a trial in progress there)."""
    for process in psutil.process_iter(["cmdline"]):
        try:
            if "benchmark" in (process.info["cmdline"] or []) and \
                    process.environ().get("CK_TOOLS") == str(world.tools):
                return process
        except psutil.Error:
            continue
    return None


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def _node_env(world: CkWorld) -> dict[str, str]:
    return {k: world.env[k] for k in ("CK_REPOS", "CK_TOOLS", "CK_REQUEST_CACHE_DIR")}


@pytest.mark.ray  # a cluster of its own: its nodes have CK worlds of their own
def test_a_sweep_across_three_nodes_records_every_trial_once_on_its_platform_when_a_node_dies(tmp_path) -> None:
    head, doomed_world, x_world, y_world = (make_world(_folder(tmp_path / name))
                                            for name in ("head", "node-x1", "node-x2", "node-y"))
    with pytest.raises(AssertionError, match=r"lists platforms \(explore-x, explore-y, explore-z\): its trials run "
                                             r"on the nodes of a Ray cluster \(pass --ray="):
        head.ck("explore", "request.asplos18", f"--space={_space(tmp_path / 'space.json')}", "--record_uoa=no-ray",
                "--quiet")
    with LocalCluster.start() as cluster:
        doomed = cluster.add_node("explore-x", 1, _node_env(doomed_world))
        cluster.add_node("explore-x", 1, _node_env(x_world))
        cluster.add_node("explore-y", 1, _node_env(y_world))
        proc = head.ck_started("explore", "request.asplos18", f"--space={tmp_path / 'space.json'}",
                               "--record_uoa=swept", f"--ray={cluster.address}", "--quiet")
        try:
            deadline = time.monotonic() + 300
            while _benchmark_of(doomed_world) is None:  # the doomed node is in the middle of a trial
                assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[0]
                time.sleep(0.2)
            time.sleep(1.0)
            cluster.kill_node(doomed)
            out, _ = proc.communicate(timeout=600)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, out
    assert "Traceback" not in out
    assert f"Ray cluster {cluster.address}: explore-x: 2 node(s), explore-y: 1 node(s), explore-z: 0 node(s)" in out
    entry = head.repos / "local" / "experiment" / "swept"
    trials = json.loads((entry / "explore.json").read_text())["trials"]
    stacks = [(t["stack"]["env"]["CK_REQUEST_BATCH_SIZE"], t["stack"]["platform"]) for t in trials]
    assert sorted(stacks) == sorted((str(b), p) for b in BATCHES for p in PLATFORMS)  # every stack once
    by_platform = {p: [t for t in trials if t["stack"]["platform"] == p] for p in PLATFORMS}
    assert all(t["status"] == "skipped" and "no live node of platform explore-z" in t["reason"]
               for t in by_platform["explore-z"])
    measured = by_platform["explore-x"] + by_platform["explore-y"]
    # the trial the killed node held ran again on the other explore-x node: nothing lost
    assert all(t["status"] == "measured" for t in measured), [t["reason"] for t in measured]
    x_nodes = {t["node"].split("Ray node ")[1].split(",")[0] for t in by_platform["explore-x"]}
    assert len(x_nodes) == 1, x_nodes  # the killed node finished no trial
    assert all(f"platform {t['stack']['platform']})" in t["node"] for t in measured)
    # recorded here, once per measured trial, each with the platform and host of the node it ran on
    points = {p.id: p for p in read_entry(entry, "local")[1] if isinstance(p, ResultPoint)}
    assert sorted(points) == sorted(t["point"] for t in measured)
    for trial in measured:
        point = points[trial["point"]]
        assert point.texts["node_platform"] == trial["stack"]["platform"]
        assert point.texts["cpu_name"] and point.texts["os_name"]  # the node's host, as its own CK described it
        assert trial["node"].startswith(f"{socket.gethostname()} (Ray node ")
        assert point.numbers["batch_size"] == int(trial["stack"]["env"]["CK_REQUEST_BATCH_SIZE"])
        assert (entry / "explore-logs" / f"trial-{trial['number']:04d}.log").read_text().startswith("# ran on ")
    # each node installed the model in its own CK_TOOLS; its scratch entries are gone
    for world in (x_world, y_world):
        assert list(world.tools.glob("model-onnx-mobilenet-v1-synthetic-*")), world.tools
        assert not list((world.repos / "local" / "experiment").glob("explore-trial-*"))
    assert not list(head.tools.glob("model-*"))  # nothing ran at the head


@pytest.mark.ray  # a cluster of its own
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_search_stopped_mid_trial_leaves_no_benchmark_running_on_the_node(tmp_path, sig) -> None:
    head, node_world = (make_world(_folder(tmp_path / name)) for name in ("head", "node"))
    space = json.loads(_space(tmp_path / "all.json").read_text())
    (tmp_path / "space.json").write_text(json.dumps({**space, "platforms": ["explore-x"]}))
    with LocalCluster.start() as cluster:
        node = cluster.add_node("explore-x", 1, _node_env(node_world))
        proc = head.ck_started("explore", "request.asplos18", f"--space={tmp_path / 'space.json'}",
                               "--record_uoa=stopped", f"--ray={cluster.address}", "--quiet")
        try:
            deadline = time.monotonic() + 300
            group: list[psutil.Process] = []
            while len(group) < 2:  # the node is in the middle of a trial: its `ck benchmark` runs a child
                assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[0]
                time.sleep(0.1)
                benchmark = _benchmark_of(node_world)
                try:
                    group = [benchmark, *benchmark.children(recursive=True)] if benchmark else []
                except psutil.Error:
                    group = []
            proc.send_signal(sig)
            proc.communicate(timeout=120)
            _, alive = psutil.wait_procs(group, timeout=60)
            running = _benchmark_of(node_world)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert node.alive  # the node stays: only the trial's work went
    assert not alive and running is None, [p.cmdline() for p in alive]
