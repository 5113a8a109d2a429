"""The request queue of a serving replica: M/G/c batch slots plus an M/G/1 prefill queue.

One module sizes the SLO batch (:func:`dcsim.physics.compute.slo_batch_reference` and the
compiled ``dcsim.kernels.oppoints``) and reports latency (``dcsim.model.tables``), so the
capacity a pool is rated at and the SLO attainment reported at that capacity come from the
same equations (see docs/queueing.md).

Queue of one replica (Poisson arrivals at rate lambda):

- *batch slots*, M/G/c: ``c`` slots (the TPOT-limited batch); a request holds a slot for its
  residence ``S = t_pf + L_out ITL``. Its variability comes from the output length (CV
  ``cv_out``) and, through the prefill time, the prompt length (CV ``cv_in``):
  ``cv_S^2 = ((cv_out L_out ITL)^2 + (cv_in t_pf)^2) / S^2``. Mean occupancy ``a = lambda S``
  (the mean batch).
- *prefill*, M/G/1: waiting prompts run one after the other ahead of decode, so a prompt
  queues at one server of mean service ``t_pf`` (CV ``cv_in``, prefill time being close to
  linear in the prompt length) at utilisation ``rho`` = prefill share of the replica's time.

Mean wait of M/G/c (two-moment approximation, exact for M/M/c and for M/G/1):

    E[W] = E[W_MMc] * ((1 - cv^2) K / 2 + cv^2)          for cv <= 1
    E[W] = E[W_MMc] * (1 + cv^2) / 2                      for cv > 1 (Allen-Cunneen)
    K    = 1 + (1 - rho)(c - 1)(sqrt(4 + 5c) - 2) / (16 rho c)

``E[W_MMc] = C(c, a) S / (c - a)`` with Erlang C; ``K E[W_MMc] / 2`` is Cosmetatos' M/D/c
mean wait and the interpolation between M/D/c and M/M/c in ``cv^2`` is Tijms'. Plain
Allen-Cunneen (``K = 1``) underestimates the mean wait at light load with several servers and
low variability (by 17% at c = 4, rho = 0.3, cv = 0.3 against simulation); the correction
fixes that and vanishes for c = 1, where the formula is Pollaczek-Khinchine.

Waiting-time distribution: an arrival waits with probability ``P_w`` (Erlang C for the slots,
insensitive enough to the service distribution at these loads, and exact in light traffic,
Burman and Smith 1983; ``rho`` for M/G/1). A positive wait has the mean ``m = E[W] / P_w`` and
the squared coefficient of variation

    kappa = P_w + (1 - P_w) kappa_0,    kappa_0 = (1 - cv^2) c / (c + 2) + cv^2    (cv < 1)

It interpolates, linearly in ``P_w``, between the two limits where the conditional wait is
known. In light traffic (``P_w -> 0``) a positive wait is the minimum of the ``c`` residual
services in progress (Burman and Smith 1983). For deterministic service these residuals are
uniform, the minimum is ``S Beta(1, c)`` with SCV ``c / (c + 2)``, and for exponential service
the minimum is exponential (SCV 1). Between the two, ``kappa_0`` is interpolated in ``cv^2``, as
Tijms does for the mean. In heavy traffic (``P_w -> 1``) the wait is exponential (Kingman 1962,
Whitt 1993). With one server (``P_w = rho``) the same interpolation is exact for M/D/1 and
M/M/1: Takacs' second moment gives ``kappa = rho + (1 - rho) kappa_R`` for M/G/1, where
``kappa_R`` is the SCV of the residual service. For cv >= 1 the positive wait stays
exponential (``kappa = 1``), as does every M/M/c wait, so M/M/c stays exact.

The positive wait is given Tijms' two-moment fit for ``1/2 <= kappa <= 1``, a mixture of
Erlang-1 and Erlang-2 with one scale. It is the sum of an exponential of mean ``h`` and, with
probability ``e``, a second one:

    e = ((1 - kappa) + sqrt(2 (1 - kappa))) / (1 + kappa),   h = m / (1 + e)
    P(W > t) = P_w exp(-t/h) (1 + e t/h)

(``kappa >= c / (c + 2) >= 1/2`` for c >= 2). Against simulation this brings the p99 of a few
slots with low spread from 9-17% high to within 5% (docs/queueing.md). With one server (the
prefill queue, or a one-slot replica) the exact exponential asymptote of M/G/1
(Cramer-Lundberg, lengths taken as gamma distributed) is used instead: ``e = 0``. The time to
first token is ``TTFT = t_pf + W_slot + W_prefill``, with the two waits taken as independent;
:func:`wait_sum_tail_frac` is the exact tail of that sum, a sum of exponential phases.

References
----------
.. [1] Cosmetatos, G. P. (1976). Some approximate equilibrium results for the multi-server
   queue (M/G/r). Operational Research Quarterly 27(3), 615-620.
.. [2] Tijms, H. C. (2003). A First Course in Stochastic Models. Wiley; the two-moment
   approximations of the M/G/c queue (chapter 5).
.. [3] Allen, A. O. (1990). Probability, Statistics, and Queueing Theory, 2nd ed., Academic
   Press (Allen-Cunneen approximation of GI/G/c).
.. [4] Kingman, J. F. C. (1962). On queues in heavy traffic. J. Royal Stat. Soc. B 24, 383-392.
.. [5] Whitt, W. (1993). Approximations for the GI/G/m queue. Production and Operations
   Management 2(2), 114-161.
.. [6] Kleinrock, L. (1975). Queueing Systems, vol. 1, sections 3.5 (M/M/c) and 5.6 (M/G/1).
.. [7] Asmussen, S. (2003). Applied Probability and Queues, 2nd ed., Springer; Cramer-Lundberg
   approximation of the M/G/1 waiting time (chapter XIII).
.. [8] Burman, D. Y. and Smith, D. R. (1983). A light-traffic theorem for multi-server queues.
   Mathematics of Operations Research 8(1), 15-25: as the load goes to zero, a positive M/G/c
   delay tends to the minimum of c independent equilibrium-excess service times.
.. [9] Takacs, L. (1962). Introduction to the Theory of Queues. Oxford University Press; the
   second moment of the M/G/1 waiting time.
.. [10] Tijms, H. C. (2003), appendix B: the E_{k-1,k} mixture of Erlang distributions with a
   common scale, which fits the first two moments of a variable with SCV in [1/k, 1/(k-1)].

All functions are valid numba nopython code (``register_jitable``): plain Python when called
from Python, compiled inline when a ``numba.njit`` kernel calls them.
"""

from __future__ import annotations

import math

from numba.extending import register_jitable

__all__ = [
    "erlang_c_wait_prob",
    "inservice_batch_quantile_count",
    "mg1_tail_params",
    "mgc_positive_wait_scv_frac",
    "mgc_wait_mean_s",
    "mgc_wait_tail_frac",
    "replica_ttft_miss_frac",
    "replica_ttft_quantile_s",
    "slot_service_cv_frac",
    "wait_sum_tail_frac",
]

# Bisection of a quantile: 200 halvings bound the loop, a relative width of 1e-12 stops it.
_BISECT_MAX_ITER = 200
_BISECT_REL_TOL = 1e-12
# Below this argument the phase integrals are summed as Taylor series (12 terms: truncation
# error below 1e-17), above it evaluated in closed form (cancellation error below 1e-13).
_SERIES_BELOW = 0.1
_SERIES_TERMS = 12


@register_jitable
def erlang_c_wait_prob(servers_n, offered_erlangs):
    """Probability that an arrival waits in an M/M/c queue (Erlang C) [0..1].

    Computed from the Erlang-B recursion ``B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1))``,
    which stays in [0, 1] (no factorials, no overflow) for thousands of servers, then
    ``C = c B / (c - a (1 - B))``.

    Parameters
    ----------
    servers_n
        Servers c (concurrent slots) [count, >= 1]; a fractional value is floored. O(c) work.
    offered_erlangs
        Offered load a = arrival rate x mean service time [Erlang, >= 0].

    Returns
    -------
    C(c, a); 0 for ``a <= 0``, 1 when ``a >= c`` (unstable queue: everyone waits).
    """
    servers = math.floor(servers_n)
    if offered_erlangs <= 0.0:
        return 0.0
    if offered_erlangs >= servers:
        return 1.0
    blocking = 1.0
    for k in range(1, int(servers) + 1):
        blocking = offered_erlangs * blocking / (k + offered_erlangs * blocking)
    return servers * blocking / (servers - offered_erlangs * (1.0 - blocking))


@register_jitable
def mgc_wait_mean_s(servers_n, offered_erlangs, service_s, service_cv_frac):
    """Mean wait before service in an M/G/c queue (Cosmetatos-Tijms two-moment) [s].

    Parameters
    ----------
    servers_n
        Servers c [count, >= 1]; floored.
    offered_erlangs
        Offered load a = lambda S [Erlang, >= 0].
    service_s
        Mean service time S [s, > 0].
    service_cv_frac
        Coefficient of variation of the service time [-, >= 0].

    Returns
    -------
    ``E[W_MMc] ((1 - cv^2) K / 2 + cv^2)`` for cv <= 1, ``E[W_MMc] (1 + cv^2) / 2`` above
    (module docstring); +inf when ``a >= c``.
    """
    servers = math.floor(servers_n)
    if offered_erlangs <= 0.0:
        return 0.0
    if offered_erlangs >= servers:
        return math.inf
    mmc_s = erlang_c_wait_prob(servers, offered_erlangs) * service_s / (servers - offered_erlangs)
    cv2 = service_cv_frac * service_cv_frac
    if cv2 >= 1.0:
        return mmc_s * 0.5 * (1.0 + cv2)
    rho = offered_erlangs / servers
    md_factor = 1.0 + (1.0 - rho) * (servers - 1.0) * (math.sqrt(4.0 + 5.0 * servers) - 2.0) / (
        16.0 * rho * servers
    )
    return mmc_s * ((1.0 - cv2) * 0.5 * md_factor + cv2)


@register_jitable
def mg1_tail_params(rho_frac, service_s, service_cv_frac):
    """Exponential tail ``P(W > t) ~ g exp(-eta t)`` of M/G/1 with gamma service [-, 1/s].

    Cramer-Lundberg asymptotics: the decay rate ``eta > 0`` solves
    ``lambda (M_S(eta) - 1) = eta`` and ``g = (1 - rho) / (lambda M_S'(eta) - 1)``, with the
    gamma moment generating function ``M_S(eta) = (1 - eta theta)^(-k)``, ``k = 1/cv^2``,
    ``theta = S cv^2`` (``exp(eta S)`` for cv = 0). Exact for M/M/1 (``eta = mu - lambda``,
    ``g = rho``) and asymptotically exact for every M/G/1 with that service distribution.

    Parameters
    ----------
    rho_frac
        Utilisation lambda S, in (0, 1) [-].
    service_s
        Mean service time S [s, > 0].
    service_cv_frac
        Coefficient of variation of the service time [-, >= 0].

    Returns
    -------
    g : float
        Prefactor [-]; it may exceed ``rho`` slightly (a tail, not a waiting probability).
    eta : float
        Decay rate [1/s].
    """
    arrival_per_s = rho_frac / service_s
    cv2 = service_cv_frac * service_cv_frac
    theta_s = service_s * cv2
    # f(eta) = lambda (M(eta) - 1) - eta is convex with f(0) = 0 and f'(0) = rho - 1 < 0; a
    # second-order lower bound on M puts the root below 2 (1 - rho) / (lambda E[S^2]).
    hi = 2.0 * (1.0 - rho_frac) / (arrival_per_s * service_s * service_s * (1.0 + cv2))
    if cv2 > 0.0:
        hi = min(hi, (1.0 - 1e-12) / theta_s)
    lo = 0.0
    for _ in range(_BISECT_MAX_ITER):
        mid = 0.5 * (lo + hi)
        if cv2 > 0.0:
            mgf = math.exp(-math.log1p(-mid * theta_s) / cv2)
        else:
            mgf = math.exp(mid * service_s)
        if arrival_per_s * (mgf - 1.0) - mid < 0.0:
            lo = mid
        else:
            hi = mid
        if hi - lo <= _BISECT_REL_TOL * hi:
            break
    eta_per_s = 0.5 * (lo + hi)
    if cv2 > 0.0:
        mgf_prime_s = service_s * math.exp(-(1.0 / cv2 + 1.0) * math.log1p(-eta_per_s * theta_s))
    else:
        mgf_prime_s = service_s * math.exp(eta_per_s * service_s)
    return (1.0 - rho_frac) / (arrival_per_s * mgf_prime_s - 1.0), eta_per_s


@register_jitable
def mgc_positive_wait_scv_frac(servers_n, offered_erlangs, service_cv_frac):
    """Squared coefficient of variation of a positive wait in M/G/c [-].

    ``kappa = P_w + (1 - P_w) kappa_0`` with ``P_w`` the Erlang C probability and the
    light-traffic value ``kappa_0 = (1 - cv^2) c / (c + 2) + cv^2`` (module docstring). It is
    exact for M/M/c (1), M/D/1 (``(1 + 2 rho) / 3``) and in the light- and heavy-traffic
    limits of M/D/c.

    Parameters
    ----------
    servers_n, offered_erlangs, service_cv_frac
        As :func:`mgc_wait_mean_s` [count, Erlang, -].

    Returns
    -------
    kappa in ``[c / (c + 2), 1]``; 1 for cv >= 1 (the positive wait is taken as exponential).
    """
    if service_cv_frac >= 1.0:
        return 1.0
    wait_prob = erlang_c_wait_prob(servers_n, offered_erlangs)
    return _positive_wait_scv(math.floor(servers_n), wait_prob, service_cv_frac)


@register_jitable
def _positive_wait_scv(servers, wait_prob, service_cv_frac):
    """:func:`mgc_positive_wait_scv_frac` given the waiting probability [-]."""
    cv2 = min(service_cv_frac * service_cv_frac, 1.0)
    light_scv = (1.0 - cv2) * servers / (servers + 2.0) + cv2
    return wait_prob + (1.0 - wait_prob) * light_scv


@register_jitable
def _wait_phase_params(servers_n, offered_erlangs, service_s, service_cv_frac):
    """(p, h, e): the wait is 0 w.p. ``1 - p``, else ``Exp(h) + Bernoulli(e) Exp(h)`` [-, s, -].

    Tijms' Erlang-1/Erlang-2 mixture fitted to the mean and SCV of a positive wait (module
    docstring); for one server the Cramer-Lundberg asymptote (``e = 0``).
    """
    wait_prob = erlang_c_wait_prob(servers_n, offered_erlangs)
    if wait_prob <= 0.0 or wait_prob >= 1.0:
        return wait_prob, 1.0, 0.0
    if math.floor(servers_n) == 1.0:
        g, eta_per_s = mg1_tail_params(offered_erlangs, service_s, service_cv_frac)
        return min(g, 1.0), 1.0 / eta_per_s, 0.0
    mean_s = mgc_wait_mean_s(servers_n, offered_erlangs, service_s, service_cv_frac) / wait_prob
    spread_frac = 1.0 - _positive_wait_scv(math.floor(servers_n), wait_prob, service_cv_frac)
    second_frac = (spread_frac + math.sqrt(2.0 * spread_frac)) / (2.0 - spread_frac)
    return wait_prob, mean_s / (1.0 + second_frac), second_frac


@register_jitable
def mgc_wait_tail_frac(servers_n, offered_erlangs, service_s, service_cv_frac, wait_s):
    """Probability that the wait in an M/G/c queue exceeds ``wait_s`` [0..1].

    For c >= 2, ``P(W > t) = C exp(-t/h) (1 + e t/h)``: waiting probability Erlang C, positive
    waits the Erlang mixture with the mean of :func:`mgc_wait_mean_s` and the SCV of
    :func:`mgc_positive_wait_scv_frac` (``e = 0``, exponential, for cv >= 1 and M/M/c). For
    c = 1 the exact exponential asymptote of M/G/1 (:func:`mg1_tail_params`).

    Parameters
    ----------
    servers_n, offered_erlangs, service_s, service_cv_frac
        As :func:`mgc_wait_mean_s` [count, Erlang, s, -].
    wait_s
        Wait threshold t [s, >= 0].

    Returns
    -------
    The tail probability; 1 when ``a >= c``.
    """
    if offered_erlangs >= math.floor(servers_n):
        return 1.0
    p_frac, h_s, e_frac = _wait_phase_params(servers_n, offered_erlangs, service_s, service_cv_frac)
    if p_frac <= 0.0:
        return 0.0
    x = max(wait_s, 0.0) / h_s
    return min(p_frac * math.exp(-x) * (1.0 + e_frac * x), 1.0)


@register_jitable
def _phase_integral(z, weight_first):
    """``int_0^1 w(s) exp(-z s) ds`` with ``w = s`` or ``1 - s``, for ``z >= 0`` [-]."""
    if z < _SERIES_BELOW:
        # sum_n (-z)^n / n! * int s^n w(s) ds: 1/(n+2) for w = s, 1/((n+1)(n+2)) for 1 - s.
        total = 0.0
        term = 1.0
        for n in range(_SERIES_TERMS):
            if weight_first:
                total += term / (n + 2.0)
            else:
                total += term / ((n + 1.0) * (n + 2.0))
            term *= -z / (n + 1.0)
        return total
    if weight_first:
        return (-math.expm1(-z) - z * math.exp(-z)) / (z * z)
    return (z + math.expm1(-z)) / (z * z)


@register_jitable
def _exp_exp_tail(rate1, rate2, t_s):
    """``P(X1 + X2 > t)``, ``X_i`` exponential of rate ``rate_i`` [0..1].

    ``P(X1 > t) + f(t) / rate2`` with the density ``f = rate1 rate2 int_0^t e^{-rate1 x}
    e^{-rate2 (t - x)} dx``, the integral factored on the slower rate so that no difference
    of rates is divided by (equal rates give the Erlang-2 tail).
    """
    slow = min(rate1, rate2)
    gap = abs(rate1 - rate2) * t_s
    one_minus = 1.0 if gap == 0.0 else -math.expm1(-gap) / gap
    return math.exp(-rate1 * t_s) + rate1 * math.exp(-slow * t_s) * t_s * one_minus


@register_jitable
def _erlang2_exp_tail(rate1, rate2, t_s):
    """``P(X1 + X1' + X2 > t)``: Erlang-2 of rate ``rate1`` plus an exponential of ``rate2``.

    ``P(E2 > t) + rate1^2 int_0^t x e^{-rate1 x} e^{-rate2 (t - x)} dx``; the integral is
    ``e^{-rate2 t} t^2 psi((rate1 - rate2) t)`` or, if ``rate1 < rate2``,
    ``e^{-rate1 t} t^2 chi((rate2 - rate1) t)`` (:func:`_phase_integral`) [0..1].
    """
    x = rate1 * t_s
    if rate1 >= rate2:
        conv = math.exp(-rate2 * t_s) * _phase_integral((rate1 - rate2) * t_s, True)
    else:
        conv = math.exp(-x) * _phase_integral((rate2 - rate1) * t_s, False)
    return math.exp(-x) * (1.0 + x) + x * x * conv


@register_jitable
def wait_sum_tail_frac(p1_frac, h1_s, e1_frac, p2_frac, h2_s, t_s):
    """Tail ``P(W1 + W2 > t)`` of two independent waits with an atom at zero [0..1].

    ``W1 = 0`` with probability ``1 - p1``, else ``X + B X'`` with ``X, X'`` exponential of
    mean ``h1`` and ``B`` Bernoulli(``e1``) (the Erlang mixture of :func:`mgc_wait_tail_frac`);
    ``W2 = 0`` with probability ``1 - p2``, else exponential of mean ``h2``. Conditioning on
    the atoms and the Bernoulli,

        P = p1 (1-p2) T1 + (1-p1) p2 e^{-t/h2} + p1 p2 ((1-e1) H2 + e1 H3),

    ``T1 = e^{-t/h1} (1 + e1 t/h1)`` and ``H2``, ``H3`` the tails of the sums of two and three
    exponential phases, in closed forms that stay exact at equal means.

    Parameters
    ----------
    p1_frac, p2_frac
        Probabilities of a positive wait [0..1].
    h1_s, h2_s
        Mean of one exponential phase of each positive wait [s, > 0 where p > 0].
    e1_frac
        Probability of the second phase of ``W1`` [0..1].
    t_s
        Threshold [s]; below 0 the tail is 1.

    Returns
    -------
    The tail probability.
    """
    if t_s < 0.0:
        return 1.0
    # A positive wait of mean zero (underflowed: the queue almost never waits) is no wait.
    if h1_s <= 0.0:
        p1_frac = 0.0
    if h2_s <= 0.0:
        p2_frac = 0.0
    tail = 0.0
    if p1_frac > 0.0:
        x1 = t_s / h1_s
        tail += p1_frac * (1.0 - p2_frac) * math.exp(-x1) * (1.0 + e1_frac * x1)
    if p2_frac > 0.0:
        tail += (1.0 - p1_frac) * p2_frac * math.exp(-t_s / h2_s)
    if p1_frac > 0.0 and p2_frac > 0.0:
        rate1 = 1.0 / h1_s
        rate2 = 1.0 / h2_s
        both = (1.0 - e1_frac) * _exp_exp_tail(rate1, rate2, t_s)
        if e1_frac > 0.0:
            both += e1_frac * _erlang2_exp_tail(rate1, rate2, t_s)
        tail += p1_frac * p2_frac * both
    return min(max(tail, 0.0), 1.0)


@register_jitable
def slot_service_cv_frac(prefill_s, decode_s, output_cv_frac, input_cv_frac):
    """Coefficient of variation of a request's slot residence ``S = t_pf + t_dec`` [-].

    Decode time is proportional to the output length and prefill time (nearly) to the prompt
    length, and the two lengths are taken independent:
    ``cv_S = sqrt((cv_out t_dec)^2 + (cv_in t_pf)^2) / (t_pf + t_dec)``.

    Parameters
    ----------
    prefill_s
        Mean prefill time t_pf [s, >= 0].
    decode_s
        Mean decode time ``L_out ITL`` [s, >= 0].
    output_cv_frac, input_cv_frac
        Coefficients of variation of output and prompt length [-].

    Returns
    -------
    cv_S [-]; 0 for an empty residence.
    """
    total_s = prefill_s + decode_s
    if total_s <= 0.0:
        return 0.0
    return math.hypot(output_cv_frac * decode_s, input_cv_frac * prefill_s) / total_s


@register_jitable
def _replica_waits(
    slots_count, occupancy_count, prefill_s, decode_s, output_cv_frac, input_cv_frac,
    prefill_busy_frac,
):  # fmt: skip
    """(p, h, e) of the slot wait and (p, h) of the prefill wait [-, s, -, -, s]."""
    cv_s = slot_service_cv_frac(prefill_s, decode_s, output_cv_frac, input_cv_frac)
    p_slot, h_slot, e_slot = _wait_phase_params(
        slots_count, occupancy_count, prefill_s + decode_s, cv_s
    )
    p_pf, h_pf, _ = _wait_phase_params(
        1.0, min(max(prefill_busy_frac, 0.0), 1.0), prefill_s, input_cv_frac
    )
    return p_slot, h_slot, e_slot, p_pf, h_pf


@register_jitable
def replica_ttft_miss_frac(
    slots_count, occupancy_count, prefill_s, decode_s, output_cv_frac, input_cv_frac,
    prefill_busy_frac, ttft_s,
):  # fmt: skip
    """Share of requests whose time to first token exceeds ``ttft_s`` [0..1].

    ``P(t_pf + W_slot + W_prefill > ttft_s)`` for the replica queue of the module docstring.

    Parameters
    ----------
    slots_count
        Batch slots c [count]; floored.
    occupancy_count
        Mean sequences in flight a (the mean batch) [count].
    prefill_s
        Mean prefill time of one request t_pf [s].
    decode_s
        Mean decode time of one request ``L_out ITL`` [s].
    output_cv_frac, input_cv_frac
        Coefficients of variation of output and prompt length [-].
    prefill_busy_frac
        Prefill share of the replica's time, rho [0..1].
    ttft_s
        TTFT threshold [s].

    Returns
    -------
    The miss probability; 1 when ``a >= c`` or ``rho >= 1``.
    """
    if occupancy_count >= math.floor(slots_count) or prefill_busy_frac >= 1.0:
        return 1.0
    p_slot, h_slot, e_slot, p_pf, h_pf = _replica_waits(
        slots_count, occupancy_count, prefill_s, decode_s, output_cv_frac, input_cv_frac,
        prefill_busy_frac,
    )  # fmt: skip
    return wait_sum_tail_frac(p_slot, h_slot, e_slot, p_pf, h_pf, ttft_s - prefill_s)


@register_jitable
def replica_ttft_quantile_s(
    slots_count, occupancy_count, prefill_s, decode_s, output_cv_frac, input_cv_frac,
    prefill_busy_frac, quantile_frac,
):  # fmt: skip
    """Time to first token at a quantile, e.g. p99 [s].

    Inverse of :func:`replica_ttft_miss_frac` in its threshold, by bisection between the
    prefill time and the sum of bounds on the two waits' own quantiles at ``(1 - q) / 2`` (if
    neither wait exceeds its share, the sum does not exceed the bound; for the Erlang mixture
    ``1 + e x <= 2 exp(x / 2)`` bounds the tail by ``2 p exp(-t / 2h)``).

    Parameters
    ----------
    slots_count, occupancy_count, prefill_s, decode_s, output_cv_frac, input_cv_frac, \
prefill_busy_frac
        As :func:`replica_ttft_miss_frac`.
    quantile_frac
        Quantile q in (0, 1) [-].

    Returns
    -------
    TTFT at the quantile [s]; +inf when ``a >= c`` or ``rho >= 1``.
    """
    if occupancy_count >= math.floor(slots_count) or prefill_busy_frac >= 1.0:
        return math.inf
    p_slot, h_slot, e_slot, p_pf, h_pf = _replica_waits(
        slots_count, occupancy_count, prefill_s, decode_s, output_cv_frac, input_cv_frac,
        prefill_busy_frac,
    )  # fmt: skip
    tail_frac = 1.0 - quantile_frac
    if wait_sum_tail_frac(p_slot, h_slot, e_slot, p_pf, h_pf, 0.0) <= tail_frac:
        return prefill_s
    half_frac = 0.5 * tail_frac
    hi = 0.0
    if e_slot > 0.0:
        if 2.0 * p_slot > half_frac:
            hi += 2.0 * h_slot * math.log(2.0 * p_slot / half_frac)
    elif p_slot > half_frac:
        hi += h_slot * math.log(p_slot / half_frac)
    if p_pf > half_frac:
        hi += h_pf * math.log(p_pf / half_frac)
    lo = 0.0
    for _ in range(_BISECT_MAX_ITER):
        mid = 0.5 * (lo + hi)
        if wait_sum_tail_frac(p_slot, h_slot, e_slot, p_pf, h_pf, mid) > tail_frac:
            lo = mid
        else:
            hi = mid
        if hi - lo <= _BISECT_REL_TOL * hi:
            break
    return prefill_s + 0.5 * (lo + hi)


@register_jitable
def inservice_batch_quantile_count(slots_count, occupancy_count, quantile_frac):
    """Batch seen by a request while it decodes, at a quantile [count].

    A request in service shares the replica with the others in service; with few waits the
    number of busy slots is that of an M/G/infinity system, Poisson of mean ``a`` whatever the
    service distribution, and a request arriving to a stationary system sees it unchanged
    (PASTA), so its batch is ``1 + N``, ``N ~ Poisson(a)``, capped at the ``c`` slots. The
    Poisson CDF is summed in log space (``exp(k ln a - a - ln k!)``), so large means do not
    underflow where it matters.

    Parameters
    ----------
    slots_count
        Batch slots c [count]; floored.
    occupancy_count
        Mean sequences in flight a [count, >= 0].
    quantile_frac
        Quantile q in (0, 1) [-].

    Returns
    -------
    ``min(1 + k_q, c)`` where ``k_q`` is the smallest k with ``P(N <= k) >= q`` [count].
    """
    servers = math.floor(slots_count)
    if occupancy_count <= 0.0:
        return min(1.0, servers)
    log_a = math.log(occupancy_count)
    cdf_frac = 0.0
    k = 0
    while k + 1 < servers:
        cdf_frac += math.exp(k * log_a - occupancy_count - math.lgamma(k + 1.0))
        if cdf_frac >= quantile_frac:
            break
        k += 1
    return min(1.0 + k, servers)
