"""simulate_window: determinism, refusals, lengths, arrivals and quantile statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import expon

from dcsim.errors import ConfigError
from dcsim.requests import ROUTERS, LengthDist, simulate_window
from dcsim.requests.arrivals import arrival_times_s
from dcsim.requests.stats import quantile_ci, replicas_for_quantile, requests_for_quantile


def _chat_window(params, seed, **kw):
    # 8 replicas of the chat pool for 5 minutes at 5 req/s each (below its 6.0 req/s rating),
    # the clock dropping to 0.7 in the middle minute.
    rate = np.full(5, 40.0)
    clock = np.array([1.0, 1.0, 0.7, 1.0, 1.0])
    return simulate_window(
        params, 8, rate, clock, 60.0, LengthDist(2000.0, 1.0), LengthDist(400.0, 0.8),
        seed=seed, **kw,
    )  # fmt: skip


@pytest.fixture(scope="module")
def chat_run(chat_params):
    return _chat_window(chat_params, 3)


def _arrays(res):
    return [res.arrival_s, res.admit_s, res.first_token_s, res.finish_s, res.replica,
            res.prompt_tok, res.output_tok, res.preemptions]  # fmt: skip


def test_same_seed_is_bit_identical_and_another_seed_differs(chat_params, chat_run):
    again = _chat_window(chat_params, 3)
    for a, b in zip(_arrays(chat_run), _arrays(again), strict=True):
        assert a.tobytes() == b.tobytes()
    other = _chat_window(chat_params, 4)
    assert other.arrival_s.size != chat_run.arrival_s.size or not np.array_equal(
        other.arrival_s, chat_run.arrival_s
    )
    assert not np.array_equal(other.output_tok[:100], chat_run.output_tok[:100])


def test_every_request_is_served_in_causal_order(chat_run):
    res = chat_run
    # Offered 40 req/s for 300 s: Poisson count within 5 sd of 12,000.
    assert abs(res.n_requests - 12_000) < 5 * math.sqrt(12_000)
    assert res.refused_count == 0
    assert np.all(res.arrival_s <= res.admit_s)
    assert np.all(res.admit_s < res.first_token_s)
    assert np.all(res.first_token_s <= res.finish_s)
    # A token needs at least one iteration; the replica's decode step is >= t_fixed (19 ms).
    assert np.nanmin(res.tpot_s) > 0.019
    # KV slots by hand: 2 GPUs x 186 GB x 0.9 - 70 GB of weights, over 163,840 B per token
    # (80 layers x 8 KV heads x 128 x 2 (K and V) x 1 B FP8): 1,616,210 tokens.
    assert res.kv_cap_tok == math.floor((2 * 186e9 * 0.9 - 70e9) / 163_840.0) == 1_616_210
    frame = res.to_frame()
    assert list(frame.columns[:4]) == ["arrival_s", "admit_s", "first_token_s", "finish_s"]
    assert len(frame) == res.n_requests
    # The router spreads the work: each of the 8 replicas gets 1/8 +/- 2%.
    shares = np.bincount(res.replica, minlength=8) / res.n_requests
    np.testing.assert_allclose(shares, 1.0 / 8.0, atol=0.02)


def test_warmup_requests_are_simulated_but_not_reported(chat_params, chat_run):
    res = _chat_window(chat_params, 3, warmup_s=60.0)
    assert res.arrival_s.min() >= 60.0
    assert res.warmup_count + res.n_requests == chat_run.n_requests
    # Same seed: the measured requests are the tail of the full run, times unchanged.
    np.testing.assert_array_equal(res.finish_s, chat_run.finish_s[-res.n_requests :])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"replicas_count": 0}, "replicas_count: 0 must be a whole number >= 1"),
        ({"rate_req_per_s": np.array([1.0, -2.0])}, "rate_req_per_s[1]: -2.0 must be a finite"),
        ({"input_len": LengthDist(0.0, 1.0)}, "input_len.mean_tok: 0.0 must be > 0 tokens"),
        ({"output_len": LengthDist(-5.0, 1.0)}, "output_len.mean_tok: -5.0 must be > 0 tokens"),
        ({"output_len": LengthDist(10.0, -1.0)}, "output_len.cv_frac: -1.0 must be >= 0"),
        (
            {"output_len": LengthDist(1.0, 0.0, np.array([]))},
            "output_len.table_tok: the length table is empty",
        ),
        (
            {"router": "random"},
            "'random' is not a router; expected one of round_robin, least_loaded, kv_aware",
        ),
        ({"clock_frac": np.ones(3)}, "clock_frac: shape (3,) differs from rate_req_per_s (2,)"),
        ({"clock_frac": np.array([1.0, 1.5])}, "clock_frac[1]: 1.5 must be in [0, 1]"),
        ({"warmup_s": 20.0}, "warmup_s: 20.0 must be in [0, 20) s"),
        ({"step_s": 0.0}, "step_s: 0.0 must be > 0 s"),
        ({"chunk_tok": 0}, "chunk_tok: 0 must be a whole number >= 1 token"),
        ({"max_batch_count": 0.5}, "max_batch_count: 0.5 must be >= 1 or inf"),
    ],
)
def test_bad_input_is_one_line_naming_the_field(toy_params, kwargs, message):
    args = {
        "params": toy_params(),
        "replicas_count": 2,
        "rate_req_per_s": np.array([1.0, 2.0]),
        "clock_frac": np.ones(2),
        "step_s": 10.0,
        "input_len": LengthDist(10.0, 1.0),
        "output_len": LengthDist(10.0, 1.0),
    }
    args.update(kwargs)
    positional = [args.pop(k) for k in list(args)[:7]]
    with pytest.raises(ConfigError) as err:
        simulate_window(*positional, **args)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_routers_are_the_documented_three():
    assert ROUTERS == ("round_robin", "least_loaded", "kv_aware")


# --- lengths and arrivals ----------------------------------------------------------------
def test_lognormal_lengths_have_the_asked_mean_and_cv():
    # 2e5 draws: the sample mean of a CV-1 variable is within 4.5 sd = 1% of the mean; the
    # sample CV within 3% (its own spread grows with the lognormal's heavy tail).
    x = LengthDist(2000.0, 1.0).draw(np.random.default_rng(1), 200_000).astype(float)
    assert x.min() >= 1
    assert x.mean() == pytest.approx(2000.0, rel=0.01)
    assert x.std() / x.mean() == pytest.approx(1.0, rel=0.03)
    assert LengthDist(7.4, 0.0).draw(np.random.default_rng(1), 5).tolist() == [7] * 5


def test_a_length_table_is_resampled_uniformly():
    table = np.array([1.0, 10.0, 100.0])
    x = LengthDist(0.0, 0.0, table).draw(np.random.default_rng(2), 90_000)
    counts = np.array([np.count_nonzero(x == v) for v in (1, 10, 100)])
    # Binomial(90000, 1/3): sd 141; 5 sd.
    assert np.all(np.abs(counts - 30_000) < 5 * 141.5)
    assert LengthDist(0.0, 0.0, table).moments() == (37.0, (1 + 100 + 10_000) / 3)


def test_arrivals_follow_a_piecewise_rate_and_skip_idle_intervals():
    rate = np.array([100.0, 0.0, 400.0])
    t = arrival_times_s(np.random.default_rng(3), rate, 50.0)
    counts = np.histogram(t, bins=[0, 50, 100, 150])[0]
    # Poisson counts 5000, 0, 20000: within 5 sd.
    assert abs(counts[0] - 5000) < 5 * math.sqrt(5000)
    assert counts[1] == 0
    assert abs(counts[2] - 20_000) < 5 * math.sqrt(20_000)
    gaps = np.diff(t[t > 100.0])
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, rel=0.03)  # exponential gaps


@pytest.mark.parametrize("cv", [0.0, 0.5, 2.0])
def test_arrival_burstiness_is_the_gap_cv(cv):
    t = arrival_times_s(np.random.default_rng(4), np.array([50.0]), 2000.0, cv)
    gaps = np.diff(t)
    assert t.size == pytest.approx(100_000, rel=0.03 * max(cv, 0.1))
    if cv == 0.0:
        np.testing.assert_allclose(gaps, 0.02, rtol=1e-9)  # evenly spaced at 1/rate
    else:
        assert gaps.std() / gaps.mean() == pytest.approx(cv, rel=0.04)


# --- quantile statistics -----------------------------------------------------------------
def test_quantile_ci_covers_the_true_quantile_at_its_confidence():
    # 2000 samples of 300 exponential draws: the 95% interval of p90 must cover the true p90
    # (ln 10) in 95% of samples or more (order-statistic intervals are conservative);
    # binomial sd of the coverage at 2000 trials is 0.5%, so >= 0.935 is 3 sd below 0.95.
    rng = np.random.default_rng(6)
    truth = expon.ppf(0.9)
    covered = 0
    for _ in range(2000):
        _, lo, hi = quantile_ci(rng.exponential(1.0, 300), 0.9, 0.95)
        covered += lo <= truth <= hi
    assert 0.935 <= covered / 2000 <= 0.99


def test_quantile_ci_of_a_small_sample_is_open_above():
    # 50 draws cannot bound a p99 from above (needs rank > 50): hi is +inf.
    value, lo, hi = quantile_ci(np.arange(1.0, 51.0), 0.99)
    assert value == 50.0 and hi == math.inf and lo <= value


def test_requests_and_replicas_for_a_p99():
    # n = z^2 q / ((1 - q) rel^2) = 1.95996^2 x 0.99 / (0.01 x 0.04) = 9507.4 -> 9508.
    assert requests_for_quantile(0.99, 0.95, 0.2) == 9508
    # 6 req/s per replica for 55 min measured = 19,800 requests per replica -> 1 replica.
    assert replicas_for_quantile(0.99, 6.0, 3300.0) == 1
    # The same bound on a p99.9 needs 10x the requests: 95,885 -> 5 replicas.
    assert replicas_for_quantile(0.999, 6.0, 3300.0) == 5


def test_result_quantile_counts_unserved_requests_as_infinite(toy_params):
    # KV of 20 tokens; 3 of 4 requests fit, one (prompt 30) is refused: p90 of TTFT is +inf.
    res = simulate_window(
        toy_params(kv_cap_tok=20), 1, np.array([0.4]), np.ones(1), 10.0,
        LengthDist(0.0, 0.0, np.array([5.0, 5.0, 5.0, 30.0])), LengthDist(2.0, 0.0), seed=1,
    )  # fmt: skip
    assert res.refused_count == np.count_nonzero(res.prompt_tok == 30) > 0
    assert res.quantile("ttft_s", 0.99)[0] == math.inf
    with pytest.raises(ConfigError, match="'queue_s' is not a metric; expected one of ttft_s"):
        res.quantile("queue_s", 0.5)
