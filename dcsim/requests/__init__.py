"""Request-level simulation of sampled serving replicas over a short window (issue 13).

The fluid model serves rates; this package serves requests, one by one, through continuous
batching with chunked prefill, KV admission and preemption, driven by the same compute core
(:mod:`dcsim.physics.compute`) at the window's clock. See ``docs/requests.md``.
"""

from __future__ import annotations

from dcsim.requests.lengths import LengthDist
from dcsim.requests.window import ROUTERS, WindowResult, simulate_window

__all__ = ["ROUTERS", "LengthDist", "WindowResult", "simulate_window"]
