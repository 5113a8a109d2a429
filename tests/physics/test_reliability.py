"""Failure counts, checkpoint intervals and goodput against their formulas and hand values.

References: Young (1974) ``tau = sqrt(2 delta M)``; Daly (2006) higher-order interval and
expected wall time ``T_w = (M + D) e^{R/M} (e^{(tau+delta)/M} - 1) T_s / tau``. The Llama 3
reference job: 16,384 GPUs, 54 days, 419 unexpected interruptions (one every 3.093 h).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from dcsim.physics import reliability as rel

#: Llama 3 Table 5: one unexpected interruption every 54 x 24 / 419 = 3.0931 h.
LLAMA3_MTBF_S = 54 * 24 * 3600 / 419


def test_expected_count_is_rate_times_units_times_time():
    # 16,384 GPUs at 148 / 21,233,664 per GPU-hour for 54 days: 148 GPU failures.
    rate_per_s = 148 / (16384 * 54 * 24) / 3600
    assert rel.expected_count(rate_per_s, 16384, 54 * 86400) == pytest.approx(148, rel=1e-12)
    # Causes add: two causes on different unit counts.
    assert rel.expected_count([1e-6, 2e-6], [10, 5], 1000.0) == pytest.approx(0.02, rel=1e-12)


def test_poisson_interval_matches_scipy_quantiles():
    lo, hi = rel.poisson_interval_count(419.0, 0.999)
    assert (lo, hi) == (stats.poisson.ppf(0.0005, 419), stats.poisson.ppf(0.9995, 419))
    # About mean +- 3.29 sigma: 419 +- 67.
    assert 419 - 70 < lo < 419 - 64 and 419 + 64 < hi < 419 + 72
    assert stats.poisson.cdf(hi, 419) - stats.poisson.cdf(lo - 1, 419) >= 0.999


def test_job_mtbf_of_the_llama3_cluster():
    gpu_h = 16384 * 54 * 24
    rate = np.array([419 / gpu_h / 3600])  # all causes charged per GPU: same total
    assert rel.job_mtbf_s(rate, [16384]) == pytest.approx(LLAMA3_MTBF_S, rel=1e-12)
    assert rel.job_mtbf_s([0.0], [10]) == math.inf


def test_young_interval_by_hand():
    # delta = 300 s, M = 11,135.1 s: sqrt(2 x 300 x 11,135.1) = 2,584.8 s (43 min).
    assert rel.young_interval_s(300.0, LLAMA3_MTBF_S) == pytest.approx(2584.77, abs=0.01)
    assert rel.young_interval_s(60.0, 3600.0) == pytest.approx(math.sqrt(2 * 60 * 3600))


def test_daly_interval_by_hand_and_limits():
    delta, m = 300.0, LLAMA3_MTBF_S
    x = delta / (2 * m)
    by_hand = math.sqrt(2 * delta * m) * (1 + math.sqrt(x) / 3 + x / 9) - delta
    assert rel.daly_interval_s(delta, m) == pytest.approx(by_hand, rel=1e-12)
    assert rel.daly_interval_s(delta, m) == pytest.approx(2388.64, abs=0.01)
    # Tends to Young for checkpoints short against M; equals M once delta >= 2M.
    assert rel.daly_interval_s(1e-3, 1e6) / rel.young_interval_s(1e-3, 1e6) == pytest.approx(
        1.0, abs=1e-4
    )
    assert rel.daly_interval_s(5000.0, 2000.0) == 2000.0


@pytest.mark.parametrize("delta_s", [30.0, 300.0, 1200.0])
def test_daly_interval_is_near_the_optimum_of_the_goodput(delta_s):
    # Maximise Daly's exact expected goodput numerically: his higher-order estimate lands
    # within 0.5 % of the optimum interval's goodput, and is at least as good as Young's.
    m, r = LLAMA3_MTBF_S, 600.0
    best = optimize.minimize_scalar(
        lambda tau: -rel.expected_goodput_frac(tau, delta_s, r, m),
        bounds=(1.0, 5 * m),
        method="bounded",
    )
    g_best = -best.fun
    g_daly = rel.expected_goodput_frac(rel.daly_interval_s(delta_s, m), delta_s, r, m)
    g_young = rel.expected_goodput_frac(rel.young_interval_s(delta_s, m), delta_s, r, m)
    assert g_daly == pytest.approx(g_best, rel=5e-3)
    assert g_daly >= g_young - 1e-12


def test_expected_goodput_by_hand():
    # tau = 3600, delta = 60, R = 300, M = 36,000, D = 0:
    # wall/work = 36000 e^(300/36000) (e^(3660/36000) - 1) / 3600 = 1.07870...
    tau, delta, r, m = 3600.0, 60.0, 300.0, 36000.0
    wall = m * math.exp(r / m) * (math.exp((tau + delta) / m) - 1) / tau
    assert rel.expected_goodput_frac(tau, delta, r, m) == pytest.approx(1 / wall, rel=1e-12)
    assert 1 / wall == pytest.approx(0.927, abs=1e-3)
    # A downtime before each restart scales the wall time by (M + D) / M.
    assert rel.expected_goodput_frac(tau, delta, r, m, 3600.0) == pytest.approx(
        m / (m + 3600.0) / wall, rel=1e-12
    )
    # No failures: only checkpoint writes cost time.
    assert rel.expected_goodput_frac(tau, delta, r, math.inf) == pytest.approx(tau / (tau + delta))
