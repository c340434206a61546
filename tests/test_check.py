"""`ck check request.asplos18`: the gate for contributions, on the reference results and on broken copies."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from ckrequest.reproduce.check import CheckOptions, check_entry, make_portable, this_hostnames
from ckrequest.reproduce.portable import machine_roots
from ckrequest.results.entry import RecordedEntry

from conftest import REPO_ROOT

REFERENCES = sorted(p for p in (REPO_ROOT / "experiment").iterdir() if (p / ".cm" / "meta.json").is_file())
CHAR = "##characteristics#run#"


def options(**overrides) -> CheckOptions:
    return CheckOptions(**{"roots": tuple(machine_roots([("ck-request", REPO_ROOT)])),
                           "hostnames": this_hostnames(), **overrides})


def problems(path: Path, **overrides) -> list[str]:
    return [p.line() for p in check_entry(RecordedEntry(path, f"test:{path.name}"), options(**overrides))]


def test_there_are_reference_results_for_both_models():
    names = " ".join(p.name for p in REFERENCES)
    assert "efficientnet-lite0" in names and "mobilenet-v1" in names


@pytest.mark.parametrize("reference", REFERENCES, ids=lambda p: p.name)
def test_reference_results_are_fit_to_contribute(reference):
    assert problems(reference) == []


def test_reference_results_name_no_folder_of_the_machine_they_were_recorded_on():
    def text_of(path: Path) -> str:
        return gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()

    text = "".join(text_of(p) for p in (REPO_ROOT / "experiment").rglob("*") if p.is_file())
    for fragment in (str(REPO_ROOT), f"{REPO_ROOT.parent}/", str(Path.home()), "/home/", "/tmp/"):
        assert fragment not in text


@pytest.fixture
def entry(tmp_path) -> Path:
    """A copy of the MobileNet-v1 reference entry, to break."""
    source = next(p for p in REFERENCES if "mobilenet-v1" in p.name)
    return Path(shutil.copytree(source, tmp_path / "experiment" / source.name))


def edit_points(entry: Path, change) -> None:
    for path in entry.glob("ckp-*.flat.json"):
        flat = json.loads(path.read_text())
        change(flat)
        path.write_text(json.dumps(flat))


def test_a_missing_unified_key_is_rejected(entry):
    edit_points(entry, lambda flat: [flat.pop(k) for k in list(flat) if k.startswith(f"{CHAR}inference_throughput#")])
    assert [line for line in problems(entry) if "characteristic inference_throughput missing" in line]


def test_one_repetition_is_rejected(entry):
    def one(flat):
        flat["##features#statistical_repetitions#min"] = 1
        for key in [k for k in flat if k.endswith("#all")]:
            flat[key] = flat[key][:1]

    edit_points(entry, one)
    (line,) = problems(entry)
    assert "1 statistical repetition(s), at least 3 needed" in line and "--repetitions=3" in line


def test_a_leaked_home_path_is_rejected_unless_asked_for_and_fix_removes_it(entry):
    pipeline = json.loads((entry / "pipeline.json").read_text())
    pipeline["choices"]["env"]["CK_REQUEST_WEIGHTS_FILE"] = "/home/alice/weights/model.pth"
    (entry / "pipeline.json").write_text(json.dumps(pipeline))
    (line,) = problems(entry)
    assert "machine-specific path(s) leaked, e.g. /home/alice/weights/model.pth" in line
    assert problems(entry, allow_home_paths=True) == []
    make_portable(RecordedEntry(entry, "test"), options())
    assert problems(entry) == []
    assert "/home/alice" not in (entry / "pipeline.json").read_text()


def test_a_leaked_host_name_is_rejected_unless_asked_for(entry):
    edit_points(entry, lambda flat: flat.update({"##features#meta#note#min": "measured on build-box-7"}))
    (line,) = problems(entry, hostnames=("build-box-7",))
    assert "host name 'build-box-7' leaked" in line
    assert problems(entry, hostnames=("build-box-7",), allow_hostname=True) == []
    assert problems(entry, hostnames=("build-box",)) == []  # a whole name, not a prefix


def test_synthetic_weights_with_an_accuracy_are_rejected(entry):
    edit_points(entry, lambda flat: flat.update({f"{CHAR}accuracy_top1#all": [0.5, 0.5, 0.5]}))
    assert [line for line in problems(entry) if "synthetic weights report an accuracy" in line]


def test_a_pipeline_bound_to_this_machine_is_rejected(entry):
    pipeline = json.loads((entry / "pipeline.json").read_text())
    pipeline["dependencies"]["lib"]["for_run_time"] = "yes"
    (entry / "pipeline.json").write_text(json.dumps(pipeline))
    (line,) = problems(entry)
    assert "a replay elsewhere would stop to ask on stdin" in line


def test_ck_check_prints_one_line_per_problem_and_exits_non_zero(ck_world):
    reference = next(p.name for p in REFERENCES if "mobilenet-v1" in p.name)
    for name in [p.name for p in REFERENCES]:  # the reference entries pass through the real command too
        ck_world.ck("check", "request.asplos18", f"--experiment=ck-request:{name}")
    ck_world.ck("cp", f"ck-request:experiment:{reference}", "local:experiment:check-broken")
    broken = ck_world.repos / "local" / "experiment" / "check-broken"
    edit_points(broken, lambda flat: [flat.pop("##features#model_sha256#min"),
                                      flat.update({"##features#weights#min": ""})])
    proc = ck_world.ck("check", "request.asplos18", "--experiment=check-broken", check=False)
    assert proc.returncode != 0
    lines = [line for line in proc.stdout.splitlines() if line.startswith("experiment:local:check-broken")]
    assert len(lines) == 2, proc.stdout  # the checksum, the weights
    assert any("model checksum (model_sha256) not recorded" in line for line in lines)
