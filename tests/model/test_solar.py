"""Solar PV (dcsim/model/solar.py): equal to the pvlib PVWatts chain called directly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest
from numpy.testing import assert_allclose

from dcsim.model.solar import pv_spec, solar_ac_w
from dcsim.scenario.grid_schema import Solar

TMY = Path(pvlib.__file__).parent / "data" / "723170TYA.CSV"  # Greensboro NC, TMY3


@pytest.fixture(scope="module")
def tmy():
    data, meta = pvlib.iotools.read_tmy3(TMY, map_variables=True)
    # TMY3 labels each row with the end of the hour its irradiance averages, as the weather
    # frames of dcsim.model.weather do.
    frame = data[["ghi", "dni", "dhi", "temp_air", "wind_speed"]].copy()
    return frame, meta["latitude"], meta["longitude"]


def pvlib_direct(frame, lat, lon, *, dc_w, ac_w, tilt, azimuth, single_axis=False):
    """The PVWatts chain written out with pvlib calls and the PVWatts v5 coefficients.

    Plain arrays throughout: the sun is computed at the middle of the hour ending at each
    label, stamps which pandas would otherwise misalign with the weather rows.
    """
    mid = frame.index - pd.Timedelta(minutes=30)
    w = {c: frame[c].to_numpy() for c in frame.columns}
    sun = pvlib.solarposition.get_solarposition(mid, lat, lon, temperature=w["temp_air"])
    zen = sun["apparent_zenith"].to_numpy()
    azi = sun["azimuth"].to_numpy()
    if single_axis:
        tr = pvlib.tracking.singleaxis(zen, azi, axis_azimuth=180, max_angle=45, gcr=0.4)
        tilt = np.nan_to_num(np.asarray(tr["surface_tilt"], dtype=float), nan=0.0)
        azimuth = np.nan_to_num(np.asarray(tr["surface_azimuth"], dtype=float), nan=180.0)
    doy = mid.tz_convert("UTC").day_of_year.to_numpy().astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        poa = pvlib.irradiance.get_total_irradiance(
            tilt,
            azimuth,
            zen,
            azi,
            w["dni"],
            w["ghi"],
            w["dhi"],
            dni_extra=pvlib.irradiance.get_extra_radiation(doy),
            airmass=pvlib.atmosphere.get_relative_airmass(zen),
            albedo=0.2,
            model="perez",
        )
        iam = np.nan_to_num(pvlib.iam.physical(pvlib.irradiance.aoi(tilt, azimuth, zen, azi)))
    direct = np.nan_to_num(np.asarray(poa["poa_direct"], dtype=float))
    diffuse = np.nan_to_num(np.asarray(poa["poa_diffuse"], dtype=float))
    t_cell = pvlib.temperature.sapm_cell(
        direct + diffuse,
        w["temp_air"],
        w["wind_speed"],
        **pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"],
    )
    pdc = pvlib.pvsystem.pvwatts_dc(direct * iam + diffuse, t_cell, dc_w, -0.0047)
    pdc = pdc * (1 - pvlib.pvsystem.pvwatts_losses() / 100.0)
    pac = pvlib.inverter.pvwatts(pdc, ac_w / 0.96, 0.96, 0.9637)
    return np.clip(np.nan_to_num(pac), 0.0, ac_w)


def test_fixed_tilt_equals_pvlib_called_directly(tmy):
    frame, lat, lon = tmy
    spec = pv_spec(Solar(dc_mw=1.2, ac_mw=1.0, tilt_deg=25, azimuth_deg=180), lat)
    got = solar_ac_w(frame, lat, lon, spec)
    want = pvlib_direct(frame, lat, lon, dc_w=1.2e6, ac_w=1.0e6, tilt=25.0, azimuth=180.0)
    assert_allclose(got, want, rtol=1e-12, atol=1e-6)


def test_single_axis_equals_pvlib_called_directly(tmy):
    frame, lat, lon = tmy
    spec = pv_spec(Solar(dc_mw=1.3, ac_mw=1.0, mount="single_axis"), lat)
    got = solar_ac_w(frame, lat, lon, spec)
    want = pvlib_direct(
        frame, lat, lon, dc_w=1.3e6, ac_w=1.0e6, tilt=0.0, azimuth=180.0, single_axis=True
    )
    assert_allclose(got, want, rtol=1e-12, atol=1e-6)


def test_annual_yield_in_the_published_range(tmy):
    # Fixed-tilt crystalline PV in North Carolina yields roughly 1,300-1,500 kWh per kW DC
    # per year in PVWatts (NREL PVWatts calculator, Greensboro; S). Band 1,250-1,550.
    frame, lat, lon = tmy
    spec = pv_spec(Solar(dc_mw=1.0, ac_mw=1.0 / 1.2), lat)  # tilt = latitude by default
    kwh_per_kw = solar_ac_w(frame, lat, lon, spec).sum() / 1e3 / 1e3
    assert 1250.0 < kwh_per_kw < 1550.0
    assert spec.tilt_deg == pytest.approx(abs(lat))


def test_output_is_zero_at_night_and_clipped_at_the_inverter(tmy):
    frame, lat, lon = tmy
    spec = pv_spec(Solar(dc_mw=2.0, ac_mw=1.0), lat)  # DC/AC 2: heavy clipping
    ac = solar_ac_w(frame, lat, lon, spec)
    assert (ac[frame["ghi"].to_numpy() == 0.0] == 0.0).all()
    assert ac.max() == pytest.approx(1.0e6) and (ac >= 0.0).all()
