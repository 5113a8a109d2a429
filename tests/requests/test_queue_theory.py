"""Request-level simulation against M/G/1 theory (Pollaczek-Khinchine) and against Ciw.

One replica, batch limit 1, Poisson arrivals, a one-token prompt and no compute cost, so
every iteration lasts exactly ``t_fixed`` and a request holds the replica for
``S = t_fixed * L_out`` (its prefill iteration makes the first token, then ``L_out - 1``
decode iterations). An arrival to an idle replica starts at once; otherwise it waits for the
last iteration of the request in service. That is the M/G/1 FCFS queue, whose mean wait is

    E[W] = lambda E[S^2] / (2 (1 - rho)),    rho = lambda E[S]

(Pollaczek-Khinchine; Kleinrock 1975, eq. 5.65), exact for any service distribution.
Service distributions: deterministic (M/D/1) and a discretised exponential (a table of
``ceil(-m ln(1 - u))`` at 1000 evenly spaced u, CV about 1), whose moments are exact.

Noise: the mean wait of 2e5 M/G/1 customers has a relative standard error of about 2.5% at
rho = 0.8 for exponential service (asymptotic variance of Whitt 1989), less for deterministic
service, hence the 6% tolerance; Ciw runs 4e4 customers (about 4% at rho = 0.7), hence 12%.
"""

from __future__ import annotations

import numpy as np
import pytest

from dcsim.requests import LengthDist, simulate_window

ciw = pytest.importorskip("ciw")

TAU_S = 0.05  # iteration time [s]
MEAN_OUT_TOK = 20.0


def _exponential_table():
    u = (np.arange(1000) + 0.5) / 1000.0
    return np.ceil(-MEAN_OUT_TOK * np.log1p(-u))


SERVICES = {
    "deterministic": LengthDist(MEAN_OUT_TOK, 0.0),
    "exponential": LengthDist(0.0, 0.0, _exponential_table()),
}


def _mg1_sim(toy_params, output_len, rho, requests_n, seed=5):
    mean_l, second_l = output_len.moments()
    lam = rho / (TAU_S * mean_l)
    steps = 50
    step_s = requests_n / lam / steps
    res = simulate_window(
        toy_params(t_fixed_s=TAU_S, tok_compute_s=0.0, kv_cap_tok=100_000), 1,
        np.full(steps, lam), np.ones(steps), step_s, LengthDist(1.0, 0.0), output_len,
        max_batch_count=1, seed=seed, warmup_s=0.01 * steps * step_s,
    )  # fmt: skip
    pk_s = lam * TAU_S**2 * second_l / (2.0 * (1.0 - rho))
    return res, pk_s, lam


@pytest.mark.parametrize("service", ["deterministic", "exponential"])
@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_single_server_mean_wait_is_pollaczek_khinchine(toy_params, service, rho):
    res, pk_s, _ = _mg1_sim(toy_params, SERVICES[service], rho, 200_000)
    assert res.n_requests > 150_000
    assert res.preemptions.sum() == 0
    # Each request held the replica for exactly t_fixed per output token.
    np.testing.assert_allclose(res.finish_s - res.admit_s, TAU_S * res.output_tok, rtol=1e-9)
    assert res.mean_wait_s == pytest.approx(pk_s, rel=0.06)


def _ciw_mean_wait_s(lam, table, customers_n, seed):
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=lam)],
        service_distributions=[ciw.dists.Empirical(list(TAU_S * table))],
        number_of_servers=[1],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_customers(customers_n, method="Finish")
    waits = np.array([r.waiting_time for r in sim.get_all_records()])
    return float(waits[customers_n // 10 :].mean())


@pytest.mark.parametrize("rho", [0.5, 0.7])
def test_single_server_mean_wait_agrees_with_ciw(toy_params, rho):
    output_len = SERVICES["exponential"]
    res, pk_s, lam = _mg1_sim(toy_params, output_len, rho, 200_000, seed=8)
    ciw_s = _ciw_mean_wait_s(lam, np.rint(output_len.table_tok), 40_000, seed=3)
    assert ciw_s == pytest.approx(pk_s, rel=0.12)  # the Ciw harness itself is right
    assert res.mean_wait_s == pytest.approx(ciw_s, rel=0.12)
