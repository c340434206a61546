"""Platform descriptions: the entries this repository contributes, matching, and derived figures."""

from __future__ import annotations

import json

import pytest

from ckrequest.platforms.catalog import Platform, attach_platforms, describe_host, find_platform, load_platforms
from ckrequest.results.reader import ResultPoint, iter_points
from ckrequest.run.host import PlatformInfo

from builders import original_meta, original_point, our_point, write_experiment
from conftest import REPO_ROOT

CLOUD = Platform(alias="test-cloud", name="Test cloud VM", species="server", cloud_usd_per_hour=1.8,
                 peak_flops={"fp32": 4e11}, nominal=True, match={"cpu_name": "^Test CPU$", "logical_cpus": 2})


def points_of(repo) -> list[ResultPoint]:
    return [p for p in iter_points(repo, "test") if isinstance(p, ResultPoint)]


def test_contributed_descriptions_load_and_describe_the_original_platforms():
    platforms, skipped = load_platforms([REPO_ROOT])
    assert skipped == []
    by_alias = {p.alias: p for p in platforms}
    assert {"cloud-vm-2vcpu-intel-xeon", "cloud-vm-2vcpu-amd-epyc", "azure-d4-v2", "google-cloud-n1-standard-4",
            "firefly-rk3399", "hikey960", "raspberry-pi-3-model-b", "xilinx-pynq-z1"} <= set(by_alias)
    assert by_alias["cloud-vm-2vcpu-intel-xeon"].nominal and by_alias["cloud-vm-2vcpu-intel-xeon"].peak_flops["fp32"]
    assert not by_alias["hikey960"].nominal and by_alias["hikey960"].price_usd == 239
    assert find_platform(platforms, "0x41-8-0x0-0xd03-4", "HiKey960 (HiKey960)").alias == "hikey960"
    assert find_platform(platforms, "Intel(R) Xeon(R) CPU", "Google (Google Compute Engine)").alias == \
        "google-cloud-n1-standard-4"
    assert find_platform(platforms, "Intel(R) Xeon(R) Processor", "unknown platform", 2).alias == \
        "cloud-vm-2vcpu-intel-xeon"
    assert find_platform(platforms, "Intel(R) Xeon(R) Processor", "unknown platform", 64) is None


def test_real_ck_lists_loads_and_detects_platforms(ck_world):
    listed = ck_world.ck("list", "request.platform").stdout.split()
    assert "hikey960" in listed and "cloud-vm-2vcpu-intel-xeon" in listed
    loaded = json.loads(ck_world.ck("load", "request.platform:xilinx-pynq-z1", "--out=json").stdout)
    assert loaded["dict"]["species"] == "fpga" and loaded["dict"]["peak_power_w"] == 2.5
    detected = json.loads(ck_world.ck("detect", "request.platform", "--format=json").stdout)
    platforms, _ = load_platforms([REPO_ROOT])
    host = PlatformInfo(**detected["host"])
    expected = describe_host(host, platforms)
    assert detected["platform"]["alias"] == expected.alias
    assert detected["platform"]["nominal"] == expected.nominal


def test_an_unknown_host_gets_a_nominal_description():
    host = PlatformInfo(cpu_name="Mystery CPU 9000", plat_name="garage", os_name="x", machine="x86_64",
                        logical_cpus=3, physical_cpus=3, memory_bytes=1)
    platform = describe_host(host, [CLOUD])
    assert platform.alias == "this-host" and platform.nominal and "Mystery CPU 9000" in platform.name


def test_cloud_cost_and_share_of_peak_derived_from_a_nominal_platform(tmp_path):
    flat = our_point(cpu_name="Test CPU", latency_s=0.01, **{
        "##characteristics#run#prediction_time_avg_s#all": [0.02] * 3, "##features#model_macs#min": 1e9})
    write_experiment(tmp_path, "ours", {"p": flat})
    (point,) = attach_platforms(points_of(tmp_path), [CLOUD])
    assert point.platform == "test-cloud" and point.platform_species == "server"
    assert point.usage_cost_per_hour == 1.8
    assert point.usage_cost == pytest.approx(0.02 * 1.8 / 3600)
    assert point.percent_of_peak == pytest.approx(2 * 1e9 * 100 / 4e11)
    assert {"usage_cost", "usage_cost_per_hour", "percent_of_peak"} <= set(point.nominal)


def test_what_a_point_recorded_wins_over_its_platform(tmp_path):
    board = Platform(alias="rpi3", name="Raspberry Pi 3", price_usd=40, peak_power_w=5, match={"plat_name": "Pi 3"})
    meta = original_meta(plat_name="Raspberry Pi (Raspberry Pi 3 Model B)", platform_price=200,
                         platform_peak_power=25, usage_cost_per_hour=None)
    write_experiment(tmp_path, "farm", {"p": original_point([0.18, 0.18, 0.18], usage_cost=None)}, meta)
    write_experiment(tmp_path, "cloud", {"p": original_point([0.03] * 3, **{
        "##characteristics#run#usage_cost#all": [2e-5] * 3, "##characteristics#run#usage_cost_per_hour#min": 1.53})},
        original_meta(plat_name="Pi 3 lookalike"))
    farm, cloud = sorted(attach_platforms(points_of(tmp_path), [board]), key=lambda p: p.entry, reverse=True)
    assert (farm.platform, farm.platform_price, farm.platform_peak_power, farm.nominal) == ("rpi3", 200, 25, ())
    assert farm.usage_cost is None  # not a cloud point, no cloud price
    assert (cloud.usage_cost, cloud.usage_cost_per_hour) == (2e-5, 1.53)


@pytest.mark.parametrize("meta, words", [
    ({"species": "server"}, "has no 'name'"),
    ({"name": "x", "match": {"gpu": "y"}}, "unknown keys ['gpu']"),
    ({"name": "x", "match": {"cpu_name": "(unclosed"}}, "missing ), unterminated subpattern"),
    ({"name": "x", "price_usd": "cheap"}, "price_usd is not a number"),
])
def test_a_bad_platform_description_is_reported_by_name(tmp_path, meta, words):
    entry = tmp_path / "request.platform" / "broken" / ".cm"
    entry.mkdir(parents=True)
    (entry / "meta.json").write_text(json.dumps(meta))
    platforms, skipped = load_platforms([tmp_path])
    assert platforms == []
    (item,) = skipped
    assert item.path.name == "broken" and words in item.reason


def test_a_platform_contributed_with_ck_add_prices_the_points_that_ran_on_it(ck_world, tmp_path):
    description = {"dict": {"name": "Test board 7", "species": "embedded", "price_usd": 99, "price_date": "20261101",
                            "peak_power_w": 7, "nominal": False, "match": {"plat_name": "^Test Board 7$"}}}
    (tmp_path / "board.json").write_text(json.dumps(description))
    ck_world.ck("add", "local:request.platform:test-board-7", f"@{tmp_path / 'board.json'}", "--quiet")
    results = tmp_path / "results"
    (results / "experiment").mkdir(parents=True)
    meta = original_meta(plat_name="Test Board 7", platform_price=None, platform_peak_power=None)
    write_experiment(results, "on-test-board", {"p": original_point([0.2] * 3)}, meta)
    (point,) = json.loads(ck_world.ck("scoreboard", "request.asplos18", f"--results_repo={results}",
                                      "--platform=test-board-7", "--format=json").stdout)
    assert (point["platform"], point["platform_price"], point["platform_peak_power"]) == ("test-board-7", 99, 7)
