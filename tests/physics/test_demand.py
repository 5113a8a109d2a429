import numba
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from dcsim.catalog.equipment import DemandProfile, load_demand_profiles
from dcsim.errors import ConfigError
from dcsim.physics.demand import (
    backlog_step,
    demand_noise_frac,
    demand_tok_per_s,
    lognormal_ar1_nodes_frac,
    noise_at_frac,
)
from dcsim.units import D_S, H_S, Y_S

NO_BURSTS = np.empty((0, 3))
FLAT_DAY = np.ones(24)
FLAT_WEEK = np.ones(7)


@pytest.fixture(scope="module")
def interactive():
    prof = load_demand_profiles()["interactive"]
    return np.array(prof.daily_profile_frac.value), np.array(prof.weekly_profile_frac.value)


# --- catalog -------------------------------------------------------------------------------


def test_catalog_profiles(interactive):
    profiles = load_demand_profiles()
    assert isinstance(profiles["interactive"], DemandProfile)
    daily, weekly = interactive
    assert daily.shape == (24,) and weekly.shape == (7,)
    # Brief/rationale: afternoon peak, overnight trough at 40-50% of the peak.
    assert 12 <= int(np.argmax(daily)) <= 17
    assert 0.40 <= daily.min() / daily.max() <= 0.50
    assert weekly[5:].max() < weekly[:5].min()  # weekend below weekdays
    assert profiles["interactive"].daily_profile_frac.confidence == "U"


def test_catalog_rejects_wrong_profile_length(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "p:\n  name: x\n"
        "  daily_profile_frac: {value: [1, 2, 3], source: test, confidence: U}\n"
        "  weekly_profile_frac: {value: [1, 1, 1, 1, 1, 1, 1], source: test, confidence: U}\n"
    )
    with pytest.raises(ConfigError, match=r"bad\.yaml: p\.daily_profile_frac.*expected 24"):
        load_demand_profiles(bad)


# --- demand --------------------------------------------------------------------------------


@pytest.mark.parametrize(("start_weekday", "start_hour"), [(0, 0.0), (3, 7.5), (6, 23.9)])
def test_week_mean_equals_base(interactive, start_weekday, start_hour):
    # Profiles are normalised by their mean: over any whole week of uniform ticks the mean of
    # daily x weekly is exactly 1 (periodic linear interpolation preserves the node mean).
    daily, weekly = interactive
    t_s = np.arange(0.0, 7 * D_S, 60.0)
    d = demand_tok_per_s(t_s, start_weekday, start_hour, 1.0e6, daily, weekly, 0.0, 1.0, NO_BURSTS)
    assert np.mean(d) == pytest.approx(1.0e6, rel=1e-9)
    # ...and the shape is not flat: peak / trough as in the catalog (times weekday factors).
    assert d.max() / d.min() > 2.0


def test_profile_values_by_hand(interactive):
    daily, weekly = interactive
    dmean, wmean = daily.mean(), weekly.mean()
    base = 100.0
    # Start Monday 00:00. Monday 14:30 is the midpoint of hour 14: exactly daily[14].
    # Monday 00:00 is halfway between the 23:30 and 00:30 nodes: (daily[23] + daily[0]) / 2.
    # Saturday (day 5) 14:30 uses weekly[5].
    t_s = np.array([14.5 * H_S, 0.0, 5 * D_S + 14.5 * H_S, 14.75 * H_S])
    d = demand_tok_per_s(t_s, 0, 0.0, base, daily, weekly, 0.0, 1.0, NO_BURSTS)
    scale = base / (dmean * wmean)
    expected = scale * np.array(
        [
            daily[14] * weekly[0],
            0.5 * (daily[23] + daily[0]) * weekly[0],
            daily[14] * weekly[5],
            (0.75 * daily[14] + 0.25 * daily[15]) * weekly[0],  # 1/4 of the way to 15:30
        ]
    )
    assert_allclose(d, expected, rtol=1e-12)


def test_start_offsets_shift_the_clock(interactive):
    daily, weekly = interactive
    # Starting Wednesday 09:00 and looking 5 h later = starting Monday 00:00 and looking at
    # Wednesday 14:00.
    a = demand_tok_per_s(np.array([5 * H_S]), 2, 9.0, 1.0, daily, weekly, 0.0, 1.0, NO_BURSTS)
    b = demand_tok_per_s(
        np.array([2 * D_S + 14 * H_S]), 0, 0.0, 1.0, daily, weekly, 0.0, 1.0, NO_BURSTS
    )
    assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("growth", [0.1, 0.5, 1.0, 3.0])
def test_growth_doubles_after_ln2_over_ln1pg_years(growth):
    t_double_s = np.log(2.0) / np.log1p(growth) * Y_S
    t_s = np.array([0.0, t_double_s, 2 * t_double_s, Y_S])
    d = demand_tok_per_s(t_s, 0, 0.0, 10.0, FLAT_DAY, FLAT_WEEK, growth, 1.0, NO_BURSTS)
    assert_allclose(d / d[0], [1.0, 2.0, 4.0, 1.0 + growth], rtol=1e-12)


def test_bursts_multiply_inside_window_only():
    t_s = np.array([0.0, 99.9, 100.0, 150.0, 199.9, 200.0, 300.0])
    bursts = np.array([[100.0, 100.0, 3.0], [150.0, 200.0, 2.0]])  # overlap on [150, 200)
    d = demand_tok_per_s(t_s, 0, 0.0, 1.0, FLAT_DAY, FLAT_WEEK, 0.0, 1.0, bursts)
    assert_allclose(d, [1.0, 1.0, 3.0, 6.0, 6.0, 2.0, 2.0], rtol=1e-15)


def test_noise_multiplies():
    t_s = np.array([0.0, 10.0])
    noise = np.array([0.5, 2.0])
    d = demand_tok_per_s(t_s, 0, 0.0, 4.0, FLAT_DAY, FLAT_WEEK, 0.0, noise, NO_BURSTS)
    assert_allclose(d, [2.0, 8.0], rtol=1e-15)


# --- noise ---------------------------------------------------------------------------------


def test_noise_seeded_reproducible():
    t_s = np.arange(0.0, 3 * D_S, 300.0)
    a = demand_noise_frac(t_s, 0.1, 4 * H_S, H_S, np.random.default_rng(42))
    b = demand_noise_frac(t_s, 0.1, 4 * H_S, H_S, np.random.default_rng(42))
    c = demand_noise_frac(t_s, 0.1, 4 * H_S, H_S, np.random.default_rng(43))
    assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.all(a > 0)


def test_noise_statistics():
    # Lognormal with mean 1 and CV sigma; log-process AR(1) with lag-1 correlation
    # exp(-step / tau). 200k nodes, tau = 1 h: effective sample size ~ n (1-phi)/(1+phi)
    # ~ 9e4, so the standard error of the mean is ~0.2/300 ~ 7e-4; tolerances are ~5 sigma.
    sigma, tau_s = 0.2, H_S
    m = lognormal_ar1_nodes_frac(200_000, sigma, tau_s, H_S, np.random.default_rng(7))
    assert np.mean(m) == pytest.approx(1.0, abs=4e-3)
    assert np.std(m) / np.mean(m) == pytest.approx(sigma, rel=0.03)
    log_m = np.log(m) - np.mean(np.log(m))
    lag1 = np.mean(log_m[1:] * log_m[:-1]) / np.mean(log_m * log_m)
    assert lag1 == pytest.approx(np.exp(-1.0), abs=0.01)


def test_noise_zero_sigma_is_one_and_consumes_same_stream():
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    ones = lognormal_ar1_nodes_frac(50, 0.0, H_S, H_S, rng_a)
    lognormal_ar1_nodes_frac(50, 0.3, 2 * H_S, H_S, rng_b)
    assert_array_equal(ones, np.ones(50))
    assert rng_a.standard_normal() == rng_b.standard_normal()


def test_noise_interpolated_between_nodes():
    nodes = np.array([1.0, 2.0, 0.5])
    t_s = np.array([0.0, 0.5 * H_S, 1.5 * H_S, 2.0 * H_S, 5.0 * H_S])
    assert_allclose(noise_at_frac(t_s, nodes, H_S), [1.0, 1.5, 1.25, 0.5, 0.5], rtol=1e-15)


# --- backlog -------------------------------------------------------------------------------


def test_backlog_three_bucket_example_by_hand():
    # 3 buckets, bucket period = 2 ticks (rotate on ticks 2, 4, 6).
    # tick 0: +10 into b0 (head 0); serve 4 oldest-first: b1=0, b2=0, b0 -> 6.   [6, 0, 0]
    # tick 1: +5 into b0, no capacity.                                           [11, 0, 0]
    # tick 2: rotate -> head 1, b1 expires 0; +7 into b1; serve 3 from b2 (0)
    #         then b0 (oldest with work): b0 -> 8.                               [8, 7, 0]
    # tick 3: nothing.
    # tick 4: rotate -> head 2, b2 expires 0; +1 into b2; serve 2 from b0 (oldest): [6, 7, 1]
    # tick 5: nothing.
    # tick 6: rotate -> head 0: b0 (work of ticks 0-1, now 5-6 ticks old, deadline 3 periods
    #         = 6 ticks) expires 6 unserved.                                     [0, 7, 1]
    buckets = np.zeros(3)
    steps = [  # (arrivals, capacity, rotate) -> (served, expired, head, buckets after)
        ((10.0, 4.0, False), (4.0, 0.0, 0, [6.0, 0.0, 0.0])),
        ((5.0, 0.0, False), (0.0, 0.0, 0, [11.0, 0.0, 0.0])),
        ((7.0, 3.0, True), (3.0, 0.0, 1, [8.0, 7.0, 0.0])),
        ((0.0, 0.0, False), (0.0, 0.0, 1, [8.0, 7.0, 0.0])),
        ((1.0, 2.0, True), (2.0, 0.0, 2, [6.0, 7.0, 1.0])),
        ((0.0, 0.0, False), (0.0, 0.0, 2, [6.0, 7.0, 1.0])),
        ((0.0, 0.0, True), (0.0, 6.0, 0, [0.0, 7.0, 1.0])),
    ]
    head = 0
    for (arrivals, capacity, rotate), (served_x, expired_x, head_x, buckets_x) in steps:
        served, expired, head = backlog_step(buckets, head, arrivals, capacity, rotate)
        assert (served, expired, head) == (served_x, expired_x, head_x)
        assert_array_equal(buckets, buckets_x)
    # Conservation: 23 arrived = 9 served + 6 expired + 8 waiting.
    assert buckets.sum() == 8.0


def test_backlog_serves_newest_after_older_and_caps_at_capacity():
    buckets = np.array([1.0, 2.0, 3.0, 4.0])  # head 3 -> oldest is index 0
    served, expired, head = backlog_step(buckets, 3, 5.0, 4.5, False)
    assert (served, expired, head) == (4.5, 0.0, 3)
    assert_array_equal(buckets, [0.0, 0.0, 1.5, 9.0])  # 1 + 2 + 1.5 taken oldest first


def test_backlog_conservation_random():
    rng = np.random.default_rng(11)
    buckets = np.zeros(8)
    head = 0
    arrived = served_sum = expired_sum = 0.0
    for tick in range(5000):
        arrivals = rng.exponential(10.0)
        capacity = rng.uniform(0.0, 20.0)
        served, expired, head = backlog_step(buckets, head, arrivals, capacity, tick % 3 == 0)
        arrived += arrivals
        served_sum += served
        expired_sum += expired
        assert served <= capacity + 1e-12 and np.all(buckets >= 0.0)
    assert arrived == pytest.approx(served_sum + expired_sum + buckets.sum(), rel=1e-12)
    assert expired_sum > 0.0  # the random load does overflow at times


# --- numba ---------------------------------------------------------------------------------


def test_demand_numba_matches_python(interactive):
    daily, weekly = interactive
    t_s = np.arange(0.0, 10 * D_S, 600.0)
    noise = demand_noise_frac(t_s, 0.1, 3 * H_S, H_S, np.random.default_rng(5))
    bursts = np.array([[D_S, 3 * H_S, 2.5]])
    args = (t_s, 4, 13.25, 2.0e5, daily, weekly, 0.8, noise, bursts)
    assert_allclose(numba.njit(demand_tok_per_s)(*args), demand_tok_per_s(*args), rtol=1e-13)
    args_scalar_noise = (t_s, 4, 13.25, 2.0e5, daily, weekly, 0.8, 1.0, NO_BURSTS)
    assert_allclose(
        numba.njit(demand_tok_per_s)(*args_scalar_noise),
        demand_tok_per_s(*args_scalar_noise),
        rtol=1e-13,
    )


def test_noise_at_numba_matches_python():
    nodes = lognormal_ar1_nodes_frac(30, 0.2, H_S, H_S, np.random.default_rng(1))
    t_s = np.linspace(0.0, 40 * H_S, 333)
    assert_allclose(
        numba.njit(noise_at_frac)(t_s, nodes, H_S), noise_at_frac(t_s, nodes, H_S), rtol=1e-15
    )


def test_backlog_numba_matches_python():
    compiled = numba.njit(backlog_step)
    rng = np.random.default_rng(2)
    b_py, b_nb = np.zeros(5), np.zeros(5)
    h_py = h_nb = 0
    for tick in range(300):
        arrivals, capacity, rotate = rng.exponential(3.0), rng.uniform(0, 6), tick % 4 == 0
        out_py = backlog_step(b_py, h_py, arrivals, capacity, rotate)
        out_nb = compiled(b_nb, h_nb, arrivals, capacity, rotate)
        assert out_py == out_nb
        h_py, h_nb = out_py[2], out_nb[2]
    assert_array_equal(b_py, b_nb)
