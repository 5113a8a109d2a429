"""Request-level simulation of sampled serving replicas over a short window (issue 13).

The fluid model serves rates; this package serves requests, one by one, through continuous
batching with chunked prefill, KV admission and preemption, driven by the same compute core
(:mod:`dcsim.physics.compute`) at the window's clock. See ``docs/requests.md``.
"""

from __future__ import annotations

from dcsim.requests.lengths import LengthDist
from dcsim.requests.stats import quantile_ci, replicas_for_quantile, requests_for_quantile
from dcsim.requests.step_time import step_time_s
from dcsim.requests.window import METRICS, ROUTERS, WindowResult, kv_capacity_tok, simulate_window

__all__ = [
    "METRICS",
    "ROUTERS",
    "LengthDist",
    "WindowResult",
    "kv_capacity_tok",
    "quantile_ci",
    "replicas_for_quantile",
    "requests_for_quantile",
    "simulate_window",
    "step_time_s",
]
