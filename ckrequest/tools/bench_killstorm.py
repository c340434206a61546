"""A kill storm: SIGKILLs at random moments of real `ck benchmark --record` and `ck explore` runs.

    python -m ckrequest.tools.bench killstorm [--kills 50] [--trials 6] [--seed 1] [--world DIR]

In a temporary CK world (or ``--world``), half of the kills hit `ck benchmark
program:request-onnxruntime-classification --dep_add_tags.model=<MobileNet-v1 0.25/128, synthetic>
--record --record_uoa=storm-<time>-benchmark --quiet`, half hit `ck explore request.asplos18
--space=<6 stacks> --record_uoa=storm-<time>-explore-<k> --trials=N --quiet` (then `--resume`).
Every other kill comes the moment a new point file (``ckp-*``) shows up in the entry (the folder is
polled), the rest at a random moment of the run. The process group is killed: `ck` and the program it runs.

After each kill: the scoreboard must read the entry (exit 0, no traceback) and show only whole points
(a point it shows with one of CK's four files missing, empty or unreadable is corrupt) and every point
it showed before (else lost); `ck check` must pass or name `--fix` on every line, pass after `--fix`,
and never pass an entry holding a half-written point. At the end each exploration is resumed to its end and must
hold exactly N measured trials and N points (more points than trials: duplicates; a measured trial
without its point: lost). Prints the counts.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..explore.log import LOG_FILE, STUDY_FILE, read_log
from ..results.entry import point_files

PROGRAM = "program:request-onnxruntime-classification"
MODEL = "mobilenet-v1,multiplier-0.25,resolution-128,synthetic"
QUICK = {"CK_REQUEST_MIN_DURATION_S": 0.05, "CK_REQUEST_MIN_QUERIES": 10, "CK_REQUEST_WARMUP": 1}
SPACE = {"programs": ["request-onnxruntime-classification"], "models": [MODEL.split(",")],
         "env": {"CK_REQUEST_BATCH_SIZE": [1, 2, 3], "CK_REQUEST_THREADS": [1, 2],
                 **{k: [v] for k, v in QUICK.items()}},
         "objectives": ["latency_p50_s:min", "inference_throughput:max"], "repetitions": 3}  # as check asks
AT_POINT_FILE, AT_RANDOM = "a point file appeared", "a random moment"
RUN_LIMIT_S = 600
FIX, FIX_RESUME = "--fix", "--resume"


def _problems(proc: subprocess.CompletedProcess) -> list[str]:
    """The problem lines of a `ck check` (without --fix)."""
    return [line for line in proc.stdout.splitlines() if line.startswith("experiment:") and ": fit to" not in line]


@dataclass
class StormReport:
    kills: int = 0
    at_point_files: int = 0
    corrupt: int = 0  # points on the board that are half-written (a CK file of the point missing, empty, cut)
    partial: int = 0  # half-written points kills left on disk
    lost: int = 0  # points the board showed before, or measured trials, no longer on the board
    duplicates: int = 0  # more points than measured trials
    board_failures: list[str] = field(default_factory=list)
    check_failures: list[str] = field(default_factory=list)
    run_failures: list[str] = field(default_factory=list)  # an unkilled run that failed
    explorations: list[str] = field(default_factory=list)  # "<entry>: N trials, M points"

    @property
    def failures(self) -> list[str]:
        return self.board_failures + self.check_failures + self.run_failures

    def lines(self) -> list[str]:
        return [f"kills: {self.kills} ({self.at_point_files} the moment a point file appeared)",
                f"corrupt points: {self.corrupt}", f"lost points: {self.lost}",
                f"duplicate points: {self.duplicates}",
                f"half-written points left on disk by kills: {self.partial}",
                *[f"exploration {line}" for line in self.explorations],
                *[f"FAILED: {line}" for line in self.failures]]


class KillStorm:
    """The storm in one CK world (``env``: CK_REPOS, CK_TOOLS, ...; ``root``: where spaces are written)."""

    def __init__(self, env: dict[str, str], root: Path, trials: int, seed: int, say=print) -> None:
        self.env, self.root, self.trials = env, root, trials
        self.rng = random.Random(seed)
        self.say = say
        self.report = StormReport()
        self.kept: dict[str, set[str]] = {}  # entry -> the points the board showed after the last kill
        self.seen_partial: set[str] = set()  # each half-written point counted once, however often inspected
        self.seen_corrupt: set[str] = set()
        self.run_s = {"benchmark": 10.0, "explore": 20.0}  # a run's wall time, measured as it goes
        self.stamp = time.strftime("%Y%m%d-%H%M%S")  # entries of their own in a world used before
        self.benchmark_entry = f"storm-{self.stamp}-benchmark"

    # -- running `ck`

    def ck(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ck", *args], env=self.env, cwd=self.root, text=True,
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=RUN_LIMIT_S)

    def entry_path(self, name: str) -> Path:
        return Path(self.env["CK_REPOS"]) / "local" / "experiment" / name

    def benchmark_args(self) -> list[str]:
        batch = self.rng.choice((1, 2))
        return ["benchmark", PROGRAM, f"--dep_add_tags.model={MODEL}", "--record",
                f"--record_uoa={self.benchmark_entry}", "--quiet", "--repetitions=3",
                f"--env.CK_REQUEST_BATCH_SIZE={batch}",
                *[f"--env.{k}={v}" for k, v in QUICK.items()]]

    def explore_args(self, name: str) -> list[str]:
        space = self.root / "storm-space.json"
        space.write_text(json.dumps(SPACE))
        begun = any((self.entry_path(name) / f).is_file() for f in (LOG_FILE, STUDY_FILE))
        resume = ["--resume"] if begun else []
        return ["explore", "request.asplos18", f"--space={space}", f"--record_uoa={name}", f"--trials={self.trials}",
                "--strategy=grid", "--quiet", *resume]

    def run_and_kill(self, args: list[str], entry: Path, at_point_file: bool, kind: str) -> bool:
        """Start `ck ...`; kill its process group the moment a new point file appears or at a random moment.
        True when it was killed (False: it ended first)."""
        before = set(os.listdir(entry)) if entry.is_dir() else set()
        deadline = time.monotonic() + self.rng.uniform(0.3, self.run_s[kind])
        started = time.monotonic()
        output = self.root / "storm-run.log"
        with open(output, "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "ck", *args], env=self.env, cwd=self.root,
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        try:
            while proc.poll() is None:
                if at_point_file:
                    try:
                        new = [n for n in os.listdir(entry) if n.startswith("ckp-") and n not in before]
                    except FileNotFoundError:
                        new = []
                    if new:
                        break
                    time.sleep(0.0005)
                elif time.monotonic() >= deadline:
                    break
                else:
                    time.sleep(0.01)
            if proc.poll() is not None:
                self.run_s[kind] = max(1.0, time.monotonic() - started)
                if proc.returncode != 0:
                    self.report.run_failures.append(f"ck {' '.join(args[:2])} exited {proc.returncode}: "
                                                    f"{output.read_text()[-300:].strip()}")
                return False
            os.killpg(proc.pid, signal.SIGKILL)
            return True
        finally:
            proc.wait()

    # -- after a kill

    def board(self, name: str, moment: str) -> set[str] | None:
        """The points the scoreboard shows of entry ``name`` (None: it could not read it)."""
        if not self.entry_path(name).is_dir():
            return set()  # killed before CK made the entry
        board = self.ck("scoreboard", "request.asplos18", f"--entry={name}", "--format=json")
        try:
            points = json.loads(board.stdout)
        except ValueError:
            points = None
        if board.returncode != 0 or "Traceback" in board.stderr or not isinstance(points, list):
            self.report.board_failures.append(f"scoreboard after a kill at {moment}: exit {board.returncode}: "
                                              f"{(board.stderr or board.stdout).strip()[-300:]}")
            return None
        return {str(p.get("point")) for p in points if p.get("entry") == name}

    def inspect(self, name: str, moment: str) -> None:
        """What a user sees after a kill: the board shows only whole points and every point it showed before;
        `ck check` passes or names the fix (and passes after it), and never passes a half-written point."""
        entry = self.entry_path(name)
        shown = self.board(name, moment)
        if shown is None:
            return
        files = point_files(entry) if entry.is_dir() else {}
        corrupt = {uid for uid in shown if uid not in files or files[uid].partial_because(entry)}
        self.report.corrupt += len(corrupt - self.seen_corrupt)
        self.seen_corrupt |= corrupt
        self.report.lost += len(self.kept.get(name, set()) - shown)
        partial = {uid for uid, found in files.items() if found.partial_because(entry)}
        self.report.partial += len(partial - self.seen_partial)
        self.seen_partial |= partial
        if entry.is_dir():
            self.check(name, moment, bool(partial))
        self.kept[name] = self.board(name, moment) or set()

    def check(self, name: str, moment: str, partial: bool) -> None:
        """`ck check` passes, or every line names its fix (--fix; --resume for a search without a point yet),
        and after --fix only a search to resume is left."""
        found = self.ck("check", "request.asplos18", f"--experiment={name}")
        if not self._passes_or_names_fix(found, f"ck check after a kill at {moment}"):
            return
        if found.returncode == 0 and partial:
            self.report.check_failures.append(f"ck check after a kill at {moment} passes an entry holding a "
                                              "half-written point")
            return
        if found.returncode == 0 or all(FIX_RESUME in line for line in _problems(found)):
            return
        fixed = self.ck("check", "request.asplos18", f"--experiment={name}", "--fix")
        if "Traceback" in fixed.stdout + fixed.stderr or fixed.returncode not in (0, 1):
            self.report.check_failures.append(f"ck check --fix after a kill at {moment}: exit {fixed.returncode}: "
                                              f"{(fixed.stdout + fixed.stderr).strip()[-300:]}")
            return
        if not self.entry_path(name).is_dir():
            return  # an entry with no point and nothing else: removed
        after = self.ck("check", "request.asplos18", f"--experiment={name}")
        unfixed = [line for line in _problems(after) if FIX_RESUME not in line]
        if after.returncode not in (0, 1) or unfixed:
            self.report.check_failures.append(f"ck check after --fix after a kill at {moment}: exit "
                                              f"{after.returncode}: {(unfixed or [after.stdout.strip()[-300:]])[0]}")

    def _passes_or_names_fix(self, found: subprocess.CompletedProcess, what: str) -> bool:
        said = found.stdout + found.stderr
        if "Traceback" in said or found.returncode not in (0, 1):
            self.report.check_failures.append(f"{what}: exit {found.returncode}: {said.strip()[-300:]}")
            return False
        if found.returncode == 1 and not _problems(found):  # an error, not a list of problems
            self.report.check_failures.append(f"{what}: exit 1 naming no problem: {said.strip()[-300:]}")
            return False
        unnamed = [line for line in _problems(found) if FIX not in line and FIX_RESUME not in line]
        if unnamed:
            self.report.check_failures.append(f"{what} names no fix: {unnamed[0]}")
            return False
        return True

    # -- the storm

    def storm(self, kills: int) -> StormReport:
        self.say(f"kill storm: {kills} SIGKILLs, half of `ck benchmark --record`, half of `ck explore` "
                 f"({self.trials} trials each, then --resume)")
        explorations = [f"storm-{self.stamp}-explore-{k}" for k in range(1, kills + 2)]
        current = 0
        for number in range(kills):
            kind = "benchmark" if number % 2 == 0 else "explore"
            at_point_file = (number // 2) % 2 == 0  # each kind: every other kill the moment a point file appears
            moment = AT_POINT_FILE if at_point_file else AT_RANDOM
            killed = False
            for _ in range(5):  # a run may end before its moment: run again
                if kind == "explore" and self._finished(explorations[current]):
                    self.finish(explorations[current])
                    current += 1
                name = self.benchmark_entry if kind == "benchmark" else explorations[current]
                args = self.benchmark_args() if kind == "benchmark" else self.explore_args(name)
                killed = self.run_and_kill(args, self.entry_path(name), at_point_file, kind)
                if killed:
                    break
                self.inspect(name, "the end of an unkilled run")
            if not killed:
                continue
            self.report.kills += 1
            self.report.at_point_files += at_point_file
            self.inspect(name, moment)
            self.say(f"kill {self.report.kills}/{kills}: {kind} at {moment}")
        if self.entry_path(explorations[current]).is_dir():
            self.finish(explorations[current])
        return self.report

    def _finished(self, name: str) -> bool:
        log = read_log(self.entry_path(name)) if self.entry_path(name).is_dir() else None
        return bool(log) and len(log.get("trials", [])) >= self.trials

    def finish(self, name: str) -> None:
        """Resume the search to its end, unkilled; count its trials against its points."""
        for _ in range(3):
            if self._finished(name):
                break
            self.ck(*self.explore_args(name))
        self.inspect(name, "the end of the search")
        entry = self.entry_path(name)
        log = read_log(entry) or {}
        trials = log.get("trials", [])
        measured = [t for t in trials if t.get("status") == "measured"]
        shown = self.board(name, "the end of the search") or set()
        told = {str(t.get("point", "")).split(":")[-1] for t in measured}
        self.report.duplicates += max(0, len(shown) - len(told))
        self.report.lost += len(told - shown)
        self.report.explorations.append(f"{name}: {len(trials)} trials ({len(measured)} measured), "
                                        f"{len(shown)} points on the board")


def world_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"CK_REPOS": str(root / "repos"), "CK_TOOLS": str(root / "tools"),
                "CK_REQUEST_CACHE_DIR": str(root / "cache")})
    env.pop("CK_LOCAL_REPO", None)
    return env


def prepare(env: dict[str, str], root: Path) -> None:
    """ck-request registered and the model installed, so that no kill hits an install."""
    for cmd in ([sys.executable, "-m", "ckrequest.cli", "setup"],
                [sys.executable, "-m", "ck", "run", PROGRAM, f"--dep_add_tags.model={MODEL}", "--quiet",
                 *[f"--env.{k}={v}" for k, v in QUICK.items()]]):
        proc = subprocess.run(cmd, env=env, cwd=root, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd[2:5])} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def run(kills: int, trials: int, seed: int, world: str = "") -> int:
    with tempfile.TemporaryDirectory(prefix="ck-killstorm-") as tmp:
        root = Path(world) if world else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        env = world_env(root)
        started = time.monotonic()
        prepare(env, root)
        report = KillStorm(env, root, trials, seed).storm(kills)
        for line in report.lines():
            print(line)
        print(f"({time.monotonic() - started:.0f} s)")
    bad = report.corrupt or report.lost or report.duplicates or report.failures
    return 1 if bad else 0


def summary(report: StormReport) -> dict[str, Any]:
    return {"kills": report.kills, "at_point_files": report.at_point_files, "corrupt": report.corrupt,
            "lost": report.lost, "duplicates": report.duplicates, "failures": report.failures}
