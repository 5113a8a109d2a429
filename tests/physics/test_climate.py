"""The synthetic-climate equations against hand calculations, theory and invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcsim.physics import climate as c

# ASHRAE Handbook Fundamentals ch. 14, Table 6 (the values of weather_sites.yaml, typed here
# again so that a change of the catalog cannot silently agree with itself).
ASHRAE_FRAC = np.array(
    [0.88, 0.92, 0.95, 0.98, 1.00, 0.98, 0.91, 0.74, 0.55, 0.38, 0.23, 0.13,
     0.05, 0.00, 0.00, 0.06, 0.14, 0.24, 0.39, 0.50, 0.59, 0.68, 0.75, 0.82]
)  # fmt: skip


def monthly_mean(daily):
    return np.bincount(c.month_of_day(), weights=daily, minlength=12) / c.DAYS_IN_MONTH


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-40, 45), min_size=12, max_size=12))
def test_mean_preserving_daily_keeps_every_monthly_mean(values):
    daily = c.mean_preserving_daily(np.array(values))
    np.testing.assert_allclose(monthly_mean(daily), values, atol=1e-9)


def test_mean_preserving_daily_keeps_a_constant_and_beats_plain_interpolation():
    np.testing.assert_allclose(c.mean_preserving_daily(np.full(12, 7.5)), 7.5, atol=1e-12)
    # A seasonal cycle: linear interpolation through the monthly means flattens the July peak
    # (its July mean falls below the normal); the mean-preserving curve does not.
    normals = 10 - 12 * np.cos(2 * np.pi * (np.arange(12) + 0.5) / 12)
    day = np.arange(365) + 0.5
    mid = np.cumsum(c.DAYS_IN_MONTH) - c.DAYS_IN_MONTH / 2
    plain = np.interp(day, np.r_[mid - 365, mid, mid + 365], np.r_[normals, normals, normals])
    assert monthly_mean(plain)[6] < normals[6] - 0.3
    assert monthly_mean(c.mean_preserving_daily(normals))[6] == pytest.approx(normals[6], abs=1e-9)


def test_ar1_series_has_unit_variance_and_the_asked_lag1_correlation():
    # Theory: z_t = r z_(t-1) + sqrt(1 - r^2) e_t is stationary with Var 1 and lag-1
    # autocorrelation r. 200,000 samples: standard error of each estimate < 0.01.
    z = c.ar1_unit_series(np.random.default_rng(1).standard_normal(200_000), 0.7)
    assert z.var() == pytest.approx(1.0, abs=0.02)
    assert np.corrcoef(z[:-1], z[1:])[0, 1] == pytest.approx(0.7, abs=0.01)


def test_daily_anomalies_have_zero_monthly_means_and_the_asked_shape():
    z = c.ar1_unit_series(np.random.default_rng(2).standard_normal(365), 0.7)
    cold = c.coldness_frac(10 - 12 * np.cos(2 * np.pi * (np.arange(365) + 0.5) / 365))
    a = c.daily_anomaly_delta_k(z, 2.0, 6.0, cold)
    np.testing.assert_allclose(monthly_mean(a), 0.0, atol=1e-9)
    # Before re-centring, a warm day is 2 z and a cold day (2 + 4 c) z; the re-centring
    # subtracts a smooth curve, so differences between neighbouring warm days keep the 2 K
    # amplitude: hand check on the raw formula.
    raw = np.where(z > 0, 2.0 * z, (2.0 + 4.0 * cold) * z)
    np.testing.assert_allclose(a, raw - c.mean_preserving_daily(monthly_mean(raw)), atol=1e-12)
    # No variability, no anomaly.
    np.testing.assert_allclose(c.daily_anomaly_delta_k(z, 0.0, 0.0, cold), 0.0, atol=1e-12)


def test_correlated_series_keeps_unit_variance_and_has_the_asked_correlation():
    # Theory: r a + sqrt(1 - r^2) b of independent unit series has variance r^2 + 1 - r^2 = 1
    # and covariance r with a. 200,000 samples: standard errors below 0.01.
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(200_000), rng.standard_normal(200_000)
    mixed = c.correlated_unit_series(a, b, -0.6)
    assert mixed.var() == pytest.approx(1.0, abs=0.01)
    assert np.corrcoef(a, mixed)[0, 1] == pytest.approx(-0.6, abs=0.01)
    np.testing.assert_array_equal(c.correlated_unit_series(a, b, 1.0), a)


def test_coldness_is_zero_on_the_warmest_and_one_on_the_coldest_day():
    t = np.array([5.0, 25.0, 15.0])
    np.testing.assert_allclose(c.coldness_frac(t), [1.0, 0.0, 0.5])
    np.testing.assert_allclose(c.coldness_frac(np.full(5, 27.0)), 0.0)


def test_diurnal_profile_reaches_max_and_min_and_has_the_ashrae_daily_mean():
    # One day with T_mid = 20 degC and a 10 K range: max 25 at 14:00-15:00 (f = 0), min 15 at
    # 05:00 (f = 1); the 24-hour mean is 20 + 10 (0.5 - 12.87 / 24) = 19.6375 degC (sum of the
    # fractions 12.87, by hand).
    t = c.diurnal_dry_bulb_degc(np.full(24, 20.0), np.full(24, 10.0), ASHRAE_FRAC)
    assert t.max() == pytest.approx(25.0) and t.argmax() + 1 == 14
    assert t.min() == pytest.approx(15.0) and t.argmin() + 1 == 5
    assert t.mean() == pytest.approx(19.6375, abs=1e-12)
    with pytest.raises(ValueError, match="24 hourly fractions"):
        c.diurnal_dry_bulb_degc(np.zeros(24), np.zeros(24), ASHRAE_FRAC[:12])


def test_hourly_from_daily_passes_through_noon_and_keeps_constants():
    daily = np.arange(365, dtype=float)
    hourly = c.hourly_from_daily(daily)
    assert hourly.shape == (8760,)
    np.testing.assert_allclose(hourly[11::24][1:-1], daily[1:-1])  # hour ending 12 = noon
    np.testing.assert_allclose(c.hourly_from_daily(np.full(365, 3.0)), 3.0)


def test_daylight_hours_match_hand_values():
    # Equator: 12 h every day. 60 N at the June solstice: omega_s = arccos(-tan 60 tan 23.44)
    # = 138.7 deg, N = 24 / pi x 2.4208 rad = 18.49 h (FAO-56 eq. 34, by hand).
    np.testing.assert_allclose(c.daylight_h(0.0, np.arange(1, 366)), 12.0, atol=1e-9)
    assert c.daylight_h(60.0, np.array([172]))[0] == pytest.approx(18.49, abs=0.02)
    assert c.daylight_h(80.0, np.array([172]))[0] == pytest.approx(24.0)  # midnight sun


def test_angstrom_prescott_bounds():
    kt = c.angstrom_clearness_frac(np.array([0.0, 100.0, 400.0]), np.array([400.0] * 3), 0.25, 0.5)
    np.testing.assert_allclose(kt, [0.25, 0.375, 0.75])


def test_synthetic_irradiance_meets_the_monthly_clearness_and_closes_the_components():
    kt = np.linspace(0.35, 0.65, 12)
    irr = c.synthetic_irradiance(33.45, -111.97, 337.0, -7.0, kt)
    # Independent solar geometry for the check (Duffie and Beckman ch. 1: Cooper's
    # declination, Spencer's equation of time), at the same mid-hours of local standard time.
    t_h = np.arange(8760) + 0.5
    n = t_h // 24 + 1
    b = np.radians((n - 1) * 360 / 365)
    eot_min = 229.2 * (0.000075 + 0.001868 * np.cos(b) - 0.032077 * np.sin(b)
                       - 0.014615 * np.cos(2 * b) - 0.04089 * np.sin(2 * b))  # fmt: skip
    solar_h = t_h % 24 + (4 * (-111.97 - 15 * -7.0) + eot_min) / 60
    omega = np.radians(15 * (solar_h - 12))
    decl = np.radians(23.45 * np.sin(np.radians(360 * (284 + n) / 365)))
    lat = np.radians(33.45)
    cos_z = np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(omega)
    zen = np.degrees(np.arccos(np.clip(cos_z, -1, 1)))
    cos_z = np.maximum(cos_z, 0.0)
    g0h = 1367 * (1 + 0.033 * np.cos(np.radians(360 * n / 365))) * cos_z
    month = np.repeat(c.month_of_day(), 24)
    ratio = np.bincount(month, irr["ghi"]) / np.bincount(month, g0h)
    # Textbook geometry (Cooper declination, within ~1 deg) against SPA: < 3% month by month.
    np.testing.assert_allclose(ratio, kt, rtol=0.03)
    assert np.all(irr["ghi"][zen > 92.0] == 0.0)
    # Erbs splits GHI into DHI + DNI cos(z); with the textbook zenith (within ~0.5 deg of
    # SPA's) the closure holds within a few W/m2 when the sun is up.
    up = zen < 80.0
    closure = irr["dhi"][up] + irr["dni"][up] * cos_z[up]
    np.testing.assert_allclose(closure, irr["ghi"][up], atol=10.0)


def test_great_circle_distance_against_geometry():
    r_km = 6371.0088
    assert c.great_circle_distance_m(0, 0, 0, 1) / 1e3 == pytest.approx(2 * math.pi * r_km / 360)
    assert c.great_circle_distance_m(0, 0, 90, 0) / 1e3 == pytest.approx(math.pi * r_km / 2)
    assert c.great_circle_distance_m(10, 20, 10, 20) == 0.0


def test_dew_point_cap_keeps_the_monthly_mean_by_hand():
    # Raw dew point 10 degC every hour; the dry bulb alternates 8 and 20 degC. Capping alone
    # gives a mean of (8 + 10) / 2 = 9; the offset d with (8 + 10 + d) / 2 = 10 is 2, so the
    # hours are 8 and 12. A month whose normal (25) is above every dry bulb is saturated.
    n = 8760
    raw = np.full(n, 10.0)
    temp = np.where(np.arange(n) % 2 == 0, 8.0, 20.0)
    target = np.full(12, 10.0)
    target[6] = 25.0
    dew = c.dew_point_below_dry_bulb_degc(raw, temp, target)
    month = np.repeat(c.month_of_day(), 24)
    jan = dew[month == 0]
    np.testing.assert_allclose(jan[::2], 8.0)
    np.testing.assert_allclose(jan[1::2], 12.0, atol=1e-9)
    np.testing.assert_allclose(dew[month == 6], temp[month == 6])
    assert np.all(dew <= temp)
