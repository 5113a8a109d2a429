"""One request-level window: draw the requests, run them through the replicas, report latency.

:func:`simulate_window` is the API the scenario's ``windows:`` block calls: the rate offered
to the sampled replicas and their clock over the window come from the fluid run, the pool
from its parameter vector (``PoolSpec.to_params()``), the lengths and burstiness from the
workload class. Everything random is drawn before the compiled loop from one
``numpy.random.SeedSequence(seed)`` spawned into three streams (arrivals, prompt lengths,
output lengths), so the same inputs and seed give bit-identical results, and changing the
length distribution does not move the arrival times.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dcsim.catalog.workload_defaults import workload_default
from dcsim.errors import ConfigError
from dcsim.physics.compute import (
    I_HBM_RESERVE,
    I_HBM_USABLE,
    I_KV,
    I_REPLICA_GPUS,
    I_WEIGHT,
    PARAMS_COUNT,
    kv_capacity_batch_count,
)
from dcsim.requests.arrivals import arrival_times_s, check_rates
from dcsim.requests.batching import (
    ROUTER_CODES,
    Engine,
    new_replicas,
    new_requests,
    simulate_batching,
)
from dcsim.requests.lengths import LengthDist
from dcsim.requests.stats import quantile_ci

__all__ = ["METRICS", "ROUTERS", "WindowResult", "kv_capacity_tok", "simulate_window"]

#: Router policies :func:`simulate_window` accepts.
ROUTERS: tuple[str, ...] = tuple(ROUTER_CODES)

#: Latency metrics :meth:`WindowResult.quantile` knows.
METRICS: tuple[str, ...] = ("ttft_s", "tpot_s", "e2e_s", "wait_s")


@dataclass(frozen=True)
class WindowResult:
    """Requests of one window that arrived after the warm-up, in arrival order.

    Times are seconds from the window's start. A request never served (refused because it
    cannot fit the KV cache, or still waiting when no clock above 0 returns) has NaN times
    and, if refused, replica -1; quantiles count it as an infinite latency.
    """

    arrival_s: np.ndarray
    admit_s: np.ndarray
    first_token_s: np.ndarray
    finish_s: np.ndarray
    replica: np.ndarray
    prompt_tok: np.ndarray
    output_tok: np.ndarray
    preemptions: np.ndarray
    replicas_count: int
    kv_cap_tok: int
    warmup_count: int
    iterations_count: int
    sim_wall_s: float

    @property
    def n_requests(self) -> int:
        """Requests measured (arrived at or after the warm-up) [-]."""
        return int(self.arrival_s.size)

    @property
    def refused_count(self) -> int:
        """Measured requests refused because prompt + output exceeds the KV capacity [-]."""
        return int(np.count_nonzero(self.replica < 0))

    @property
    def ttft_s(self) -> np.ndarray:
        """Time to first token, first token - arrival [s]."""
        return self.first_token_s - self.arrival_s

    @property
    def tpot_s(self) -> np.ndarray:
        """Time per output token after the first, (finish - first) / (output - 1) [s].

        NaN for one-token outputs.
        """
        steps = (self.output_tok - 1).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(steps > 0, (self.finish_s - self.first_token_s) / steps, np.nan)

    @property
    def e2e_s(self) -> np.ndarray:
        """End-to-end latency, finish - arrival [s]."""
        return self.finish_s - self.arrival_s

    @property
    def wait_s(self) -> np.ndarray:
        """Queueing delay before the first admission to a batch, admit - arrival [s]."""
        return self.admit_s - self.arrival_s

    @property
    def mean_wait_s(self) -> float:
        """Mean queueing delay of the requests admitted [s] (NaN if none)."""
        wait = self.wait_s
        wait = wait[np.isfinite(wait)]
        return float(wait.mean()) if wait.size else math.nan

    def quantile(
        self, metric: str, q: float, confidence: float = 0.95
    ) -> tuple[float, float, float]:
        """Quantile of a latency metric with its distribution-free confidence interval.

        Parameters
        ----------
        metric : str
            One of :data:`METRICS`.
        q : float
            Quantile level in (0, 1) [-].
        confidence : float
            Two-sided confidence of the interval [-].

        Returns
        -------
        tuple of float
            ``(value, lo, hi)`` [s] (:func:`dcsim.requests.stats.quantile_ci`).
        """
        if metric not in METRICS:
            raise ConfigError(f"'{metric}' is not a metric; expected one of {', '.join(METRICS)}")
        x = getattr(self, metric)
        if metric == "tpot_s":
            x = x[self.output_tok > 1]
        return quantile_ci(np.where(np.isnan(x), np.inf, x), q, confidence)

    def to_frame(self) -> pd.DataFrame:
        """One row per measured request, unit-suffixed columns.

        Returns
        -------
        pandas.DataFrame
            arrival_s, admit_s, first_token_s, finish_s, replica, prompt_tok, output_tok,
            preemptions_count, ttft_s, tpot_s, e2e_s.
        """
        return pd.DataFrame(
            {
                "arrival_s": self.arrival_s,
                "admit_s": self.admit_s,
                "first_token_s": self.first_token_s,
                "finish_s": self.finish_s,
                "replica": self.replica,
                "prompt_tok": self.prompt_tok,
                "output_tok": self.output_tok,
                "preemptions_count": self.preemptions,
                "ttft_s": self.ttft_s,
                "tpot_s": self.tpot_s,
                "e2e_s": self.e2e_s,
            }
        )


def kv_capacity_tok(params: np.ndarray) -> int:
    """KV-cache slots of one replica, ``floor((N M (1 - reserve) - W) / kv)`` [tok].

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector.

    Returns
    -------
    int
        Tokens whose KV fits beside the weights [tok].
    """
    return int(
        kv_capacity_batch_count(
            params[I_HBM_USABLE], params[I_HBM_RESERVE], params[I_REPLICA_GPUS],
            params[I_WEIGHT], params[I_KV], 1.0,
        )
    )  # fmt: skip


def _check_inputs(params, replicas_count, rate, clock, step_s, router, max_batch_count, chunk):
    if params.shape != (PARAMS_COUNT,):
        raise ConfigError(
            f"shape {params.shape} is not a pool parameter vector; expected ({PARAMS_COUNT},) "
            "from PoolSpec.to_params()",
            "params",
        )
    if int(replicas_count) != replicas_count or replicas_count < 1:
        raise ConfigError(f"{replicas_count!r} must be a whole number >= 1", "replicas_count")
    check_rates(rate, step_s)
    if clock.shape != rate.shape:
        raise ConfigError(
            f"shape {clock.shape} differs from rate_req_per_s {rate.shape}; expected one clock "
            "per sub-interval",
            "clock_frac",
        )
    bad = ~np.isfinite(clock) | (clock < 0.0) | (clock > 1.0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ConfigError(f"{float(clock[i])!r} must be in [0, 1]", f"clock_frac[{i}]")
    if router not in ROUTER_CODES:
        raise ConfigError(f"'{router}' is not a router; expected one of {', '.join(ROUTERS)}")
    if not max_batch_count >= 1:
        raise ConfigError(f"{max_batch_count!r} must be >= 1 or inf", "max_batch_count")
    if int(chunk) != chunk or chunk < 1:
        raise ConfigError(f"{chunk!r} must be a whole number >= 1 token", "chunk_tok")


def simulate_window(
    params: np.ndarray,
    replicas_count: int,
    rate_req_per_s: np.ndarray,
    clock_frac: np.ndarray,
    step_s: float,
    input_len: LengthDist,
    output_len: LengthDist,
    *,
    arrival_cv_frac: float = 1.0,
    router: str = "least_loaded",
    max_batch_count: float = math.inf,
    chunk_tok: int | None = None,
    seed: int = 0,
    warmup_s: float = 0.0,
) -> WindowResult:
    """Simulate sampled replicas of one pool over a window, request by request.

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector (``PoolSpec.to_params()``); its mean lengths are not used
        (``input_len`` and ``output_len`` are).
    replicas_count : int
        Replicas sampled, R >= 1 [-].
    rate_req_per_s : numpy.ndarray
        Requests per second offered to all R replicas together in each sub-interval [req/s].
    clock_frac : numpy.ndarray
        Clock ratio of the GPUs in each sub-interval, in [0, 1] (0: parked) [-].
    step_s : float
        Length of one sub-interval [s]; the window lasts ``len(rate) * step_s``.
    input_len, output_len : LengthDist
        Prompt and output lengths [tok].
    arrival_cv_frac : float
        Coefficient of variation of the gaps between arrivals (1: Poisson) [-].
    router : str
        One of :data:`ROUTERS`.
    max_batch_count : float
        Running requests per replica at most (vLLM ``max_num_seqs``); inf for no limit [-].
    chunk_tok : int or None
        Token budget of one iteration (vLLM ``max_num_batched_tokens``); None takes the
        sourced default ``chunk_tok`` of ``catalog/data/workload_defaults.yaml`` [tok].
    seed : int
        Seed of the window's random streams.
    warmup_s : float
        Requests arriving before this time are simulated but not reported [s].

    Returns
    -------
    WindowResult
        The measured requests.

    Raises
    ------
    ConfigError
        Zero replicas, negative rates, a length mean <= 0, an unknown router, a clock
        outside [0, 1] or of another length than the rates, a warm-up not inside the window.
    """
    params = np.ascontiguousarray(params, dtype=np.float64)
    rate = np.asarray(rate_req_per_s, dtype=np.float64)
    clock = np.ascontiguousarray(clock_frac, dtype=np.float64)
    chunk = workload_default("chunk_tok") if chunk_tok is None else chunk_tok
    _check_inputs(params, replicas_count, rate, clock, step_s, router, max_batch_count, chunk)
    input_len.check("input_len")
    output_len.check("output_len")
    window_s = rate.size * step_s
    if not (math.isfinite(warmup_s) and 0.0 <= warmup_s < window_s):
        raise ConfigError(f"{warmup_s!r} must be in [0, {window_s:g}) s", "warmup_s")
    kv_cap = kv_capacity_tok(params)
    if kv_cap < 2:
        raise ConfigError(
            f"the replica holds {kv_cap} KV tokens beside its weights; expected a pool whose "
            "model fits",
            "params",
        )

    arrivals_seq, input_seq, output_seq = np.random.SeedSequence(seed).spawn(3)
    arrival = arrival_times_s(np.random.default_rng(arrivals_seq), rate, step_s, arrival_cv_frac)
    n = arrival.size
    prompt = input_len.draw(np.random.default_rng(input_seq), n)
    output = output_len.draw(np.random.default_rng(output_seq), n)

    eng = Engine(
        params, clock, float(step_s), kv_cap, int(min(max_batch_count, n + 1)), int(chunk),
        ROUTER_CODES[router],
    )  # fmt: skip
    req = new_requests(arrival, prompt, output)
    reps = new_replicas(int(replicas_count), n)
    t0 = time.perf_counter()
    iterations = simulate_batching(eng, req, reps)
    wall_s = time.perf_counter() - t0

    keep = arrival >= warmup_s
    return WindowResult(
        arrival_s=arrival[keep],
        admit_s=req.admit_s[keep],
        first_token_s=req.first_token_s[keep],
        finish_s=req.finish_s[keep],
        replica=req.replica[keep],
        prompt_tok=prompt[keep],
        output_tok=output[keep],
        preemptions=req.preemptions[keep],
        replicas_count=int(replicas_count),
        kv_cap_tok=kv_cap,
        warmup_count=int(n - np.count_nonzero(keep)),
        iterations_count=int(iterations),
        sim_wall_s=wall_s,
    )
