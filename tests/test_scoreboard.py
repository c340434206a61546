"""`ck scoreboard request.asplos18` through the real `ck`, over our points and an original-layout results repo."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from ckrequest.board.pareto import brute_force_mask
from ckrequest.platforms.catalog import find_platform, load_platforms

from builders import our_point, record_synthetic_mobilenet, write_experiment, write_original_results, write_results_repo
from conftest import REPO_ROOT

RESULTS_ALIAS = "asplos18-like-results"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return write_original_results(tmp_path_factory.mktemp("results"))


def board(world, results, *flags: str) -> tuple[list[dict], str]:
    proc = world.ck("scoreboard", "request.asplos18", f"--results_repo={results}", "--format=json", *flags)
    return json.loads(proc.stdout), proc.stderr


def expected_front(points: list[dict], x: str, y: str, directions: list[str]) -> list[bool]:
    """By brute force: the points with both values (an accuracy only where it ranks: the same data set), never
    one MLPerf LoadGen judged INVALID."""
    accuracy = {x, y} & {"accuracy_top1", "accuracy_top5"}
    ranked = [p for p in points if p[x] is not None and p[y] is not None and (not accuracy or p["accuracy_ranked"])
              and not p["invalid"]]
    flags = dict(zip((p["id"] for p in ranked), brute_force_mask([[p[x], p[y]] for p in ranked], directions)))
    return [flags.get(p["id"], False) for p in points]


def test_json_has_one_point_per_original_point_with_unified_keys_and_the_frontier(ck_world, results):
    points, stderr = board(ck_world, results)
    originals = {p["point"]: p for p in points if p["repo"] == RESULTS_ALIAS}
    assert set(originals) == {"c1", "c8", "t1", "f1", "i1"}
    assert "skipped" in stderr and "broken-upload" in stderr and "ckp-x1.flat.json" in stderr
    assert [p["pareto"] for p in points] == expected_front(points, "inference_latency", "accuracy_top1",
                                                           ["min", "max"])
    t1, c1, c8, i1, f1 = (originals[k] for k in ("t1", "c1", "c8", "i1", "f1"))
    assert t1["inference_latency"] == 0.10 and t1["statistical_repetitions"] == 3 and t1["platform"] == "hikey960"
    assert t1["plat_name"] == "HiKey960 (HiKey960)" and t1["model_arch"] == "mobilenet-v1"
    assert (c1["usage_cost"], c1["usage_cost_per_hour"], c1["platform"]) == (1.7e-6, 0.19, "google-cloud-n1-standard-4")
    assert c8["inference_latency"] is None and c8["inference_throughput"] == 36.4
    assert i1["accuracy_top1"] is None and i1["platform_price"] == 200 and i1["platform"] == "raspberry-pi-3-model-b"
    assert f1["platform_species"] == "fpga" and f1["validated"] is True
    for key in ("prediction_time_avg_s", "accuracy_top5", "model_size", "freq", "platform_peak_power", "deps"):
        assert key in t1


@pytest.mark.parametrize("flags, entries", [
    (("--precision=int8",), {"validated-caffe-resnet50-int8", "validated-tvm-fpga-resnet18"}),
    (("--tags=request,tensorflow",), {"validated-mobilenets-tensorflow"}),
    (("--model=alexnet",), {"validated-iot-farm-alexnet"}),
    (("--library=caffe", "--platform=google"), {"validated-caffe-resnet50-int8"}),
])
def test_filters_choose_the_points(ck_world, results, flags, entries):
    points, _ = board(ck_world, results, *flags)
    assert {p["entry"] for p in points if p["repo"] == RESULTS_ALIAS} == entries
    assert len(points) < len(board(ck_world, results)[0])


def test_other_axes_give_their_own_frontier(ck_world, results):
    points, _ = board(ck_world, results, "--x=inference_throughput", "--y=platform_price")
    assert [p["pareto"] for p in points] == expected_front(points, "inference_throughput", "platform_price",
                                                           ["max", "min"])
    assert any(p["pareto"] for p in points if p["repo"] == RESULTS_ALIAS)
    reversed_y, _ = board(ck_world, results, "--x=inference_throughput", "--y=platform_price:max")
    assert [p["pareto"] for p in reversed_y] == expected_front(reversed_y, "inference_throughput",
                                                               "platform_price", ["max", "max"])


def test_table_marks_the_frontier_and_csv_goes_to_a_file(ck_world, results, tmp_path):
    table = ck_world.ck("scoreboard", "request.asplos18", f"--results_repo={results}", "--library=caffe").stdout
    row = next(line for line in table.splitlines() if line.startswith("validated-caffe-resnet50-int8 "))
    assert " * " in row and "google-cloud-n1-standard-4" in row and "70.4%" in row
    assert "1 of 1 ranked point(s); 1 lack one of the two" in table
    out = tmp_path / "board.csv"
    proc = ck_world.ck("scoreboard", "request.asplos18", f"--results_repo={results}", "--library=caffe",
                       "--format=csv", f"--output={out}")
    assert f"wrote 2 point(s) (1 on the frontier) to {out}" in proc.stdout
    rows = list(csv.DictReader(out.open()))
    assert {r["point"]: r["pareto"] for r in rows} == {"c1": "True", "c8": "False"}
    assert rows[0]["inference_latency"] and "BVLC Caffe framework" in rows[0]["deps"]


@pytest.mark.parametrize("flag, words", [
    ("--x=speed", "--x=speed: is not a unified result key (use one of: inference_latency,"),
    ("--y=accuracy_top1:best", "direction 'best' is neither min nor max"),
    ("--format=xml", "--format=xml: is not a known format (use one of: table, csv, json)"),
    ("--results_repo=/nonexistent/results", "--results_repo=/nonexistent/results: is not a folder"),
])
def test_bad_flags_exit_non_zero_with_one_line_and_write_nothing(ck_world, tmp_path, flag, words):
    out = tmp_path / "never.json"
    proc = ck_world.ck("scoreboard", "request.asplos18", flag, f"--output={out}", check=False)
    assert proc.returncode != 0
    (line,) = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert words in line
    assert not out.exists()


def test_a_results_repo_without_experiments_is_refused(ck_world, tmp_path):
    proc = ck_world.ck("scoreboard", "request.asplos18", f"--results_repo={tmp_path}", check=False)
    assert proc.returncode != 0 and "has no experiment/ folder" in proc.stdout + proc.stderr


def test_our_recorded_point_and_the_originals_share_one_board(ck_world, results):
    record_synthetic_mobilenet(ck_world, "board-mobilenet-synthetic")
    points, _ = board(ck_world, results)
    (ours,) = [p for p in points if p["entry"] == "board-mobilenet-synthetic"]
    assert ours["synthetic"] and ours["accuracy_top1"] is None and ours["library_name"].startswith("onnxruntime")
    assert ours["inference_latency"] > 0 and ours["statistical_repetitions"] == 3 and not ours["pareto"]
    platforms, _ = load_platforms([REPO_ROOT])
    expected = find_platform(platforms, ours["cpu_name"], ours["plat_name"], ours["cpu_threads"])
    assert ours["platform"] == (expected.alias if expected else "")
    if expected is not None and expected.cloud_usd_per_hour is not None:
        assert ours["usage_cost"] > 0 and "usage_cost" in ours["nominal"]
    assert {p["repo"] for p in points} >= {"local", RESULTS_ALIAS}
    table = ck_world.ck("scoreboard", "request.asplos18", f"--results_repo={results}").stdout
    assert "board-mobilenet-synthetic" in table and "synthetic weights: speed only, no accuracy" in table


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A contributed results repository whose names try formulas and terminal escapes, and a measured 0 %."""
    repo = write_results_repo(tmp_path_factory.mktemp("hostile"), "hostile-results")
    names = {"model_design_name": "=HYPERLINK(\"http://x\")", "library_name": "+lib\x1b[2J\x1b[31m 1.0",
             "cpu_name": "@cpu\r-overwritten", "model_precision": "fp32"}
    write_experiment(repo, "-cmd|calc", {"p0": our_point(top1=0.0, cpu_name=names["cpu_name"],
                                                         design_name=names["model_design_name"],
                                                         library=names["library_name"], **{
        "##characteristics#run#accuracy_images#all": [3, 3, 3],
        "##characteristics#run#accuracy_top1_correct#all": [0, 0, 0]})})
    return repo


def test_csv_cells_never_start_a_formula(ck_world, hostile, tmp_path):
    out = tmp_path / "board.csv"
    ck_world.ck("scoreboard", "request.asplos18", f"--results_repo={hostile}", "--format=csv", f"--output={out}")
    rows = list(csv.DictReader(out.open()))
    [row] = [r for r in rows if r["repo"] == "'hostile-results" or r["repo"] == "hostile-results"]
    for cell in row.values():
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert row["entry"] == "'-cmd|calc" and row["model_design_name"].startswith("'=HYPERLINK")
    assert row["accuracy_top1"] == "0.0"  # a number stays a number


def test_table_strips_control_characters_and_shows_a_measured_zero(ck_world, hostile):
    proc = ck_world.ck("scoreboard", "request.asplos18", f"--results_repo={hostile}")
    line = next(x for x in proc.stdout.splitlines() if "-cmd|calc" in x)
    assert "\x1b" not in proc.stdout and "\r" not in proc.stdout
    assert " 0%" in line  # measured on 3 images: 0 %, not "not measured"
    points = json.loads(ck_world.ck("scoreboard", "request.asplos18", f"--results_repo={hostile}",
                                    "--format=json").stdout)
    [ours] = [p for p in points if p["entry"] == "-cmd|calc"]
    assert ours["accuracy_top1"] == 0.0


def a_platform_of_this_host(repo):
    """A request.platform entry in a results repository that matches this host (whatever its CPU), with a peak."""
    import re

    from ckrequest.run.host import describe_host

    host = describe_host()
    meta = {"name": "this test's host", "species": "server", "nominal": True,
            "match": {"cpu_name": "^" + re.escape(host.cpu_name) + "$", "logical_cpus": host.logical_cpus},
            "peak_flops": {"fp32": 1e11, "int8": 4e11}, "tags": ["request-platform"]}
    folder = repo / "request.platform" / "zz-this-test-host" / ".cm"
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text(json.dumps(meta))


def test_our_resnet50_and_the_originals_resnet50_share_one_model_filter(ck_world, tmp_path):
    """Recorded by `ck benchmark`: model_macs, the backend's configuration, percent_of_peak; --model groups."""
    originals = write_original_results(tmp_path / "originals")
    a_platform_of_this_host(originals)
    ck_world.ck("benchmark", "program:request-onnxruntime-classification", "--quiet",
                "--dep_add_tags.model=resnet-50,synthetic", "--env.CK_REQUEST_MIN_QUERIES=10",
                "--env.CK_REQUEST_MIN_DURATION_S=0.1", "--repetitions=1", "--record", "--record_uoa=board-resnet50")
    points = json.loads(ck_world.ck("scoreboard", "request.asplos18", f"--results_repo={originals}",
                                    "--model=resnet-50", "--format=json").stdout)
    by_entry = {p["entry"]: p for p in points}
    assert {"board-resnet50", "validated-caffe-resnet50-int8"} <= set(by_entry)
    assert {p["model_arch"] for p in points} == {"resnet-50"}
    ours = by_entry["board-resnet50"]
    assert ours["model_macs"] == pytest.approx(4.09e9, rel=0.01)
    assert ours["backend_graph_optimization"] == "ORT_ENABLE_ALL" and ours["platform"] == "zz-this-test-host"
    assert ours["percent_of_peak"] == pytest.approx(2 * ours["model_macs"] * ours["inference_throughput"] / 1e11)


def test_the_sample_photos_point_is_shown_with_its_4_images_but_never_tops_the_imagenet_frontier(ck_world, results):
    """The reference EfficientNet-Lite0 point (4/4 photos: 100 %) against ImageNet top-1s of 70 %."""
    points = json.loads(ck_world.ck("scoreboard", "request.asplos18", f"--results_repo={results}",
                                    "--format=json").stdout)
    photos = [p for p in points if p["accuracy_dataset"] == "sample-photos"]
    assert photos and all(p["accuracy_top1"] == 1.0 and p["accuracy_images"] == 4 for p in photos)
    assert not any(p["pareto"] for p in photos)
    assert all(p["accuracy_dataset"] == "imagenet" for p in points if p["pareto"])
    table = ck_world.ck("scoreboard", "request.asplos18", f"--results_repo={results}").stdout
    assert "† top-1/top-5 on 4 images of sample-photos: shown, not ranked with imagenet" in table
    own = json.loads(ck_world.ck("scoreboard", "request.asplos18", "--dataset=sample-photos", "--format=json").stdout)
    assert own and {p["dataset_species"] for p in own} == {"sample-photos"}
    assert {p["accuracy_dataset"] for p in own if p["accuracy_top1"] is not None} == {"sample-photos"}
    assert any(p["pareto"] for p in own)  # ranked among themselves


@pytest.mark.parametrize("command", ["scoreboard", "dashboard"])
@pytest.mark.parametrize("output, words", [
    ("/proc/x.csv", "--output=/proc/x.csv: cannot be written (No such file or directory)"),
    ("{tmp}", "is a folder (name a file in it"),
    ("/nonexistent-ckr/dir/x.csv", "its folder /nonexistent-ckr/dir does not exist (create it first"),
])
def test_an_output_that_cannot_be_written_is_one_line_and_makes_no_folder(ck_world, results, tmp_path, command,
                                                                           output, words):
    output = output.format(tmp=tmp_path)
    proc = ck_world.ck(command, "request.asplos18", f"--results_repo={results}", f"--output={output}", check=False)
    assert proc.returncode != 0
    (line,) = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip() and "skipped" not in line]
    assert words in line and "Traceback" not in proc.stderr
    assert not Path("/nonexistent-ckr").exists() and list(tmp_path.iterdir()) == []


def test_a_png_into_a_missing_folder_is_refused_before_the_page_is_written(ck_world, results, tmp_path):
    page = tmp_path / "board.html"
    proc = ck_world.ck("dashboard", "request.asplos18", f"--results_repo={results}", f"--output={page}",
                       f"--png={tmp_path}/no/such/board.png", check=False)
    assert proc.returncode != 0 and "does not exist" in proc.stdout + proc.stderr
    assert not page.exists() and not (tmp_path / "no").exists()


@pytest.mark.parametrize("flag, words", [
    ("--dataset=nope", "--dataset=nope: unknown dataset 'nope': no recorded point has it (known: imagenet"),
    ("--entry=validated-caffe-resnet50-int9", "unknown entry 'validated-caffe-resnet50-int9'"),
    ("--library=nope", "--library=nope: unknown library 'nope'"),
    ("--platform=nope", "--platform=nope: unknown platform 'nope'"),
    ("--model=nope", "--model=nope: unknown model 'nope'"),
    ("--precision=fp64", "(known: fp32, int8"),
    ("--tags=request,nope", "--tags=request,nope: unknown tags 'nope'"),
])
def test_a_filter_value_no_point_has_is_named_unknown(ck_world, results, tmp_path, flag, words):
    out = tmp_path / "board.json"
    proc = ck_world.ck("scoreboard", "request.asplos18", f"--results_repo={results}", flag, f"--output={out}",
                       check=False)
    assert proc.returncode != 0
    (line,) = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip() and "skipped" not in line]
    assert words in line
    if flag.startswith("--entry"):
        assert "validated-caffe-resnet50-int8" in line
    assert not out.exists()
