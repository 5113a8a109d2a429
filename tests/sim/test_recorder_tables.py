"""The recorder's long hall table, and the buffers it releases once the tables are built."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dcsim.kernels import cooling_layout as CL
from dcsim.kernels import layout as L
from dcsim.model.checks import load_scenario
from dcsim.model.plant import build_plant
from dcsim.scenario import scenario_catalog
from dcsim.sim.recorder import Recorder

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def campus_recorder():
    # gw-campus: 24 halls, liquid and air cooled; two days at the hourly hall record.
    sc = load_scenario(ROOT / "scenarios" / "gw-campus.yaml", ["horizon_s=2d"])
    rec = Recorder(build_plant(sc, scenario_catalog(sc)))
    rng = np.random.default_rng(7)
    rec.hall_rec[:] = rng.uniform(0.0, 5.0, rec.hall_rec.shape)
    rec.hall_rec[3, 1, L.HR_SERVING] = 0.0  # no rack serving: NaN mean cap
    return rec


def _hall_table_one_hall_at_a_time(rec: Recorder) -> pd.DataFrame:
    """Reference: the long table as one frame per hall, concatenated (the old build)."""
    p = rec.plant
    h = rec.hall_rec.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        h[:, :, L.HR_CAP] = np.where(
            h[:, :, L.HR_SERVING] > 0, h[:, :, L.HR_CAP] / h[:, :, L.HR_SERVING], np.nan
        )
    liquid = p.cool_par[:, CL.CP_TYPE] != CL.COOLING_FIXED_COP
    h[:, ~liquid, L.HR_T_FWS] = np.nan
    h[:, ~liquid, L.HR_T_TCS_SUPPLY] = np.nan
    step = pd.Timedelta(seconds=p.ticks_per_hall_rec * p.tick_s)
    idx = pd.DatetimeIndex(
        [pd.Timestamp(p.start) + i * step for i in range(h.shape[0])], name="time"
    ).as_unit("us")
    frames = [
        pd.DataFrame({"hall": name, **{c: h[:, k, j] for j, c in enumerate(L.HR_NAMES)}}, index=idx)
        for k, name in enumerate(p.hall_names)
    ]
    return pd.concat(frames).reset_index()


def test_hall_table_is_the_per_hall_concatenation(campus_recorder):
    rec = campus_recorder
    n_hall = len(rec.plant.hall_names)
    assert n_hall == 24 and rec.hall_rec.shape[0] == 48  # 2 days of hourly rows
    got = rec.hall_timeseries()
    want = _hall_table_one_hall_at_a_time(rec)
    assert len(got) == 48 * n_hall
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    # Row 48 * 1 + 3 is the second hall at 03:00, its mean cap NaN (no rack serving).
    assert got.loc[48 + 3, "hall"] == rec.plant.hall_names[1]
    assert np.isnan(got.loc[48 + 3, "cap_frac"])


def test_released_buffers_are_gone_and_the_window_record_stays(campus_recorder):
    rec = Recorder(campus_recorder.plant)
    rec.log(0.0, "failure", "b1h1/rack0", "gpu", 1.0)
    window = rec.window_rec
    rec.release_series()
    assert rec.rec is None and rec.hall_rec is None and rec.events == []
    assert rec.window_rec is window and rec.flow_check.shape == (2,)
    with pytest.raises(AttributeError):
        rec.hall_timeseries()
