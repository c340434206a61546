"""`ck validate request.asplos18`: the noise-aware verdict, then the real command on recorded points."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckrequest.reproduce.validate import validate_points
from ckrequest.reproduce.verdict_stats import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    bootstrap_ratio_of_medians,
    judge_counts,
    judge_ratio,
    tolerance_fraction,
)
from ckrequest.results.entry import RecordedDependency, RecordedPoint

from conftest import REPO_ROOT

FAST = ("--quiet", "--env.CK_REQUEST_MIN_DURATION_S=0.2", "--repetitions=3")
SMALL = "--dep_add_tags.model=mobilenet-v1,multiplier-0.25,resolution-128,synthetic"
LARGE = "--dep_add_tags.model=mobilenet-v1,multiplier-1.0,resolution-224,synthetic"


# ---------------------------------------------------------------- the statistics


def test_tight_equal_runs_are_reproduced():
    verdict = judge_ratio([1.00, 1.01, 0.99], [1.005, 0.995, 1.0], tolerance=0.05)
    assert verdict.verdict == REPRODUCED
    assert verdict.interval.low <= 1.0 <= verdict.interval.high


def test_a_tenfold_change_is_not_reproduced_even_with_noisy_runs():
    verdict = judge_ratio([1.0, 1.3, 0.8], [10.0, 13.0, 8.0], tolerance=0.05)
    assert verdict.verdict == NOT_REPRODUCED
    assert verdict.interval.low > 1 + verdict.margin


def test_a_shift_within_the_run_to_run_spread_is_inconclusive():
    # both sides tight within themselves, but identical runs moved 40% apart on this machine
    original, reproduced = [0.485, 0.423, 0.360], [0.808, 0.542, 0.628]
    assert judge_ratio(original, reproduced, tolerance=0.05).verdict == INCONCLUSIVE


def test_load_of_other_processes_widens_the_margin():
    original, reproduced = [1.0, 1.01, 0.99], [2.6, 2.61, 2.59]
    assert judge_ratio(original, reproduced, 0.05).verdict == NOT_REPRODUCED
    assert judge_ratio(original, reproduced, 0.05, foreign_load_cores=2.0).verdict == INCONCLUSIVE


def test_two_sessions_apart_by_less_than_twice_are_never_called_a_change():
    """Seen on the development VM: an unchanged stack, both sides tight, 1.84x apart between sessions."""
    original, reproduced = [0.333, 0.331, 0.336], [0.575, 0.604, 0.688]
    queries = ([0.33 + k * 1e-5 for k in range(900)], [0.6 + k * 1e-5 for k in range(900)])
    verdict = judge_ratio(original, reproduced, 0.05, queries=queries)
    assert verdict.verdict == INCONCLUSIVE and verdict.interval.samples == "queries"
    assert verdict.interval.high - verdict.interval.low < 0.05  # precise: the medians did move


def test_fewer_than_three_repetitions_cannot_be_judged():
    verdict = judge_ratio([1.0], [5.0], tolerance=0.05)
    assert verdict.verdict == INCONCLUSIVE and "3 repetitions" in verdict.reason


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=1e-4, max_value=10.0), min_size=3, max_size=8))
def test_a_sample_compared_with_itself_is_never_a_change(values):
    assert judge_ratio(values, list(values), tolerance=0.05).verdict != NOT_REPRODUCED


def test_bootstrap_interval_brackets_the_ratio_and_is_deterministic():
    a, b = [1.0, 1.1, 0.9, 1.05], [2.0, 2.2, 1.8, 2.1]
    interval = bootstrap_ratio_of_medians(a, b)
    assert interval.low <= interval.ratio <= interval.high
    assert interval == bootstrap_ratio_of_medians(a, b)


def test_counts_are_exact():
    assert judge_counts([3, 3, 3], [3, 3, 3]).verdict == REPRODUCED
    assert judge_counts([3, 3, 3], [2, 2, 2]).verdict == NOT_REPRODUCED
    assert judge_counts([3, 2, 3], [3, 3, 3]).verdict == INCONCLUSIVE


@pytest.mark.parametrize("text, fraction", [("5", 0.05), ("2.5%", 0.025)])
def test_tolerance_is_a_percentage(text, fraction):
    assert tolerance_fraction(text) == pytest.approx(fraction)


@pytest.mark.parametrize("text", ["abc", "0", "150"])
def test_bad_tolerance_is_one_clear_error(text):
    with pytest.raises(Exception, match="is not a percentage between 0 and 100"):
        tolerance_fraction(text)


# ---------------------------------------------------------------- what each side ran


def point(name: str = "a", latency=(1.0, 1.01, 0.99), cpu: str = "Some CPU", library: str = "onnxruntime 1.32.0",
          sha: str = "a" * 64, correct=None) -> RecordedPoint:
    flat = {
        "##characteristics#run#inference_latency#all": list(latency),
        "##characteristics#run#latency_p50_s#all": list(latency),
        "##characteristics#run#latency_mean_s#all": list(latency),
        "##features#model_sha256#min": sha, "##features#batch_size#min": 1,
        "##features#meta#cpu_name#min": cpu, "##features#meta#cpu_threads#min": 2,
        "##features#meta#library_name#min": library, "##features#meta#dataset_species#min": "sample-photos",
    }
    if correct is not None:
        flat["##characteristics#run#accuracy_top1_correct#all"] = [correct] * 3
        flat["##characteristics#run#accuracy_images#all"] = [4] * 3
    return RecordedPoint(name, "0123456789abcdef", flat)


DEPS = {"lib": RecordedDependency("lib", "e1", "1.32.0", "lib,onnxruntime")}


def verdicts(validation) -> dict[str, str]:
    return {m.metric.name: m.verdict.verdict for m in validation.metrics}


def test_another_platform_makes_performance_inconclusive_with_the_reason():
    result = validate_points(point(), point(cpu="Other CPU", latency=(2, 2, 2)), DEPS, DEPS, 0.05)
    (latency,) = [m for m in result.metrics if m.metric.name == "inference_latency"]
    assert latency.verdict.verdict == INCONCLUSIVE
    assert "platform differs: cpu_name 'Some CPU' vs 'Other CPU'" in latency.verdict.reason
    assert result.as_meta()["platform_reproduced"]["cpu_name"] == "Other CPU"
    same = validate_points(point(), point(cpu="Other CPU"), DEPS, DEPS, 0.05)
    assert verdicts(same)["inference_latency"] == INCONCLUSIVE  # never REPRODUCED on another platform


def test_another_platform_never_hides_a_change_far_beyond_it():
    result = validate_points(point(), point(cpu="Other CPU", latency=(40, 40.5, 39.5)), DEPS, DEPS, 0.05)
    assert verdicts(result)["inference_latency"] == NOT_REPRODUCED
    assert result.verdict == NOT_REPRODUCED


def test_another_library_version_is_a_dependency_mismatch():
    other = {"lib": RecordedDependency("lib", "e2", "1.31.0", "lib,onnxruntime")}
    result = validate_points(point(), point(library="onnxruntime 1.31.0", latency=(1.5, 1.5, 1.5)), DEPS, other,
                             0.05)
    assert verdicts(result)["inference_latency"] == INCONCLUSIVE
    assert "onnxruntime version 1.32.0 vs 1.31.0" in result.sides.environment
    assert "lib: original env e1 (version 1.32.0), reproduction env e2 (version 1.31.0)" in \
        result.sides.resolved_differently
    far = validate_points(point(), point(library="onnxruntime 1.31.0", latency=(9, 9, 9)), DEPS, other, 0.05)
    assert verdicts(far)["inference_latency"] == NOT_REPRODUCED


def test_accuracy_needs_the_same_weights():
    same = validate_points(point(correct=3), point(correct=3), DEPS, DEPS, 0.05)
    assert verdicts(same)["accuracy_top1_correct"] == REPRODUCED
    other_weights = validate_points(point(correct=3), point(correct=2, sha="b" * 64), DEPS, DEPS, 0.05)
    assert verdicts(other_weights)["accuracy_top1_correct"] == INCONCLUSIVE


def test_a_metric_on_one_side_only_is_inconclusive_not_a_crash():
    bare = RecordedPoint("b", "0123456789abcdef", {"##features#meta#cpu_name#min": "Some CPU"})
    result = validate_points(point(), bare, DEPS, {}, 0.05)
    assert verdicts(result)["inference_latency"] == INCONCLUSIVE
    assert result.verdict == INCONCLUSIVE


# ---------------------------------------------------------------- the real command


def bench(world, *args: str):
    return world.ck("benchmark", "program:request-onnxruntime-classification", *args)


def overall_verdict(stdout: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith("verdict  ")).split(None, 1)[1]


def entry_meta(world, name: str) -> dict:
    return json.loads((world.repos / "local" / "experiment" / name / ".cm" / "meta.json").read_text())["meta"]


def verdict_record(world, proc) -> tuple[str, dict]:
    """The reproduction named by `ck validate`'s output, and the verdict it keeps."""
    line = next(x for x in proc.stdout.splitlines() if x.startswith("verdict recorded in the meta of experiment:"))
    name = line.split("experiment:", 1)[1].split()[0].split(":", 1)[1]
    return name, entry_meta(world, name)["validations"][-1]


@pytest.fixture(scope="module")
def small_original(ck_world):
    """A MobileNet-v1 0.25/128 result recorded on this machine (never a reference recorded elsewhere)."""
    bench(ck_world, *FAST, SMALL, "--record", "--record_uoa=validate-small")
    return "validate-small"


def test_unchanged_stack_is_never_not_reproduced(ck_world, small_original):
    before = (ck_world.repos / "local" / "experiment" / small_original / ".cm" / "meta.json").read_bytes()
    proc = ck_world.ck("validate", "request.asplos18", f"--experiment=local:{small_original}")
    assert overall_verdict(proc.stdout) in (REPRODUCED, INCONCLUSIVE), proc.stdout
    assert "inference_latency" in proc.stdout and "ratio [95% CI]" in proc.stdout
    reproduction, record = verdict_record(ck_world, proc)
    assert record["verdict"] in (REPRODUCED, INCONCLUSIVE) and record["original"] == f"local:{small_original}"
    assert record["platform_original"]["cpu_name"] and record["platform_reproduced"]["cpu_name"]
    assert record["date"].startswith("20")
    assert entry_meta(ck_world, reproduction)["reproduction_of"] == f"local:{small_original}"
    assert (ck_world.repos / "local" / "experiment" / small_original / ".cm" / "meta.json").read_bytes() == before
    ck_world.ck("check", "request.asplos18", f"--experiment={reproduction}")  # portable, nothing leaked


def test_a_stack_changed_on_purpose_is_not_reproduced(ck_world, small_original):
    # MobileNet-v1 1.0/224 does ~40x the work of 0.25/128: far beyond any noise of a loaded 2-core box
    bench(ck_world, *FAST, LARGE, "--env.CK_REQUEST_MIN_QUERIES=30", "--record", "--record_uoa=validate-large")
    proc = ck_world.ck("validate", "request.asplos18", f"--experiment=local:{small_original}",
                       "--reproduced=validate-large", check=False)
    assert proc.returncode != 0
    latency = next(line for line in proc.stdout.splitlines() if line.startswith("inference_latency"))
    assert NOT_REPRODUCED in latency
    assert "stack differs: model_design_name" in proc.stdout
    assert verdict_record(ck_world, proc)[1]["verdict"] == NOT_REPRODUCED


def test_another_platform_is_inconclusive_through_ck(ck_world, small_original):
    ck_world.ck("cp", f"local:experiment:{small_original}", "local:experiment:validate-elsewhere")
    folder = ck_world.repos / "local" / "experiment" / "validate-elsewhere"
    for flat in folder.glob("ckp-*.flat.json"):
        data = json.loads(flat.read_text())
        data["##features#meta#cpu_name#min"] = "Arm Cortex-A53"
        flat.write_text(json.dumps(data))
    proc = ck_world.ck("validate", "request.asplos18", f"--experiment=local:{small_original}",
                       "--reproduced=validate-elsewhere")
    assert "platform differs: cpu_name" in proc.stdout
    assert overall_verdict(proc.stdout) == INCONCLUSIVE


def test_validating_a_reference_result_leaves_the_checkout_untouched(ck_world):
    """The reproduction and the verdict go to `local`; the repository's experiment/ stays as committed."""
    reference = next(p.name for p in sorted((REPO_ROOT / "experiment").iterdir()) if "mobilenet-v1-0.25-128" in p.name)
    before = {p: p.stat().st_mtime_ns for p in (REPO_ROOT / "experiment").rglob("*")}
    proc = ck_world.ck("validate", "request.asplos18", f"--experiment=ck-request:{reference}",
                       "--tolerance=5", check=False)
    assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-2000:]
    reproduction, record = verdict_record(ck_world, proc)
    assert record["original"] == f"ck-request:{reference}"
    assert (ck_world.repos / "local" / "experiment" / reproduction).is_dir()
    assert {p: p.stat().st_mtime_ns for p in (REPO_ROOT / "experiment").rglob("*")} == before


@pytest.mark.parametrize("args, words", [
    ((), "--experiment is missing"),
    (("--experiment=no-such-entry",), "experiment:no-such-entry: not found in any CK repository"),
    (("--experiment=local:validate-small", "--tolerance=lots"), "--tolerance=lots: is not a percentage"),
])
def test_bad_input_is_one_line_and_non_zero(ck_world, small_original, args, words):
    proc = ck_world.ck("validate", "request.asplos18", *args, check=False)
    assert proc.returncode != 0
    assert words in proc.stdout + proc.stderr
