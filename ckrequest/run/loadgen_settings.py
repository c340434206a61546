"""Which MLPerf LoadGen setting each run variable is, per scenario (LoadGen's TestSettings names).

- ``CK_REQUEST_MIN_QUERIES`` / ``CK_REQUEST_MIN_DURATION_S``: ``min_query_count`` / ``min_duration_ms``
  (in Offline, LoadGen reads the minimum as samples of its one query);
- ``CK_REQUEST_TARGET_QPS``: Server's ``server_target_qps`` (the Poisson arrival rate) and Offline's
  ``offline_expected_qps`` (LoadGen sizes its one query by it); 0 = estimated from the warm-up
  queries: Offline at the rate they ran at, Server at half of it (a load at which queries rarely wait);
- ``CK_REQUEST_TARGET_LATENCY_MS``: Server's ``server_target_latency_ns`` (the bound its 99th
  percentile must meet; 0 = LoadGen's default, 100 ms), SingleStream's and MultiStream's expected
  latency (``*_expected_latency_ns``, what LoadGen plans its queries by; 0 = the warm-up's).

Without the warm-up (``CK_REQUEST_WARMUP=0``) nothing is estimated: LoadGen's own defaults apply.
"""

from __future__ import annotations

import math

from .config import RunConfig

SERVER_LOAD = 0.5  # Server's estimated arrival rate, as a share of what the warm-up queries sustained


def requested_settings(config: RunConfig, seconds_per_query: float | None,
                       multi_stream_samples: int = 8) -> dict[str, int | float]:
    """TestSettings attribute -> value; ``seconds_per_query``: the warm-up's median (a batch of batch_size)."""
    values: dict[str, int | float] = {"min_query_count": config.min_queries,
                                      "min_duration_ms": round(config.min_duration_s * 1000)}
    per_image = seconds_per_query / config.batch_size if seconds_per_query else None
    target_latency_ns = round(config.target_latency_ms * 1e6)
    if config.scenario == "SingleStream":
        expected = target_latency_ns or (round(seconds_per_query * 1e9) if seconds_per_query else 0)
        if expected:
            values["single_stream_expected_latency_ns"] = expected
    elif config.scenario == "MultiStream":
        batches = math.ceil(multi_stream_samples / config.batch_size)
        expected = target_latency_ns or (round(seconds_per_query * batches * 1e9) if seconds_per_query else 0)
        if expected:
            values["multi_stream_expected_latency_ns"] = expected
    elif config.scenario == "Server":
        qps = config.target_qps or (SERVER_LOAD / per_image if per_image else 0.0)
        if qps:
            values["server_target_qps"] = qps
        if target_latency_ns:
            values["server_target_latency_ns"] = target_latency_ns
    elif config.scenario == "Offline":
        qps = config.target_qps or (1.0 / per_image if per_image else 0.0)
        if qps:
            values["offline_expected_qps"] = qps
    return values


def reads(scenario: str) -> tuple[str, ...]:
    """The target run variables a scenario reads (RunConfig field names): they are part of its stack."""
    return {"SingleStream": ("target_latency_ms",), "MultiStream": ("target_latency_ms",),
            "Server": ("target_qps", "target_latency_ms"), "Offline": ("target_qps",)}.get(scenario, ())
