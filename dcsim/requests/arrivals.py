"""Request arrival times over a window with a piecewise-constant rate and a burstiness.

The rate ``lambda_i`` [req/s] is constant over each sub-interval ``[i dt, (i+1) dt)`` of the
window (the fluid run's record step). Arrivals are a stationary renewal process of unit rate
in *operational time* ``u = Lambda(t) = integral_0^t lambda(s) ds``, mapped back to clock
time by inverting ``Lambda`` (piecewise linear, so exactly). With exponential gaps this is
the classical time change of a non-homogeneous Poisson process (Cinlar 1975); with other
gaps it is the inversion method for non-stationary renewal arrivals of Gerhardt and Nelson
(2009), whose counts keep the asked rate in every sub-interval and whose gaps keep the
asked variability where the rate is flat.

Burstiness ``arrival_cv_frac`` is the coefficient of variation of the gaps:

- 1: exponential gaps, a Poisson process (independent users, the M in M/G/c);
- ``c != 1``: gamma gaps of shape ``k = 1 / c^2`` (mean 1 in operational time), so
  ``c > 1`` clusters requests in bursts and ``c < 1`` spaces them more evenly; Vidur's
  request generator offers the same gamma intervals (Agrawal et al. 2024);
- 0: evenly spaced arrivals (a deterministic clock).

The asymptotic variance of counts of a renewal process is ``c^2`` times that of Poisson
(Cox 1962), so ``c^2`` is also the index of dispersion the queue sees in heavy traffic
(Kingman's ``(c_a^2 + c_s^2) / 2``).

References
----------
.. [1] Cinlar, E. (1975). Introduction to Stochastic Processes. Prentice-Hall, ch. 4.
.. [2] Gerhardt, I. and Nelson, B. L. (2009). Transforming renewal processes for simulation
   of nonstationary arrival processes. INFORMS Journal on Computing 21(4), 630-640.
.. [3] Cox, D. R. (1962). Renewal Theory. Methuen, ch. 7 (counts of renewal processes).
.. [4] Agrawal, A. et al. (2024). Vidur: a large-scale simulation framework for LLM
   inference. MLSys 2024, arXiv:2405.05465.
"""

from __future__ import annotations

import math

import numpy as np

from dcsim.errors import ConfigError

__all__ = ["arrival_times_s", "check_rates"]


def check_rates(rate_req_per_s: np.ndarray, step_s: float, where: str = "rate_req_per_s") -> None:
    """Refuse rates that no arrival process has.

    Parameters
    ----------
    rate_req_per_s : numpy.ndarray
        Rate per sub-interval [req/s].
    step_s : float
        Length of one sub-interval [s].
    where : str
        Field name for the message.

    Raises
    ------
    ConfigError
        An empty rate array, a negative or not finite rate, a step that is not > 0.
    """
    rate = np.asarray(rate_req_per_s, dtype=np.float64)
    if rate.ndim != 1 or rate.size == 0:
        raise ConfigError(
            f"shape {rate.shape} has no sub-interval; expected a 1-D array of rates", where
        )
    bad = ~np.isfinite(rate) | (rate < 0.0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ConfigError(f"{float(rate[i])!r} must be a finite rate >= 0 req/s", f"{where}[{i}]")
    if not (math.isfinite(step_s) and step_s > 0.0):
        raise ConfigError(f"{step_s!r} must be > 0 s", "step_s")


def _unit_renewal_gaps(rng: np.random.Generator, count: int, cv_frac: float) -> np.ndarray:
    """Gaps of mean 1 and coefficient of variation ``cv_frac`` [operational time]."""
    if cv_frac == 0.0:
        return np.ones(count)
    if cv_frac == 1.0:
        return rng.exponential(1.0, size=count)
    shape = 1.0 / (cv_frac * cv_frac)
    return rng.gamma(shape, 1.0 / shape, size=count)


def arrival_times_s(
    rng: np.random.Generator,
    rate_req_per_s: np.ndarray,
    step_s: float,
    arrival_cv_frac: float = 1.0,
) -> np.ndarray:
    """Arrival times over ``len(rate) * step_s`` seconds, ascending [s].

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    rate_req_per_s : numpy.ndarray
        Rate of each sub-interval [req/s], >= 0.
    step_s : float
        Length of one sub-interval [s].
    arrival_cv_frac : float
        Coefficient of variation of the gaps (1: Poisson) [-].

    Returns
    -------
    numpy.ndarray
        float64 arrival times in ``[0, len(rate) * step_s)`` [s].
    """
    rate = np.asarray(rate_req_per_s, dtype=np.float64)
    check_rates(rate, step_s)
    if not (math.isfinite(arrival_cv_frac) and arrival_cv_frac >= 0.0):
        raise ConfigError(f"{arrival_cv_frac!r} must be >= 0", "arrival_cv_frac")
    cum = np.concatenate(([0.0], np.cumsum(rate * step_s)))
    total = cum[-1]
    if total <= 0.0:
        return np.zeros(0)
    # Draw enough gaps in one go (mean + 8 sd of the count), more in the rare case it is short.
    spread = max(arrival_cv_frac, 1.0)
    chunk = int(total + 8.0 * spread * math.sqrt(total) + 16.0)
    u = np.cumsum(_unit_renewal_gaps(rng, chunk, arrival_cv_frac))
    while u[-1] < total:
        more = np.cumsum(_unit_renewal_gaps(rng, chunk, arrival_cv_frac)) + u[-1]
        u = np.concatenate((u, more))
    u = u[u < total]
    # Invert Lambda: side="right" skips zero-rate sub-intervals (flat stretches of cum).
    i = np.clip(np.searchsorted(cum, u, side="right") - 1, 0, rate.size - 1)
    t_s = i * step_s + (u - cum[i]) / rate[i]
    # Rounding at a sub-interval edge must not reorder two arrivals.
    return np.maximum.accumulate(t_s)
