"""Training goodput from interruption timelines, by hand and against Daly (2006)."""

from __future__ import annotations

import datetime as dt
import types

import numpy as np
import pandas as pd
import pytest

from dcsim.physics.reliability import expected_goodput_frac
from dcsim.results.training import job_goodput, training_kpis

# tau = 900 s of work + delta = 100 s of checkpoint: segments of 1,000 s; restart 200 s.
TAU, DELTA, R = 900.0, 100.0, 200.0


def test_no_interruption_keeps_all_but_the_checkpoints():
    g = job_goodput([], [], 0.0, 10_000.0, TAU, DELTA, R)
    # 10 segments of 900 s kept in 10,000 s.
    assert g["goodput_frac"] == pytest.approx(0.9)
    assert g["lost_work_s"] == 0 and g["interruptions_count"] == 0


def test_one_unplanned_interruption_by_hand():
    g = job_goodput([2500.0], [False], 0.0, 10_000.0, TAU, DELTA, R)
    # 2 segments kept (1,800 s), 500 s lost, restart 2,500-2,700; then 7 segments
    # (6,300 s) and 300 s in progress at the end: 1,800 + 6,300 + 300 = 8,400 s.
    assert g["kept_work_s"] == pytest.approx(8400.0)
    assert g["lost_work_s"] == pytest.approx(500.0)
    assert g["restart_time_s"] == pytest.approx(200.0)
    assert g["goodput_frac"] == pytest.approx(0.84)


def test_a_planned_interruption_costs_only_the_restart():
    g = job_goodput([2500.0], [True], 0.0, 10_000.0, TAU, DELTA, R)
    assert g["kept_work_s"] == pytest.approx(8400.0 + 500.0)
    assert g["planned_interruptions_count"] == 1 and g["interruptions_count"] == 0


def test_an_interruption_during_the_restart_restarts_it():
    g = job_goodput([2500.0, 2600.0], [False, False], 0.0, 10_000.0, TAU, DELTA, R)
    # Restart begins again at 2,600 and ends at 2,800; from there 7 segments and 200 s.
    assert g["restart_time_s"] == pytest.approx(300.0)
    assert g["kept_work_s"] == pytest.approx(1800.0 + 6300.0 + 200.0)
    # Two failures at one instant (one grid point) cost the same as one.
    one = job_goodput([2500.0], [False], 0.0, 10_000.0, TAU, DELTA, R)
    two = job_goodput([2500.0, 2500.0], [False, False], 0.0, 10_000.0, TAU, DELTA, R)
    assert two["kept_work_s"] == pytest.approx(one["kept_work_s"])


@pytest.mark.parametrize("seed", [0, 1])
def test_poisson_failures_reach_dalys_expected_goodput(seed):
    # M = 1 h, tau = 600 s, delta = 60 s, R = 120 s: Daly's expectation is 0.801. Over
    # 2e7 s (~5,600 failures) the simulated timeline agrees to within 1 %.
    m, tau, delta, r, window = 3600.0, 600.0, 60.0, 120.0, 2e7
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.exponential(m, size=int(window / m * 1.5)))
    times = times[times < window]
    g = job_goodput(times, np.zeros(times.size, bool), 0.0, window, tau, delta, r)
    expected = float(expected_goodput_frac(tau, delta, r, m))
    assert expected == pytest.approx(0.801, abs=1e-3)
    assert g["goodput_frac"] == pytest.approx(expected, rel=0.01)


def test_training_kpis_from_the_event_table():
    start = dt.datetime(2027, 1, 1)
    events = pd.DataFrame(
        {
            "time": [start + dt.timedelta(seconds=2500), start + dt.timedelta(seconds=300)],
            "kind": ["training_interruption", "failure"],
            "asset": ["job", "h/rack1"],
            "detail": ["gpu", "gpu"],
            "value": [1.0, 8.0],
        }
    )
    plan = types.SimpleNamespace(
        names=["job"],
        interval_s=np.array([TAU]),
        write_s=np.array([DELTA]),
        restart_s=np.array([R]),
        mtbf_s=np.array([5000.0]),
    )
    k = training_kpis(events, plan, start, 10_000.0)
    assert k["job.training_goodput_frac"] == pytest.approx(0.84)
    assert k["job.training_interruptions_count"] == 1
    assert k["job.checkpoint_interval_s"] == TAU
    assert k["job.training_expected_goodput_frac"] == pytest.approx(
        float(expected_goodput_frac(TAU, DELTA, R, 5000.0))
    )
    assert training_kpis(events, None, start, 1.0) == {}
