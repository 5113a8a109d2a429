"""Synthetic typical years of the weather-site library, in the frame the TMY readers give.

A scenario's ``weather: {file: "site:phoenix"}`` runs on a typical year generated from the
library entry ``phoenix`` of ``dcsim/catalog/data/weather_sites.yaml``
(:mod:`dcsim.catalog.weather_sites`) by the equations of :mod:`dcsim.physics.climate`:

* dry bulb: monthly mean daily maximum and minimum -> smooth daily curves that keep the
  monthly means -> plus day-to-day anomalies (AR(1), seeded by the site id, so a site always
  gives the same year, as a TMY file does) whose warm-season and cold-season amplitudes are
  solved so that the year's hourly 99.6th and 0.4th percentiles equal the ASHRAE 0.4%
  cooling and 99.6% heating dry bulbs -> ASHRAE design-day hourly fractions of the daily range;
* humidity: monthly mean dew point (or the dew point of the monthly mean temperature and
  relative humidity) -> smooth daily curve -> plus an anomaly series, partly correlated with
  the dry-bulb anomalies, whose amplitude is solved so that the 99.6th percentile of hourly
  moist-air enthalpy equals the enthalpy of saturated air at the ASHRAE 0.4% evaporation wet
  bulb (a wet-bulb line is close to a line of constant enthalpy) and whose correlation is
  solved so that the mean wet bulb of the hottest 0.4% of hours equals the ASHRAE mean
  coincident wet bulb (dry heat waves inland, humid ones on tropical coasts); dew point
  capped at the dry bulb;
* pressure: the standard atmosphere at the station elevation (psychrolib
  ``GetStandardAtmPressure``, ASHRAE Fundamentals ch. 1 eq. 3);
* irradiance: clear sky scaled to a monthly clearness index from sunshine hours;
* wind: the site's annual mean (constant).

:func:`weather_distance_warning` is the site-to-weather distance check that
:func:`dcsim.model.weather.load_weather` logs as a warning.
"""

from __future__ import annotations

import difflib
import functools
import zlib

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from dcsim.catalog.weather_sites import Generator, WeatherSite, load_weather_sites
from dcsim.errors import ConfigError
from dcsim.physics import climate as phys
from dcsim.physics.psychro import psychrolib_si

__all__ = [
    "SITE_PREFIX",
    "nearest_sites",
    "resolve_site",
    "site_typical_year",
    "typical_year_frame",
    "weather_distance_warning",
]

#: Prefix of a weather ``file`` that names a library site.
SITE_PREFIX = "site:"

_M_PER_KM = 1e3
_PERCENT_PER_FRAC = 100.0
# ASHRAE annual percentiles: 0.4% of hours above the cooling value, 99.6% above heating.
_COOLING_QUANTILE = 0.996
_HEATING_QUANTILE = 0.004
# Bracket of the anomaly amplitudes solved for [K]: zero up to far beyond any climate's
# day-to-day standard deviation (about 2-8 K).
_SCALE_BRACKET_DELTA_K = (0.0, 40.0)
# Bracket of the correlation between daily dew-point and dry-bulb anomalies: short of +-1,
# so that some humidity variability stays independent of temperature.
_CORRELATION_BRACKET_FRAC = (-0.95, 0.95)
# Alternations of the warm and cold fits (each changes the other's tail a little through the
# monthly re-centring); three bring both within 0.01 K in every library site.
_FIT_ROUNDS = 3


def resolve_site(file: str, where: str) -> str:
    """The library id named by ``site:<id>``; a one-line error naming the nearest ids.

    Parameters
    ----------
    file
        The weather ``file`` value, e.g. ``"site:phoenix"``.
    where
        Dotted field path for the error, e.g. ``"sites.0.weather.file"``.

    Returns
    -------
    str
        The site id.

    Raises
    ------
    ConfigError
        If no site has that id; the message lists the closest ids (difflib) or all of them.
    """
    key = file[len(SITE_PREFIX) :].strip().lower()
    _, sites = load_weather_sites()
    if key in sites:
        return key
    close = difflib.get_close_matches(key, list(sites), n=3, cutoff=0.5)
    hint = f"nearest names: {', '.join(close)}" if close else f"known: {', '.join(sorted(sites))}"
    raise ConfigError(f"unknown weather site {file!r}; {hint}", where=where)


def nearest_sites(latitude_deg: float, longitude_deg: float, n: int = 1) -> list[tuple[str, float]]:
    """Library sites nearest to a point.

    Parameters
    ----------
    latitude_deg, longitude_deg
        The point [deg].
    n
        How many.

    Returns
    -------
    list of (id, distance [km]) pairs, nearest first.
    """
    _, sites = load_weather_sites()
    dist = {
        sid: phys.great_circle_distance_m(
            latitude_deg, longitude_deg, s.location.latitude_deg, s.location.longitude_deg
        )
        / _M_PER_KM
        for sid, s in sites.items()
    }
    return sorted(dist.items(), key=lambda kv: kv[1])[:n]


def weather_distance_warning(
    site_latitude_deg: float,
    site_longitude_deg: float,
    weather_latitude_deg: float,
    weather_longitude_deg: float,
    weather_label: str,
) -> str | None:
    """A warning when the weather's station is far from the site, else None.

    The limit is the library's ``generator.site_distance_warn_km``: beyond a few hundred
    kilometres another climate usually applies (coast against inland, altitude).

    Parameters
    ----------
    site_latitude_deg, site_longitude_deg
        The scenario site's location [deg].
    weather_latitude_deg, weather_longitude_deg
        The weather station's location, from the file header or the library [deg].
    weather_label
        How to name the weather in the message.

    Returns
    -------
    str or None
        One line: distance, limit and the nearest library site to use instead; None when
        within the limit or when a coordinate is unknown (NaN).
    """
    coords = (site_latitude_deg, site_longitude_deg, weather_latitude_deg, weather_longitude_deg)
    if not np.all(np.isfinite(coords)):
        return None  # a location or file header without coordinates: nothing to compare
    generator, _ = load_weather_sites()
    limit_km = generator.site_distance_warn_km.value
    dist_km = (
        phys.great_circle_distance_m(
            site_latitude_deg, site_longitude_deg, weather_latitude_deg, weather_longitude_deg
        )
        / _M_PER_KM
    )
    if dist_km <= limit_km:
        return None
    ((near, near_km),) = nearest_sites(site_latitude_deg, site_longitude_deg, 1)
    return (
        f"weather {weather_label} ({weather_latitude_deg:.2f}, {weather_longitude_deg:.2f}) is "
        f"{dist_km:,.0f} km from the site ({site_latitude_deg:.2f}, {site_longitude_deg:.2f}); "
        f"expected within {limit_km:g} km. Nearest library site: '{SITE_PREFIX}{near}' "
        f"({near_km:,.0f} km)"
    )


# --------------------------------------------------------------------------- generator


def _vectorised(name: str):
    return np.vectorize(getattr(psychrolib_si(), name), otypes=[float])


def _dew_point_monthly_degc(site: WeatherSite) -> np.ndarray:
    if site.dewpoint_degc is not None:
        return np.array(site.dewpoint_degc.value)
    # The dew point of the monthly mean temperature and relative humidity: lower than the
    # mean hourly dew point by a few tenths of a kelvin (the saturation curve is convex).
    t_mean = (np.array(site.tmax_degc.value) + np.array(site.tmin_degc.value)) / 2.0
    return _vectorised("GetTDewPointFromRelHum")(t_mean, np.array(site.rh_frac.value))


def _clearness_by_month(site: WeatherSite, generator: Generator) -> np.ndarray:
    if site.clearness_frac is not None:
        return np.array(site.clearness_frac.value)
    day_length_h = phys.daylight_h(site.location.latitude_deg, np.arange(1, 366))
    daylight_month_h = np.bincount(phys.month_of_day(), weights=day_length_h, minlength=12)
    return phys.angstrom_clearness_frac(
        np.array(site.sunshine_h.value),
        daylight_month_h,
        generator.angstrom_a_frac.value,
        generator.angstrom_b_frac.value,
    )


def _solve_scale(metric, target: float, bracket=_SCALE_BRACKET_DELTA_K) -> float:
    """Parameter in the bracket at which ``metric`` (non-decreasing) reaches ``target``."""
    lo, hi = bracket
    f_lo, f_hi = metric(lo) - target, metric(hi) - target
    if f_lo >= 0.0:
        return lo  # already reached at the bracket's low end (e.g. no variability needed)
    if f_hi <= 0.0:
        return hi
    return float(brentq(lambda s: metric(s) - target, lo, hi, xtol=1e-4))


@functools.cache
def site_typical_year(site_id: str) -> dict[str, np.ndarray | float | str]:
    """The synthetic typical year of a library site, hour by hour (ring of 8,760 instants).

    Parameters
    ----------
    site_id
        Library id (see :func:`resolve_site`).

    Returns
    -------
    dict
        ``temp_air_degc``, ``dew_point_degc``, ``rel_humidity_frac``, ``pressure_pa``,
        ``ghi``, ``dni``, ``dhi`` [W/m2], ``wind_speed_m_per_s``: float arrays of shape
        (8760,) at the instants ``d x 24 + h``, ``h`` the hour ending 1..24 of local standard
        time; the solved amplitudes ``warm_season_delta_k``, ``cold_season_delta_k``,
        ``dew_scale_delta_k`` [K] and correlation ``dew_temp_correlation_frac`` [-]; and
        ``label``.
    """
    generator, sites = load_weather_sites()
    return typical_year(site_id, sites[site_id], generator)


def typical_year(site_id: str, site: WeatherSite, generator: Generator) -> dict:
    """The synthetic typical year of a site's normals and design values (uncached).

    Parameters
    ----------
    site_id
        Id of the site: it seeds the site's anomaly streams.
    site
        The site's normals, design values and location.
    generator
        The generator's shared constants.

    Returns
    -------
    dict
        As :func:`site_typical_year`.
    """
    psy = psychrolib_si()
    tmax = np.array(site.tmax_degc.value)
    tmin = np.array(site.tmin_degc.value)
    t_mid_daily = phys.mean_preserving_daily((tmax + tmin) / 2.0)
    range_hourly = phys.hourly_from_daily(phys.mean_preserving_daily(tmax - tmin))
    frac = np.array(generator.diurnal_range_frac.value)
    lag1 = generator.anomaly_lag1_frac.value
    # One stream per site, seeded by its id: a site gives the same year in every run.
    rng = np.random.default_rng(zlib.crc32(site_id.encode()))
    z_temp = phys.ar1_unit_series(rng.standard_normal(365), lag1)
    z_dew = phys.ar1_unit_series(rng.standard_normal(365), lag1)

    coldness = phys.coldness_frac(t_mid_daily)

    def temp_hourly(warm: float, cold: float) -> np.ndarray:
        anomaly = phys.daily_anomaly_delta_k(z_temp, warm, cold, coldness)
        return phys.diurnal_dry_bulb_degc(
            phys.hourly_from_daily(t_mid_daily + anomaly), range_hourly, frac
        )

    design = site.design
    warm = cold = 0.0
    for _ in range(_FIT_ROUNDS):
        warm = _solve_scale(
            lambda s, c=cold: np.quantile(temp_hourly(s, c), _COOLING_QUANTILE),
            design.cooling_db_0p4_degc,
        )
        # A larger cold-season amplitude lowers the low quantile: solve on its negative.
        cold = _solve_scale(
            lambda s, w=warm: -np.quantile(temp_hourly(w, s), _HEATING_QUANTILE),
            -design.heating_db_99p6_degc,
        )
    temp = temp_hourly(warm, cold)

    pressure_pa = float(psy.GetStandardAtmPressure(site.location.elevation_m))
    dew_monthly = _dew_point_monthly_degc(site)
    dew_daily = phys.mean_preserving_daily(dew_monthly)
    hum_ratio = _vectorised("GetHumRatioFromTDewPoint")
    enthalpy = _vectorised("GetMoistAirEnthalpy")

    wet_bulb_from_dew = _vectorised("GetTWetBulbFromTDewPoint")
    hottest = temp >= np.quantile(temp, _COOLING_QUANTILE)  # the 0.4% design hours

    def dew_hourly(scale: float, corr: float) -> np.ndarray:
        z = phys.correlated_unit_series(z_temp, z_dew, corr)
        anomaly = phys.daily_anomaly_delta_k(z, scale, scale, coldness)
        raw = phys.hourly_from_daily(dew_daily + anomaly)
        return phys.dew_point_below_dry_bulb_degc(raw, temp, dew_monthly)

    def enthalpy_quantile(scale: float, corr: float) -> float:
        # Percentiles depend on the top hours only: the 5% most humid hours by dew point
        # and dry bulb hold the 0.4% highest enthalpies (both raise enthalpy).
        dew = dew_hourly(scale, corr)
        top = np.argsort(dew + temp)[-len(temp) // 20 :]
        h = np.full(len(temp), -np.inf)
        h[top] = enthalpy(temp[top], hum_ratio(dew[top], pressure_pa))
        return float(np.quantile(h, _COOLING_QUANTILE))

    def coincident_wet_bulb(scale: float, corr: float) -> float:
        dew = dew_hourly(scale, corr)[hottest]
        return float(np.mean(wet_bulb_from_dew(temp[hottest], dew, pressure_pa)))

    h_target = float(psy.GetSatAirEnthalpy(design.evaporation_wb_0p4_degc, pressure_pa))
    dew_scale = corr = 0.0
    for _ in range(_FIT_ROUNDS):
        dew_scale = _solve_scale(lambda s, r=corr: enthalpy_quantile(s, r), h_target)
        # Humid hot days raise the wet bulb of the hottest hours: solve the correlation of
        # the dew-point and dry-bulb anomalies for the mean coincident wet bulb.
        corr = _solve_scale(
            lambda r, s=dew_scale: coincident_wet_bulb(s, r),
            design.cooling_mcwb_0p4_degc,
            _CORRELATION_BRACKET_FRAC,
        )
    dew = dew_hourly(dew_scale, corr)
    rh = _vectorised("GetRelHumFromTDewPoint")(temp, dew)

    loc = site.location
    irr = phys.synthetic_irradiance(
        loc.latitude_deg,
        loc.longitude_deg,
        loc.elevation_m,
        loc.utc_offset_h,
        _clearness_by_month(site, generator),
    )
    wind = (site.wind_speed_m_per_s or generator.wind_speed_default_m_per_s).value
    n = temp.size
    return {
        "temp_air_degc": temp,
        "dew_point_degc": dew,
        "rel_humidity_frac": np.clip(rh, 0.0, 1.0),
        "pressure_pa": np.full(n, pressure_pa),
        "ghi": irr["ghi"],
        "dni": irr["dni"],
        "dhi": irr["dhi"],
        "wind_speed_m_per_s": np.full(n, float(wind)),
        "warm_season_delta_k": warm,
        "cold_season_delta_k": cold,
        "dew_scale_delta_k": dew_scale,
        "dew_temp_correlation_frac": corr,
        "label": site.name,
    }


def typical_year_frame(site_id: str) -> tuple[pd.DataFrame, dict[str, object]]:
    """The typical year of a library site in the row layout of the TMY readers.

    Parameters
    ----------
    site_id
        Library id.

    Returns
    -------
    frame
        8,760 rows: ``month``, ``day``, ``hour`` (ending, 1..24, local standard time),
        ``temp_air`` [degC], ``rh_percent`` [%], ``pressure_pa`` [Pa], ``ghi``, ``dni``,
        ``dhi`` [W/m2], ``wind_speed`` [m/s] (what :mod:`dcsim.model.weather` parses a file
        into).
    meta
        ``label``, ``latitude_deg``, ``longitude_deg``.
    """
    year = site_typical_year(site_id)
    _, sites = load_weather_sites()
    loc = sites[site_id].location
    doy = np.repeat(np.arange(365), phys.HOURS_PER_DAY)
    month = phys.month_of_day()[doy]
    month_start = np.concatenate([[0], np.cumsum(phys.DAYS_IN_MONTH)[:-1]])
    frame = pd.DataFrame(
        {
            "month": month + 1,
            "day": doy - month_start[month] + 1,
            "hour": np.tile(np.arange(1, phys.HOURS_PER_DAY + 1), 365),
            "temp_air": year["temp_air_degc"],
            "rh_percent": year["rel_humidity_frac"] * _PERCENT_PER_FRAC,
            "pressure_pa": year["pressure_pa"],
            "ghi": year["ghi"],
            "dni": year["dni"],
            "dhi": year["dhi"],
            "wind_speed": year["wind_speed_m_per_s"],
        }
    )
    meta = {
        "label": f"{year['label']}, synthetic",
        "latitude_deg": loc.latitude_deg,
        "longitude_deg": loc.longitude_deg,
    }
    return frame, meta
