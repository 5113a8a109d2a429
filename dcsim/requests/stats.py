r"""Quantiles of a sample with distribution-free confidence intervals, and sample sizing.

For ``n`` independent draws of a continuous variable with ``q``-quantile ``xi``, the number
``K`` of draws at or below ``xi`` is binomial ``B(n, q)``, so for the order statistics
``x_(1) <= ... <= x_(n)``:

.. math:: P(x_{(l)} \le \xi < x_{(u)}) = P(l \le K \le u - 1)

whatever the distribution (Thompson 1936; David and Nagaraja 2003, sec. 7.1). The interval
takes ``l`` the ``alpha/2`` quantile of ``B(n, q)`` and ``u - 1`` its ``1 - alpha/2``
quantile, each tail holding at most ``alpha/2``; a bound that would need a rank outside
``1..n`` is reported as -inf or +inf (too few draws to bound the quantile on that side).
The point estimate is ``x_(ceil(n q))`` (the inverse of the empirical distribution).

Sample size: the interval spans the quantile levels ``l/n .. u/n``, about
``q +/- z sqrt(q (1 - q) / n)`` (normal approximation of the binomial). Asking that half
width to be a share ``rel`` of the tail probability ``1 - q`` gives

.. math:: n = z^2 q / ((1 - q) \, rel^2)

e.g. p99 at 95% confidence with the tail known to +/-20% (p98.8 to p99.2): 9,508 requests.
Requests of one replica are correlated through its queue, so the effective sample is
smaller than the count when waits are long; the bound assumes independence.

References
----------
.. [1] Thompson, W. R. (1936). On confidence ranges for the median and other expectation
   distributions for populations of unknown distribution form. Ann. Math. Statist. 7(3),
   122-128.
.. [2] David, H. A. and Nagaraja, H. N. (2003). Order Statistics, 3rd ed., Wiley, sec. 7.1.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import binom, norm

from dcsim.errors import ConfigError

__all__ = ["quantile_ci", "replicas_for_quantile", "requests_for_quantile"]


def _check_level(value: float, name: str) -> None:
    if not (0.0 < value < 1.0):
        raise ConfigError(f"{value!r} must be strictly between 0 and 1", name)


def quantile_ci(
    sample: np.ndarray, q: float, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Quantile of a sample and its distribution-free confidence interval.

    Parameters
    ----------
    sample : numpy.ndarray
        Draws (NaN is not allowed; +inf is, e.g. a request never served) [any unit].
    q : float
        Quantile level in (0, 1) [-].
    confidence : float
        Two-sided confidence in (0, 1) [-].

    Returns
    -------
    tuple of float
        ``(value, lo, hi)`` in the sample's unit; NaN for an empty sample.
    """
    _check_level(q, "q")
    _check_level(confidence, "confidence")
    x = np.sort(np.asarray(sample, dtype=np.float64))
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan
    alpha = 1.0 - confidence
    value = float(x[max(math.ceil(n * q), 1) - 1])
    l_rank = int(binom.ppf(0.5 * alpha, n, q))
    u_rank = int(binom.ppf(1.0 - 0.5 * alpha, n, q)) + 1
    lo = float(x[l_rank - 1]) if l_rank >= 1 else -math.inf
    hi = float(x[u_rank - 1]) if u_rank <= n else math.inf
    return value, lo, hi


def requests_for_quantile(
    q: float, confidence: float = 0.95, rel_halfwidth_frac: float = 0.2
) -> int:
    """Independent requests needed to bound a quantile to a share of its tail probability.

    Parameters
    ----------
    q : float
        Quantile level, e.g. 0.99 [-].
    confidence : float
        Two-sided confidence [-].
    rel_halfwidth_frac : float
        Half width of the interval in quantile level over ``1 - q`` [-] (0.2 at p99: the
        interval spans p98.8 to p99.2).

    Returns
    -------
    int
        Requests [-].
    """
    _check_level(q, "q")
    _check_level(confidence, "confidence")
    if not (math.isfinite(rel_halfwidth_frac) and rel_halfwidth_frac > 0.0):
        raise ConfigError(f"{rel_halfwidth_frac!r} must be > 0", "rel_halfwidth_frac")
    z = float(norm.ppf(0.5 + 0.5 * confidence))
    return math.ceil(z * z * q / ((1.0 - q) * rel_halfwidth_frac**2))


def replicas_for_quantile(
    q: float,
    rate_per_replica_req_per_s: float,
    duration_s: float,
    confidence: float = 0.95,
    rel_halfwidth_frac: float = 0.2,
) -> int:
    """Replicas to sample so that a window of a given length holds enough requests.

    Parameters
    ----------
    q : float
        Quantile level [-].
    rate_per_replica_req_per_s : float
        Requests one replica serves per second over the window [req/s].
    duration_s : float
        Measured length of the window [s].
    confidence, rel_halfwidth_frac : float
        As in :func:`requests_for_quantile`.

    Returns
    -------
    int
        Replicas, at least 1 [-].
    """
    per_replica = rate_per_replica_req_per_s * duration_s
    if not (math.isfinite(per_replica) and per_replica > 0.0):
        raise ConfigError(
            f"{per_replica!r} requests per replica; expected a rate and duration > 0",
            "rate_per_replica_req_per_s",
        )
    return max(1, math.ceil(requests_for_quantile(q, confidence, rel_halfwidth_frac) / per_replica))
