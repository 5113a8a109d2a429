"""Site weather: pvlib readers, typical-year mapping, wet bulb, offsets, heat waves, bad files.

EPW files are written in a temporary folder from pvlib's TMY3 sample for Greensboro NC
(723170TYA.CSV, shipped inside pvlib), since pvlib ships no EPW sample: same values, EPW
layout (8 header lines, 35 fields per hour, pressure in Pa).
"""

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pvlib
import pytest

from dcsim.errors import ConfigError
from dcsim.model.weather import load_weather, site_weather_ticks, weather_ticks
from dcsim.physics.psychro import psychrolib_si, rel_humidity_at_humidity_ratio, wet_bulb_degc
from dcsim.scenario.weather_schema import DEFAULT_WEATHER_FILE, HeatWave, Weather

PVLIB_DATA = Path(pvlib.__file__).parent / "data"
LOC = SimpleNamespace(utc_offset_h=-6.0)
START = dt.datetime(2027, 1, 1)
YEAR_S = 365 * 86400.0


def load(spec=None, start=START, horizon_s=YEAR_S, base_dir=Path(".")):
    return load_weather(spec, LOC, start, horizon_s, base_dir, "sites.0.weather")


@pytest.fixture(scope="module")
def tmy3():
    data, _ = pvlib.iotools.read_tmy3(PVLIB_DATA / "723170TYA.CSV", map_variables=True)
    return data


@pytest.fixture(scope="module")
def greensboro():
    return load()


def write_epw(path: Path, tmy3: pd.DataFrame, drop=None, edit=None) -> Path:
    """An EPW with the TMY3 sample's values; `drop` row index to omit, `edit` (row, col, v)."""
    header = [
        "LOCATION,Greensboro,NC,USA,TMY3,723170,36.1,-79.95,-5.0,273.0",
        "DESIGN CONDITIONS,0",
        "TYPICAL/EXTREME PERIODS,0",
        "GROUND TEMPERATURES,0",
        "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0",
        "COMMENTS 1,written by dcsim tests from pvlib's 723170TYA.CSV",
        "COMMENTS 2,",
        "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31",
    ]
    date = tmy3["Date (MM/DD/YYYY)"].str.split("/")
    n = len(tmy3)
    zeros = np.zeros(n)
    cols = {
        "year": np.full(n, 1988),
        "month": date.str[0].astype(int).to_numpy(),
        "day": date.str[1].astype(int).to_numpy(),
        "hour": tmy3["Time (HH:MM)"].str.split(":").str[0].astype(int).to_numpy(),
        "minute": np.full(n, 60),
        "flags": np.full(n, "?9?9?9?9E0?9?9?9?9?9?9?9?9?9?9?9?9?9?9?9*9*9?9?9?9"),
        "temp_air": tmy3["temp_air"].to_numpy(float),
        "temp_dew": tmy3["temp_dew"].to_numpy(float),
        "rh": tmy3["relative_humidity"].to_numpy(float),
        "pressure": tmy3["pressure"].to_numpy(float) * 100.0,
        "etr": zeros, "etrn": zeros, "ir": zeros,
        "ghi": tmy3["ghi"].to_numpy(float),
        "dni": tmy3["dni"].to_numpy(float),
        "dhi": tmy3["dhi"].to_numpy(float),
        "i1": zeros, "i2": zeros, "i3": zeros, "lum": zeros,
        "wind_direction": tmy3["wind_direction"].to_numpy(float),
        "wind_speed": tmy3["wind_speed"].to_numpy(float),
        "sky": zeros, "opaque": zeros, "vis": np.full(n, 16), "ceiling": np.full(n, 77777),
        "obs": np.full(n, 9), "codes": np.full(n, 999999999), "pw": zeros, "aod": np.full(n, 0.1),
        "snow": zeros, "last_snow": np.full(n, 88), "albedo": np.full(n, 0.2), "pr": zeros,
        "prq": zeros,
    }  # fmt: skip
    frame = pd.DataFrame(cols)
    if edit is not None:
        frame.loc[edit[0], edit[1]] = edit[2]
    if drop is not None:
        frame = frame.drop(index=drop)
    rows = frame.to_csv(header=False, index=False).splitlines()
    path.write_text("\n".join(header + rows) + "\n")
    return path


# --------------------------------------------------------------------------- mapping


def test_default_file_is_the_greensboro_tmy3(greensboro):
    assert DEFAULT_WEATHER_FILE == "pvlib:723170TYA.CSV"
    assert "GREENSBORO" in greensboro.source and "TMY3" in greensboro.source
    assert greensboro.index[0] == pd.Timestamp("2027-01-01 00:00", tz="UTC-06:00")
    assert (np.diff(greensboro.index.asi8) == 3600 * 10**6).all()  # hourly, microseconds
    assert greensboro.index.size >= 8761  # the year plus an hour for the last ticks


def test_rows_land_on_their_hour_ending(greensboro, tmy3):
    # File row 0 is 01/01 01:00 (hour ending 1): the value at 2027-01-01 01:00. The last row
    # (12/31 24:00) is the value at 00:00 of 1 January.
    assert greensboro.temp_air_degc[1] == tmy3["temp_air"].iloc[0]
    assert greensboro.temp_air_degc[0] == tmy3["temp_air"].iloc[-1]
    assert greensboro.rel_humidity_frac[1] == tmy3["relative_humidity"].iloc[0] / 100
    assert greensboro.pressure_pa[1] == tmy3["pressure"].iloc[0] * 100
    assert greensboro.ghi_w_per_m2[13] == tmy3["ghi"].iloc[12]
    # The hottest hour of the file, 35.6 degC on 9 July 14:00, is 9 July 14:00 of 2027.
    hot = greensboro.index.get_loc(pd.Timestamp("2027-07-09 14:00", tz="UTC-06:00"))
    assert greensboro.temp_air_degc[hot] == 35.6 == tmy3["temp_air"].max()


def test_typical_year_repeats_with_hour_of_year_alignment_and_leap_days():
    w = load(horizon_s=3 * YEAR_S + 2 * 86400)
    t = pd.Series(w.temp_air_degc, index=w.index)
    for stamp in ("07-09 14:00", "01-15 03:00", "12-31 23:00"):
        assert t[f"2027-{stamp}"] == t[f"2028-{stamp}"] == t[f"2029-{stamp}"]
    # 2028 is a leap year: 29 February takes 28 February's hours.
    day28 = t["2028-02-28"].to_numpy()
    np.testing.assert_array_equal(t["2028-02-29"].to_numpy(), day28)
    assert t["2028-03-01 05:00"] == t["2027-03-01 05:00"]


def test_start_inside_an_hour_and_tick_interpolation(greensboro):
    w = load(start=dt.datetime(2027, 1, 1, 0, 30), horizon_s=86400)
    assert w.start_offset_s == 1800.0
    ticks = weather_ticks(w, 900.0, 8)
    # Tick 0 at 00:30: halfway between the 00:00 and 01:00 values.
    half = 0.5 * (greensboro.temp_air_degc[0] + greensboro.temp_air_degc[1])
    assert ticks["t_db_degc"][0] == pytest.approx(half)
    assert ticks["t_db_degc"][2] == greensboro.temp_air_degc[1]  # 01:00 exactly
    assert ticks["t_wb_degc"][2] == greensboro.wet_bulb_degc[1]
    with pytest.raises(ValueError, match="run past"):
        weather_ticks(w, 900.0, 10_000)


def test_site_weather_ticks_stacks_sites():
    sites = [
        SimpleNamespace(location=LOC, weather=None),
        SimpleNamespace(location=LOC, weather=Weather(file="pvlib:703165TY.csv")),
    ]
    scenario = SimpleNamespace(sites=sites, start=START, horizon_s=2 * 86400.0)
    t_db, t_wb, hourly = site_weather_ticks(scenario, Path("."), 60.0, 2 * 1440)
    assert t_db.shape == t_wb.shape == (2, 2880)
    assert (t_wb <= t_db + 1e-9).all()
    assert "SAND POINT" in hourly[1].source


def test_frame_has_pvlib_names_and_units(greensboro):
    frame = greensboro.frame()
    assert {"temp_air", "relative_humidity", "ghi", "dni", "dhi", "wind_speed", "pressure"} <= set(
        frame.columns
    )
    assert frame["relative_humidity"].iloc[1] == pytest.approx(
        greensboro.rel_humidity_frac[1] * 100
    )
    assert frame.index.equals(greensboro.index)


def test_three_climates_differ_as_expected(greensboro):
    miami = load(Weather(file="pvlib:12839.tm2"))
    sand_point = load(Weather(file="pvlib:703165TY.csv"))
    assert "MIAMI" in miami.source and "TMY2" in miami.source
    # Annual mean wet bulb: hot-humid > moderate > cold.
    means = [w.wet_bulb_degc[:8760].mean() for w in (miami, greensboro, sand_point)]
    assert means[0] > means[1] > means[2]
    # TMY2 stores tenths of degC and of m/s: means in the physical range.
    assert 20 < miami.temp_air_degc.mean() < 28
    assert 1 < miami.wind_speed_m_per_s.mean() < 8


# --------------------------------------------------------------------------- psychrometrics


def test_wet_bulb_against_published_check_values():
    # ASHRAE Handbook Fundamentals 2017 ch. 1 example 1 (psychrolib's test): 40 degC dry bulb,
    # 20 degC wet bulb at 101,325 Pa has RH 14% (to the Handbook's rounding; psychrolib's test
    # accepts 0.1 K).
    assert wet_bulb_degc(40.0, 0.14, 101325.0) == pytest.approx(20.0, abs=0.1)
    # psychrolib's test: humidity ratio 0.0192281274241096 at 30 degC / 25 degC wet bulb and
    # 95,461 Pa (standard atmosphere at 500 m), an Excel value psychrolib matches to 0.03%
    # (its test's tolerance); 0.03% of W is ~0.003 K of wet bulb.
    psy = psychrolib_si()
    rh = psy.GetRelHumFromHumRatio(30.0, 0.0192281274241096, 95461.0)
    assert float(wet_bulb_degc(30.0, rh, 95461.0)) == pytest.approx(25.0, abs=0.004)
    # Saturated air: wet bulb = dry bulb.
    np.testing.assert_allclose(wet_bulb_degc([5.0, 25.0], 1.0, 101325.0), [5.0, 25.0], atol=1e-3)


def test_hourly_wet_bulb_is_psychrolib_of_the_hour(greensboro):
    for i in (1, 4000, 6000):
        expected = psychrolib_si().GetTWetBulbFromRelHum(
            greensboro.temp_air_degc[i], greensboro.rel_humidity_frac[i], greensboro.pressure_pa[i]
        )
        assert greensboro.wet_bulb_degc[i] == expected
    assert (greensboro.wet_bulb_degc <= greensboro.temp_air_degc + 1e-9).all()


def test_shared_psychrolib_state_is_untouched():
    import psychrolib

    wet_bulb_degc(20.0, 0.5, 101325.0)
    assert psychrolib.PSYCHROLIB_UNITS in (None, psychrolib.SI)


# --------------------------------------------------------------------------- offsets and waves


def test_warming_offset_shifts_every_hour_at_constant_rh(greensboro):
    warm = load(Weather(warming_offset_delta_k=1.5))
    np.testing.assert_allclose(warm.temp_air_degc, greensboro.temp_air_degc + 1.5)
    np.testing.assert_array_equal(warm.rel_humidity_frac, greensboro.rel_humidity_frac)
    assert (warm.wet_bulb_degc > greensboro.wet_bulb_degc).all()
    assert "warming +1.5 K" in warm.source


def test_warming_at_constant_humidity_ratio_keeps_moisture(greensboro):
    warm = load(Weather(warming_offset_delta_k=2.0, humidity_held="humidity_ratio"))
    psy = psychrolib_si()
    for i in (10, 5000):
        w_before = psy.GetHumRatioFromRelHum(
            greensboro.temp_air_degc[i], greensboro.rel_humidity_frac[i], greensboro.pressure_pa[i]
        )
        w_after = psy.GetHumRatioFromRelHum(
            warm.temp_air_degc[i], warm.rel_humidity_frac[i], warm.pressure_pa[i]
        )
        assert w_after == pytest.approx(w_before, rel=1e-9)
    assert (warm.rel_humidity_frac <= greensboro.rel_humidity_frac + 1e-12).all()
    # Moisture kept: the wet bulb rises less than at constant RH.
    warm_rh = load(Weather(warming_offset_delta_k=2.0))
    assert (warm.wet_bulb_degc <= warm_rh.wet_bulb_degc + 1e-9).all()


def test_cooling_at_constant_humidity_ratio_caps_at_saturation():
    rh = rel_humidity_at_humidity_ratio(20.0, 0.95, 10.0, 101325.0)
    assert rh == 1.0


def test_heat_wave_changes_only_its_hours(greensboro):
    wave = HeatWave(start=dt.datetime(2027, 7, 7), duration_s=4 * 86400, temp_rise_delta_k=8)
    hot = load(Weather(heat_waves=[wave]))
    inside = (hot.index >= pd.Timestamp("2027-07-07", tz="UTC-06:00")) & (
        hot.index < pd.Timestamp("2027-07-11", tz="UTC-06:00")
    )
    assert inside.sum() == 96
    np.testing.assert_allclose(hot.temp_air_degc[inside], greensboro.temp_air_degc[inside] + 8)
    np.testing.assert_array_equal(hot.temp_air_degc[~inside], greensboro.temp_air_degc[~inside])
    np.testing.assert_array_equal(hot.wet_bulb_degc[~inside], greensboro.wet_bulb_degc[~inside])
    assert (hot.wet_bulb_degc[inside] > greensboro.wet_bulb_degc[inside]).all()
    expected = wet_bulb_degc(
        hot.temp_air_degc[inside], hot.rel_humidity_frac[inside], hot.pressure_pa[inside]
    )
    np.testing.assert_array_equal(hot.wet_bulb_degc[inside], expected)


def test_heat_wave_above_plausible_range_is_refused():
    wave = HeatWave(start=dt.datetime(2027, 7, 9), duration_s=86400, temp_rise_delta_k=30)
    with pytest.raises(ConfigError, match=r"heat_waves\.0\.temp_rise_delta_k: 30 K lifts"):
        load(Weather(heat_waves=[wave]))


# --------------------------------------------------------------------------- EPW and bad files


def test_epw_reads_like_the_tmy3_it_was_written_from(tmp_path, tmy3, greensboro):
    path = write_epw(tmp_path / "gso.epw", tmy3)
    w = load(Weather(file="gso.epw"), base_dir=tmp_path)
    assert "EPW" in w.source
    np.testing.assert_array_equal(w.temp_air_degc, greensboro.temp_air_degc)
    np.testing.assert_allclose(w.pressure_pa, greensboro.pressure_pa)
    np.testing.assert_allclose(w.wet_bulb_degc, greensboro.wet_bulb_degc)
    assert path.exists()


def test_missing_hour_is_named(tmp_path, tmy3):
    # Row 1585 = 66 x 24 + 1: day 67 of the year (8 March), hour ending 2.
    write_epw(tmp_path / "gap.epw", tmy3, drop=1585)
    with pytest.raises(ConfigError) as err:
        load(Weather(file="gap.epw"), base_dir=tmp_path)
    msg = str(err.value)
    assert "gap.epw" in msg and "missing hour 03-08 02:00 (1 hours missing in all)" in msg


def test_humidity_above_100_is_named_with_its_line(tmp_path, tmy3):
    write_epw(tmp_path / "wet.epw", tmy3, edit=(100, "rh", 104))
    with pytest.raises(ConfigError) as err:
        load(Weather(file="wet.epw"), base_dir=tmp_path)
    # Data row 100 is line 109 (8 header lines); 01/05 05:00.
    assert "wet.epw: line 109 (01-05 05:00): relative_humidity 104 %" in str(err.value)
    assert "outside the plausible range 0..100 %" in str(err.value)


def test_missing_value_code_temperature_is_refused(tmp_path, tmy3):
    write_epw(tmp_path / "code.epw", tmy3, edit=(5, "temp_air", 99.9))
    with pytest.raises(ConfigError, match=r"line 14 .*temp_air 99\.9 degC .*missing-value"):
        load(Weather(file="code.epw"), base_dir=tmp_path)


def test_unparseable_file_is_one_line(tmp_path):
    (tmp_path / "junk.csv").write_text("this is not\na weather file\n")
    with pytest.raises(ConfigError) as err:
        load(Weather(file="junk.csv"), base_dir=tmp_path)
    msg = str(err.value)
    assert "\n" not in msg and "cannot read as TMY3" in msg and "junk.csv" in msg


def test_unknown_file_and_suffix(tmp_path):
    with pytest.raises(ConfigError, match=r"sites\.0\.weather\.file: weather file 'nope\.epw'"):
        load(Weather(file="nope.epw"), base_dir=tmp_path)
    (tmp_path / "w.txt").write_text("x")
    with pytest.raises(ConfigError, match=r"weather\.format: cannot tell"):
        load(Weather(file="w.txt"), base_dir=tmp_path)
