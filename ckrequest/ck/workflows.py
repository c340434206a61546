"""The five ReQuEST workflows, each one command: ``ck run script:request-asplos18-<workflow> --quiet``.

A workflow is a CK ``script`` entry whose meta says which named space it searches, what the
original workflow did, what is scaled down here and what stands in for hardware this machine does
not have, and which preparations it needs (a second library version, a TVM tuning database). Its
run prepares, searches the whole space (a grid, as the original sweeps did), and ends with the
report the original produced: its points on the scoreboard with their frontier.

Flags (read from the `ck` command line, since CK gives a script function only ``--dict``):
``--trials=N`` (a quick look: the first N stacks), ``--record_uoa=X`` (default
``asplos18-<workflow>``), ``--strategy=``. A search already recorded in that entry is continued,
so typing the command again finishes or re-reports the workflow and measures nothing twice.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from ..backends.tvm import TUNING_DB_VAR
from ..board.filters import Filters, all_repos
from ..board.scoreboard import build_board, render_table
from ..errors import RequestError, ck_failure
from ..explore.log import STUDY_FILE, read_log
from ..explore.space import space_from_json
from ..results.schema import parse_axis
from ..safe_text import for_terminal
from . import flags as ck_flags
from . import kernel
from .actions.board_request import results_cache
from .actions.explore import SPACE_MODULE, ExploreRequest, explore

LITERT_SECOND_VERSION = "2.2.0"
TUNED_MODEL = "mobilenet-v1,multiplier-0.25,resolution-128,synthetic,fp32"


@dataclass(frozen=True)
class Workflow:
    name: str
    title: str
    space: str
    original: str
    here: str
    stand_ins: tuple[str, ...]
    prepare: tuple[str, ...]

    @staticmethod
    def load(entry: Path) -> Workflow:
        meta = json.loads((entry / ".cm" / "meta.json").read_text(encoding="utf-8"))["workflow"]
        return Workflow(entry.name, meta["title"], meta["space"], meta["original"], meta["here"],
                        tuple(meta.get("stand_ins", ())), tuple(meta.get("prepare", ())))


def _install(package: str, **options: Any) -> None:
    print(f"== ck install package:{package} " + " ".join(f"--{k}={v}" for k, v in options.items()), flush=True)
    result = kernel.install({"data_uoa": package, **options})
    if result.get("return", 1) > 0:
        raise RequestError(f"ck install package:{package}", str(result.get("error", "failed")).strip(),
                           "run that command by hand to see why")


def _second_litert(space: dict[str, Any]) -> dict[str, Any]:
    """TFLite side by side: the pinned LiteRT and 2.2.0, installed once."""
    if not kernel.env_entries(f"lib,litert,v{LITERT_SECOND_VERSION}"):
        _install("lib-litert", **{"env.CK_REQUEST_LIB_VERSION": LITERT_SECOND_VERSION})
    return space


def _tvm_tuned(space: dict[str, Any]) -> dict[str, Any]:
    """TVM tuned by MetaSchedule for MobileNet-v1 0.25/128 fp32 (about 2.5 minutes, once), as a choice of the
    space: the tuning database applies to that model only, so every other stack is run untuned."""
    tags = f"tvm-tuning,{TUNED_MODEL}"
    if not kernel.env_entries(tags):
        _install("tvm-tuning-metaschedule", **{"dep_add_tags.model": TUNED_MODEL})
    database = str(kernel.env_entry(tags)[1].get("env", {}).get(TUNING_DB_VAR, ""))
    if not database:
        raise RequestError(f"the TVM tuning database ({tags})", f"sets no {TUNING_DB_VAR}",
                           "reinstall it: ck install package:tvm-tuning-metaschedule --reinstall")
    tuned_only = [{"program": p, TUNING_DB_VAR: database} for p in space["programs"]
                  if p != "request-tvm-classification"]
    tuned_only += [{"model": [tag], TUNING_DB_VAR: database} for tag in ("resnet-18",)]
    tuned_only += [{"precision": "fp16", TUNING_DB_VAR: database}]
    return {**space, "env": {**space.get("env", {}), TUNING_DB_VAR: ["", database]},
            "exclude": [*space.get("exclude", []), *tuned_only]}


PREPARATIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "litert-2.2.0": _second_litert, "tvm-tuned-mobilenet": _tvm_tuned}


def _report(workflow: Workflow, entry: str, objectives: tuple[str, ...]) -> str:
    x = parse_axis(objectives[0], "x")
    y = parse_axis(objectives[1] if len(objectives) > 1 else "inference_throughput", "y")
    board = build_board(all_repos(kernel.repo_paths(), ()), Filters(entry=entry), x, y, results_cache())
    return "\n".join([f"== {workflow.title}: its points on the scoreboard, the frontier of {x.key} vs {y.key} "
                      f"(ck scoreboard request.asplos18 --entry={entry} --x={objectives[0]} "
                      f"--y={y.key}:{y.better})", render_table(board),
                      f"the trials and the frontier as it grew: ck dashboard request.asplos18 --entry={entry} "
                      f"--output={entry}.html"])


def run_workflow(entry: Path, flags: Mapping[str, Any]) -> int:
    started = time.monotonic()
    workflow = Workflow.load(entry)
    for line in (f"== {workflow.title}", f"original: {workflow.original}", f"here: {workflow.here}",
                 *(f"stand-in: {text}" for text in workflow.stand_ins)):
        print(for_terminal(line), flush=True)
    source = kernel.entry_meta(SPACE_MODULE, workflow.space).get("space")
    for step in workflow.prepare:
        source = PREPARATIONS[step](dict(source))
    space = space_from_json(source, workflow.space)
    record = ck_flags.text(flags, "record_uoa", workflow.name.removeprefix("request-"))
    existing = _existing_search(record)
    if existing is not None:
        print(f"continuing the search recorded in experiment:{record} ({existing} trial(s) so far; "
              f"--record_uoa=<new name> starts another)", flush=True)
    trials = ck_flags.number(flags, "trials", int, 1, 100_000)
    strategy = ck_flags.text(flags, "strategy", "grid")
    records, _ = explore(ExploreRequest(space, record, strategy=strategy, resume=existing is not None,
                                        trials=trials if trials is not None else space.size))
    print(_report(workflow, record, tuple(str(o) for o in space.objectives)), flush=True)
    print(f"{workflow.name}: {len(records)} trial(s) in {time.monotonic() - started:.0f} s", flush=True)
    return 0


def _existing_search(record: str) -> int | None:
    """How many trials the search recorded in ``local:record`` holds; None when there is none."""
    try:
        location = kernel.find_entry("experiment", f"local:{record}")
    except RequestError:
        return None
    if not (location.path / STUDY_FILE).is_file():
        return None
    return len((read_log(location.path) or {}).get("trials", []))


def run_script(i: dict[str, Any], script_file: str) -> dict[str, Any]:
    """The function of every workflow's script entry (``workflow.py``): CK's return convention."""
    try:
        run_workflow(Path(script_file).resolve().parent, ck_flags.typed_command_line())
    except RequestError as err:
        return ck_failure(err)
    return {"return": 0}
