"""Time stamps of a run's tables: stored in UTC, read in a site's local standard time.

The simulation clock is the scenario's ``start``, a wall-clock time in the local standard
time of the campus's first site (its ``location.utc_offset_h``; demand profiles follow that
clock). Every table of a run (campus, site and hall series, events) is stamped in UTC
(``datetime64[us, UTC]``): the wall clock minus the offset. :func:`local_time` gives the
wall clock of any site back, in local standard time (no daylight saving, as weather files
and the scenario's dates are written). Run folders written before the stamps were UTC hold
naive wall-clock stamps; :func:`to_utc` reads those with the scenario's offset.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["local_time", "site_utc_offsets_h", "to_utc"]

#: Name of the column (or index) holding a table's time stamps.
TIME = "time"


def site_utc_offsets_h(scenario: Any) -> dict[str, float]:
    """Local standard time minus UTC of each site, in scenario order [h].

    Parameters
    ----------
    scenario
        A validated ``Scenario`` or the plain dict of a stored ``scenario.yaml``.

    Returns
    -------
    dict
        Site name -> offset [h] (0 when a stored scenario leaves it out, its default).
    """
    sites = scenario.get("sites", []) if isinstance(scenario, Mapping) else scenario.sites
    out: dict[str, float] = {}
    for site in sites or []:
        if isinstance(site, Mapping):
            loc = site.get("location") or {}
            out[str(site.get("name"))] = float(loc.get("utc_offset_h", 0.0) or 0.0)
        else:
            out[site.name] = float(site.location.utc_offset_h)
    return out


def _zone(utc_offset_h: float) -> dt.timezone:
    return dt.timezone(dt.timedelta(hours=float(utc_offset_h)))


def _stamps_to_utc(stamps: Any, utc_offset_h: float) -> Any:
    """UTC stamps from naive wall-clock stamps at ``utc_offset_h`` (aware ones converted)."""
    if isinstance(stamps, pd.Series):
        values = pd.DatetimeIndex(stamps)
        return pd.Series(_stamps_to_utc(values, utc_offset_h), index=stamps.index, name=stamps.name)
    if stamps.tz is None:
        stamps = stamps.tz_localize(_zone(utc_offset_h))
    return stamps.tz_convert("UTC")


def to_utc(
    frame: pd.DataFrame, utc_offset_h: float, columns: tuple[str, ...] = (TIME,)
) -> pd.DataFrame:
    """A table with its time stamps in UTC.

    Parameters
    ----------
    frame
        A run table whose ``time`` is its ``DatetimeIndex`` (campus series) or a datetime
        column (events, site and hall series in long format).
    utc_offset_h
        Offset of naive stamps (the campus clock: the first site's local standard time)
        [h]; stamps that already carry a zone are only converted.

    Returns
    -------
    pandas.DataFrame
        A copy stamped in UTC (``datetime64[us, UTC]`` for a run's tables: the unit is
        kept); a table without time stamps unchanged.
    """
    # A shallow copy: only the stamps are new (copy-on-write keeps ``frame`` as it was), so
    # stamping a long run's tables does not hold every table twice.
    out = frame.copy(deep=False)
    if isinstance(out.index, pd.DatetimeIndex):
        out.index = _stamps_to_utc(out.index, utc_offset_h).rename(out.index.name)
    for col in columns:
        if col in out.columns and pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = _stamps_to_utc(out[col], utc_offset_h)
    return out


def local_time(stamps: Any, utc_offset_h: float) -> Any:
    """Wall-clock local standard time of UTC stamps.

    Parameters
    ----------
    stamps
        ``DatetimeIndex`` or datetime ``Series`` in UTC (naive stamps are taken as UTC).
    utc_offset_h
        The site's local standard time minus UTC [h].

    Returns
    -------
    Same type as ``stamps``
        Stamps in the fixed zone ``UTC+offset`` (e.g. ``UTC-05:00``): the same instants,
        printed and grouped (``.hour``, ``.dayofweek``) by the site's clock.
    """
    if isinstance(stamps, pd.Series):
        values = local_time(pd.DatetimeIndex(stamps), utc_offset_h)
        return pd.Series(values, index=stamps.index, name="local_time")
    if stamps.tz is None:
        stamps = stamps.tz_localize("UTC")
    return stamps.tz_convert(_zone(utc_offset_h)).rename("local_time")
