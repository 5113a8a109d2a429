"""A synthetic typical year of hourly weather from monthly climate normals and design values.

The year is built in three layers, each a pure function of published statistics:

1. **Seasonal cycle.** Monthly normals (mean daily maximum and minimum dry bulb, mean dew
   point) become smooth daily curves whose monthly means equal the normals exactly
   (:func:`mean_preserving_daily`, a piecewise-linear curve through mid-month knots whose
   values solve a 12 x 12 cyclic linear system; the idea of Rymes and Myers (2001)).
2. **Day-to-day variability.** A unit AR(1) series of daily anomalies (synoptic weather
   persists for a few days) is scaled, warm excursions by one amplitude all year and cold
   ones by an amplitude that grows towards the coldest day of the year (cold-air
   outbreaks), then has its own smooth monthly means removed so the monthly normals stay exact
   (:func:`daily_anomaly_delta_k`). The model layer chooses the two amplitudes so that the
   year's 0.4% and 99.6% hourly dry bulbs equal the ASHRAE design values.
3. **Daily cycle.** Hourly dry bulb is the daily maximum minus a fixed fraction of the daily
   range, ``T(h) = T_max - f_h (T_max - T_min)``, with the 24 fractions ``f_h`` of the ASHRAE
   Handbook Fundamentals design-day procedure (:func:`diurnal_dry_bulb_degc`). Because the
   fractions average about 0.54, not 0.5, the 24-hour mean falls a little below the
   ``(T_max + T_min) / 2`` of the normals, as measured hourly means do.

Solar irradiance is a clear-sky global horizontal irradiance (Haurwitz) scaled month by month to a
clearness index (from sunshine duration by the Angstrom-Prescott relation of FAO-56), split
into beam and diffuse by the Erbs et al. (1982) correlation (:func:`synthetic_irradiance`).

Time convention: hourly instants ``d x 24 + h`` hours into a non-leap year, ``h`` the hour
ending 1..24 in local standard time (the convention of the TMY readers in
:mod:`dcsim.model.weather`); irradiance is the mean of the hour ending at the instant.

References
----------
.. [1] ASHRAE Handbook Fundamentals (2009, 2013, 2017), ch. 14 "Climatic design information",
   "Generating design-day data": hourly dry bulb as a fraction of the daily range.
.. [2] Rymes, M. D. and Myers, D. R. (2001), "Mean preserving algorithm for smoothly
   interpolating averaged data", Solar Energy 71(4), 225-231.
.. [3] Allen, R. G. et al. (1998), FAO Irrigation and Drainage Paper 56, eqs. 21, 25, 34, 35
   (extraterrestrial radiation, daylight hours, Angstrom-Prescott).
.. [4] Erbs, D. G., Klein, S. A. and Duffie, J. A. (1982), "Estimation of the diffuse
   radiation fraction for hourly, daily and monthly-average global radiation", Solar
   Energy 28(4), 293-302.
.. [5] Haurwitz, B. (1945), "Insolation in relation to cloudiness and cloud density",
   Journal of Meteorology 2, 154-166 (clear-sky model, as implemented in pvlib).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "DAYS_IN_MONTH",
    "HOURS_PER_DAY",
    "angstrom_clearness_frac",
    "ar1_unit_series",
    "coldness_frac",
    "correlated_unit_series",
    "daily_anomaly_delta_k",
    "daylight_h",
    "dew_point_below_dry_bulb_degc",
    "diurnal_dry_bulb_degc",
    "great_circle_distance_m",
    "hourly_from_daily",
    "mean_preserving_daily",
    "month_of_day",
    "synthetic_irradiance",
]

HOURS_PER_DAY = 24
DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_DAYS_PER_YEAR = int(DAYS_IN_MONTH.sum())
_MONTHS = 12
# Mean Earth radius R1 = 6,371,008.8 m (IUGG, Moritz 2000, "Geodetic Reference System 1980").
_EARTH_RADIUS_M = 6_371_008.8


def month_of_day() -> np.ndarray:
    """Month index 0..11 of each day of a non-leap year.

    Returns
    -------
    numpy.ndarray
        int array of shape (365,).
    """
    return np.repeat(np.arange(_MONTHS), DAYS_IN_MONTH)


def _monthly_mean(daily: np.ndarray) -> np.ndarray:
    return np.bincount(month_of_day(), weights=daily, minlength=_MONTHS) / DAYS_IN_MONTH


def _linear_daily(knots: np.ndarray) -> np.ndarray:
    """Cyclic piecewise-linear daily curve through values placed at mid-month."""
    mid_day = np.cumsum(DAYS_IN_MONTH) - DAYS_IN_MONTH / 2.0  # day centre of each month
    day_centre = np.arange(_DAYS_PER_YEAR) + 0.5
    x = np.concatenate([mid_day - _DAYS_PER_YEAR, mid_day, mid_day + _DAYS_PER_YEAR])
    y = np.concatenate([knots, knots, knots])
    return np.interp(day_centre, x, y)


def mean_preserving_daily(monthly: np.ndarray) -> np.ndarray:
    """A smooth daily curve whose mean over each month equals the given monthly mean.

    The curve is piecewise linear through one knot per month (at mid-month, cyclic over the
    year); the knot values ``x`` solve ``A x = m``, where ``A[i, j]`` is the mean over month
    ``i`` of the curve through the unit knot vector ``e_j``. The linear interpolation of the
    monthly means themselves would flatten the seasonal peaks; this curve does not.

    Parameters
    ----------
    monthly
        Twelve monthly means (any unit), January first.

    Returns
    -------
    numpy.ndarray
        365 daily values in the unit of ``monthly``.

    References
    ----------
    Rymes and Myers (2001), Solar Energy 71(4), 225-231 (the same constraint with a
    smoother curve).

    Examples
    --------
    >>> m = np.array([0., 1, 5, 10, 15, 20, 22, 21, 17, 11, 5, 1])
    >>> d = mean_preserving_daily(m)
    >>> bool(np.allclose(np.bincount(month_of_day(), d) / DAYS_IN_MONTH, m))
    True
    """
    monthly = np.asarray(monthly, dtype=float)
    if monthly.shape != (_MONTHS,):
        raise ValueError(f"expected 12 monthly values, got shape {monthly.shape}")
    a = np.column_stack([_monthly_mean(_linear_daily(e)) for e in np.eye(_MONTHS)])
    return _linear_daily(np.linalg.solve(a, monthly))


def ar1_unit_series(innovations: np.ndarray, lag1_frac: float) -> np.ndarray:
    """A stationary AR(1) series of unit variance from standard-normal innovations.

    ``z[0] = e[0]``, ``z[t] = r z[t-1] + sqrt(1 - r^2) e[t]``: every ``z[t]`` has unit
    variance and the lag-1 autocorrelation is ``r``.

    Parameters
    ----------
    innovations
        Independent standard-normal draws, shape (n,) [-].
    lag1_frac
        Lag-1 autocorrelation ``r`` in [0, 1) [-].

    Returns
    -------
    numpy.ndarray
        The series, shape (n,) [-].
    """
    e = np.asarray(innovations, dtype=float)
    z = np.empty_like(e)
    gain = math.sqrt(1.0 - lag1_frac * lag1_frac)
    prev = 0.0
    for t in range(e.size):
        prev = e[t] if t == 0 else lag1_frac * prev + gain * e[t]
        z[t] = prev
    return z


def correlated_unit_series(
    first: np.ndarray, second: np.ndarray, correlation_frac: float
) -> np.ndarray:
    """A unit-variance series with a given correlation to ``first``.

    ``c = r a + sqrt(1 - r^2) b`` for independent unit-variance ``a`` and ``b``: ``c`` has unit
    variance and correlation ``r`` with ``a``; two AR(1) series of the same lag-1
    correlation give an AR(1) series of that correlation.

    Parameters
    ----------
    first, second
        Independent unit-variance series of one length [-].
    correlation_frac
        Correlation ``r`` in [-1, 1] [-].

    Returns
    -------
    numpy.ndarray
        The mixed series [-].
    """
    r = float(correlation_frac)
    return r * np.asarray(first, float) + math.sqrt(1.0 - r * r) * np.asarray(second, float)


def coldness_frac(daily_degc: np.ndarray) -> np.ndarray:
    """Position of each day between the warmest (0) and the coldest (1) day of the year.

    Parameters
    ----------
    daily_degc
        365 daily climatological temperatures [degC].

    Returns
    -------
    numpy.ndarray
        365 values in [0, 1] [-]; all zero when the year has no seasonal cycle.
    """
    t = np.asarray(daily_degc, dtype=float)
    span_k = t.max() - t.min()
    return (t.max() - t) / span_k if span_k > 0 else np.zeros_like(t)


def daily_anomaly_delta_k(
    unit_series: np.ndarray, warm_season_delta_k: float, cold_season_delta_k: float,
    coldness: np.ndarray,
) -> np.ndarray:  # fmt: skip
    r"""Daily anomalies with a seasonal cold tail, and zero mean in every month.

    Warm excursions keep one amplitude all year; cold excursions grow from it towards a
    cold-season amplitude as the day's coldness ``c`` rises (0 on the warmest, 1 on the
    coldest day of the climatology): outside the tropics the cold season brings cold-air
    outbreaks, a long cold tail, while warm spells stay moderate.

    .. math:: a = s_w z \quad (z > 0), \qquad a = (s_w + (s_c - s_w) c) z \quad (z \le 0)

    then the mean-preserving daily curve of its own monthly means is removed, so each
    month's mean anomaly is exactly zero (a month with a long cold tail has a warmer bulk)
    and no step appears at month boundaries.

    Parameters
    ----------
    unit_series
        365 unit-variance daily values (e.g. from :func:`ar1_unit_series`) [-].
    warm_season_delta_k
        Amplitude of warm excursions, and of cold ones on the warmest day [K], >= 0.
    cold_season_delta_k
        Amplitude of cold excursions on the coldest day [K], >= 0.
    coldness
        365 values of :func:`coldness_frac` [-].

    Returns
    -------
    numpy.ndarray
        365 anomalies [K].
    """
    z = np.asarray(unit_series, dtype=float)
    c = np.asarray(coldness, dtype=float)
    cold_amp_delta_k = warm_season_delta_k + (cold_season_delta_k - warm_season_delta_k) * c
    a = np.where(z > 0.0, warm_season_delta_k * z, cold_amp_delta_k * z)
    return a - mean_preserving_daily(_monthly_mean(a))


def hourly_from_daily(daily: np.ndarray) -> np.ndarray:
    """Hourly values of a daily series, linear between daily values placed at noon (cyclic).

    Parameters
    ----------
    daily
        365 daily values (any unit).

    Returns
    -------
    numpy.ndarray
        8,760 values at the instants ``d x 24 + h``, ``h`` = 1..24 [unit of ``daily``].
    """
    daily = np.asarray(daily, dtype=float)
    n_hours = _DAYS_PER_YEAR * HOURS_PER_DAY
    noon_h = np.arange(_DAYS_PER_YEAR) * HOURS_PER_DAY + HOURS_PER_DAY / 2.0
    t_h = np.arange(n_hours) + 1.0
    x = np.concatenate([noon_h - n_hours, noon_h, noon_h + n_hours])
    return np.interp(t_h, x, np.concatenate([daily, daily, daily]))


#: Bisection steps of the monthly dew-point offset: the bracket is tens of kelvin wide, so 45
#: halvings leave less than 1e-11 K.
_OFFSET_BISECTION_STEPS = 45


def dew_point_below_dry_bulb_degc(
    raw_dew_degc: np.ndarray, dry_bulb_degc: np.ndarray, monthly_dew_degc: np.ndarray
) -> np.ndarray:
    """Hourly dew point at most the dry bulb, with the given monthly mean dew points.

    Air cannot hold more water than saturation, so an hour whose generated dew point is
    above its dry bulb is set to it; capping alone would lower the month's mean below the
    normal it was built from (by kelvins in humid winters). Each month's series is therefore
    shifted by the offset ``d`` that keeps the mean: ``mean_m(min(raw + d, T)) = D_m``. The
    left side is continuous and non-decreasing in ``d`` (piecewise linear), so bisection
    finds it. A month whose normal is at or above its mean dry bulb is saturated throughout.

    Parameters
    ----------
    raw_dew_degc
        Generated dew point, 8,760 hours (``hourly_from_daily`` instants) [degC].
    dry_bulb_degc
        Dry bulb at the same hours [degC].
    monthly_dew_degc
        Twelve monthly mean dew points to keep, January first [degC].

    Returns
    -------
    numpy.ndarray
        Dew point of the 8,760 hours, ``<= dry_bulb_degc`` [degC].
    """
    raw = np.asarray(raw_dew_degc, dtype=float)
    temp = np.asarray(dry_bulb_degc, dtype=float)
    target = np.asarray(monthly_dew_degc, dtype=float)
    month = np.repeat(month_of_day(), HOURS_PER_DAY)
    hours = np.bincount(month, minlength=_MONTHS).astype(float)

    def monthly_mean(offset: np.ndarray) -> np.ndarray:
        capped = np.minimum(raw + offset[month], temp)
        return np.bincount(month, weights=capped, minlength=_MONTHS) / hours

    # At lo every hour of a month is below its target; at hi every hour is capped.
    starts = np.concatenate([[0], np.cumsum(DAYS_IN_MONTH)[:-1]]) * HOURS_PER_DAY
    lo = target - np.maximum.reduceat(raw, starts) - 1.0
    hi = np.maximum.reduceat(temp, starts) - np.minimum.reduceat(raw, starts) + 1.0
    for _ in range(_OFFSET_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        low = monthly_mean(mid) < target
        lo = np.where(low, mid, lo)
        hi = np.where(low, hi, mid)
    return np.minimum(raw + (0.5 * (lo + hi))[month], temp)


def diurnal_dry_bulb_degc(
    t_mid_degc: np.ndarray, range_delta_k: np.ndarray, range_frac_by_hour: np.ndarray
) -> np.ndarray:
    """Hourly dry bulb from the mid-range temperature and the daily range.

    .. math:: T_h = T_{mid} + R (1/2 - f_h)

    i.e. ``T_max - f_h R`` with ``T_max = T_mid + R / 2``: ``f = 0`` gives the daily maximum,
    ``f = 1`` the minimum.

    Parameters
    ----------
    t_mid_degc
        ``(T_max + T_min) / 2`` at each hour, shape (8760,) [degC].
    range_delta_k
        Daily range ``T_max - T_min`` at each hour, shape (8760,) [K].
    range_frac_by_hour
        The 24 fractions ``f_h`` of the daily range below the maximum, for the hours ending
        1..24 [-].

    Returns
    -------
    numpy.ndarray
        Dry bulb, shape (8760,) [degC].

    References
    ----------
    ASHRAE Handbook Fundamentals (2009) ch. 14, Table 6 and eq. 14.
    """
    f = np.asarray(range_frac_by_hour, dtype=float)
    if f.shape != (HOURS_PER_DAY,):
        raise ValueError(f"expected 24 hourly fractions, got shape {f.shape}")
    hour_idx = np.arange(np.size(t_mid_degc)) % HOURS_PER_DAY
    return np.asarray(t_mid_degc) + np.asarray(range_delta_k) * (0.5 - f[hour_idx])


def daylight_h(latitude_deg: float, day_of_year: np.ndarray) -> np.ndarray:
    """Astronomical day length [h] (FAO-56 eqs. 24, 25, 34).

    Parameters
    ----------
    latitude_deg
        Latitude [deg], north positive.
    day_of_year
        Day numbers 1..365 [-].

    Returns
    -------
    numpy.ndarray
        Daylight hours ``N = 24 omega_s / pi`` [h].
    """
    phi = math.radians(latitude_deg)
    decl = 0.409 * np.sin(2.0 * np.pi * np.asarray(day_of_year, float) / 365.0 - 1.39)
    cos_ws = np.clip(-math.tan(phi) * np.tan(decl), -1.0, 1.0)
    return HOURS_PER_DAY / np.pi * np.arccos(cos_ws)


def angstrom_clearness_frac(
    sunshine_h: np.ndarray, daylight_month_h: np.ndarray, a_frac: float, b_frac: float
) -> np.ndarray:
    r"""Monthly clearness index from sunshine duration (Angstrom-Prescott, FAO-56 eq. 35).

    .. math:: K_T = H / H_0 = a + b \, n / N

    Parameters
    ----------
    sunshine_h
        Bright sunshine of each month [h].
    daylight_month_h
        Astronomical daylight of each month (sum of day lengths) [h].
    a_frac, b_frac
        Angstrom coefficients [-].

    Returns
    -------
    numpy.ndarray
        Clearness index of each month [-].
    """
    ratio = np.clip(np.asarray(sunshine_h, float) / np.asarray(daylight_month_h, float), 0, 1)
    return a_frac + b_frac * ratio


def synthetic_irradiance(
    latitude_deg: float,
    longitude_deg: float,
    elevation_m: float,
    utc_offset_h: float,
    clearness_by_month_frac: np.ndarray,
) -> dict[str, np.ndarray]:
    """Hourly GHI, DNI and DHI of a typical year scaled to monthly clearness indices.

    Clear-sky GHI (Haurwitz's model, as in pvlib) at the middle of each hour is multiplied,
    month by month, by ``K_T sum(G_0h) / sum(G_cs)`` so that the month's total over its
    extraterrestrial horizontal total equals ``K_T``; the Erbs correlation then splits each
    hour into diffuse and beam.

    Parameters
    ----------
    latitude_deg, longitude_deg
        Site coordinates [deg] (east positive).
    elevation_m
        Site elevation [m].
    utc_offset_h
        Offset of local standard time from UTC [h].
    clearness_by_month_frac
        Monthly clearness index ``K_T`` [-].

    Returns
    -------
    dict
        ``ghi``, ``dni``, ``dhi`` [W/m2], each shape (8760,): means over the hour ending at
        each instant.

    References
    ----------
    Haurwitz (1945); Erbs, Klein and Duffie (1982); Duffie and Beckman, "Solar
    Engineering of Thermal Processes", ch. 2 (monthly clearness index).
    """
    import pandas as pd
    import pvlib

    n_hours = _DAYS_PER_YEAR * HOURS_PER_DAY
    # Mid-hour instants of a non-leap year (2019) in local standard time, as UTC.
    local = pd.date_range(pd.Timestamp("2019-01-01 00:30"), periods=n_hours, freq="h")
    when = (local - pd.Timedelta(hours=float(utc_offset_h))).tz_localize("UTC")
    place = pvlib.location.Location(latitude_deg, longitude_deg, altitude=elevation_m)
    solpos = place.get_solarposition(when)
    # Haurwitz's clear sky needs no turbidity: only its shape through the day and the year
    # matters, since each month is rescaled to its clearness index below.
    clear = pvlib.clearsky.haurwitz(solpos["apparent_zenith"])
    zenith = solpos["zenith"].to_numpy()
    cos_z = np.maximum(np.cos(np.radians(zenith)), 0.0)
    # Day numbers, not timestamps: pvlib's timestamp path uses a deprecated pandas accessor.
    doy = when.day_of_year.to_numpy()
    g0h = np.asarray(pvlib.irradiance.get_extra_radiation(doy), dtype=float) * cos_z
    ghi_cs = clear["ghi"].to_numpy()
    month = np.repeat(month_of_day(), HOURS_PER_DAY)
    g0_sum = np.bincount(month, weights=g0h, minlength=_MONTHS)
    cs_sum = np.bincount(month, weights=ghi_cs, minlength=_MONTHS)
    kt = np.asarray(clearness_by_month_frac, dtype=float)
    scale = np.divide(kt * g0_sum, cs_sum, out=np.zeros(_MONTHS), where=cs_sum > 0)
    ghi = ghi_cs * scale[month]
    split = pvlib.irradiance.erbs(ghi, zenith, doy)
    dni = np.nan_to_num(np.asarray(split["dni"], float))
    dhi = np.nan_to_num(np.asarray(split["dhi"], float))
    return {"ghi": ghi, "dni": dni, "dhi": dhi}


def great_circle_distance_m(
    lat1_deg: float, lon1_deg: float, lat2_deg: float, lon2_deg: float
) -> float:
    """Distance between two points on a spherical Earth (haversine formula) [m].

    Parameters
    ----------
    lat1_deg, lon1_deg, lat2_deg, lon2_deg
        Coordinates [deg].

    Returns
    -------
    float
        Great-circle distance on a sphere of the mean Earth radius [m] (within 0.5% of the
        ellipsoidal distance).

    Examples
    --------
    >>> round(great_circle_distance_m(0.0, 0.0, 0.0, 1.0) / 1e3, 1)  # 1 degree of equator
    111.2
    """
    p1, p2 = math.radians(lat1_deg), math.radians(lat2_deg)
    dphi, dlmb = p2 - p1, math.radians(lon2_deg - lon1_deg)
    h = math.sin(dphi / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlmb / 2) ** 2
    return 2.0 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
