"""Hourly site weather from typical-year files, mapped onto the scenario horizon, and per tick.

Files: TMY3 (``.csv``), TMY2 (``.tm2``) and EPW (``.epw``), read with pvlib's readers
(``pvlib.iotools.read_tmy3``, ``read_tmy2``, ``read_epw``); ``pvlib:<name>`` names a sample
shipped with pvlib (723170TYA.CSV Greensboro NC, Cfa; 12839.tm2 Miami FL, hot-humid;
703165TY.csv Sand Point AK, cold); ``site:<id>`` names a site of the weather library, whose
synthetic typical year (:mod:`dcsim.model.climate`) enters in the same row layout. A weather
station more than the library's ``site_distance_warn_km`` from the site is logged as a
warning. Wet bulb from psychrolib (SI).

Time convention. Every row of these files is stamped with an hour ending ``1..24`` in the
file's local standard time; temperatures and humidity are values at that instant (irradiance
is the mean over the preceding hour). Row (month, day, hour) is placed at the instant
``day-of-year x 24 h + hour`` of a non-leap year, so the typical year is a ring of 8,760 hourly
instants (the last row, 31 Dec 24:00, is 1 Jan 00:00). A scenario hour takes the value of the
same month, day and hour in the ring: the typical year repeats over multi-year horizons with
hour-of-year alignment, and 29 February takes 28 February's hours. The file's local clock
is mapped to the site's local standard clock without shifting by their zone difference: a
stand-in file carries its climate's daily cycle in local time.

Offsets and heat waves shift the dry bulb; the wet bulb is recomputed holding either the
relative humidity (default: under climate warming near-surface relative humidity stays
roughly constant while moisture rises with the saturation pressure, as in the "morphing" of
future weather files; and it is the conservative choice for evaporative cooling, whose wet
bulb then rises with the dry bulb) or the humidity ratio (a dry heat wave, no moisture
added).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dcsim import units
from dcsim.errors import ConfigError
from dcsim.model.climate import (
    SITE_PREFIX,
    resolve_site,
    typical_year_frame,
    weather_distance_warning,
)
from dcsim.physics.psychro import rel_humidity_at_humidity_ratio, wet_bulb_degc
from dcsim.scenario.paths import item_key, site_path
from dcsim.scenario.weather_schema import DEFAULT_WEATHER_FILE, Weather

__all__ = [
    "DEFAULT_WEATHER_FILE",
    "HOURS_PER_TYPICAL_YEAR",
    "WeatherHourly",
    "load_weather",
    "site_weather_ticks",
    "weather_ticks",
]

HOURS_PER_TYPICAL_YEAR = 8760
_HOURS_PER_DAY = 24
#: First day-of-year (0-based) of each month in a non-leap year.
_MONTH_START_DOY = np.array([0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334])
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])

# Plausibility bounds of the validation (not model parameters): the recorded extremes of
# surface air temperature (-89.2 degC Vostok, 56.7 degC Death Valley) and of station pressure
# (about 50 kPa at 5,500 m, 108.5 kPa at the Dead Sea shore).
_TEMP_RANGE_DEGC = (-90.0, 60.0)
_PRESSURE_RANGE_PA = (50e3, 110e3)
_PERCENT_PER_FRAC = 100.0
_HPA_PA = 100.0

_SUFFIX_FORMATS = {".csv": "tmy3", ".tm2": "tmy2", ".tmy2": "tmy2", ".epw": "epw"}
# File line of data row 0: TMY3 has a metadata and a header line, TMY2 one header line,
# EPW eight header lines.
_FIRST_DATA_LINE = {"tmy3": 3, "tmy2": 2, "epw": 9, "site": 1}
_LOG = logging.getLogger(__name__)


@dataclass
class WeatherHourly:
    """Hourly weather of one site over the scenario horizon (SI).

    ``index`` is hourly, in the site's local standard time (a fixed UTC offset), starting at
    the scenario start floored to the hour; ``start_offset_s`` is the scenario start minus
    ``index[0]``. Arrays are float64, one value per index entry.
    """

    index: pd.DatetimeIndex
    temp_air_degc: np.ndarray
    rel_humidity_frac: np.ndarray
    pressure_pa: np.ndarray
    wet_bulb_degc: np.ndarray
    ghi_w_per_m2: np.ndarray
    dni_w_per_m2: np.ndarray
    dhi_w_per_m2: np.ndarray
    wind_speed_m_per_s: np.ndarray
    source: str
    start_offset_s: float = 0.0

    def hours_s(self) -> np.ndarray:
        """Time of each hourly value after ``index[0]`` [s] (built once, then kept)."""
        cached = self.__dict__.get("_hours_s")
        if cached is None or cached.size != self.temp_air_degc.size:
            cached = np.arange(self.temp_air_degc.size, dtype=float) * units.H_S
            self.__dict__["_hours_s"] = cached
        return cached

    def frame(self) -> pd.DataFrame:
        """The weather as a DataFrame with pvlib's column names and units.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``index``; columns ``temp_air`` [degC], ``relative_humidity`` [%],
            ``ghi``, ``dni``, ``dhi`` [W/m2], ``wind_speed`` [m/s], ``pressure`` [Pa] (the units
            pvlib's functions expect) and ``temp_wet_bulb`` [degC].
        """
        return pd.DataFrame(
            {
                "temp_air": self.temp_air_degc,
                "relative_humidity": self.rel_humidity_frac * _PERCENT_PER_FRAC,
                "ghi": self.ghi_w_per_m2,
                "dni": self.dni_w_per_m2,
                "dhi": self.dhi_w_per_m2,
                "wind_speed": self.wind_speed_m_per_s,
                "pressure": self.pressure_pa,
                "temp_wet_bulb": self.wet_bulb_degc,
            },
            index=self.index,
        )


@dataclass(frozen=True)
class _TypicalYear:
    """A typical year as a ring of 8,760 hourly instants (see the module docstring)."""

    label: str
    temp_air_degc: np.ndarray
    rel_humidity_frac: np.ndarray
    pressure_pa: np.ndarray
    wet_bulb_degc: np.ndarray
    ghi_w_per_m2: np.ndarray
    dni_w_per_m2: np.ndarray
    dhi_w_per_m2: np.ndarray
    wind_speed_m_per_s: np.ndarray
    latitude_deg: float = math.nan  # of the weather station, from the file header
    longitude_deg: float = math.nan


# --------------------------------------------------------------------------- files


def _resolve(file: str, base_dir: Path, where: str) -> Path:
    if file.startswith("pvlib:"):
        import pvlib

        path = Path(pvlib.__file__).parent / "data" / file[len("pvlib:") :]
    else:
        path = Path(file)
        if not path.is_absolute():
            path = Path(base_dir) / path
    if not path.is_file():
        raise ConfigError(f"weather file {file!r} not found (looked at {path})", where=where)
    return path


def _format_of(path: Path, fmt: str, where: str) -> str:
    if fmt != "auto":
        return fmt
    found = _SUFFIX_FORMATS.get(path.suffix.lower())
    if found is None:
        raise ConfigError(
            f"cannot tell the weather format from the suffix {path.suffix!r} of {path.name}; "
            "expected .csv (TMY3), .tm2 (TMY2) or .epw, or give format: tmy3|tmy2|epw",
            where=f"{where}.format",
        )
    return found


def _parse(path: Path, fmt: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Columns month, day, hour (ending, 1..24) and the weather variables in file units."""
    from pvlib import iotools

    if fmt == "tmy3":
        data, meta = iotools.read_tmy3(path, map_variables=True)
        date = data["Date (MM/DD/YYYY)"].astype(str).str.split("/")
        clock = data["Time (HH:MM)"].astype(str).str.split(":")
        frame = pd.DataFrame(
            {
                "month": date.str[0].astype(int).to_numpy(),
                "day": date.str[1].astype(int).to_numpy(),
                "hour": clock.str[0].astype(int).to_numpy(),
                "temp_air": data["temp_air"].to_numpy(float),
                "rh_percent": data["relative_humidity"].to_numpy(float),
                "pressure_pa": data["pressure"].to_numpy(float) * _HPA_PA,
                "ghi": data["ghi"].to_numpy(float),
                "dni": data["dni"].to_numpy(float),
                "dhi": data["dhi"].to_numpy(float),
                "wind_speed": data["wind_speed"].to_numpy(float),
            }
        )
        label = f"{meta.get('Name', '').strip(chr(34))} {meta.get('State', '')}".strip()
    elif fmt == "tmy2":
        data, meta = iotools.read_tmy2(str(path))
        # TMY2 stores dry bulb and wind speed in tenths (NREL TMY2 user's manual).
        frame = pd.DataFrame(
            {
                "month": data["month"].to_numpy(int),
                "day": data["day"].to_numpy(int),
                "hour": data["hour"].to_numpy(int),
                "temp_air": data["DryBulb"].to_numpy(float) / 10.0,
                "rh_percent": data["RHum"].to_numpy(float),
                "pressure_pa": data["Pressure"].to_numpy(float) * _HPA_PA,
                "ghi": data["GHI"].to_numpy(float),
                "dni": data["DNI"].to_numpy(float),
                "dhi": data["DHI"].to_numpy(float),
                "wind_speed": data["Wspd"].to_numpy(float) / 10.0,
            }
        )
        label = f"{meta.get('City', '')} {meta.get('State', '')}".strip()
    else:
        data, meta = iotools.read_epw(path)
        frame = pd.DataFrame(
            {
                "month": data["month"].to_numpy(int),
                "day": data["day"].to_numpy(int),
                "hour": data["hour"].to_numpy(int),
                "temp_air": data["temp_air"].to_numpy(float),
                "rh_percent": data["relative_humidity"].to_numpy(float),
                "pressure_pa": data["atmospheric_pressure"].to_numpy(float),
                "ghi": data["ghi"].to_numpy(float),
                "dni": data["dni"].to_numpy(float),
                "dhi": data["dhi"].to_numpy(float),
                "wind_speed": data["wind_speed"].to_numpy(float),
            }
        )
        label = f"{meta.get('city', '')} {meta.get('state-prov', '')}".strip()
    where_from = {k: float(meta.get(k.removesuffix("_deg"), math.nan)) for k in _LAT_LON}
    return frame.reset_index(drop=True), {"label": label, **where_from}


_LAT_LON = ("latitude_deg", "longitude_deg")


def _stamp(month: int, day: int, hour: int) -> str:
    return f"{month:02d}-{day:02d} {hour:02d}:00"


def _validate_rows(frame: pd.DataFrame, fmt: str, name: str) -> np.ndarray:
    """Check every row and return its ring slot; raise naming file, line and value."""
    first_line = _FIRST_DATA_LINE[fmt]
    month = frame["month"].to_numpy()
    day = frame["day"].to_numpy()
    hour = frame["hour"].to_numpy()
    bad_date = (
        (month < 1) | (month > 12) | (hour < 1) | (hour > _HOURS_PER_DAY) | (day < 1)
        | (day > np.where(month == 2, 29, _DAYS_IN_MONTH[np.clip(month, 1, 12) - 1]))
    )  # fmt: skip
    if bad_date.any():
        i = int(np.flatnonzero(bad_date)[0])
        raise ConfigError(
            f"line {i + first_line}: month {month[i]}, day {day[i]}, hour {hour[i]} is not a "
            "date and hour ending 1..24",
            where=name,
        )
    checks = (
        ("temp_air", "degC", *_TEMP_RANGE_DEGC, " (a missing-value code?)"),
        ("rh_percent", "%", 0.0, _PERCENT_PER_FRAC, ""),
        ("pressure_pa", "Pa", *_PRESSURE_RANGE_PA, " (a missing-value code?)"),
    )
    for col, unit, lo, hi, hint in checks:
        values = frame[col].to_numpy()
        bad = ~np.isfinite(values) | (values < lo) | (values > hi)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            what = "relative_humidity" if col == "rh_percent" else col
            raise ConfigError(
                f"line {i + first_line} ({_stamp(month[i], day[i], hour[i])}): {what} "
                f"{values[i]:g} {unit} outside the plausible range {lo:g}..{hi:g} {unit}{hint}",
                where=name,
            )
    leap = (month == 2) & (day == 29)
    doy = _MONTH_START_DOY[month - 1] + day - 1
    slot = (doy * _HOURS_PER_DAY + hour) % HOURS_PER_TYPICAL_YEAR
    slot = np.where(leap, -1, slot)  # 29 February rows (AMY files) are not used
    counts = np.bincount(slot[~leap], minlength=HOURS_PER_TYPICAL_YEAR)
    if (counts > 1).any():
        s = int(np.flatnonzero(counts > 1)[0])
        lines = np.flatnonzero(slot == s)[:2] + first_line
        i = int(np.flatnonzero(slot == s)[0])
        raise ConfigError(
            f"hour {_stamp(month[i], day[i], hour[i])} appears twice (lines {lines[0]} and "
            f"{lines[1]}); expected each hour of the year once",
            where=name,
        )
    if (counts == 0).any():
        missing = np.flatnonzero(counts == 0)
        first = int(missing[0])
        # Ring slot -> month, day and hour ending of the row that would fill it.
        inst = (first - 1) % HOURS_PER_TYPICAL_YEAR
        d, h = divmod(inst, _HOURS_PER_DAY)
        m = int(np.searchsorted(_MONTH_START_DOY, d, side="right"))
        raise ConfigError(
            f"missing hour {_stamp(m, d - int(_MONTH_START_DOY[m - 1]) + 1, h + 1)} "
            f"({missing.size} hours missing in all); expected {HOURS_PER_TYPICAL_YEAR} hourly "
            "rows of a typical year",
            where=name,
        )
    return slot


@functools.lru_cache(maxsize=16)
def _typical_year_cached(
    path_str: str, mtime_ns: int, size: int, fmt: str, offset_k: float, held: str, name: str
) -> _TypicalYear:
    path = Path(path_str)
    try:
        if fmt == "site":  # a library site: a synthetic year (dcsim.model.climate)
            frame, meta = typical_year_frame(path_str[len(SITE_PREFIX) :])
        else:
            frame, meta = _parse(path, fmt)
    except ConfigError:
        raise
    except Exception as exc:  # a parser failure of any kind is bad input here
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"cannot read as {fmt.upper()}: {first}", where=name) from None
    slot = _validate_rows(frame, fmt, name)
    keep = slot >= 0
    ring = np.empty(HOURS_PER_TYPICAL_YEAR, dtype=np.int64)
    ring[slot[keep]] = np.flatnonzero(keep)

    def col(c: str) -> np.ndarray:
        return frame[c].to_numpy(float)[ring]

    temp = col("temp_air")
    rh = col("rh_percent") / _PERCENT_PER_FRAC
    pressure = col("pressure_pa")
    if offset_k != 0.0:
        new_temp = temp + offset_k
        if held == "humidity_ratio":
            rh = rel_humidity_at_humidity_ratio(temp, rh, new_temp, pressure)
        temp = new_temp
    year = _TypicalYear(
        label=meta["label"],
        temp_air_degc=temp,
        rel_humidity_frac=rh,
        pressure_pa=pressure,
        wet_bulb_degc=wet_bulb_degc(temp, rh, pressure),
        ghi_w_per_m2=col("ghi"),
        dni_w_per_m2=col("dni"),
        dhi_w_per_m2=col("dhi"),
        wind_speed_m_per_s=col("wind_speed"),
        latitude_deg=float(meta["latitude_deg"]),
        longitude_deg=float(meta["longitude_deg"]),
    )
    for arr in vars(year).values():
        if isinstance(arr, np.ndarray):
            arr.flags.writeable = False
    return year


# --------------------------------------------------------------------------- public API


def load_weather(
    spec: Weather | None,
    location: Any,
    start: dt.datetime,
    horizon_s: float,
    base_dir: Path,
    where: str,
) -> WeatherHourly:
    """Hourly weather of a site over the scenario horizon.

    Parameters
    ----------
    spec
        The site's ``weather:`` block; None for the default file
        (:data:`DEFAULT_WEATHER_FILE`) with no offset and no heat wave.
    location
        The site's location; only ``utc_offset_h`` (local standard time) is used [h].
    start
        Scenario start, naive, in the site's local standard time.
    horizon_s
        Simulated horizon [s].
    base_dir
        Folder of the scenario file; relative weather paths are resolved against it.
    where
        Dotted path of the weather block (e.g. ``"sites.0.weather"``) for error messages.

    Returns
    -------
    WeatherHourly
        Hours from the start floored to the hour up to at least one hour past the end.

    Raises
    ------
    ConfigError
        Unknown file or format, a file that does not parse, missing or duplicate hours,
        implausible values (humidity above 100%, temperatures or pressures out of range); the
        message names the file and line.
    """
    spec = spec if spec is not None else Weather()
    if spec.file.startswith(SITE_PREFIX):
        site_id = resolve_site(spec.file, f"{where}.file")
        if spec.format != "auto":
            raise ConfigError(f"{spec.format!r} applies to files; a library site has none",
                              where=f"{where}.format")  # fmt: skip
        key, fmt, name = (f"{SITE_PREFIX}{site_id}", 0, 0), "site", spec.file
    else:
        path = _resolve(spec.file, base_dir, f"{where}.file")
        fmt = _format_of(path, spec.format, where)
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        name = spec.file if spec.file.startswith("pvlib:") else str(path)
    year = _typical_year_cached(
        *key, fmt, float(spec.warming_offset_delta_k), spec.humidity_held, name
    )
    far = weather_distance_warning(
        getattr(location, "latitude_deg", math.nan), getattr(location, "longitude_deg", math.nan),
        year.latitude_deg, year.longitude_deg, f"{spec.file!r} ({year.label})",
    )  # fmt: skip
    if far:
        _LOG.warning("%s.file: %s", where, far)

    t0 = start.replace(minute=0, second=0, microsecond=0)
    start_offset_s = (start - t0).total_seconds()
    n_hours = int(math.ceil((start_offset_s + horizon_s) / units.H_S)) + 2
    naive = pd.date_range(t0, periods=n_hours, freq="h")
    month = naive.month.to_numpy()
    day = naive.day.to_numpy()
    day = np.where((month == 2) & (day == 29), 28, day)
    slot = (_MONTH_START_DOY[month - 1] + day - 1) * _HOURS_PER_DAY + naive.hour.to_numpy()

    temp = year.temp_air_degc[slot].copy()
    rh = year.rel_humidity_frac[slot].copy()
    pressure = year.pressure_pa[slot].copy()
    wet = year.wet_bulb_degc[slot].copy()
    for k, wave in enumerate(spec.heat_waves):
        t_start = np.datetime64(wave.start)
        t_end = t_start + np.timedelta64(int(round(wave.duration_s)), "s")
        inside = (naive.to_numpy() >= t_start) & (naive.to_numpy() < t_end)
        if not inside.any() or wave.temp_rise_delta_k == 0.0:
            continue
        new_temp = temp[inside] + wave.temp_rise_delta_k
        if new_temp.max() > _TEMP_RANGE_DEGC[1]:
            raise ConfigError(
                f"{wave.temp_rise_delta_k:g} K lifts the dry bulb to {new_temp.max():.1f} degC, "
                f"above the plausible {_TEMP_RANGE_DEGC[1]:g} degC",
                where=f"{where}.heat_waves.{item_key(spec.heat_waves, k)}.temp_rise_delta_k",
            )
        if spec.humidity_held == "humidity_ratio":
            rh[inside] = rel_humidity_at_humidity_ratio(
                temp[inside], rh[inside], new_temp, pressure[inside]
            )
        temp[inside] = new_temp
        wet[inside] = wet_bulb_degc(new_temp, rh[inside], pressure[inside])

    tz = dt.timezone(dt.timedelta(hours=float(location.utc_offset_h)))
    parts = [f"{spec.file} ({fmt.upper()}, {year.label})"]
    if spec.warming_offset_delta_k:
        parts.append(f"warming {spec.warming_offset_delta_k:+g} K")
    if spec.heat_waves:
        parts.append(f"{len(spec.heat_waves)} heat wave(s)")
    parts.append(f"humidity held: {spec.humidity_held}")
    return WeatherHourly(
        index=naive.tz_localize(tz),
        temp_air_degc=temp,
        rel_humidity_frac=rh,
        pressure_pa=pressure,
        wet_bulb_degc=wet,
        ghi_w_per_m2=year.ghi_w_per_m2[slot].copy(),
        dni_w_per_m2=year.dni_w_per_m2[slot].copy(),
        dhi_w_per_m2=year.dhi_w_per_m2[slot].copy(),
        wind_speed_m_per_s=year.wind_speed_m_per_s[slot].copy(),
        source="; ".join(parts),
        start_offset_s=start_offset_s,
    )


def weather_ticks(
    weather: WeatherHourly, tick_s: float, n_ticks: int, tick0: int = 0
) -> dict[str, np.ndarray]:
    """Dry and wet bulb at tick starts, linearly interpolated between hourly values.

    Parameters
    ----------
    weather
        Hourly weather from :func:`load_weather`.
    tick_s
        Tick length [s].
    n_ticks
        Number of ticks; tick i starts ``i * tick_s`` after the scenario start.
    tick0
        First tick (a chunk of the horizon: ticks ``tick0 .. tick0 + n_ticks - 1``; any
        chunking gives the values of the whole horizon) [count].

    Returns
    -------
    dict
        ``t_db_degc`` and ``t_wb_degc``: float64 arrays of shape (n_ticks,) [degC].

    Raises
    ------
    ValueError
        If the ticks run past the hours the weather covers.
    """
    t_s = weather.start_offset_s + np.arange(tick0, tick0 + n_ticks, dtype=float) * tick_s
    hours_s = weather.hours_s()
    if n_ticks and t_s[-1] > hours_s[-1]:
        raise ValueError(
            f"weather_ticks: {tick0 + n_ticks} ticks of {tick_s:g} s run past the "
            f"{hours_s.size} hours of weather loaded"
        )
    return {
        "t_db_degc": np.interp(t_s, hours_s, weather.temp_air_degc),
        "t_wb_degc": np.interp(t_s, hours_s, weather.wet_bulb_degc),
    }


def site_weather_hourly(
    scenario: Any, base_dir: Path, tick_s: float, n_ticks: int
) -> list[WeatherHourly]:
    """The hourly weather of every site over the horizon (what the tick inputs come from).

    Parameters
    ----------
    scenario
        A validated scenario; each site's ``weather`` attribute (absent or None: default
        file) and ``location`` are used.
    base_dir
        Folder of the scenario file.
    tick_s, n_ticks
        Tick length [s] and count; the last tick must lie inside the weather loaded.

    Returns
    -------
    list of WeatherHourly
        One per site.
    """
    hourly = []
    for s, site in enumerate(scenario.sites):
        weather = load_weather(
            getattr(site, "weather", None),
            site.location,
            scenario.start,
            scenario.horizon_s,
            base_dir,
            f"{site_path(scenario, s)}.weather",
        )
        if n_ticks:
            weather_ticks(weather, tick_s, 1, n_ticks - 1)  # the horizon is covered
        hourly.append(weather)
    return hourly


def site_weather_ticks(
    scenario: Any, base_dir: Path, tick_s: float, n_ticks: int
) -> tuple[np.ndarray, np.ndarray, list[WeatherHourly]]:
    """Dry and wet bulb of every site at every tick of the horizon.

    The whole horizon at once (tests and studies); a run streams them per chunk
    (:class:`dcsim.model.site_inputs.SiteInputs`).

    Parameters
    ----------
    scenario, base_dir, tick_s, n_ticks
        As in :func:`site_weather_hourly`.

    Returns
    -------
    t_db_degc, t_wb_degc
        float64 arrays of shape (n_site, n_ticks) [degC].
    hourly
        The hourly weather of each site (for recording and pvlib).
    """
    hourly = site_weather_hourly(scenario, base_dir, tick_s, n_ticks)
    t_db = np.empty((len(hourly), n_ticks))
    t_wb = np.empty((len(hourly), n_ticks))
    for s, weather in enumerate(hourly):
        ticks = weather_ticks(weather, tick_s, n_ticks)
        t_db[s] = ticks["t_db_degc"]
        t_wb[s] = ticks["t_wb_degc"]
    return t_db, t_wb, hourly
