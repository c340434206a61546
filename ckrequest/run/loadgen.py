"""MLPerf LoadGen drives the backend (CK_REQUEST_SCENARIO=SingleStream | MultiStream | Server | Offline).

LoadGen (PyPI ``mlcommons-loadgen``) decides when queries are issued and which images they hold,
times each from its issue to its completion, and judges the run VALID or INVALID. Ours are:

- the query sample library (QSL) over the preprocessed image cache: LoadGen asks it to load
  samples before it starts timing, and loading reads them from the cache and, at batch 1, hands
  them to the framework (``backend.prepare``) then, so the timed region holds the framework's run;
- the system under test (SUT): each query's images in batches of CK_REQUEST_BATCH_SIZE (the last
  padded to the batch, so the framework always sees one shape), ``backend.run``, the top-5 classes
  with their scores as each image's response. SingleStream, MultiStream and Offline run in
  LoadGen's issuing thread (one query at a time, as the scenarios issue them); Server queues the
  images for one worker thread, which takes up to a batch of what is waiting.

Above batch 1 the images of a batch are known only when LoadGen issues them, so stacking them and
``backend.prepare`` (a copy; a quantisation for int8 TFLite) fall inside LoadGen's timing.
"""

from __future__ import annotations

import hashlib
import queue
import statistics
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Sequence

import numpy as np

from ..backends.base import Backend
from ..datasets import LabelledImage
from ..datasets.cache import CHUNK_IMAGES, mapped_chunks
from ..errors import RequestError
from ..models.model_info import ModelInfo
from .accuracy import TopK, score, top_k
from .config import RunConfig
from .loadgen_log import ACCURACY_LOG, TOP, encode_response, read_accuracy_log, result_from_detail
from .loadgen_settings import requested_settings
from .measurement import AccuracyResult, LoadGenResult


def import_loadgen() -> ModuleType:
    try:
        import mlperf_loadgen
    except ImportError as err:
        raise RequestError("mlperf_loadgen", f"cannot be imported in {sys.executable} ({err})",
                           "install MLPerf LoadGen into that Python: pip install mlcommons-loadgen "
                           "(ck-request's run extra has it; MXNet's venv: ck install package:lib-mxnet "
                           "--reinstall --quiet)") from None
    return mlperf_loadgen


class SampleLibrary:
    """LoadGen's QSL: sample k is image k; loading reads the cache (and prepares, at batch 1), untimed."""

    def __init__(self, images: Sequence[LabelledImage], info: ModelInfo, prepare: Callable[[np.ndarray], Any] | None):
        self.images = images
        self._chunks = mapped_chunks(images, info.preprocessing)
        self._prepare = prepare
        self.loaded: dict[int, Any] = {}

    def row(self, index: int) -> np.ndarray:
        return np.array(self._chunks[index // CHUNK_IMAGES][index % CHUNK_IMAGES])

    def load(self, indices: Sequence[int]) -> None:
        for index in indices:
            row = self.row(index)
            self.loaded[index] = self._prepare(row[None]) if self._prepare else row

    def unload(self, indices: Sequence[int]) -> None:
        for index in indices:
            self.loaded.pop(index, None)


class SystemUnderTest:
    """LoadGen's SUT: runs each query's images through the backend in batches, answers with their top-5."""

    def __init__(self, lg: ModuleType, backend: Backend, samples: SampleLibrary, batch_size: int,
                 label_offset: int) -> None:
        self._lg = lg
        self._backend = backend
        self._samples = samples
        self._batch = batch_size
        self._offset = label_offset
        self.first: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # each image's first response
        self.run_ns = 0  # inside backend.run
        self.images = 0  # images answered
        self.error: BaseException | None = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._stacked: np.ndarray | None = None  # the batch being assembled (one thread answers at a time)
        self._worker: threading.Thread | None = None

    def issue(self, query_samples: Sequence[Any]) -> None:
        """SingleStream, MultiStream, Offline: the query's images, a batch at a time, in LoadGen's thread."""
        pairs = [(s.id, s.index) for s in query_samples]
        for start in range(0, len(pairs), self._batch):
            self._answer(pairs[start:start + self._batch])

    def enqueue(self, query_samples: Sequence[Any]) -> None:
        """Server: LoadGen issues on its own schedule; the worker answers."""
        for s in query_samples:
            self._queue.put((s.id, s.index))

    def flush(self) -> None:
        pass  # every image is answered as soon as it can be; nothing is held back

    def start_worker(self) -> None:
        self._worker = threading.Thread(target=self._work, name="ck-request SUT", daemon=True)
        self._worker.start()

    def stop_worker(self) -> None:
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            pairs = [item]
            while len(pairs) < self._batch:  # what else is waiting, up to a batch
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                pairs.append(item)
            self._answer(pairs)

    def _answer(self, pairs: list[tuple[int, int]]) -> None:
        lg = self._lg
        if self.error is not None:  # answer at once: LoadGen ends the test, the error is raised after it
            lg.QuerySamplesComplete([lg.QuerySampleResponse(sid, 0, 0) for sid, _ in pairs])
            return
        try:
            loaded = self._samples.loaded
            if self._batch == 1:
                prepared = loaded[pairs[0][1]]
            else:
                rows = [loaded[index] for _, index in pairs]
                rows += [rows[-1]] * (self._batch - len(rows))  # one shape for the framework
                if self._stacked is None:
                    self._stacked = np.empty((self._batch, *rows[0].shape), rows[0].dtype)
                # into one buffer: a fresh 5 MB array per batch costs its page faults inside the timing
                prepared = self._backend.prepare(np.stack(rows, out=self._stacked))
            t0 = time.perf_counter_ns()
            output = self._backend.run(prepared)
            self.run_ns += time.perf_counter_ns() - t0
            best = top_k(self._backend.logits(output)[:len(pairs)], TOP, self._offset)
        except BaseException as err:  # noqa: B036 - LoadGen's thread must not die: it would wait forever
            self.error = err
            lg.QuerySamplesComplete([lg.QuerySampleResponse(sid, 0, 0) for sid, _ in pairs])
            return
        responses, kept = [], []
        for (sid, index), classes, scores in zip(pairs, best.classes, best.scores):
            data = encode_response(classes, scores)
            kept.append(data)  # alive until LoadGen has copied it
            responses.append(lg.QuerySampleResponse(sid, data.ctypes.data, data.nbytes))
            self.first.setdefault(index, (classes, scores))
        self.images += len(pairs)
        lg.QuerySamplesComplete(responses)


@dataclass(frozen=True)
class LoadGenRun:
    result: LoadGenResult
    accuracy: AccuracyResult | None
    per_image_s: float  # inside the framework's run call, per image answered


def warm_up(backend: Backend, samples: SampleLibrary, config: RunConfig) -> float | None:
    """The untimed warm-up queries (a batch of the first images); their median seconds, for LoadGen's estimates."""
    if config.warmup == 0:
        return None
    rows = [samples.row(k % len(samples.images)) for k in range(config.batch_size)]
    prepared = backend.prepare(np.stack(rows))
    seconds = []
    for _ in range(config.warmup):
        t0 = time.perf_counter()
        backend.run(prepared)
        seconds.append(time.perf_counter() - t0)
    return statistics.median(seconds)


def settings_for(lg: ModuleType, config: RunConfig, info: ModelInfo, seconds_per_query: float | None) -> Any:
    """The run variables as LoadGen's settings, then the mlperf.conf and user.conf given, read by LoadGen."""
    settings = lg.TestSettings()
    settings.scenario = getattr(lg.TestScenario, config.scenario)
    settings.mode = lg.TestMode.AccuracyOnly if config.mode == "accuracy" else lg.TestMode.PerformanceOnly
    for name, value in requested_settings(config, seconds_per_query, settings.multi_stream_samples_per_query).items():
        setattr(settings, name, value)
    for var, path in (("mlperf_conf", config.mlperf_conf), ("user_conf", config.user_conf)):
        # LoadGen 6 reads its built-in copy of MLPerf's mlperf.conf first, then the file (keys as model.scenario.key)
        if path and settings.FromConfig(path, info.arch, config.scenario, 1) != 0:
            raise RequestError(f"run variable {RunConfig.env_name(var)}={path}", "LoadGen cannot read it",
                               "write lines such as '*.Offline.target_qps = 200' (model.scenario.key = value)")
    return settings


def conf_digest(config: RunConfig) -> str | None:
    """What the configuration files said (their text, not where they were): part of the stack."""
    paths = [path for path in (config.mlperf_conf, config.user_conf) if path]
    if not paths:
        return None
    digest = hashlib.sha256()
    for var, path in (("mlperf_conf", config.mlperf_conf), ("user_conf", config.user_conf)):
        digest.update(f"{var}\0".encode() + (Path(path).read_bytes() if path else b"") + b"\0")
    return digest.hexdigest()


def _log_settings(lg: ModuleType, log_dir: Path) -> Any:
    log = lg.LogSettings()
    log.log_output.outdir = str(log_dir)
    log.log_output.copy_summary_to_stdout = False
    log.enable_trace = False  # a trace of every query is large; the summary and detail logs are kept
    return log


def run_loadgen(backend: Backend, images: Sequence[LabelledImage], root: Path | None, info: ModelInfo,
                config: RunConfig, log_dir: Path) -> LoadGenRun:
    """One LoadGen test over ``images`` (performance: the images queries draw from; accuracy: every one)."""
    lg = import_loadgen()
    log_dir.mkdir(parents=True, exist_ok=True)
    samples = SampleLibrary(images, info, backend.prepare if config.batch_size == 1 else None)
    settings = settings_for(lg, config, info, warm_up(backend, samples, config))
    sut = SystemUnderTest(lg, backend, samples, config.batch_size, info.label_offset)
    server = config.scenario == "Server"
    handle = lg.ConstructSUT(sut.enqueue if server else sut.issue, sut.flush)
    library = lg.ConstructQSL(len(images), min(len(images), CHUNK_IMAGES), samples.load, samples.unload)
    if server:
        sut.start_worker()
    try:
        # an audit.config in the working folder would change the test (MLPerf's compliance runs): name none
        lg.StartTestWithLogSettings(handle, library, settings, _log_settings(lg, log_dir),
                                    str(log_dir / "no-audit.config"))
    finally:
        sut.stop_worker()
        lg.DestroyQSL(library)
        lg.DestroySUT(handle)
    if sut.error is not None:
        if isinstance(sut.error, RequestError):
            raise sut.error
        raise RequestError(f"{backend.name} under LoadGen", f"the framework failed: {type(sut.error).__name__}: "
                           f"{sut.error}".split("\n")[0], "run the same model with CK_REQUEST_SCENARIO=native")
    result = replace(result_from_detail(log_dir, config.scenario), conf_sha256=conf_digest(config))
    accuracy = None
    if not info.is_synthetic:
        if config.mode == "accuracy":
            accuracy = score(images, read_accuracy_log(log_dir / ACCURACY_LOG, len(images)), root)
        elif sut.first:
            covered = sorted(sut.first)  # the images the timed queries drew, each scored once
            best = TopK(np.stack([sut.first[k][0] for k in covered]), np.stack([sut.first[k][1] for k in covered]))
            accuracy = score([images[k] for k in covered], best, root)
    return LoadGenRun(result, accuracy, sut.run_ns / 1e9 / max(sut.images, 1))
