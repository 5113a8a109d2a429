"""Hourly price, carbon-intensity and system-load CSV files, and their mapping onto a horizon.

File format (one value column, its unit in its name)::

    # ERCOT North hub real-time price, synthesised by scenarios/data/make_ercot_sample.py ...
    # (any number of '#' lines saying how the file was made)
    time,price_usd_per_mwh
    2023-01-01T00:00,31.2
    2023-01-01T01:00,29.8
    ...

``time`` is ISO local standard time (no offset, no daylight saving), one row per hour; a row
labelled T holds the value over ``[T, T + 1 h)``. A file is either one calendar year (8760 or
8784 rows from 1 January 00:00, matching that year's length), which repeats over any horizon
by (month, day, hour) as typical-year weather does (29 February takes 28 February's values
when the file has none), or a file that covers the whole horizon.

Every problem is a :class:`~dcsim.errors.ConfigError` naming the file and line:
``prices.csv:14: time: 2023-01-01T14:00 is missing (gap after 2023-01-01T12:00); expected
one row per hour``.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dcsim import units
from dcsim.errors import ConfigError
from dcsim.scenario.load import read_regular_file
from dcsim.scenario.types import DATE_MAX, DATE_MIN

__all__ = [
    "CARBON_COLUMN",
    "PRICE_COLUMN",
    "SYSTEM_LOAD_COLUMN",
    "HourlySeries",
    "clock_hours",
    "map_hourly",
    "read_hourly_csv",
    "resolve_data_path",
    "typical_year_index",
    "values_at_hours",
]

PRICE_COLUMN = "price_usd_per_mwh"
CARBON_COLUMN = "carbon_kg_per_mwh"
SYSTEM_LOAD_COLUMN = "system_load_mw"

_HOUR = dt.timedelta(hours=1)
#: Largest hourly CSV file read [B]: a century of hourly rows is about 30 MB.
MAX_CSV_BYTES = 64 * 1024 * 1024
_YEAR_ROWS = (8760, 8784)


@dataclass
class HourlySeries:
    """An hourly series read from a CSV file.

    Attributes
    ----------
    path
        The file.
    column
        Name of the value column (carries the unit).
    times
        Hour stamps, naive local standard time.
    values
        Values, in the unit of ``column``.
    header
        The file's ``#`` comment lines (how it was made), without the ``#``.
    """

    path: Path
    column: str
    times: pd.DatetimeIndex
    values: np.ndarray
    header: list[str] = field(default_factory=list)
    first_line: int = 1  # line number of the first data row (for messages)

    @property
    def is_one_year(self) -> bool:
        """Whether the file is exactly one calendar year from 1 January 00:00."""
        t0 = self.times[0]
        if (t0.month, t0.day, t0.hour) != (1, 1, 0):
            return False
        leap = pd.Timestamp(year=t0.year, month=1, day=1).is_leap_year
        return len(self.values) == (8784 if leap else 8760)


def resolve_data_path(name: str, base_dir: Path) -> Path:
    """Path of a data file named in a scenario.

    Parameters
    ----------
    name
        Path relative to the scenario folder, absolute, or ``pvlib:<file>`` for a sample
        file shipped inside pvlib.
    base_dir
        Folder of the scenario file.

    Returns
    -------
    pathlib.Path
    """
    if name.startswith("pvlib:"):
        import pvlib

        return Path(pvlib.__file__).parent / "data" / name.removeprefix("pvlib:")
    p = Path(name)
    return p if p.is_absolute() else Path(base_dir) / p


def _parse_time(text: str, where: str) -> dt.datetime:
    try:
        stamp = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"time: '{text}' is not an ISO time; expected e.g. 2023-01-01T00:00", where
        ) from None
    if stamp.tzinfo is not None:
        raise ConfigError(
            f"time: '{text}' has a UTC offset; expected local standard time without offset", where
        )
    if not DATE_MIN <= stamp <= DATE_MAX:
        raise ConfigError(
            f"time: '{text}' is out of range; expected a time from {DATE_MIN:%Y-%m-%d} to "
            f"{DATE_MAX:%Y-%m-%d}",
            where,
        )
    if (stamp.minute, stamp.second, stamp.microsecond) != (0, 0, 0):
        raise ConfigError(f"time: '{text}' is not on the hour; expected hourly rows", where)
    return stamp


def read_hourly_csv(path: str | Path, column: str, *, allow_negative: bool = True) -> HourlySeries:
    """Read and check an hourly CSV file.

    Parameters
    ----------
    path
        The CSV file.
    column
        Expected value column, e.g. :data:`PRICE_COLUMN`.
    allow_negative
        Accept values below zero (wholesale prices); carbon and load never are.

    Returns
    -------
    HourlySeries

    Raises
    ------
    ConfigError
        ``<file>:<line>: ...`` for an unreadable file (missing, not a regular file, larger
        than :data:`MAX_CSV_BYTES`, not UTF-8 text, binary), wrong or missing columns, a time that
        is not an ISO hour, a missing hour (gap), a duplicate or out-of-order hour, a value
        that is not a finite number, or a negative value where not allowed.
    """
    path = Path(path)
    raw = read_regular_file(path, MAX_CSV_BYTES, f"a CSV file of hourly {column}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        bom = " (a UTF-16 byte-order mark)" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise ConfigError(
            f"not UTF-8 text{bom}: byte {exc.start} cannot be decoded; expected a UTF-8 CSV "
            f"file 'time,{column}'",
            f"{path}:{line}",
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ConfigError(
            f"binary data (a NUL byte); expected a UTF-8 CSV file 'time,{column}'",
            f"{path}:{line}",
        )
    header: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    columns: list[str] | None = None
    columns_line = 0
    for line_no, raw in enumerate(text.splitlines(), start=1):
        if raw.startswith("#"):
            if columns is None:
                header.append(raw[1:].strip())
            continue
        if not raw.strip():
            continue
        cells = next(csv.reader([raw]))
        if columns is None:
            columns = [c.strip() for c in cells]
            columns_line = line_no
            continue
        rows.append((line_no, cells))
    expected = ["time", column]
    if columns != expected:
        got = ",".join(columns) if columns else "no header row"
        raise ConfigError(
            f"columns are '{got}'; expected 'time,{column}'", f"{path}:{columns_line or 1}"
        )
    if not rows:
        raise ConfigError("no data rows; expected one row per hour", f"{path}:{columns_line}")

    times: list[dt.datetime] = []
    values = np.empty(len(rows))
    for i, (line_no, cells) in enumerate(rows):
        where = f"{path}:{line_no}"
        if len(cells) != 2:
            raise ConfigError(f"{len(cells)} cells; expected 2 (time,{column})", where)
        stamp = _parse_time(cells[0], where)
        try:
            v = float(cells[1])
        except ValueError:
            v = float("nan")
        if not np.isfinite(v):
            raise ConfigError(f"{column}: '{cells[1].strip()}' is not a finite number", where)
        if v < 0.0 and not allow_negative:
            what = (
                "expected >= 0 (set allow_negative_prices: true in the tariff to accept them)"
                if column == PRICE_COLUMN
                else "expected >= 0"
            )
            raise ConfigError(f"{column}: {v:g} is negative; {what}", where)
        if times:
            step = stamp - times[-1]
            prev = times[-1].isoformat(timespec="minutes")
            if step == dt.timedelta(0):
                raise ConfigError(f"time: {cells[0].strip()} is a duplicate hour", where)
            if step < dt.timedelta(0):
                raise ConfigError(
                    f"time: {cells[0].strip()} is before the previous row ({prev}); "
                    "expected rows in time order",
                    where,
                )
            if step > _HOUR:
                missing = (times[-1] + _HOUR).isoformat(timespec="minutes")
                n_missing = int(step / _HOUR) - 1
                raise ConfigError(
                    f"time: {missing} is missing ({n_missing} h gap after {prev}); "
                    "expected one row per hour",
                    where,
                )
        times.append(stamp)
        values[i] = v
    return HourlySeries(
        path=path,
        column=column,
        times=pd.DatetimeIndex(times),
        values=values,
        header=header,
        first_line=rows[0][0],
    )


def clock_hours(start: dt.datetime, horizon_s: float) -> tuple[pd.DatetimeIndex, float]:
    """The clock hours that a horizon touches.

    Parameters
    ----------
    start
        Scenario start, naive local standard time.
    horizon_s
        Horizon [s].

    Returns
    -------
    (hours, offset_s)
        Hour stamps from the hour holding ``start`` to the one holding the end, and the time
        from the first stamp to ``start`` [s].
    """
    hour0 = start.replace(minute=0, second=0, microsecond=0)
    offset_s = (start - hour0).total_seconds()
    n = int(np.ceil((offset_s + horizon_s) / units.H_S - 1e-9))
    return pd.date_range(hour0, periods=max(n, 1), freq="h"), offset_s


def typical_year_index(source: pd.DatetimeIndex, target: pd.DatetimeIndex) -> np.ndarray:
    """Rows of a one-year (or typical-year) series to use at target hours.

    Parameters
    ----------
    source
        Hour stamps of the series (any years; e.g. a TMY file mixes years by month).
    target
        Hours to fill.

    Returns
    -------
    numpy.ndarray of int
        For each target hour, the source row with the same (month, day, hour); 29 February
        falls back to 28 February when the source has no leap day.

    Raises
    ------
    ValueError
        If a (month, day, hour) of the target has no source row.
    """
    table = np.full((13, 32, 24), -1, dtype=np.int64)
    table[source.month, source.day, source.hour] = np.arange(len(source))
    m = np.asarray(target.month)
    d = np.asarray(target.day).copy()
    h = np.asarray(target.hour)
    leap = (m == 2) & (d == 29)
    d[leap & (table[2, 29, 0] < 0)] = 28
    idx = table[m, d, h]
    if (idx < 0).any():
        bad = target[np.flatnonzero(idx < 0)[0]]
        raise ValueError(f"no row for {bad:%m-%d %H:00}")
    return idx


def map_hourly(series: HourlySeries, start: dt.datetime, horizon_s: float) -> np.ndarray:
    """Values of an hourly file at each clock hour of a horizon (see :func:`clock_hours`).

    Parameters
    ----------
    series
        The file, as read by :func:`read_hourly_csv`.
    start
        Scenario start, naive local standard time.
    horizon_s
        Horizon [s].

    Returns
    -------
    numpy.ndarray
        One value per clock hour, in the unit of ``series.column``.

    Raises
    ------
    ConfigError
        ``<file>:<line>`` when the file is neither one calendar year nor covers the horizon.
    """
    hours, _ = clock_hours(start, horizon_s)
    return values_at_hours(series, hours)


def values_at_hours(series: HourlySeries, hours: pd.DatetimeIndex) -> np.ndarray:
    """Values of an hourly file at given clock hours.

    Parameters
    ----------
    series
        The file, as read by :func:`read_hourly_csv`.
    hours
        Consecutive hour stamps, naive local standard time.

    Returns
    -------
    numpy.ndarray
        The file's rows at those hours when it covers them all, else (a one-year file) the
        rows with the same month, day and hour.

    Raises
    ------
    ConfigError
        ``<file>:<line>`` when the file is neither one calendar year nor covers the hours.
    """
    t0, t1 = series.times[0], series.times[-1]
    if t0 <= hours[0] and t1 >= hours[-1]:
        offset = int((hours[0] - t0) / pd.Timedelta(hours=1))
        return series.values[offset : offset + len(hours)].copy()
    if series.is_one_year:
        return series.values[typical_year_index(series.times, hours)]
    n = len(series.values)
    if n in _YEAR_ROWS or (t0.month, t0.day, t0.hour) == (1, 1, 0):
        year_len = 8784 if pd.Timestamp(year=t0.year, month=1, day=1).is_leap_year else 8760
        what = (
            f"{n} rows from {t0:%Y-%m-%dT%H:%M}; a one-year file has {year_len} rows for {t0.year}"
        )
    else:
        what = f"{n} rows from {t0:%Y-%m-%dT%H:%M} to {t1:%Y-%m-%dT%H:%M}"
    raise ConfigError(
        f"{what}; expected one calendar year (8760 or 8784 rows from 1 January 00:00) or a "
        f"file covering {hours[0]:%Y-%m-%dT%H:%M} to {hours[-1]:%Y-%m-%dT%H:%M}",
        f"{series.path}:{series.first_line}",
    )
