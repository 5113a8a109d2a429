"""Hourly price / carbon / system-load files: every bad input, the year mapping, shipped data."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dcsim.errors import ConfigError
from dcsim.model.grid_files import (
    CARBON_COLUMN,
    PRICE_COLUMN,
    clock_hours,
    map_hourly,
    read_hourly_csv,
    typical_year_index,
)

DATA = Path(__file__).resolve().parents[2] / "scenarios" / "data"


def write(tmp_path: Path, rows: list[str], column: str = PRICE_COLUMN, header=True) -> Path:
    lines = ["# made by hand for a test", f"time,{column}"] if header else []
    path = tmp_path / "f.csv"
    path.write_text("\n".join(lines + rows) + "\n", encoding="utf-8")
    return path


def hours_rows(start: str, values) -> list[str]:
    t0 = pd.Timestamp(start)
    return [f"{(t0 + pd.Timedelta(hours=i)):%Y-%m-%dT%H:%M},{v}" for i, v in enumerate(values)]


def error(path: Path, column: str = PRICE_COLUMN, **kw) -> str:
    with pytest.raises(ConfigError) as info:
        read_hourly_csv(path, column, **kw)
    return str(info.value)


# --------------------------------------------------------------------------- bad input


def test_gap_names_file_line_and_missing_hour(tmp_path):
    rows = hours_rows("2023-01-01", [1, 2, 3])
    rows.insert(2, "2023-01-01T05:00,9")  # line 5: jumps from 01:00 to 05:00
    path = write(tmp_path, rows)
    msg = error(path)
    assert msg.startswith(f"{path}:5: ")
    assert "2023-01-01T02:00 is missing (3 h gap after 2023-01-01T01:00)" in msg


def test_duplicate_hour(tmp_path):
    rows = hours_rows("2023-01-01", [1, 2]) + ["2023-01-01T01:00,5"]
    path = write(tmp_path, rows)
    assert error(path) == f"{path}:5: time: 2023-01-01T01:00 is a duplicate hour"


def test_rows_out_of_order(tmp_path):
    rows = hours_rows("2023-01-01T05:00", [1, 2]) + ["2023-01-01T03:00,5"]
    path = write(tmp_path, rows)
    assert "is before the previous row (2023-01-01T06:00)" in error(path)


@pytest.mark.parametrize(
    "header_row", ["time,price", "time,price_usd_per_mwh,extra", "timestamp,price_usd_per_mwh"]
)
def test_wrong_columns(tmp_path, header_row):
    path = tmp_path / "f.csv"
    path.write_text(f"# x\n{header_row}\n2023-01-01T00:00,1\n", encoding="utf-8")
    assert error(path) == (
        f"{path}:2: columns are '{header_row}'; expected 'time,price_usd_per_mwh'"
    )


def test_carbon_file_with_price_column_is_wrong_columns(tmp_path):
    path = write(tmp_path, hours_rows("2023-01-01", [1]))
    assert "expected 'time,carbon_kg_per_mwh'" in error(path, CARBON_COLUMN)


def test_non_numeric_value(tmp_path):
    rows = hours_rows("2023-01-01", [1, "n/a", 3])
    path = write(tmp_path, rows)
    assert error(path) == f"{path}:4: price_usd_per_mwh: 'n/a' is not a finite number"


def test_bad_time_text_offset_and_minutes(tmp_path):
    assert "is not an ISO time" in error(write(tmp_path, ["01/01/2023 00:00,1"]))
    assert "has a UTC offset" in error(write(tmp_path, ["2023-01-01T00:00-06:00,1"]))
    assert "is not on the hour" in error(write(tmp_path, ["2023-01-01T00:30,1"]))


def test_negative_price_refused_unless_allowed(tmp_path):
    path = write(tmp_path, hours_rows("2023-01-01", [5, -12.5, 7]))
    msg = error(path, allow_negative=False)
    assert msg.startswith(f"{path}:4: price_usd_per_mwh: -12.5 is negative")
    assert "allow_negative_prices: true" in msg
    assert read_hourly_csv(path, PRICE_COLUMN, allow_negative=True).values[1] == -12.5


def test_negative_carbon_always_refused(tmp_path):
    path = write(tmp_path, hours_rows("2023-01-01", [5, -1]), CARBON_COLUMN)
    assert "carbon_kg_per_mwh: -1 is negative; expected >= 0" in error(
        path, CARBON_COLUMN, allow_negative=False
    )


def test_empty_and_headerless_files(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("# only a comment\n", encoding="utf-8")
    assert "no header row" in error(path)
    path.write_text("time,price_usd_per_mwh\n", encoding="utf-8")
    assert "no data rows" in error(path)
    assert error(tmp_path / "absent.csv") == f"{tmp_path / 'absent.csv'}: file not found"


def test_wrong_year_length(tmp_path):
    # 8759 rows from 1 January 2023: one hour short of a year and no horizon to cover.
    path = write(tmp_path, hours_rows("2023-01-01", np.ones(8759)))
    series = read_hourly_csv(path, PRICE_COLUMN)
    with pytest.raises(ConfigError) as info:
        map_hourly(series, dt.datetime(2027, 1, 4), 7 * 86400.0)
    msg = str(info.value)
    assert msg.startswith(f"{path}:3: 8759 rows from 2023-01-01T00:00; a one-year file has 8760")
    assert "or a file covering 2027-01-04T00:00 to 2027-01-10T23:00" in msg


def test_8784_rows_in_a_non_leap_year_is_not_a_year(tmp_path):
    path = write(tmp_path, hours_rows("2023-01-01", np.ones(8784)))
    with pytest.raises(ConfigError, match="a one-year file has 8760 rows for 2023"):
        map_hourly(read_hourly_csv(path, PRICE_COLUMN), dt.datetime(2027, 1, 4), 86400.0)


def test_short_file_not_covering_the_horizon(tmp_path):
    path = write(tmp_path, hours_rows("2027-03-01", np.ones(48)))
    with pytest.raises(ConfigError, match="48 rows from 2027-03-01T00:00 to 2027-03-02T23:00"):
        map_hourly(read_hourly_csv(path, PRICE_COLUMN), dt.datetime(2027, 3, 1), 3 * 86400.0)


# --------------------------------------------------------------------------- mapping


def test_file_covering_the_horizon_is_sliced(tmp_path):
    path = write(tmp_path, hours_rows("2027-03-01", np.arange(72.0)))
    series = read_hourly_csv(path, PRICE_COLUMN)
    # Start 05:30 for 2 h: the clock hours 05, 06, 07 -> rows 5, 6, 7.
    got = map_hourly(series, dt.datetime(2027, 3, 1, 5, 30), 2 * 3600.0)
    assert got.tolist() == [5.0, 6.0, 7.0]
    hours, offset = clock_hours(dt.datetime(2027, 3, 1, 5, 30), 2 * 3600.0)
    assert offset == 1800.0 and len(hours) == 3


def test_one_year_file_repeats_by_month_day_hour(tmp_path):
    # A 2023 file whose value is the hour-of-year index; mapped onto 2028 (a leap year),
    # 29 February takes 28 February's values and 1 March is 1 March.
    path = write(tmp_path, hours_rows("2023-01-01", np.arange(8760.0)))
    series = read_hourly_csv(path, PRICE_COLUMN)
    assert series.is_one_year and series.header == ["made by hand for a test"]
    got = map_hourly(series, dt.datetime(2028, 2, 28), 3 * 86400.0)
    feb28 = (31 + 27) * 24
    assert got[:24].tolist() == list(range(feb28, feb28 + 24))
    assert got[24:48].tolist() == list(range(feb28, feb28 + 24))  # 29 Feb -> 28 Feb
    assert got[48:72].tolist() == list(range(feb28 + 24, feb28 + 48))  # 1 March
    # Over two non-leap years (2025, 2026): the second repeats the first.
    two = map_hourly(series, dt.datetime(2025, 1, 1), 2 * 365 * 86400.0)
    assert np.array_equal(two[:8760], two[8760:])


def test_typical_year_index_reports_a_missing_hour():
    src = pd.date_range("2023-01-01", periods=24, freq="h")
    with pytest.raises(ValueError, match="no row for 01-02 00:00"):
        typical_year_index(src, pd.date_range("2027-01-01", periods=25, freq="h"))


# --------------------------------------------------------------------------- shipped data


def test_shipped_price_file_matches_its_published_scale():
    s = read_hourly_csv(DATA / "ercot_north_price_2023.csv", PRICE_COLUMN)
    assert s.is_one_year and len(s.values) == 8760
    assert any("SYNTHETIC" in line for line in s.header)
    assert any("make_ercot_sample.py" in line for line in s.header)
    # ERCOT North hub 2023: annual DA mean 55.90 USD/MWh, August RT mean 196.1 (as reported);
    # no price above the 5,000 USD/MWh offer cap; some negative hours.
    assert s.values.mean() == pytest.approx(55.90, abs=0.01)
    assert s.values[s.times.month == 8].mean() == pytest.approx(196.1, abs=0.05)
    assert s.values.max() <= 5000.0 and (s.values < 0).any()


def test_shipped_carbon_file_matches_the_eia_mean():
    s = read_hourly_csv(DATA / "ercot_north_carbon_2023.csv", CARBON_COLUMN, allow_negative=False)
    assert s.is_one_year and any("SYNTHETIC" in line for line in s.header)
    assert s.values.mean() == pytest.approx(367.0, abs=0.05)  # EIA 2023 US average


def test_shipped_files_are_what_the_script_makes():
    spec = importlib.util.spec_from_file_location("make_ercot", DATA / "make_ercot_sample.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    price, carbon = mod.make()
    s = read_hourly_csv(DATA / "ercot_north_price_2023.csv", PRICE_COLUMN)
    c = read_hourly_csv(DATA / "ercot_north_carbon_2023.csv", CARBON_COLUMN)
    assert np.array_equal(price["price_usd_per_mwh"].to_numpy(), s.values)
    assert np.array_equal(carbon["carbon_kg_per_mwh"].to_numpy(), c.values)
