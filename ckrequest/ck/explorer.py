"""The trials of `ck explore`: each one CK's own `ck benchmark`, run inside the `ck explore` process.

A trial records the same point a hand-typed command records:

    ck benchmark program:<program> --dep_add_tags.model=<tags> --env.<VAR>=<value> ... \\
        --repetitions=<n> --record --record_uoa=<X> --quiet

but without starting a new `ck` process (one process for the whole search) and without the
pipeline's 3 s pause CK makes for a human to read the choices (`sleep: 0`). Everything the trial
prints (CK and the program) goes to ``explore-logs/trial-<n>.log`` in the entry; a trial whose run
fails records nothing and gives the one-line error of its log as the reason it was skipped.
"""

from __future__ import annotations

import os
import re
import sys
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from ..errors import ERROR_PREFIX
from ..explore.search import TrialOutcome, TrialRecord
from ..explore.space import Stack
from ..models.model_info import SYNTHETIC
from ..reproduce.check import repair_meta
from ..results.entry import POINT_SUFFIX, PointFiles, RecordedEntry, point_files, read_json
from ..results.reader import ResultPoint, point_from_flat, read_entry_info
from ..results.schema import ACCURACY_RUN_KEYS
from ..run.config import RunConfig
from . import kernel, pauses, recording

LOG_FOLDER = "explore-logs"


@contextmanager
def output_to(path: Path) -> Iterator[None]:
    """Both output streams of this process, and of the programs it starts, into ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "w", encoding="utf-8") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def why_it_failed(log_text: str, ck_error: str = "") -> str:
    """The one line that says why a run failed: our error line, else CK's, else a plain word."""
    ours = [line[len(ERROR_PREFIX):] for line in log_text.splitlines() if line.startswith(ERROR_PREFIX)]
    theirs = re.findall(r"CK error: \[[^\]]*\] (.+)", log_text)
    return (ours or ([ck_error] if ck_error else []) or theirs or ["the run failed"])[-1].strip()


def _read_log(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""


ACCURACY_MODE = {RunConfig.env_name("mode"): "accuracy"}


@dataclass(frozen=True)
class CkTrials:
    """Runs a stack as `ck benchmark` records it, into the experiment entry ``record_repo:record_uoa``.

    With ``accuracy`` (an objective or a constraint is an accuracy), a stack with real weights is
    also run once in accuracy mode (every image of the data set once): a second point of the same
    stack, whose accuracy joins the trial's values. Synthetic weights never get an accuracy run.
    """

    record_uoa: str
    record_repo: str
    entry: Path
    repetitions: int
    accuracy: bool = False

    def request(self, stack: Stack, env: dict[str, str] | None = None, repetitions: int = 0) -> dict:
        libraries = {"dep_add_tags.lib": ",".join(stack.library)} if stack.library else {}
        return {"data_uoa": stack.program, "dep_add_tags.model": stack.model_tags,
                "env": {**dict(stack.env), **(env or {})}, **libraries,
                "repetitions": str(repetitions or self.repetitions), "record": "yes", "record_uoa": self.record_uoa,
                "record_repo": self.record_repo, "quiet": "yes", "sleep": "0", "out": "con"}

    def _run(self, request: dict, log: Path) -> tuple[ResultPoint | None, str]:
        with recording.trials_in_this_process(), output_to(log), pauses.skipped():
            try:
                result = kernel.benchmark(request)
                points = result.get("recorded_info", {}).get("points", []) if result.get("return") == 0 else []
                point = self.read_point(points[-1]) if points else None
            except Exception as err:  # a bug in CK or in us, or a bad point: this trial is lost, never the search
                traceback.print_exc()
                return None, f"{type(err).__name__}: {err} (log: {log})"
        if point is None:
            return None, f"{why_it_failed(_read_log(log), str(result.get('error', '')))} (log: {log})"
        return point, ""

    def read_point(self, uid: str) -> ResultPoint:
        """A point of the entry, as the boards read it."""
        flat = read_json(self.entry / f"ckp-{uid}{POINT_SUFFIX}")
        return point_from_flat(read_entry_info(self.entry, self.record_repo or "local"), uid, flat)

    def log_path(self, number: int, accuracy: bool = False) -> Path:
        return self.entry / LOG_FOLDER / f"trial-{number:04d}{'-accuracy' if accuracy else ''}.log"

    def runs_accuracy(self, stack: Stack) -> bool:
        """Is ``stack`` also run in accuracy mode? (an accuracy asked for, real weights)"""
        return self.accuracy and SYNTHETIC not in stack.model

    def __call__(self, stack: Stack, number: int) -> TrialOutcome:
        t0 = time.monotonic()
        performance = self._run(self.request(stack), self.log_path(number))
        scored = self._run(self.request(stack, ACCURACY_MODE, repetitions=1), self.log_path(number, True)) \
            if performance[0] is not None and self.runs_accuracy(stack) else None
        return self.settle(performance, scored, time.monotonic() - t0)

    def settle(self, performance: Ran, accuracy: Ran | None, seconds: float, node: str = "") -> TrialOutcome:
        """The trial's outcome (``outcome_of``); a half-measured trial (its accuracy run failed) leaves no point."""
        outcome = outcome_of(performance, accuracy, seconds, node)
        if outcome.skipped and performance[0] is not None:
            remove_points(self.entry, [performance[0].point])
        return outcome

    def adopt(self, stack: Stack, number: int, since: float, told: Sequence[TrialRecord]) -> TrialOutcome | None:
        """Trial ``number`` of ``stack``, started at ``since`` and killed before the search was told its outcome:
        the outcome of the points it recorded, or None (run it again) after removing what it left half-done."""
        claimed = {p.rsplit(":", 1)[-1] for r in told for p in r.point.split()}
        left = [uid for uid, when in point_times(self.entry).items() if uid not in claimed and when >= since - 1.0]
        files = point_files(self.entry)
        whole = {uid: choices for uid in left if (choices := point_choices(self.entry, uid, files)) is not None}
        mine = [uid for uid, choices in whole.items() if runs(choices, stack)]
        performance = [uid for uid in mine if whole[uid].get("env", {}).get(MODE_VAR) != "accuracy"]
        scored = [uid for uid in mine if whole[uid].get("env", {}).get(MODE_VAR) == "accuracy"]
        half_done = [uid for uid in left if uid not in whole]  # a kill while CK wrote it
        if not performance or (self.runs_accuracy(stack) and not scored):
            remove_points(self.entry, half_done + mine)
            return None
        remove_points(self.entry, half_done)
        try:
            accuracy = (self.read_point(scored[-1]), "") if self.runs_accuracy(stack) else None
            return outcome_of((self.read_point(performance[-1]), ""), accuracy, 0.0)
        except Exception:  # an unreadable point: run the trial again
            remove_points(self.entry, mine)
            return None


Ran = tuple[ResultPoint | None, str]  # a recorded point, or why there is none
MODE_VAR = next(iter(ACCURACY_MODE))
NODE_PLATFORM = "node_platform"  # the point's meta key naming the platform of the Ray node it ran on


def point_times(entry: Path) -> dict[str, float]:
    """Each point of ``entry`` (UID) and when CK began writing it (its flat file, the first CK writes)."""
    times = {}
    for path in entry.glob(f"ckp-*{POINT_SUFFIX}"):
        try:
            times[path.name[len("ckp-"):-len(POINT_SUFFIX)]] = path.stat().st_mtime
        except FileNotFoundError:
            pass
    return times


def point_choices(entry: Path, uid: str, files: Mapping[str, PointFiles]) -> dict | None:
    """What a point ran (CK's choices: program, run variables; and the platform of the node it ran on), or None
    when CK did not finish writing it (the reader's rule: ``PointFiles.partial_because``)."""
    found = files.get(uid)
    if found is None or found.partial_because(entry):
        return None
    described = read_json(entry / f"ckp-{uid}.features.json")
    choices = described.get("choices") if isinstance(described, dict) else None
    if not isinstance(choices, dict):
        return None
    meta = (described.get("features") or {}).get("meta") or {}
    return {**choices, NODE_PLATFORM: str(meta.get(NODE_PLATFORM, "")) if isinstance(meta, dict) else ""}


def runs(choices: dict, stack: Stack) -> bool:
    """Did a point with these choices run ``stack`` (its program, run variables and platform)?"""
    env = choices.get("env") if isinstance(choices.get("env"), dict) else {}
    return choices.get("data_uoa") == stack.program and all(str(env.get(k)) == v for k, v in stack.env) \
        and choices.get(NODE_PLATFORM, "") == stack.platform


def remove_points(entry: Path, uids: Sequence[str]) -> None:
    """Points taken out of ``entry`` (each point's files, the flat file first); the entry's meta counts what is left."""
    recorded = RecordedEntry(entry, entry.name)
    for uid in uids:
        recorded.remove_point(uid)
    if uids:
        repair_meta(recorded)


def outcome_of(performance: Ran, accuracy: Ran | None, seconds: float, node: str = "") -> TrialOutcome:
    """A trial's outcome from its performance run and, when there was one, its accuracy run (whose accuracy
    joins the performance values)."""
    point, why = performance
    if point is None:
        return TrialOutcome(skipped=why, seconds=seconds, node=node)
    values = dict(point.numbers)
    measured = (values.get("measured_duration_s") or 0.0) * values.get("statistical_repetitions", 1)
    points = (point.id,)
    if accuracy is not None:
        scored, why = accuracy
        if scored is None:
            return TrialOutcome(skipped=f"accuracy run: {why}", seconds=seconds, node=node)
        values.update({k: v for k, v in scored.numbers.items() if k in ACCURACY_RUN_KEYS})
        points += (scored.id,)
    return TrialOutcome(values=values, point=" ".join(points), seconds=seconds, measured_s=measured, node=node)
