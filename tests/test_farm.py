"""Device farms on a real Ray cluster on loopback (the session's `ray_cluster`: nodes test-a and test-b).

MobileNet-v1 0.25/128 with synthetic weights keeps each run to seconds; `ck farm` is typed as a user
types it, with --ray= the test cluster's head."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import select
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import psutil
import pytest

from ckrequest.errors import ERROR_PREFIX, RequestError
from ckrequest.farm.cluster import connect
from ckrequest.farm.local import local_cpus
from ckrequest.farm.pipeline import FarmRequest, choose_nodes, run_farm, softmax
from ckrequest.results.reader import ResultPoint, read_entry
from ckrequest.zoo.calibration import photo_set
from ckrequest.zoo.canonical import ModelSpec, canonical_onnx

from builders import original_meta, original_point, write_experiment, write_results_repo

MOBILENET = ("--model=mobilenet-v1", "--multiplier=0.25", "--resolution=128")
SHORT = ("--images=8", "--latency_queries=3", "--repetitions=2")
RPI_FARM = "RPi farm: 5 devices (Avro)"


def test_nodes_have_their_platforms_on_loopback_and_take_one_measurement_at_a_time(ray_cluster) -> None:
    def _busy(seconds: float) -> tuple[float, float, str]:  # defined here: Ray sends it by value, not by module
        import ray

        start = time.time()
        time.sleep(seconds)
        return start, time.time(), ray.get_runtime_context().get_node_id()

    with connect(ray_cluster.address) as cluster:
        nodes = cluster.nodes()
        assert [n.platform for n in nodes] == ["test-a", "test-b"] and all(n.cpus == 1 for n in nodes)
        every = cluster.ray.nodes()  # the head too: every node of the cluster listens on loopback
        assert all(ipaddress.ip_address(n["NodeManagerAddress"]).is_loopback for n in every), every
        assert ipaddress.ip_address(ray_cluster.address.split(":")[0]).is_loopback
        refs = [cluster.run_on_platform(_busy, 0.4, platform="test-b") for _ in range(2)]
        (start1, end1, node1), (start2, _, node2) = sorted(cluster.results(refs, "two measurements", 60))
        with pytest.raises(RequestError, match="needs 3 measuring nodes of platform test-a and the cluster has 1"):
            choose_nodes(cluster, FarmRequest(ModelSpec("alexnet", "synthetic"), 3, platforms=("test-a",)))
    test_b = next(n.node_id for n in nodes if n.platform == "test-b")
    assert node1 == node2 == test_b
    assert start2 >= end1  # the second waited for the node: measurements never share a machine


def test_a_two_stage_pipeline_gives_the_outputs_of_the_whole_model_in_one_process(ray_cluster, tmp_path) -> None:
    spec = ModelSpec("mobilenet-v1", "synthetic", 0.25, 128)
    canonical = canonical_onnx(spec, cache_dir=tmp_path)
    request = FarmRequest(spec, 2, images=8, latency_queries=2, repetitions=1)
    with connect(ray_cluster.address) as cluster:
        result, outputs = run_farm(cluster, request, say=lambda line: None, canonical=canonical)
    session = ort.InferenceSession(str(canonical.path), providers=["CPUExecutionProvider"])
    photos = photo_set(canonical.preprocessing).inputs
    expected = [session.run(None, {"input": photos[k % len(photos)][None]})[0] for k in range(2, 10)]
    farm = [o["logits"] for o in outputs]
    assert len(farm) == 8
    assert max(float(np.abs(softmax(a) - softmax(b)).max()) for a, b in zip(farm, expected)) <= 1e-5
    assert [int(a.argmax()) for a in farm] == [int(b.argmax()) for b in expected]
    assert [s.node.platform for s in result.stages] == ["test-a", "test-b"]  # one stage per node
    # what stage 1 hands on: MobileNet-v1 0.25/128 cut at its 8x8x128 feature map (float32)
    assert result.bytes_between_stages == result.stages[0].output_bytes == 8 * 8 * 128 * 4
    assert result.farm_name == "Ray farm: 2 nodes/1 host (pipeline)"


def test_ck_farm_records_a_point_shown_beside_the_original_rpi_farm(ray_cluster, ck_world, tmp_path) -> None:
    done = ck_world.ck("farm", "request.asplos18", *MOBILENET, "--stages=2", f"--ray={ray_cluster.address}",
                       "--record_uoa=farm-mobilenet-2", "--images=8", "--latency_queries=10", "--repetitions=2")
    assert "recorded experiment:local:farm-mobilenet-2" in done.stdout
    (point,) = [p for p in read_entry(ck_world.repos / "local" / "experiment" / "farm-mobilenet-2", "local")[1]
                if isinstance(p, ResultPoint)]
    # summarised as every benchmark is (run/stats.py): the spread kept, p90 from 10 queries, p99 not from 10
    assert point.numbers["latency_stdev_s"] >= 0 and point.numbers["query_count"] == 10
    assert point.numbers["latency_p50_s"] <= point.numbers["latency_p90_s"] <= point.numbers["latency_max_s"]
    assert "latency_p99_s" not in point.numbers
    originals = write_results_repo(tmp_path / "originals")
    write_experiment(originals, "validated-ck-request-asplos18-iot-farm-benchmark-alexnet-farm-5-nodes",
                     {"i1": original_point([0.175, 0.184, 0.197], throughput=[5.72, 5.44, 5.09], top1=0.0)},
                     original_meta(farm=RPI_FARM, plat_name="Raspberry Pi (Raspberry Pi 3 Model B)",
                                   model_design_name="AlexNet (authors' implementation)",
                                   library_name="TensorFlow library 1.5", platform_species="embedded"))
    board = ck_world.ck("scoreboard", "request.asplos18", f"--results_repo={originals}", "--format=json")
    points = {p["farm"]: p for p in json.loads(board.stdout) if p["farm"]}
    ours, theirs = points["Ray farm: 2 nodes/1 host (pipeline)"], points[RPI_FARM]
    assert theirs["model_arch"] == "alexnet" and theirs["inference_throughput"] == pytest.approx(5.44)
    assert ours["entry"] == "farm-mobilenet-2" and ours["synthetic"] and ours["farm_nodes"] == 2
    assert ours["farm_bytes_between_stages"] == 8 * 8 * 128 * 4 and ours["farm_mode"] == "pipeline"
    assert ours["farm_softmax_max_diff"] <= 1e-5 and ours["inference_throughput"] > 0
    assert ours["statistical_repetitions"] == 2 and "ray 2." in ours["library_name"]
    table = ck_world.ck("scoreboard", "request.asplos18", f"--results_repo={originals}").stdout
    rows = [line for line in table.splitlines() if "farm:" in line]
    assert [("RPi farm" in r, "Ray farm" in r) for r in rows] in ([(True, False), (False, True)],
                                                                   [(False, True), (True, False)])


def _wait_for_line(proc, marker: str, timeout_s: float) -> str:
    seen, deadline = "", time.monotonic() + timeout_s
    while marker not in seen:
        assert proc.poll() is None and time.monotonic() < deadline, seen
        ready, _, _ = select.select([proc.stdout], [], [], 1.0)
        if ready:
            seen += proc.stdout.readline()
    return seen


def test_a_node_killed_mid_run_fails_the_farm_in_one_line_and_records_nothing(ray_cluster, ck_world) -> None:
    doomed = ray_cluster.add_node("test-doomed", 1)
    proc = ck_world.ck_started("farm", "request.asplos18", *MOBILENET, "--stages=1", "--platform=test-doomed",
                               f"--ray={ray_cluster.address}", "--record_uoa=farm-killed", "--images=100000",
                               "--repetitions=1", "--timeout=60")
    try:
        before = _wait_for_line(proc, "measuring", 120)
        time.sleep(0.5)  # mid-stream
        ray_cluster.kill_node(doomed)
        after, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0, before + after
    # ours: one error line; Ray may add a notice of its own (under load, the dead raylet's last log lines)
    errors = [line for line in after.splitlines() if line.startswith(("CK error:", ERROR_PREFIX))]
    assert len(errors) == 1 and "Traceback" not in after, after
    assert "stage 1 on test-doomed node" in errors[0] and "died mid-run" in errors[0], errors
    assert not (ck_world.repos / "local" / "experiment" / "farm-killed").exists()


@pytest.mark.ray  # it starts a cluster of its own
def test_ck_farm_without_ray_starts_a_local_cluster_and_stops_it(ck_world) -> None:
    done, watch = _watched(ck_world, "--stages=1", "--record_uoa=farm-local", *SHORT)
    (folder,) = re.findall(r"started a local Ray cluster: 1 node\(s\) of \d+ CPU\(s\) on loopback, in (\S+),",
                           done.stdout)
    assert "Ray head started in" in done.stdout and "Ray node 1 of 1 (local, " in done.stdout  # progress
    assert "Ray farm: 1 node (pipeline)" in done.stdout and "recorded experiment:local:farm-local" in done.stdout
    assert not Path(folder).exists()
    assert any("raylet" in line for line in watch.ray()) and not watch.alive()  # no process of the run is left


@pytest.mark.ray  # it starts a cluster of its own
def test_ck_farm_failing_after_its_local_cluster_started_stops_it(ck_world) -> None:
    done, watch = _watched(ck_world, "--stages=1", "--platform=nowhere", "--record_uoa=farm-failed", *SHORT)
    errors = [line for line in done.stdout.splitlines() if line.startswith(("CK error:", ERROR_PREFIX))]
    assert done.returncode != 0 and len(errors) == 1 and "Traceback" not in done.stdout, done.stdout
    assert "started a local Ray cluster:" in done.stdout and "of platform nowhere" in errors[0], errors
    assert any("raylet" in line for line in watch.ray()) and not watch.alive()
    assert not (ck_world.repos / "local" / "experiment" / "farm-failed").exists()


def _watched(world, *flags: str) -> tuple[subprocess.CompletedProcess, Descendants]:
    """`ck farm` on MobileNet with a local cluster, every process it started watched until it ended."""
    proc = world.ck_started("farm", "request.asplos18", *MOBILENET, *flags)
    watch = Descendants(proc)
    try:
        deadline = time.monotonic() + 600
        while proc.poll() is None and time.monotonic() < deadline:
            watch.poll()
            time.sleep(0.05)
        out, _ = proc.communicate(timeout=60)
        watch.alive_after_a_while()  # what dies of its own accord dies within seconds
    finally:
        if proc.poll() is None:
            proc.kill()
        watch.kill_all()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out), watch


class Descendants:
    """Every process ``root`` started, directly or not, seen by polling (with its session: Ray's workers lead
    process groups of their own, and a child whose parent died is no longer a descendant)."""

    def __init__(self, root: subprocess.Popen) -> None:
        self.root = psutil.Process(root.pid)
        self.seen: dict[tuple[int, float], list[str]] = {}  # (pid, creation time) -> command line
        self.sessions: set[int] = set()

    def poll(self) -> None:
        for process in self.root.children(recursive=True):
            try:
                key = (process.pid, process.create_time())
                self.seen.setdefault(key, process.cmdline())
                if os.getsid(process.pid) != os.getsid(0):  # a session of its own (not the one this test runs in)
                    self.sessions.add(os.getsid(process.pid))
            except (psutil.Error, ProcessLookupError):
                continue

    def ray(self) -> list[str]:
        return [" ".join(c) for c in self.seen.values() if any(RAY_MARK.search(part) for part in c)]

    def alive_after_a_while(self, seconds: float = 10.0) -> list[str]:
        """What of ours still runs once what dies of its own accord had ``seconds`` to die."""
        left = self.alive()
        deadline = time.monotonic() + seconds
        while left and time.monotonic() < deadline:
            time.sleep(0.5)
            left = self.alive()
        return left

    def alive(self) -> list[str]:
        """What of ours still runs: a process seen, or any process of a session one of ours led."""
        left = []
        for process in psutil.process_iter(["pid", "create_time", "cmdline"]):
            try:
                ours = (process.info["pid"], process.info["create_time"]) in self.seen or \
                    (os.getsid(process.pid) in self.sessions and process.pid != os.getpid())
                if ours and process.status() != psutil.STATUS_ZOMBIE:
                    left.append(f"{process.pid}: {' '.join(process.info['cmdline'] or [])[:160]}")
            except (psutil.Error, ProcessLookupError):
                continue
        return left

    def kill_all(self) -> None:
        """The test's own leftovers, so that a failing test leaves nothing running."""
        for line in self.alive():
            try:
                psutil.Process(int(line.split(":")[0])).kill()
            except psutil.Error:
                pass


RAY_MARK = re.compile(r"ray|raylet|gcs_server")


def until_exit_or_ray(ck_world, *args: str) -> tuple[subprocess.Popen, str, list]:
    """`ck <args>` run until it exits or starts a Ray process (then killed): the process, its output and the Ray
    processes among its descendants."""
    proc = ck_world.ck_started(*args)
    watch = Descendants(proc)
    try:
        deadline = time.monotonic() + 240
        while proc.poll() is None and time.monotonic() < deadline and not watch.ray():
            watch.poll()
            time.sleep(0.05)
        started = watch.ray()
    finally:
        if proc.poll() is None:
            proc.kill()
        out, _ = proc.communicate(timeout=60)
        watch.kill_all()
    return proc, out, started


def test_more_stages_than_the_model_has_is_refused_before_any_ray_node_starts(ck_world) -> None:
    started_at = time.monotonic()
    proc, out, started = until_exit_or_ray(ck_world, "farm", "request.asplos18", *MOBILENET, "--stages=99",
                                           "--record_uoa=farm-99")
    assert not started, started[:3]
    assert proc.returncode != 0 and time.monotonic() - started_at < 120, out  # seconds, not a cluster's start
    errors = [line for line in out.splitlines() if line.startswith(("CK error:", ERROR_PREFIX))]
    assert len(errors) == 1 and "Traceback" not in out, out
    (most,) = re.findall(r"can be cut in at most (\d+) stages", errors[0])
    assert 2 < int(most) < 99 and f"--stages={most} or fewer" in errors[0], errors
    assert not (ck_world.repos / "local" / "experiment" / "farm-99").exists()


def test_a_local_farm_larger_than_this_machine_is_refused_before_any_node_starts(ck_world) -> None:
    proc, out, started = until_exit_or_ray(ck_world, "farm", "request.asplos18", *MOBILENET, "--stages=4096",
                                           "--mode=data-parallel", "--record_uoa=farm-big")
    assert not started, started[:3]
    errors = [line for line in out.splitlines() if line.startswith(("CK error:", ERROR_PREFIX))]
    assert proc.returncode != 0 and len(errors) == 1 and "Traceback" not in out, out
    assert "--stages=4096" in errors[0] and "--ray=<address>" in errors[0], errors


@pytest.mark.ray  # it starts a cluster of its own
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=["SIGTERM", "SIGINT", "SIGKILL"])
def test_a_signal_while_the_local_cluster_starts_leaves_no_ray_process(ck_world, sig) -> None:
    proc = ck_world.ck_started("farm", "request.asplos18", *MOBILENET, f"--stages={min(2, local_cpus())}",
                               "--record_uoa=farm-signal", *SHORT)
    watch = Descendants(proc)
    try:
        deadline = time.monotonic() + 300
        # the head's Ray processes are up (its raylet), the worker nodes still to come
        while proc.poll() is None and time.monotonic() < deadline and \
                not any("raylet" in line for line in watch.ray()):
            watch.poll()
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()[0]
        for _ in range(10):  # what that node started meanwhile
            watch.poll()
            time.sleep(0.05)
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=180)
        roots = set(re.findall(r"--temp-dir=(\S+)", " ".join(watch.ray())))
        left = watch.alive_after_a_while()
    finally:
        if proc.poll() is None:
            proc.kill()
        watch.kill_all()
    assert roots and not left, left  # on SIGKILL, the nodes' watcher (farm/reaper.py) stopped them
    assert proc.returncode != 0, out
    assert not any(Path(root).exists() for root in roots), roots
    if sig == signal.SIGKILL:
        return
    assert "Traceback" not in out and "started a local Ray cluster:" not in out, out  # stopped while starting
    errors = [line for line in out.splitlines() if line.startswith(("CK error:", ERROR_PREFIX))]
    assert len(errors) == 1 and f"stopped by {signal.Signals(sig).name}" in errors[0], out
    assert not (ck_world.repos / "local" / "experiment" / "farm-signal").exists()


@pytest.mark.ray  # it starts a cluster of its own
def test_sigterm_while_the_farm_measures_stops_its_local_cluster(ck_world) -> None:
    proc = ck_world.ck_started("farm", "request.asplos18", *MOBILENET, "--stages=1", "--record_uoa=farm-mid-run",
                               "--images=100000", "--repetitions=1")
    watch = Descendants(proc)
    seen, deadline = "", time.monotonic() + 600
    try:
        while "measuring" not in seen:  # every node ready: the stream runs
            assert proc.poll() is None and time.monotonic() < deadline, seen
            watch.poll()
            if select.select([proc.stdout], [], [], 0.05)[0]:
                seen += proc.stdout.readline()
        for _ in range(10):
            watch.poll()
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=180)
        left = watch.alive_after_a_while()
    finally:
        if proc.poll() is None:
            proc.kill()
        watch.kill_all()
    assert not left, left
    errors = [line for line in out.splitlines() if line.startswith(("CK error:", ERROR_PREFIX))]
    assert proc.returncode != 0 and len(errors) == 1 and "stopped by SIGTERM" in errors[0], seen + out
    assert "Traceback" not in out and not (ck_world.repos / "local" / "experiment" / "farm-mid-run").exists()
