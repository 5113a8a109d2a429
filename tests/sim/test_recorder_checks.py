"""A run whose recorded series hold NaN or infinity fails in one line naming column and time."""

from __future__ import annotations

import numpy as np
import pytest

from dcsim.errors import ConfigError
from dcsim.kernels import layout as L
from dcsim.model.checks import load_scenario
from dcsim.model.plant import build_plant
from dcsim.scenario import scenario_catalog
from dcsim.sim.recorder import Recorder


@pytest.fixture(scope="module")
def recorder(small_hall):
    sc = load_scenario(small_hall, ["horizon_s=1d"])
    return Recorder(build_plant(sc, scenario_catalog(sc)))


def test_finite_buffers_pass(recorder):
    recorder.check_finite()  # zeros everywhere: nothing to report
    assert np.isfinite(recorder.rec).all()


def test_a_nan_in_the_campus_series_names_column_and_first_time(recorder):
    rec = recorder.rec
    # small-hall records every 15 min from 2027-01-04 00:00: row 5 starts at 01:15.
    row_s = recorder.plant.ticks_per_rec * recorder.plant.tick_s
    assert row_s == 900.0
    rec[5, L.R_FACILITY] = np.nan
    rec[9, L.R_FACILITY] = np.nan
    try:
        with pytest.raises(ConfigError) as err:
            recorder.check_finite()
    finally:
        rec[:] = 0.0
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("timeseries column facility_power_w is nan from 2027-01-04 01:15 on")


def test_an_infinite_site_series_names_the_site(recorder):
    recorder.site_rec[3, 0, L.SR_CURTAILED] = np.inf
    try:
        with pytest.raises(ConfigError, match=r"^site_timeseries column main\.curtailed_w is inf "
                           r"from 2027-01-04 00:45 on"):  # fmt: skip
            recorder.check_finite()
    finally:
        recorder.site_rec[:] = 0.0


def test_a_nan_balance_check_fails(recorder):
    recorder.flow_check[0] = np.nan
    try:
        with pytest.raises(ConfigError, match="^the energy balance check is not a number"):
            recorder.check_finite()
    finally:
        recorder.flow_check[:] = 0.0


def test_an_infinite_transformer_rating_is_refused_after_the_run(small_hall):
    # The schema refuses an infinite import limit at the boundary now; behind it, a plant
    # whose transformer rating is infinite (no load loss, but an infinite no-load share
    # through the rating) must still fail the run in one line instead of passing as a run
    # with null KPIs and a closed balance.
    from dcsim.sim.engine import simulate

    sc = load_scenario(small_hall, ["horizon_s=6h"])
    plant = build_plant(sc, scenario_catalog(sc))
    plant.site_par[:, L.S_XFMR_RATED_W] = np.inf
    state = simulate(plant, sc.seed)
    with pytest.raises(
        ConfigError,
        match=r"^(site_|hall_)?timeseries column \S+ is (inf|nan) from 2027-01-04 00:00 on: ",
    ):
        state.recorder.check_finite()
