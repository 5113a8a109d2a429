"""Scenario dates and month starts are the campus clock; the series are stamped in UTC."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dcsim.plot.limits import partial_months

#: A site at UTC-5 (small-hall's): its local midnight is 05:00 UTC.
CLOCK = dt.timezone(dt.timedelta(hours=-5))


def test_a_whole_local_month_is_not_partial():
    # July 2027 at UTC-5, hourly rows from local 1 July 00:00 to 31 July 23:00.
    index = pd.date_range("2027-07-01 05:00", periods=31 * 24, freq="1h", tz="UTC")
    months = pd.DatetimeIndex(["2027-07-01"])
    assert partial_months(index, months, CLOCK) == [False]
    # Read as UTC midnight, the month would look cut (its first 5 h missing).
    assert partial_months(index, months) == [True]
