"""Streaming inputs: demand and site inputs produced per compiled call, as if for the horizon.

A run fills per-call buffers with the ticks of each call (``docs/core.md``, *Streaming
inputs*). Any chunking must give the values of the whole horizon, bit for bit: demand
against an independent whole-horizon implementation of the noise lattice (the one-shot
algorithm of MODEL.md section 2, written out here), site inputs against one evaluation of
the whole horizon, and whole runs against runs whose compiled calls are cut differently.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcsim.kernels import layout as L
from dcsim.model.plant import build_plant
from dcsim.model.streams import rng_for
from dcsim.physics.demand import demand_tok_per_s
from dcsim.runner import resolve_scenario
from dcsim.scenario import scenario_catalog
from dcsim.sim import engine
from dcsim.sim.demand import DemandStream, demand_matrix_tok_per_s
from dcsim.units import H_S

REPO = Path(__file__).resolve().parents[2]


def one_shot_noise(t_s, sigma_frac, corr_s, step_s, rng):
    """The lognormal AR(1) lattice drawn in one go, interpolated (the pre-streaming code)."""
    n = int(np.floor(np.max(t_s) / step_s)) + 2
    z = rng.standard_normal(n)
    log_sigma = np.sqrt(np.log1p(sigma_frac * sigma_frac))
    phi = np.exp(-step_s / corr_s) if corr_s > 0.0 else 0.0
    innovation = log_sigma * np.sqrt(1.0 - phi * phi)
    log_m = np.empty(n)
    log_m[0] = log_sigma * z[0]
    for k in range(1, n):
        log_m[k] = phi * log_m[k - 1] + innovation * z[k]
    nodes = np.exp(log_m - 0.5 * log_sigma * log_sigma)
    return np.interp(t_s / step_s, np.arange(n) * 1.0, nodes)


@pytest.fixture(scope="module")
def gw_plant():
    # Summer: coincident-peak avoidance flags, curtailments, the battery's signal, weather.
    sc = resolve_scenario(
        REPO / "scenarios" / "gw-campus.yaml", {"horizon_s": "12d", "start": "2027-07-28"}
    )
    return build_plant(sc, scenario_catalog(sc))


def chunks(n, sizes):
    """Consecutive ranges [t0, t1) covering n ticks with the given sizes, cycled."""
    out, t0, i = [], 0, 0
    while t0 < n:
        t1 = min(n, t0 + sizes[i % len(sizes)])
        out.append((t0, t1))
        t0, i = t1, i + 1
    return out


def test_demand_matches_the_one_shot_lattice(gw_plant):
    plant = gw_plant
    n = plant.n_ticks
    t_s = (np.arange(n) + 0.5) * plant.tick_s
    local_start = plant.start
    start_hour = local_start.hour + local_start.minute / 60.0
    ref = np.empty((len(plant.class_names), n))
    for k, cd in enumerate(plant.class_demand):
        assert cd.noise_sigma_frac > 0.0  # the case that has state
        step_s = max(min(H_S, 0.5 * cd.noise_corr_s), plant.tick_s)
        noise = one_shot_noise(
            t_s, cd.noise_sigma_frac, cd.noise_corr_s, step_s, rng_for(5, "demand", k)
        )
        ref[k] = demand_tok_per_s(
            t_s, local_start.weekday(), start_hour, cd.base_tok_per_s, cd.daily_profile_frac,
            cd.weekly_profile_frac, cd.growth_per_y_frac, noise, cd.bursts,
        )  # fmt: skip
    rngs = [rng_for(5, "demand", k) for k in range(len(plant.class_names))]
    assert np.array_equal(demand_matrix_tok_per_s(plant, rngs), ref)
    # A day at a time, and ragged chunks (1 tick, 7 ticks, 997 ticks, ...).
    for sizes in ([1440], [1, 7, 997, 2000, 3]):
        stream = DemandStream(plant, [rng_for(5, "demand", k) for k in range(len(rngs))])
        buf = np.full((len(rngs), 2000), np.nan)
        got = np.empty_like(ref)
        for t0, t1 in chunks(n, sizes):
            stream.fill(t0, t1, buf)
            got[:, t0:t1] = buf[:, : t1 - t0]
        assert np.array_equal(got, ref)


@settings(max_examples=15, deadline=None)
@given(sizes=st.lists(st.integers(1, 3000), min_size=1, max_size=6))
def test_site_inputs_in_any_chunks_are_the_whole_horizon(gw_plant, sizes):
    inputs = gw_plant.site_inputs
    whole = inputs.table()
    assert whole.shape == (1, gw_plant.n_ticks, L.ST_NCOLS)
    got = np.concatenate([inputs.table(t0, t1) for t0, t1 in chunks(gw_plant.n_ticks, sizes)], 1)
    assert np.array_equal(got, whole)


def test_site_inputs_hold_what_the_grid_block_says(gw_plant):
    # Not vacuous: the summer window holds avoidance flags (in the 14-18 h window), a
    # contract at the 1,050 MW connection's firm + non-firm level and hourly weather.
    whole = gw_plant.site_inputs.table()
    shed = whole[0, :, L.ST_CP_SHED]
    assert 0 < shed.sum() < 0.25 * gw_plant.n_ticks
    assert np.isin(shed, (0.0, 1.0)).all()
    assert whole[0, :, L.ST_CONTRACT_W].max() <= 1050e6
    t_db = whole[0, :, L.ST_T_DB_DEGC]
    assert 15.0 < t_db.min() < t_db.max() < 45.0  # Dallas, August


def _records(plant, chunk_ticks, monkeypatch):
    monkeypatch.setattr(engine, "chunk_ticks_for", lambda tick_s: chunk_ticks)
    state = engine.simulate(plant, seed=3)
    rec = state.recorder
    return (
        rec.rec.copy(),
        rec.class_rec.copy(),
        rec.site_rec.copy(),
        rec.hall_rec.copy(),
        (state.n_kernel_calls),
    )


def test_runs_do_not_depend_on_how_calls_cut_the_horizon(monkeypatch):
    sc = resolve_scenario(REPO / "scenarios" / "small-hall.yaml", {"horizon_s": "2d"})
    plant = build_plant(sc, scenario_catalog(sc))
    day = _records(plant, 1440, monkeypatch)
    ragged = _records(plant, 97, monkeypatch)
    whole = _records(plant, plant.n_ticks, monkeypatch)
    assert (day[-1], ragged[-1], whole[-1]) == (2, 30, 1)  # 2880 ticks: 29 x 97 + 67
    for a, b, c in zip(day[:-1], ragged[:-1], whole[:-1], strict=True):
        assert np.array_equal(a, b) and np.array_equal(a, c)
    assert day[0][:, 0].max() > 0.0  # not vacuous: power was recorded
