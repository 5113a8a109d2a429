"""The request-level engine for the window tests: ``dcsim.requests`` when it is installed,
else a small stand-in with the same interface (FCFS batch slots per replica, Poisson
arrivals, gamma lengths), so the recording, resolution, outputs and errors of the windows are
tested on their own. The stand-in lives only here, never in ``dcsim/``.
"""

from __future__ import annotations

import heapq
import importlib.util
import math
import sys
import time
import types

import numpy as np
import pandas as pd
import pytest


class StandInLengths:
    """Gamma lengths with a mean and CV, or draws from a table [tok]."""

    def __init__(self, mean_tok, cv_frac, table_tok=None):
        if not mean_tok > 0:
            raise ValueError("mean_tok must be > 0")
        self.mean_tok, self.cv_frac, self.table_tok = mean_tok, cv_frac, table_tok

    def sample(self, rng, n):
        if self.table_tok is not None:
            return rng.choice(np.asarray(self.table_tok), size=n)
        if self.cv_frac <= 0:
            return np.full(n, self.mean_tok)
        k = 1.0 / self.cv_frac**2
        return rng.gamma(k, self.mean_tok / k, size=n)


class StandInResult:
    """The engine's WindowResult interface over plain arrays."""

    def __init__(self, **arrays):
        self.__dict__.update(arrays)

    @property
    def ttft_s(self):
        return self.first_token_s - self.arrival_s

    @property
    def e2e_s(self):
        return self.finish_s - self.arrival_s

    @property
    def tpot_s(self):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(
                self.output_tok > 1,
                (self.finish_s - self.first_token_s) / (self.output_tok - 1),
                np.nan,
            )

    @property
    def n_requests(self):
        return int(self.arrival_s.shape[0])


def stand_in_simulate_window(
    params, replicas_count, rate_req_per_s, clock_frac, step_s, input_len, output_len, *,
    arrival_cv_frac=1.0, router="least_loaded", max_batch_count=math.inf, chunk_tok=None,
    seed=0, warmup_s=0.0,
):  # fmt: skip
    """FCFS replicas of ``min(max_batch_count, 64)`` slots; 20 ms/token, 50 us/prompt token."""
    t_wall = time.perf_counter()
    rng = np.random.default_rng(seed)
    counts = rng.poisson(np.asarray(rate_req_per_s) * step_s)
    arrival = np.concatenate(
        [np.sort(i * step_s + rng.uniform(0, step_s, n)) for i, n in enumerate(counts)]
    )
    step = np.minimum((arrival // step_s).astype(int), len(clock_frac) - 1)
    clock = np.maximum(np.asarray(clock_frac)[step], 1e-3)
    n = arrival.shape[0]
    prompt = np.maximum(np.round(input_len.sample(rng, n)), 1).astype(np.int64)
    out = np.maximum(np.round(output_len.sample(rng, n)), 1).astype(np.int64)
    slots = int(min(max_batch_count, 64))
    free = [[0.0] * slots for _ in range(replicas_count)]
    replica = np.arange(n) % max(replicas_count, 1)
    first = np.empty(n)
    finish = np.empty(n)
    for j in range(n):
        heap = free[replica[j]]
        start = max(heapq.heappop(heap), arrival[j])
        first[j] = start + 5e-5 * prompt[j] / clock[j]
        finish[j] = first[j] + 0.02 * (out[j] - 1) / clock[j]
        heapq.heappush(heap, finish[j])
    res = StandInResult(
        arrival_s=arrival, first_token_s=first, finish_s=finish, replica=replica,
        prompt_tok=prompt, output_tok=out, preemptions=np.zeros(n, dtype=np.int64),
    )  # fmt: skip
    res.mean_wait_s = float(np.mean(first - arrival - 5e-5 * prompt / clock)) if n else math.nan
    res.sim_wall_s = time.perf_counter() - t_wall
    res.to_frame = lambda: pd.DataFrame({"arrival_s": arrival})
    return res


def stand_in_quantile_ci(sample, q, confidence=0.95):
    """Order statistics x_(l), x_(u) with binomial ranks (the engine's rule)."""
    from scipy.stats import binom

    x = np.sort(np.asarray(sample, dtype=float))
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan
    a = 1.0 - confidence
    lo_r, hi_r = int(binom.ppf(a / 2, n, q)), int(binom.ppf(1 - a / 2, n, q)) + 1
    return (
        float(x[max(math.ceil(n * q), 1) - 1]),
        float(x[lo_r - 1]) if lo_r >= 1 else -math.inf,
        float(x[hi_r - 1]) if hi_r <= n else math.inf,
    )


def stand_in_replicas_for_quantile(q, rate, duration_s, confidence=0.95, rel=0.2):
    """z^2 q / ((1 - q) rel^2) requests over the requests of one replica."""
    from scipy.stats import norm

    z = norm.ppf(0.5 + confidence / 2)
    return max(1, math.ceil(math.ceil(z * z * q / ((1 - q) * rel**2)) / (rate * duration_s)))


def _real_engine() -> bool:
    try:
        return importlib.util.find_spec("dcsim.requests.window") is not None
    except ModuleNotFoundError:
        return False


def install_engine(monkeypatch) -> str:
    """'real' with dcsim.requests installed; else put the stand-in in sys.modules."""
    if _real_engine():
        return "real"
    pkg = types.ModuleType("dcsim.requests")
    pkg.__path__ = []
    window = types.ModuleType("dcsim.requests.window")
    window.simulate_window = stand_in_simulate_window
    window.WindowResult = StandInResult
    lengths = types.ModuleType("dcsim.requests.lengths")
    lengths.LengthDist = StandInLengths
    monkeypatch.setitem(sys.modules, "dcsim.requests", pkg)
    monkeypatch.setitem(sys.modules, "dcsim.requests.window", window)
    stats = types.ModuleType("dcsim.requests.stats")
    stats.quantile_ci = stand_in_quantile_ci
    stats.replicas_for_quantile = stand_in_replicas_for_quantile
    monkeypatch.setitem(sys.modules, "dcsim.requests.lengths", lengths)
    monkeypatch.setitem(sys.modules, "dcsim.requests.stats", stats)
    return "stand-in"


@pytest.fixture
def engine(monkeypatch):
    """The engine for one test ('real' or 'stand-in')."""
    return install_engine(monkeypatch)


#: A short small-hall run with a 30-minute window on its peak chat hour, 4 replicas.
WINDOW_OVERRIDES = {
    "horizon_s": "1d",
    "windows": [{"name": "pk", "start": "peak:chat", "duration_s": "30min", "replicas_count": 4}],
}


@pytest.fixture
def window_overrides():
    """Overrides of small-hall for the short window run (a copy per test)."""
    import copy

    return copy.deepcopy(WINDOW_OVERRIDES)


@pytest.fixture(scope="module")
def window_run(small_hall, tmp_path_factory):
    """The short window run, written to a run folder (``meta['run_dir']``)."""
    import dcsim

    with pytest.MonkeyPatch.context() as mp:
        install_engine(mp)
        root = tmp_path_factory.mktemp("runs")
        return dcsim.run(small_hall, overrides=WINDOW_OVERRIDES, write=True, root=root)
