"""ck explore request.asplos18 --space=<name or file.json> --record_uoa=X [--strategy=grid|random|nsga2|tpe|costmodel]
[--trials=N] [--time=S] [--objectives=key:min,key:max] [--seed=1] [--resume] [--record_repo=local]
[--ray=<head ip>:<port>|auto]

Searches a space of stacks for its Pareto frontier: each trial is one `ck benchmark` point recorded
into experiment X (in this `ck` process), a trial that cannot run is kept as skipped with its reason,
and the search goes on. Prints each trial with the frontier's size and hypervolume, then the frontier.
Named spaces are CK entries (`ck list request.space`); a space of your own is a JSON file.
With --ray, trials run on the nodes of a Ray cluster, one per node at a time, each on a node of its
stack's platform (the space's ``platforms``), and come back to be recorded here (ck/ray_trials.py).
One search at a time per entry (ck/search_lock.py). --resume continues the recorded search: its space
and objectives (given again, they must be the same), each trial's stack as it ran, and the point of a
trial killed before the search was told of it.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

from ...errors import RequestError
from ...explore.log import STUDY_FILE, fingerprint, read_log, recorded_fingerprint, write_log
from ...explore.report import frontier_table, progress_line
from ...explore.search import (
    STRATEGIES,
    Exploration,
    Progress,
    TrialOutcome,
    TrialRecord,
    default_strategy,
    stored_record,
)
from ...explore.space import Objective, Space, Stack, load_space_file, parse_objective, space_from_json
from .. import flags as ck_flags
from .. import kernel, search_lock
from ..explorer import CkTrials
from ..ray_trials import RayTrials, cluster_width, describe_cluster
from ..space_check import check_resolvable

SPACE_MODULE = "request.space"
DEFAULT_TRIALS = 20  # a search strategy's budget when neither --trials nor --time is given


def resolve_space(name: str) -> Space:
    """A file holding a space, or a named space: the CK entry request.space:<name>."""
    path = Path(name).expanduser()
    if path.suffix == ".json" or path.is_file():
        return load_space_file(path)
    try:
        meta = kernel.entry_meta(SPACE_MODULE, name)
    except RequestError:
        raise RequestError(f"--space={name}", "is neither a JSON file nor a named space",
                           "list the named ones: ck list request.space") from None
    return space_from_json(meta.get("space"), name)


@dataclass(frozen=True)
class ExploreRequest:
    space: Space | None  # None: the recorded one (--resume)
    record_uoa: str
    record_repo: str = "local"
    objectives: tuple[Objective, ...] = ()  # () = the space's
    strategy: str = ""  # "" = the space's default
    trials: int | None = None
    seconds: float | None = None
    seed: int = 1
    resume: bool = False
    ray: str = ""  # a Ray cluster's head <ip>:<port> or auto; "" = this machine


def from_ck(i: dict[str, Any], command: str = "ck explore request.asplos18") -> ExploreRequest:
    resume = ck_flags.flag(i, "resume")
    space = resolve_space(ck_flags.required(i, "space", command)) if not resume or ck_flags.text(i, "space") \
        else None
    return ExploreRequest(
        space=space, record_uoa=ck_flags.required(i, "record_uoa", command),
        record_repo=ck_flags.text(i, "record_repo", "local"),
        objectives=tuple(parse_objective(o) for o in ck_flags.texts(i, "objectives")),
        strategy=ck_flags.choice(i, "strategy", STRATEGIES, "") if ck_flags.text(i, "strategy") else "",
        trials=ck_flags.number(i, "trials", int, 1, 100_000), seconds=ck_flags.number(i, "time", float, 1, 10**7),
        seed=int(ck_flags.number(i, "seed", int, 0, 2**31) or 1), resume=ck_flags.flag(i, "resume"),
        ray=ck_flags.text(i, "ray"))


def on_cluster(space: Space, connection: Any) -> Space:
    """The space as the cluster runs it: a space without ``platforms`` runs on the cluster's one platform."""
    if space.platforms:
        return space
    found = sorted(connection.platforms())
    if len(found) != 1:
        raise RequestError(f"space {space.name}", f"lists no platforms and the cluster has {len(found)} "
                           f"({', '.join(found) or 'no node with a request-platform resource'})",
                           'add e.g. "platforms": ["<name>"] to the space (docs/FARM.md: joining a node)')
    return replace(space, platforms=(found[0],))


def _resumed_entry(request: ExploreRequest) -> kernel.EntryLocation:
    try:
        return kernel.find_entry("experiment", f"{request.record_repo}:{request.record_uoa}")
    except RequestError:
        raise RequestError(f"exploration {request.record_uoa}", "has no search to resume",
                           "start it without --resume") from None


def explore(request: ExploreRequest) -> tuple[list[TrialRecord], Path]:
    """Run (or resume) the search; print each trial and, at the end, the frontier. Returns the trials and
    the experiment entry's folder."""
    with ExitStack() as context:
        return _explore(request, context)


def recorded_search(request: ExploreRequest, earlier: dict[str, Any] | None) -> tuple[Space, tuple[Objective, ...]]:
    """The space and objectives a search continues: a resumed one's as recorded (given again, the same)."""
    if earlier is None or not isinstance(earlier.get("space"), dict):
        if request.space is None:
            raise RequestError(f"exploration {request.record_uoa}", "records no space (its explore.json is missing)",
                               "resume it with --space=<the space it searched>")
        return request.space, request.objectives or request.space.objectives
    recorded = recorded_fingerprint(earlier)
    space = request.space or space_from_json(earlier["space"], str(earlier.get("space_name", request.record_uoa)))
    if fingerprint(space.source, [])["space"] != recorded["space"]:
        raise RequestError(f"--space={space.name}", f"is not the space exploration {request.record_uoa} searched "
                           f"({earlier.get('space_name', '')}, fingerprint {recorded['space']})",
                           "resume without --space (the recorded one), or search it into another --record_uoa")
    objectives = tuple(parse_objective(o) for o in earlier.get("objectives", [])) or space.objectives
    if request.objectives and list(map(str, request.objectives)) != list(map(str, objectives)):
        raise RequestError(f"--objectives={','.join(map(str, request.objectives))}",
                           f"are not the objectives exploration {request.record_uoa} searched "
                           f"({', '.join(map(str, objectives))})",
                           "resume without --objectives, or search them into another --record_uoa")
    return space, objectives


def _explore(request: ExploreRequest, context: ExitStack) -> tuple[list[TrialRecord], Path]:
    if not request.resume:
        check_resolvable(request.space)  # every program, model and library before the entry or a trial
    location = _resumed_entry(request) if request.resume else \
        kernel.ensure_entry("experiment", request.record_repo, request.record_uoa)
    context.enter_context(search_lock.searching(location.path, request.record_uoa))
    earlier = read_log(location.path) if request.resume else None  # a resumed search keeps its settings
    space, objectives = recorded_search(request, earlier) if request.resume else \
        (request.space, request.objectives or request.space.objectives)  # type: ignore[union-attr]
    if request.resume:
        check_resolvable(space)  # the recorded space is input too (explore.json may come from someone else)
    connection = None
    if space.platforms and not request.ray:
        raise RequestError(f"space {space.name}", f"lists platforms ({', '.join(space.platforms)}): its trials "
                           "run on the nodes of a Ray cluster", "pass --ray=<head ip>:<port> or --ray=auto")
    if request.ray:
        from ...farm.cluster import connect

        connection = context.enter_context(connect(request.ray))
        space = on_cluster(space, connection)
    strategy = request.strategy or (earlier or {}).get("strategy") or default_strategy(space)
    seed = int((earlier or {}).get("seed", request.seed))
    trials = request.trials
    if trials is None and request.seconds is None:
        trials = space.size if strategy == "grid" else min(space.size, DEFAULT_TRIALS)
    exploration = Exploration(space, objectives, space.constraints, strategy, location.path / STUDY_FILE,
                              request.record_uoa, seed=seed)
    repo = "" if request.record_repo == "local" else request.record_repo
    runner = CkTrials(request.record_uoa, repo, location.path, space.repetitions, space.needs_accuracy(objectives))
    trials_at = runner if connection is None else \
        RayTrials(connection, runner, cluster_width(connection, space.platforms))
    if earlier is not None:
        print(f"resuming: {len(earlier.get('trials', []))} trial(s) recorded in experiment:{location.name}", flush=True)
    print(f"exploring {space.name} ({space.size} stacks) with {strategy} into experiment:{location.name}; "
          f"objectives {', '.join(map(str, objectives))}" +
          (f"; constraints {'; '.join(map(str, space.constraints))}" if space.constraints else ""), flush=True)
    if connection is not None:
        print(describe_cluster(connection, space.platforms), flush=True)
    if request.resume or not (location.path / STUDY_FILE).exists():  # (a second search is refused by the study)
        write_log(location.path, exploration, list(exploration.records) or _told(earlier))  # the search, recorded

    def on_trial(progress: Progress) -> None:
        write_log(location.path, exploration, exploration.records)  # on disk before it is said
        print(progress_line(progress, objectives), flush=True)

    def adopt(stack: Stack, number: int, since: float, told: Sequence[TrialRecord]) -> TrialOutcome | None:
        outcome = runner.adopt(stack, number, since, told)
        if outcome is not None:
            print(f"resuming: trial {number} ({stack.describe()}) was recorded before the search was stopped: "
                  f"its point {outcome.point or '(skipped)'} is kept, not measured again", flush=True)
        return outcome

    records = exploration.run(trials_at, trials, request.seconds, resume=request.resume, on_trial=on_trial,
                              adopt=adopt)
    write_log(location.path, exploration, records)
    print(frontier_table(records, objectives), flush=True)
    return records, location.path


def _told(earlier: dict[str, Any] | None) -> list[TrialRecord]:
    return [stored_record(t) for t in (earlier or {}).get("trials", [])]


def run(i: dict[str, Any]) -> int:
    explore(from_ck(i))
    return 0
