"""Device farms on a real Ray cluster on loopback (the session's `ray_cluster`: nodes test-a and test-b).

MobileNet-v1 0.25/128 with synthetic weights keeps each run to seconds; `ck farm` is typed as a user
types it, with --ray= the test cluster's head."""

from __future__ import annotations

import ipaddress
import json
import re
import select
import subprocess
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from ckrequest.errors import ERROR_PREFIX, RequestError
from ckrequest.farm.cluster import connect
from ckrequest.farm.pipeline import FarmRequest, choose_nodes, run_farm, softmax
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
                       "--record_uoa=farm-mobilenet-2", *SHORT)
    assert "recorded experiment:local:farm-mobilenet-2" in done.stdout
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
    done = ck_world.ck("farm", "request.asplos18", *MOBILENET, "--stages=1", "--record_uoa=farm-local", *SHORT)
    (folder,) = re.findall(r"started a local Ray cluster: 1 node\(s\) of \d+ CPU\(s\) on loopback, in (\S+),",
                           done.stdout)
    assert "Ray farm: 1 node (pipeline)" in done.stdout and "recorded experiment:local:farm-local" in done.stdout
    assert not Path(folder).exists()
    running = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert folder not in running  # no process of that cluster is left
