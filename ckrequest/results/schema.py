"""The unified result keys (DESIGN.md §4), each declared once.

Everything that writes, reads, checks, ranks, prints, plots or validates a result derives from
``KEYS``: the writer refuses a key not declared here, the reader reads exactly these, `ck check`
asks for the ones a run must have, the scoreboard and dashboard label and scale them, validate
judges the ones marked ``judged``. Add a key here and every room knows it.

Where a key lives in a CK experiment point:

- characteristic: ``##characteristics#run#<key>#all`` (one value per statistical repetition);
- feature: ``##features#<key>#min`` (a setting, the same in every repetition);
- meta: ``##features#meta#<key>#min`` in ours (a program cannot write the entry meta), the entry's
  ``meta`` in the original ReQuEST results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ..errors import RequestError

CHARACTERISTIC, FEATURE, META = "characteristic", "feature", "meta"
NUMBER, TEXT, FLAG = "number", "text", "flag"
# how the repetitions of a characteristic become the point's value
MEDIAN, MAXIMUM, MINIMUM = "median", "max", "min"
# the runs that must record a key (`ck check`)
PERFORMANCE = "performance"  # a performance run
BATCH1 = "batch1"  # a performance run at batch 1
REAL_ACCURACY = "real-accuracy"  # a run with real weights (it measures accuracy)
EVERY = "every"  # every run of ck-request's harness
LOADGEN = "loadgen"  # a performance run driven by MLPerf LoadGen (a scenario other than native)


@dataclass(frozen=True)
class Key:
    name: str
    section: str  # characteristic | feature | meta
    label: str
    unit: str = ""  # the unit shown (after multiplying by scale)
    scale: float = 1.0  # stored value x scale = shown value
    better: str = ""  # min | max: a ranking axis (the Pareto frontier's direction); "" otherwise
    kind: str = NUMBER  # number | text | flag
    combine: str = MEDIAN  # characteristics: how the repetitions combine
    log: bool = False  # plotted on a log scale by default
    required: tuple[str, ...] = ()  # which runs must record it (PERFORMANCE, BATCH1, REAL_ACCURACY, EVERY, LOADGEN)
    judged: str = ""  # ck validate: "ratio" (bootstrap of the ratio), "tail" (a percentile), "count" (exact)
    originals: bool = True  # the original ReQuEST results can hold it
    scored: bool = False  # measured by an accuracy run (an exploration adds it to the trial's performance values)
    flat: str = field(init=False, default="")  # where a point's flat file keeps it (#all for a characteristic)

    def __post_init__(self) -> None:
        object.__setattr__(self, "flat", self.flat_key())

    @property
    def axis(self) -> bool:
        return bool(self.better) and self.kind == NUMBER

    def flat_key(self, stat: str = "all") -> str:
        if self.section == CHARACTERISTIC:
            return f"##characteristics#run#{self.name}#{stat}"
        if self.section == FEATURE:
            return f"##features#{self.name}#min"
        return f"##features#meta#{self.name}#min"


def _c(name: str, label: str, unit: str = "", scale: float = 1.0, better: str = "", **more: Any) -> Key:
    return Key(name, CHARACTERISTIC, label, unit, scale, better, **more)


def _f(name: str, label: str, unit: str = "", scale: float = 1.0, better: str = "", **more: Any) -> Key:
    return Key(name, FEATURE, label, unit, scale, better, **more)


def _m(name: str, label: str, kind: str = TEXT, **more: Any) -> Key:
    return Key(name, META, label, kind=kind, **more)


KEYS: tuple[Key, ...] = (
    # ------------------------------------------------------------ characteristics: measured, per repetition
    _c("inference_latency", "latency (batch 1)", "ms", 1e3, "min", log=True, required=(BATCH1,), judged="ratio"),
    _c("latency_p50_s", "latency p50", "ms", 1e3, "min", log=True, required=(PERFORMANCE,)),
    _c("latency_p90_s", "latency p90", "ms", 1e3, "min", log=True, required=(PERFORMANCE,), judged="tail"),
    _c("latency_p99_s", "latency p99", "ms", 1e3, "min", log=True),
    _c("latency_min_s", "latency min", "ms", 1e3, "min", log=True, originals=False),
    _c("latency_mean_s", "latency mean", "ms", 1e3, "min", log=True, originals=False),
    _c("latency_max_s", "latency max", "ms", 1e3, "min", log=True, originals=False),
    _c("latency_stdev_s", "latency stdev", "ms", 1e3, originals=False),
    _c("prediction_time_avg_s", "time per image", "ms", 1e3, "min", log=True, required=(PERFORMANCE,)),
    _c("inference_throughput", "throughput", "images/s", 1.0, "max", log=True, required=(PERFORMANCE,),
       judged="ratio"),
    _c("query_count", "timed queries", originals=False),
    _c("measured_duration_s", "measured time", "s", originals=False),
    _c("warmup_queries", "warm-up queries", originals=False),
    _c("execution_time", "CK execution time", "s", originals=False),
    _c("accuracy_top1", "top-1 accuracy", "%", 100.0, "max", required=(REAL_ACCURACY,), scored=True),
    _c("accuracy_top5", "top-5 accuracy", "%", 100.0, "max", required=(REAL_ACCURACY,), scored=True),
    _c("accuracy_images", "images scored", "images", required=(REAL_ACCURACY,), scored=True, originals=False),
    _c("accuracy_top1_correct", "top-1 correct", "images", required=(REAL_ACCURACY,), judged="count",
       originals=False, scored=True),
    _c("accuracy_top5_correct", "top-5 correct", "images", required=(REAL_ACCURACY,), judged="count",
       originals=False, scored=True),
    _c("accuracy_top1_label_correct", "top-1 = own label", "images", scored=True, originals=False),
    _c("usage_cost", "cloud cost", "$ per 1000 images", 1e3, "min", log=True),
    _c("usage_cost_per_hour", "cloud price", "$/hour", 1.0, "min", log=True),
    _c("peak_memory_bytes", "peak memory", "MB", 1e-6, "min", combine=MAXIMUM, log=True),
    _c("energy_per_image_j", "energy per image", "J", 1.0, "min", log=True),
    _c("percent_of_peak", "share of peak FLOP/s", "%", 100.0, "max", log=True),
    _c("dataset_images", "images loaded", "images", originals=False),
    _c("dataset_load_s", "data set load time", "s", originals=False),
    _c("preprocess_s", "preprocessing time", "s", originals=False),
    _c("model_load_s", "model load time", "s", originals=False),
    # MLPerf LoadGen's result (scenarios other than native): VALID only if every repetition was
    _c("loadgen_valid", "LoadGen VALID", kind=FLAG, combine=MINIMUM, required=(LOADGEN,), originals=False),
    _c("loadgen_min_duration_met", "LoadGen min duration met", kind=FLAG, combine=MINIMUM, originals=False),
    _c("loadgen_min_queries_met", "LoadGen min queries met", kind=FLAG, combine=MINIMUM, originals=False),
    _c("loadgen_early_stopping_met", "LoadGen early stopping met", kind=FLAG, combine=MINIMUM, originals=False),
    _c("loadgen_perf_constraints_met", "LoadGen latency bound met", kind=FLAG, combine=MINIMUM, originals=False),
    _c("early_stopping_p90_s", "early-stopping p90", "ms", 1e3, "min", log=True, originals=False),
    _c("early_stopping_p99_s", "early-stopping p99", "ms", 1e3, "min", log=True, originals=False),
    _c("loadgen_samples_per_second", "LoadGen samples/s", "samples/s", 1.0, "max", log=True, originals=False),
    _c("loadgen_overlatency_queries", "queries over the bound", "queries", originals=False),
    _c("loadgen_target_qps", "LoadGen target QPS", "queries/s", originals=False),
    _c("loadgen_target_latency_s", "LoadGen latency bound", "ms", 1e3, originals=False),
    _c("loadgen_min_duration_s", "LoadGen min duration", "s", originals=False),
    # a farm of nodes (ck farm): what crosses between them, the slowest stage, agreement with one process
    _c("farm_bytes_between_stages", "bytes between stages", "kB per image", 1e-3, "min", log=True, originals=False),
    _c("farm_network_bytes", "bytes between nodes", "kB per image", 1e-3, "min", log=True, originals=False),
    _c("farm_slowest_stage_s", "slowest stage", "ms", 1e3, "min", log=True, originals=False),
    _c("farm_softmax_max_diff", "max |softmax difference| vs one process", combine=MAXIMUM, originals=False),
    # ------------------------------------------------------------ features: what was measured, under which settings
    _f("model_size", "model size", "MB", 1e-6, "min", log=True, required=(EVERY,)),
    _f("model_macs", "model multiply-adds", "M", 1e-6, "min", log=True, required=(EVERY,)),
    _f("model_parameters", "model parameters", "M", 1e-6, originals=False),
    _f("model_sha256", "model checksum", kind=TEXT, required=(EVERY,), originals=False),
    _f("freq", "frequency", "MHz"),
    _f("cpu_freq", "CPU frequency", "MHz"),
    _f("gpu_freq", "GPU frequency", "MHz"),
    _f("batch_size", "batch size", "images", 1.0, "min", log=True, required=(EVERY,)),
    _f("threads", "threads", required=(EVERY,), originals=False),
    _f("statistical_repetitions", "repetitions", better="max", required=(EVERY,)),
    _f("dataset_size", "data set size", "images", 1.0, "max", log=True, required=(EVERY,)),
    _f("measuring_latency", "latency measured", kind=FLAG),
    _f("processed", "processed", kind=FLAG),
    _f("weights", "weights", kind=TEXT, required=(EVERY,), originals=False),
    _f("mode", "mode", kind=TEXT, required=(EVERY,), originals=False),
    _f("scenario", "scenario", kind=TEXT, originals=False),  # native, or an MLPerf LoadGen scenario
    _f("target_qps", "target QPS asked", "queries/s", originals=False),  # as the run variable said (0: estimated)
    _f("target_latency_ms", "target latency asked", "ms", originals=False),
    _f("loadgen_conf_sha256", "LoadGen conf files", kind=TEXT, originals=False),
    _f("farm_nodes", "farm nodes", originals=False),
    _f("farm_hosts", "farm hosts", originals=False),
    _f("farm_mode", "farm mode", kind=TEXT, originals=False),
    # what the backend actually ran with (its effective configuration)
    _f("backend_graph_optimization", "graph optimisation", kind=TEXT, originals=False),
    _f("backend_inter_op_threads", "inter-op threads", originals=False),
    _f("backend_performance_hint", "performance hint", kind=TEXT, originals=False),
    _f("backend_streams", "inference streams", originals=False),
    _f("backend_inference_threads", "inference threads", originals=False),
    _f("backend_inference_precision", "inference precision", kind=TEXT, originals=False),
    _f("backend_input_dtype", "input type", kind=TEXT, originals=False),
    _f("backend_signature", "graph signature", kind=TEXT, originals=False),
    _f("backend_threading", "threading", kind=TEXT, originals=False),
    _f("backend_hybridized", "hybridized", kind=FLAG, originals=False),
    _f("backend_target", "compile target", kind=TEXT, originals=False),
    _f("tvm_tuned", "TVM tuned", kind=FLAG, originals=False),
    _f("tvm_tuned_trials", "TVM tuning trials", originals=False),
    _f("tvm_from_cache", "TVM library from cache", kind=FLAG, originals=False),
    _f("tvm_untuned_because", "TVM untuned because", kind=TEXT, originals=False),
    _f("armnn_backend", "Arm NN backend", kind=TEXT, originals=False),
    _f("armnn_layers_per_backend", "Arm NN layers per backend", kind=TEXT, originals=False),
    # ------------------------------------------------------------ meta: names
    _m("model_design_name", "model", required=(EVERY,)),
    _m("model_arch", "architecture", required=(EVERY,)),
    _m("model_precision", "precision", required=(EVERY,)),
    _m("model_format", "model format", originals=False),
    _m("library_name", "library", required=(EVERY,)),
    _m("library_device", "library device", originals=False),
    _m("loadgen_version", "LoadGen version", originals=False),
    _m("compiler_name", "compiler"),
    _m("plat_name", "platform", required=(EVERY,)),
    _m("cpu_name", "CPU", required=(EVERY,)),
    _m("os_name", "OS", required=(EVERY,)),
    _m("cpu_cores", "cores", NUMBER, required=(EVERY,)),
    _m("cpu_threads", "hardware threads", NUMBER, required=(EVERY,)),
    _m("memory_bytes", "memory", NUMBER, required=(EVERY,)),
    _m("farm", "farm"),
    _m("node_platform", "cluster node platform", originals=False),  # ck explore --ray: the node's request-platform
    _m("dataset_species", "data set", required=(EVERY,)),
    _m("scenario_module_uoa", "scenario module", required=(EVERY,)),
    _m("platform_species", "platform kind"),
    _m("platform_price", "platform price", NUMBER, unit="$", better="min", log=True),
    _m("platform_price_date", "price date"),
    _m("platform_peak_power", "platform peak power", NUMBER, unit="W", better="min", log=True),
)

BY_NAME: dict[str, Key] = {k.name: k for k in KEYS}
AXES: tuple[Key, ...] = tuple(k for k in KEYS if k.axis)
BY_KEY = {k.name: k for k in AXES}  # the keys a board can rank and plot
DEFAULT_X = "inference_latency"
DEFAULT_Y = "accuracy_top1"
ACCURACY_RUN_KEYS = tuple(k.name for k in KEYS if k.scored)  # what an accuracy run measures
ACCURACY_KEYS = tuple(k.name for k in AXES if k.scored)  # the accuracies a board ranks: top-1, top-5


def of(section: str, kind: str | None = None) -> tuple[Key, ...]:
    return tuple(k for k in KEYS if k.section == section and (kind is None or k.kind == kind))


def required_for(run: Iterable[str]) -> tuple[Key, ...]:
    """The keys a run of these kinds must record (e.g. {EVERY, PERFORMANCE, BATCH1})."""
    kinds = set(run)
    return tuple(k for k in KEYS if kinds.intersection(k.required))


def checked(section: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` of one section, refused when a key is not declared here in that section."""
    unknown = [name for name in values if name not in BY_NAME or BY_NAME[name].section != section]
    if unknown:
        raise ValueError(f"{section} keys not in ckrequest.results.schema: {', '.join(sorted(unknown))}")
    return dict(values)


@dataclass(frozen=True)
class Axis:
    """A key chosen for a board's axis, with the direction the frontier prefers."""

    metric: Key
    better: str

    @property
    def key(self) -> str:
        return self.metric.name


def parse_axis(text: str, flag: str) -> Axis:
    """``inference_latency`` or ``inference_latency:max`` (overrides the key's usual direction)."""
    name, _, better = text.strip().partition(":")
    if name not in BY_KEY:
        raise RequestError(f"--{flag}={text}", "is not a unified result key",
                           f"use one of: {', '.join(BY_KEY)}")
    metric = BY_KEY[name]
    better = better or metric.better
    if better not in ("min", "max"):
        raise RequestError(f"--{flag}={text}", f"direction {better!r} is neither min nor max",
                           f"write --{flag}={name}:min or --{flag}={name}:max")
    return Axis(metric, better)
