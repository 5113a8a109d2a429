"""Latency tables of a pool: attainment at rated capacity equals the SLO quantile."""

import numpy as np
import pytest

from dcsim.catalog.load import load_catalog
from dcsim.model.pool import pool_spec
from dcsim.model.tables import N_LAT_CAP, N_SLO, build_pool_tables
from dcsim.physics.queueing import replica_ttft_miss_frac


@pytest.fixture(scope="module")
def chat_tables():
    # gw-campus's chat class: Llama-3.1-70B FP8 on GB200, TPOT 50 ms, TTFT 2 s at p99.
    spec = pool_spec(
        load_catalog(), "gb200-nvl72", "llama-3.1-70b", "fp8", "trtllm", 2000, 400, 0.05, 2.0,
        replica_gpus=2,
    )  # fmt: skip
    return spec, build_pool_tables(spec)


def test_attainment_at_rated_capacity_is_the_slo_quantile(chat_tables):
    spec, t = chat_tables
    att = t.slo_attainment_frac[-1]  # at the board power limit (the last cap)
    # The capacity is rated where the queue meets the p99 bound, so at 100% of it the share
    # of requests within the bound is 0.99 (the old, separate M/M/c report gave 0.0 here).
    assert att[-1] == pytest.approx(spec.ttft_quantile_frac, abs=1e-6)
    assert np.all(att[:-1] >= spec.ttft_quantile_frac)
    assert np.all(np.diff(att) <= 1e-12) and att[0] == 1.0
    # The p99 TTFT at rated capacity is the bound itself; below it, shorter.
    assert t.ttft_p99_s[-1, -1] == pytest.approx(spec.ttft_slo_s, rel=1e-6)
    assert np.all(t.ttft_p99_s[-1, :-1] < spec.ttft_slo_s)


def test_latency_percentiles_are_ordered_and_within_bounds(chat_tables):
    spec, t = chat_tables
    assert t.ttft_p50_s.shape == (N_LAT_CAP, N_SLO)
    assert np.all(t.ttft_p50_s <= t.ttft_p99_s) and np.all(t.tpot_p50_s <= t.tpot_p99_s)
    # Slots are sized so the largest batch meets TPOT at the limit's clock: there p99 TPOT
    # never exceeds the bound.
    assert np.all(t.tpot_p99_s[-1] <= spec.tpot_slo_s * (1 + 1e-9))
    # At the limit's clock TTFT never undercuts one prefill and TPOT rises with load (larger
    # batch). Under a cap close to idle the clock that holds it rises with the batch (the
    # memory-bound small batch draws more power per unit of clock), so there they need not.
    assert np.all(t.ttft_p50_s[-1] >= t.ttft_p50_s[-1, 0] - 1e-15)
    assert np.all(np.diff(t.tpot_p50_s[-1]) >= -1e-12)


def test_a_lower_cap_slows_every_latency(chat_tables):
    # Under a GPU power cap the clock drops. At the capped capacity (u = 1: the SLO batch B*)
    # and with one request (u = 0), prefill and every decode step take longer as the cap
    # falls, so every percentile rises and the attainment falls along the cap axis. (At the
    # same u in between, a lower cap means a lower load and a smaller batch: no order.)
    spec, t = chat_tables
    for tab in (t.ttft_p50_s, t.ttft_p99_s, t.tpot_p50_s, t.tpot_p99_s):
        for u in (0, -1):
            assert np.all(np.diff(tab[:, u]) <= 1e-12)
    assert np.all(np.diff(t.slo_attainment_frac[:, -1]) >= -1e-12)
    # A cap that binds at B* costs the SLO there: attainment below the 0.99 of the limit.
    assert t.slo_attainment_frac[N_LAT_CAP // 4, -1] < spec.ttft_quantile_frac - 1e-3
    # Hand check at idle load (u = 0, batch 1): TPOT is the step time of one sequence at the
    # clock that holds the cap, the same clock_frac_for_cap the operating tables use.
    from dcsim.model.tables import latency_cap_grid
    from dcsim.physics.compute import I_POWER_LIMIT_W, clock_frac_for_cap, replica_state

    params = spec.to_params()
    caps = latency_cap_grid(params, t.b_star)
    assert caps.shape == (N_LAT_CAP,) and caps[-1] == 1.0 and caps[0] == t.lat_cap_lo_frac
    i = 1  # two grid steps above the power floor of the SLO batch
    clock = clock_frac_for_cap(params, 1.0, caps[i] * params[I_POWER_LIMIT_W])
    assert 0.0 < clock < 1.0  # this cap binds
    assert t.tpot_p50_s[i, 0] == pytest.approx(replica_state(params, 0.0, clock)[1], rel=1e-12)
    assert t.tpot_p50_s[i, 0] > t.tpot_p50_s[-1, 0]


def test_sizing_and_miss_share_agree_at_the_slo_batch(chat_tables):
    # Independent route: evaluate the queue at B* by hand from the spec (TDP clock = full
    # clock for this pool) and check the miss share is 1 - q.
    from dcsim.physics.compute import (
        I_TTFT_SLO,
        replica_prefill_time_s,
        replica_state,
        slo_batch_reference,
    )

    spec, t = chat_tables
    params = spec.to_params()
    b_star = slo_batch_reference(params)
    assert b_star == pytest.approx(t.b_star, rel=1e-9)
    no_ttft = params.copy()
    no_ttft[I_TTFT_SLO] = np.inf  # the slots are the batch without the TTFT bound
    slots = slo_batch_reference(no_ttft)
    x, itl, _ = replica_state(params, b_star, 1.0)
    pf = replica_prefill_time_s(params, 1.0)
    miss = replica_ttft_miss_frac(
        slots, b_star, pf, spec.output_tok * itl, spec.output_tok_cv_frac,
        spec.input_tok_cv_frac, x * pf / spec.output_tok, spec.ttft_slo_s,
    )  # fmt: skip
    assert miss == pytest.approx(1 - spec.ttft_quantile_frac, abs=1e-9)


# --- length spread from the scenario or the catalog -----------------------------------------


def test_scenario_length_spread_reaches_the_pool_and_bad_values_are_rejected(small_hall):
    from dcsim.catalog.workload_defaults import workload_default
    from dcsim.errors import ConfigError
    from dcsim.model.checks import load_scenario
    from dcsim.model.plant import build_plant
    from dcsim.scenario import scenario_catalog

    def chat_spec(overrides):
        sc = load_scenario(small_hall, overrides)
        return build_plant(sc, scenario_catalog(sc)).pool_specs[0]

    default = chat_spec(None)
    assert default.output_tok_cv_frac == workload_default("output_tok_cv_frac") == 0.8
    assert default.input_tok_cv_frac == workload_default("input_tok_cv_frac") == 1.0
    given = chat_spec(["workloads.chat.output_tok_cv_frac=0.4"])
    assert given.output_tok_cv_frac == 0.4 and given.input_tok_cv_frac == 1.0
    # Less spread, shorter waits at the same occupancy: the rated batch cannot shrink.
    assert build_pool_tables(given).b_star >= build_pool_tables(default).b_star
    with pytest.raises(ConfigError, match=r"output_tok_cv_frac.*-0\.2|-0\.2.*output_tok_cv_frac"):
        chat_spec(["workloads.chat.output_tok_cv_frac=-0.2"])
