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
insensitive enough to the service distribution at these loads; ``rho`` for M/G/1), and a
positive wait is exponential with the matching mean ``E[W] / P_w``:

    P(W > t) = P_w exp(-t P_w / E[W])

(exact for M/M/c; the exponential tail of the GI/G/c wait in heavy traffic, Kingman 1962,
Whitt 1993). With one server (the prefill queue, or a one-slot replica) the exact exponential
asymptote of M/G/1 (Cramer-Lundberg, lengths taken as gamma distributed) is used instead: the
matched-mean exponential overstates the p99 of a low-variability M/G/1 queue by up to ~20%,
while with many servers it is the better of the two (docs/queueing.md). The time to first
token is ``TTFT = t_pf + W_slot + W_prefill`` with the two waits taken independent;
:func:`atom_exp_sum_tail_frac` is the exact tail of that sum.

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

All functions are valid numba nopython code (``register_jitable``): plain Python when called
from Python, compiled inline when a ``numba.njit`` kernel calls them.
"""

from __future__ import annotations

import math

from numba.extending import register_jitable

__all__ = [
    "atom_exp_sum_tail_frac",
    "erlang_c_wait_prob",
    "inservice_batch_quantile_count",
    "mg1_tail_params",
    "mgc_wait_mean_s",
    "mgc_wait_tail_frac",
    "replica_ttft_miss_frac",
    "replica_ttft_quantile_s",
    "slot_service_cv_frac",
]

# Bisection of a quantile: 200 halvings bound the loop, a relative width of 1e-12 stops it.
_BISECT_MAX_ITER = 200
_BISECT_REL_TOL = 1e-12


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
def _wait_tail_params(servers_n, offered_erlangs, service_s, service_cv_frac):
    """(p, m): ``P(W > t) = p exp(-t/m)`` for t > 0, the form every tail here takes [-, s]."""
    wait_prob = erlang_c_wait_prob(servers_n, offered_erlangs)
    if wait_prob <= 0.0 or wait_prob >= 1.0:
        return wait_prob, 1.0
    if math.floor(servers_n) == 1.0:
        g, eta_per_s = mg1_tail_params(offered_erlangs, service_s, service_cv_frac)
        return min(g, 1.0), 1.0 / eta_per_s
    mean_s = mgc_wait_mean_s(servers_n, offered_erlangs, service_s, service_cv_frac)
    return wait_prob, mean_s / wait_prob


@register_jitable
def mgc_wait_tail_frac(servers_n, offered_erlangs, service_s, service_cv_frac, wait_s):
    """Probability that the wait in an M/G/c queue exceeds ``wait_s`` [0..1].

    For c >= 2, ``P(W > t) = C exp(-t C / E[W])``: waiting probability Erlang C, positive
    waits exponential with the mean of :func:`mgc_wait_mean_s`. For c = 1 the exact
    exponential asymptote of M/G/1 (:func:`mg1_tail_params`).

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
    p_frac, m_s = _wait_tail_params(servers_n, offered_erlangs, service_s, service_cv_frac)
    if p_frac <= 0.0:
        return 0.0
    return min(p_frac * math.exp(-max(wait_s, 0.0) / m_s), 1.0)


@register_jitable
def atom_exp_sum_tail_frac(p1_frac, m1_s, p2_frac, m2_s, t_s):
    """Tail ``P(W1 + W2 > t)`` of two independent "zero or exponential" waits [0..1].

    ``W_i = 0`` with probability ``1 - p_i`` and exponential of mean ``m_i`` otherwise. With
    both positive the sum is hypoexponential:
    ``P = p1 (1-p2) e1 + (1-p1) p2 e2 + p1 p2 (m1 e1 - m2 e2) / (m1 - m2)``,
    ``e_i = exp(-t/m_i)``; for ``m1 = m2 = m`` the last term is ``p1 p2 (1 + t/m) e``.

    Parameters
    ----------
    p1_frac, p2_frac
        Probabilities of a positive wait [0..1].
    m1_s, m2_s
        Means of the positive waits [s, > 0 where p > 0].
    t_s
        Threshold [s]; below 0 the tail is 1.

    Returns
    -------
    The tail probability.
    """
    if t_s < 0.0:
        return 1.0
    # A positive wait of mean zero (underflowed: the queue almost never waits) is no wait.
    if m1_s <= 0.0:
        p1_frac = 0.0
    if m2_s <= 0.0:
        p2_frac = 0.0
    e1 = math.exp(-t_s / m1_s) if p1_frac > 0.0 else 0.0
    e2 = math.exp(-t_s / m2_s) if p2_frac > 0.0 else 0.0
    tail = p1_frac * (1.0 - p2_frac) * e1 + (1.0 - p1_frac) * p2_frac * e2
    if p1_frac > 0.0 and p2_frac > 0.0:
        if abs(m1_s - m2_s) <= 1e-6 * max(m1_s, m2_s):
            # Equal means: the difference quotient's limit (Erlang-2 tail), no cancellation.
            m_s = 0.5 * (m1_s + m2_s)
            both = (1.0 + t_s / m_s) * math.exp(-t_s / m_s)
        else:
            both = (m1_s * e1 - m2_s * e2) / (m1_s - m2_s)
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
    """(P_w, conditional mean) of the slot wait and of the prefill wait [-, s, -, s]."""
    cv_s = slot_service_cv_frac(prefill_s, decode_s, output_cv_frac, input_cv_frac)
    p_slot, m_slot = _wait_tail_params(slots_count, occupancy_count, prefill_s + decode_s, cv_s)
    p_pf, m_pf = _wait_tail_params(
        1.0, min(max(prefill_busy_frac, 0.0), 1.0), prefill_s, input_cv_frac
    )
    return p_slot, m_slot, p_pf, m_pf


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
    p_slot, m_slot, p_pf, m_pf = _replica_waits(
        slots_count, occupancy_count, prefill_s, decode_s, output_cv_frac, input_cv_frac,
        prefill_busy_frac,
    )  # fmt: skip
    return atom_exp_sum_tail_frac(p_slot, m_slot, p_pf, m_pf, ttft_s - prefill_s)


@register_jitable
def replica_ttft_quantile_s(
    slots_count, occupancy_count, prefill_s, decode_s, output_cv_frac, input_cv_frac,
    prefill_busy_frac, quantile_frac,
):  # fmt: skip
    """Time to first token at a quantile, e.g. p99 [s].

    Inverse of :func:`replica_ttft_miss_frac` in its threshold, by bisection between the
    prefill time and the sum of the two waits' own quantiles at ``(1 - q) / 2`` (an upper
    bound: if neither wait exceeds its share, the sum does not exceed the bound).

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
    p_slot, m_slot, p_pf, m_pf = _replica_waits(
        slots_count, occupancy_count, prefill_s, decode_s, output_cv_frac, input_cv_frac,
        prefill_busy_frac,
    )  # fmt: skip
    tail_frac = 1.0 - quantile_frac
    if atom_exp_sum_tail_frac(p_slot, m_slot, p_pf, m_pf, 0.0) <= tail_frac:
        return prefill_s
    half_frac = 0.5 * tail_frac
    hi = 0.0
    if p_slot > half_frac:
        hi += m_slot * math.log(p_slot / half_frac)
    if p_pf > half_frac:
        hi += m_pf * math.log(p_pf / half_frac)
    lo = 0.0
    for _ in range(_BISECT_MAX_ITER):
        mid = 0.5 * (lo + hi)
        if atom_exp_sum_tail_frac(p_slot, m_slot, p_pf, m_pf, mid) > tail_frac:
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
