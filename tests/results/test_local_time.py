"""Run tables are stamped in UTC; a site's local standard time comes back on request.

small-hall starts on 2027-01-04 00:00 at its site "main" (utc_offset_h: -5): 05:00 UTC.
"""

from __future__ import annotations

import pandas as pd
import pytest

from dcsim.results.local_time import local_time, site_utc_offsets_h, to_utc

START_UTC = pd.Timestamp("2027-01-04 05:00", tz="UTC")


def test_every_time_stamped_table_is_in_utc(small_hall_1d):
    res = small_hall_1d
    assert str(res.timeseries.index.dtype) == "datetime64[us, UTC]"
    assert res.timeseries.index[0] == START_UTC
    assert str(res.events["time"].dtype) == "datetime64[us, UTC]"
    for name in ("hall_timeseries", "site_timeseries"):
        table = res.extra_tables[name]
        stamps = table["time"] if "time" in table else table.index
        assert str(stamps.dtype) == "datetime64[us, UTC]", name
        assert stamps.min() == START_UTC, name


def test_local_time_is_the_site_wall_clock(small_hall_1d):
    res = small_hall_1d
    local = res.local_time()
    # 96 rows of 15 min from local midnight: hours 0..23, four rows each.
    assert local.iloc[0] == pd.Timestamp("2027-01-04 00:00", tz="UTC-05:00")
    assert list(local.dt.hour.value_counts().sort_index()) == [4] * 24
    assert (local.index == res.timeseries.index).all()
    halls = res.local_time("hall_timeseries", site="main")
    assert halls.iloc[0] == pd.Timestamp("2027-01-04 00:00", tz="UTC-05:00")
    with pytest.raises(KeyError, match="site 'nowhere': expected one of \\['main'\\]"):
        res.local_time(site="nowhere")
    with pytest.raises(KeyError, match="table 'capacities'"):
        res.local_time("capacities")


def test_conversions_by_hand():
    # 12:00 wall clock at UTC+9 is 03:00 UTC; back at UTC-5 it is 22:00 the day before.
    frame = pd.DataFrame({"x_w": [1.0]}, index=pd.DatetimeIndex(["2027-06-01 12:00"], name="time"))
    utc = to_utc(frame, 9.0)
    assert utc.index[0] == pd.Timestamp("2027-06-01 03:00", tz="UTC")
    assert local_time(utc.index, -5.0)[0] == pd.Timestamp("2027-05-31 22:00", tz="UTC-05:00")
    # Aware stamps are only converted (the offset applies to naive ones).
    again = to_utc(utc, -5.0)
    assert again.index[0] == utc.index[0]
    events = pd.DataFrame({"time": pd.to_datetime(["2027-06-01 12:00"]), "kind": ["x"]})
    assert to_utc(events, 9.0)["time"].iloc[0] == pd.Timestamp("2027-06-01 03:00Z")


def test_offsets_from_a_scenario_or_its_stored_dict():
    stored = {"sites": [{"name": "a", "location": {"utc_offset_h": 5.5}}, {"name": "b"}]}
    assert site_utc_offsets_h(stored) == {"a": 5.5, "b": 0.0}
