"""CK's pauses for a reader (0.5 s per pipeline iteration, 3 s after the choices, 0.5 s before the run): a
hand-typed `ck benchmark` skips them unless its command line asks for them with --sleep=; and one repetition needs no
density fit."""

from __future__ import annotations

import os

from ckrequest.ck.pauses import is_reader_pause

SMALL = "--dep_add_tags.model=mobilenet-v1,multiplier-0.25,resolution-128,synthetic"
# CK's own sleeps, as they happen: a sitecustomize in the `ck` process notes each one with its caller
SLEEP_NOTER = '''import os, sys, time
_sleep = time.sleep
def _noted(seconds):
    code = sys._getframe(1).f_code
    with open(os.environ["SLEEPS_FILE"], "a") as out:
        out.write(f"{code.co_filename}:{code.co_name}:{seconds}\\n")
    _sleep(seconds)
time.sleep = _noted
'''


def sleeps_of_a_benchmark(world, tmp_path, *flags: str) -> list[str]:
    shim = tmp_path / "shim"
    shim.mkdir(exist_ok=True)
    (shim / "sitecustomize.py").write_text(SLEEP_NOTER)
    noted = tmp_path / f"sleeps{len(flags)}.txt"
    noted.write_text("")
    env = dict(world.env, SLEEPS_FILE=str(noted), PYTHONPATH=os.pathsep.join(
        [str(shim), *filter(None, [world.env.get("PYTHONPATH")])]))
    saved, world.env = world.env, env
    try:
        world.ck("benchmark", "program:request-onnxruntime-classification", SMALL, "--repetitions=1",
                 "--env.CK_REQUEST_MIN_DURATION_S=0.1", "--quiet", *flags)
    finally:
        world.env = saved
    return [line for line in noted.read_text().splitlines() if f"{os.sep}ck{os.sep}repo{os.sep}module" in line]


def test_a_hand_typed_benchmark_pauses_only_when_asked(ck_world, tmp_path):
    assert sleeps_of_a_benchmark(ck_world, tmp_path) == []
    asked = sleeps_of_a_benchmark(ck_world, tmp_path, "--sleep=0.2")
    assert any(line.endswith(":autotune:0.2") for line in asked), asked  # the pause after the choices, as typed
    assert any(line.endswith(":autotune:0.5") for line in asked) and any(":process_in_dir:0.5" in x for x in asked)


def test_only_the_reader_pauses_are_skipped():
    module = f"{os.sep}site-packages{os.sep}ck{os.sep}repo{os.sep}module{os.sep}"
    assert is_reader_pause(f"{module}pipeline{os.sep}module.py", "autotune", 3)
    assert is_reader_pause(f"{module}program{os.sep}module.py", "process_in_dir", 0.5)
    assert not is_reader_pause(f"{module}program{os.sep}module.py", "process_in_dir", 1)  # waits for a folder
    assert not is_reader_pause(f"{module}experiment{os.sep}module.py", "add", 5)  # waits for a lock
    assert not is_reader_pause("/elsewhere/pipeline/module.py", "autotune", 3)


def test_one_repetition_is_analysed_as_ck_does_without_scipy():
    """CK fits a density to every key of a point; for one repetition its answer needs no fit, and the guard gives
    that answer without the 1 s import of scipy.stats."""
    import ck.kernel as ck

    from ckrequest.ck.recording import guard

    plain = ck.access
    guarded = guard(plain, print)
    for value in (0.25, 7, 0):
        request = {"action": "analyze", "module_uoa": "math.variation", "characteristics_table": [value]}
        assert guarded(dict(request)) == plain(dict(request))
    assert guard(lambda request: {"return": 0, "passed": True}, print)(
        {"action": "analyze", "module_uoa": "math.variation", "characteristics_table": [1.0, 2.0]})["passed"]
