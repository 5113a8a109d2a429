"""Failure counts, checkpoint intervals and training goodput (MODEL.md sections 2 and 6).

Failures of independent components with constant rates form a Poisson process whose rate is
the sum of the component rates, so a cluster's expected failure count over a window is
``sum(rate x units) x duration`` and the count is Poisson distributed around it.

A training job that checkpoints every ``tau`` seconds of work (writing a checkpoint takes
``delta``) and restarts in ``R`` after each failure (mean time between failures ``M``)
loses, per failure, the work since its last checkpoint plus the restart. The classic
optimum interval is Young's first-order ``tau = sqrt(2 delta M)`` [Young 1974]; Daly's
higher-order estimate corrects it for checkpoints that are not short against ``M``
[Daly 2006]. Daly's model of the expected wall time (failures may strike during
work, checkpoint and restart alike; exponential failure times) gives the expected goodput.

References
----------
J. W. Young, "A first order approximation to the optimum checkpoint interval", Comm. ACM
17(9), 1974. J. T. Daly, "A higher order estimate of the optimum checkpoint interval for
restart dumps", Future Generation Computer Systems 22(3), 2006.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

__all__ = [
    "daly_interval_s",
    "expected_count",
    "expected_goodput_frac",
    "job_mtbf_s",
    "poisson_interval_count",
    "young_interval_s",
]


def expected_count(rate_per_s: ArrayLike, units_count: ArrayLike, duration_s: float) -> np.ndarray:
    """Expected number of failures of ``units_count`` units over ``duration_s``.

    Parameters
    ----------
    rate_per_s
        Failure rate of one unit [1/s] (array over causes, or a scalar).
    units_count
        Units exposed, broadcast against ``rate_per_s`` [count].
    duration_s
        Exposure window [s].

    Returns
    -------
    Expected failures, summed over all entries [count] (a 0-d array).
    """
    return np.sum(np.asarray(rate_per_s, float) * np.asarray(units_count, float)) * duration_s


def poisson_interval_count(mean_count: float, confidence_frac: float) -> tuple[int, int]:
    """Central interval of a Poisson count: ``P(lo <= N <= hi) >= confidence_frac``.

    Parameters
    ----------
    mean_count
        Poisson mean [count].
    confidence_frac
        Probability the interval must hold, e.g. 0.999 [frac].

    Returns
    -------
    (lo, hi)
        Quantiles at ``(1 - c) / 2`` and ``(1 + c) / 2`` of the Poisson distribution [count].
    """
    tail = (1.0 - confidence_frac) / 2.0
    lo = int(stats.poisson.ppf(tail, mean_count))
    hi = int(stats.poisson.ppf(1.0 - tail, mean_count))
    return lo, hi


def job_mtbf_s(rate_per_s: ArrayLike, units_count: ArrayLike) -> float:
    """Mean time between failures of a job that stops on any failure of its units.

    Parameters
    ----------
    rate_per_s
        Failure rate of one unit per cause [1/s].
    units_count
        Units of the job per cause (GPUs, hosts, ...) [count].

    Returns
    -------
    ``1 / sum(rate x units)`` [s]; ``inf`` when nothing can fail.
    """
    total = float(np.sum(np.asarray(rate_per_s, float) * np.asarray(units_count, float)))
    return 1.0 / total if total > 0.0 else float("inf")


def young_interval_s(checkpoint_write_s: ArrayLike, mtbf_s: ArrayLike) -> np.ndarray:
    """Young's optimum checkpoint interval ``sqrt(2 delta M)`` [Young 1974].

    Parameters
    ----------
    checkpoint_write_s
        Time to write one checkpoint, delta [s].
    mtbf_s
        Mean time between failures of the job, M [s].

    Returns
    -------
    Compute time between checkpoints [s].
    """
    return np.sqrt(2.0 * np.asarray(checkpoint_write_s, float) * np.asarray(mtbf_s, float))


def daly_interval_s(checkpoint_write_s: ArrayLike, mtbf_s: ArrayLike) -> np.ndarray:
    """Daly's higher-order optimum checkpoint interval [Daly 2006].

    ``tau = sqrt(2 delta M) [1 + sqrt(delta / 2M) / 3 + (delta / 2M) / 9] - delta`` for
    ``delta < 2M``, else ``tau = M``. It tends to Young's value as ``delta / M -> 0``.

    Parameters
    ----------
    checkpoint_write_s
        Time to write one checkpoint, delta [s].
    mtbf_s
        Mean time between failures of the job, M [s].

    Returns
    -------
    Compute time between checkpoints [s].
    """
    delta = np.asarray(checkpoint_write_s, float)
    m = np.asarray(mtbf_s, float)
    x = delta / (2.0 * m)
    tau = np.sqrt(2.0 * delta * m) * (1.0 + np.sqrt(x) / 3.0 + x / 9.0) - delta
    return np.where(delta < 2.0 * m, tau, m)


def expected_goodput_frac(
    interval_s: ArrayLike,
    checkpoint_write_s: ArrayLike,
    restart_s: ArrayLike,
    mtbf_s: ArrayLike,
    downtime_s: ArrayLike = 0.0,
) -> np.ndarray:
    """Expected share of wall time spent on work that is kept [Daly 2006].

    With exponential failures of mean ``M``, segments of ``tau`` work plus ``delta``
    checkpoint, a restart ``R`` after each failure (itself interruptible) and a downtime
    ``D`` before it: wall time per unit of kept work is
    ``(M + D) exp(R / M) (exp((tau + delta) / M) - 1) / tau``; goodput is its inverse.

    Parameters
    ----------
    interval_s
        Compute time between checkpoints, tau [s].
    checkpoint_write_s
        Checkpoint write time, delta [s].
    restart_s
        Restart cost after a failure (reload the checkpoint, rebuild communicators), R [s].
    mtbf_s
        Mean time between failures of the job, M [s] (``inf``: no failures).
    downtime_s
        Wait before the restart begins (e.g. for a replacement host), D [s].

    Returns
    -------
    Goodput [frac], in (0, 1].
    """
    tau = np.asarray(interval_s, float)
    delta = np.asarray(checkpoint_write_s, float)
    r = np.asarray(restart_s, float)
    m = np.asarray(mtbf_s, float)
    d = np.asarray(downtime_s, float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        wall_per_work = (m + d) * np.exp(r / m) * np.expm1((tau + delta) / m) / tau
    # No failures: only the checkpoint writes cost time.
    return np.where(np.isinf(m), tau / (tau + delta), 1.0 / wall_per_work)
