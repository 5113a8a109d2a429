import heapq
import math

import numba
import numpy as np
import pytest
from numpy.testing import assert_allclose

from dcsim.physics.queueing import attainment_table, erlang_c_wait_prob, slo_attainment_frac


def erlang_c_direct(c, a):
    """Textbook closed form, in log space (independent of the Erlang-B recursion).

    C(c, a) = [a^c / c! * c / (c - a)] / [sum_{k<c} a^k / k! + a^c / c! * c / (c - a)]
    """
    log_terms = [k * math.log(a) - math.lgamma(k + 1) for k in range(c)]
    log_top = c * math.log(a) - math.lgamma(c + 1) + math.log(c / (c - a))
    m = max(max(log_terms), log_top)
    s = sum(math.exp(t - m) for t in log_terms)
    top = math.exp(log_top - m)
    return top / (s + top)


def test_erlang_c_two_servers_one_erlang_by_hand():
    # c = 2, a = 1: a^2/2! * 2/(2-1) = 1; sum_{k<2} a^k/k! = 1 + 1 = 2 -> C = 1 / (2 + 1) = 1/3.
    assert erlang_c_wait_prob(2, 1.0) == pytest.approx(1.0 / 3.0, rel=1e-14)


def test_erlang_c_ten_servers_eight_erlangs_table_value():
    # Erlang C tables (e.g. call-centre staffing tables): c = 10, a = 8 -> 0.4092 (4 d.p.);
    # the closed form above gives 0.409180.
    c_wait = erlang_c_wait_prob(10, 8.0)
    assert c_wait == pytest.approx(0.4092, abs=5e-5)
    assert c_wait == pytest.approx(erlang_c_direct(10, 8.0), rel=1e-12)


@pytest.mark.parametrize(
    ("c", "a"), [(1, 0.3), (3, 2.5), (50, 45.0), (1000, 950.0), (10_000, 9_900.0), (10_000, 10.0)]
)
def test_erlang_c_matches_closed_form_up_to_large_c(c, a):
    c_wait = erlang_c_wait_prob(c, a)
    assert 0.0 <= c_wait <= 1.0
    assert c_wait == pytest.approx(erlang_c_direct(c, a), rel=1e-9, abs=1e-300)


def test_erlang_c_single_server_is_utilisation():
    # M/M/1: P(wait) = rho.
    for rho in (0.0, 0.1, 0.5, 0.95):
        assert erlang_c_wait_prob(1, rho) == pytest.approx(rho, rel=1e-14, abs=0.0)


def test_erlang_c_overloaded_and_monotone():
    assert erlang_c_wait_prob(10, 10.0) == 1.0
    assert erlang_c_wait_prob(10, 12.0) == 1.0
    values = [erlang_c_wait_prob(100, a) for a in np.linspace(0.0, 99.9, 200)]
    assert np.all(np.diff(values) >= 0.0)


def test_slo_attainment_mm1_formula():
    # M/M/1: P(W <= t) = 1 - rho exp(-(mu - lambda) t).
    lam, service_s, t = 0.7, 1.0, 2.0
    expected = 1.0 - 0.7 * math.exp(-(1.0 - 0.7) * 2.0)
    assert slo_attainment_frac(1, lam, service_s, t) == pytest.approx(expected, rel=1e-14)


def test_slo_attainment_limits():
    # t = 0: only requests that do not wait meet the budget: 1 - C.
    assert slo_attainment_frac(10, 8.0, 1.0, 0.0) == pytest.approx(1 - 0.409180, abs=1e-6)
    assert slo_attainment_frac(10, 0.0, 1.0, 0.0) == 1.0
    assert slo_attainment_frac(10, 10.0, 1.0, 5.0) == 0.0  # unstable queue
    assert slo_attainment_frac(10, 8.0, 1.0, 1e3) == pytest.approx(1.0, abs=1e-12)


def _simulated_attainment(c, lam, service_s, budget_s, customers_n, seed):
    # FCFS M/M/c by event simulation: each arrival takes the server free earliest.
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1.0 / lam, customers_n))
    services = rng.exponential(service_s, customers_n)
    free_at = [0.0] * c
    met = 0
    for t_arr, s in zip(arrivals, services, strict=True):
        start = max(t_arr, heapq.heappop(free_at))
        met += start - t_arr <= budget_s
        heapq.heappush(free_at, start + s)
    return met / customers_n


def test_slo_attainment_against_simulation():
    # c = 4, rho = 0.85: the analytic 0.4893 vs a 200k-customer simulation; the simulation's
    # standard error with this autocorrelation is a few 1e-3, so compare to 0.015.
    c, lam, service_s, budget_s = 4, 3.4, 1.0, 0.5
    analytic = slo_attainment_frac(c, lam, service_s, budget_s)
    simulated = _simulated_attainment(c, lam, service_s, budget_s, 200_000, seed=1)
    assert simulated == pytest.approx(analytic, abs=0.015)


def test_attainment_table():
    grid = np.linspace(0.0, 1.2, 25)
    table = attainment_table(64, 2.0, 0.5, grid)
    assert table.shape == grid.shape
    for rho, att in zip(grid, table, strict=True):
        assert att == slo_attainment_frac(64, rho * 64 / 2.0, 2.0, 0.5)
    assert table[0] == 1.0
    assert np.all(np.diff(table) <= 1e-15)
    assert np.all(table[grid >= 1.0] == 0.0)


# --- numba ---------------------------------------------------------------------------------


def test_numba_njit_matches_python():
    assert numba.njit(erlang_c_wait_prob)(10, 8.0) == erlang_c_wait_prob(10, 8.0)
    assert numba.njit(erlang_c_wait_prob)(10_000, 9_900.0) == pytest.approx(
        erlang_c_wait_prob(10_000, 9_900.0), rel=1e-13
    )
    assert numba.njit(slo_attainment_frac)(32, 28.0, 1.0, 0.2) == pytest.approx(
        slo_attainment_frac(32, 28.0, 1.0, 0.2), rel=1e-13
    )
    grid = np.linspace(0.0, 1.1, 45)
    assert_allclose(
        numba.njit(attainment_table)(256, 3.0, 1.0, grid),
        attainment_table(256, 3.0, 1.0, grid),
        rtol=1e-13,
        atol=1e-300,
    )
