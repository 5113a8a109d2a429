"""The weather-site library: climate normals and design values of data-center regions.

Shipped data: ``data/weather_sites.yaml``. Each site gives its station (coordinates,
elevation, local standard time), Koppen class, monthly normals (mean daily maximum and minimum
dry bulb; mean dew point or mean relative humidity; bright sunshine hours or a clearness
index) and ASHRAE-style annual design values (0.4% cooling dry bulb with its mean coincident
wet bulb, 0.4% evaporation wet bulb with its mean coincident dry bulb, 99.6% heating dry
bulb), every group with its source and confidence grade. The ``generator`` block holds the
constants of the synthetic typical-year generator (:mod:`dcsim.model.climate`).

A scenario names a site as ``weather: {file: "site:<id>"}``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from dcsim.catalog.equipment import SourcedSeries, _validate
from dcsim.catalog.schema import Confidence, Sourced
from dcsim.catalog.yaml_file import read_yaml

__all__ = [
    "WEATHER_SITES_PATH",
    "DesignConditions",
    "Generator",
    "SiteLocation",
    "WeatherSite",
    "load_weather_sites",
    "weather_sites_table",
]

WEATHER_SITES_PATH = Path(__file__).parent / "data" / "weather_sites.yaml"

_MONTHS = 12
_HOURS_PER_DAY = 24


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _monthly(v: SourcedSeries | None) -> SourcedSeries | None:
    if v is not None and len(v.value) != _MONTHS:
        raise ValueError(f"{len(v.value)} values; expected 12 (January first)")
    return v


class SiteLocation(_Frozen):
    """Where the station is."""

    latitude_deg: float = Field(ge=-90, le=90, description="Latitude, north positive [deg].")
    longitude_deg: float = Field(ge=-180, le=180, description="Longitude, east positive [deg].")
    elevation_m: float = Field(ge=-500, le=6000, description="Station elevation [m].")
    utc_offset_h: float = Field(ge=-12, le=14, description="Local standard time - UTC [h].")
    source: str = Field(min_length=1, description="Where the coordinates come from.")
    confidence: Confidence = Field(description="P, S or U.")


class DesignConditions(_Frozen):
    """Annual climatic design values (ASHRAE Handbook Fundamentals definitions)."""

    cooling_db_0p4_degc: float = Field(description="Dry bulb exceeded 0.4% of hours [degC].")
    cooling_mcwb_0p4_degc: float = Field(description="Mean wet bulb coincident with it [degC].")
    evaporation_wb_0p4_degc: float = Field(description="Wet bulb exceeded 0.4% of hours [degC].")
    evaporation_mcdb_0p4_degc: float = Field(description="Mean coincident dry bulb [degC].")
    heating_db_99p6_degc: float = Field(description="Dry bulb exceeded 99.6% of hours [degC].")
    source: str = Field(min_length=1, description="Where the values come from.")
    confidence: Confidence = Field(description="P, S or U.")


class WeatherSite(_Frozen):
    """One library site: a station with its normals and design values."""

    name: str = Field(description="Station and region.")
    region: str = Field(description="Data-center region it stands for.")
    koppen: str = Field(min_length=2, max_length=3, description="Koppen-Geiger class.")
    notes: str = Field(default="", description="Caveats.")
    location: SiteLocation
    tmax_degc: SourcedSeries = Field(description="Mean daily maximum dry bulb by month [degC].")
    tmin_degc: SourcedSeries = Field(description="Mean daily minimum dry bulb by month [degC].")
    dewpoint_degc: SourcedSeries | None = Field(default=None, description="Mean dew point [degC].")
    rh_frac: SourcedSeries | None = Field(
        default=None, description="Mean relative humidity by month [0..1] (if no dew point)."
    )
    sunshine_h: SourcedSeries | None = Field(
        default=None, description="Bright sunshine by month [h] (for the clearness index)."
    )
    clearness_frac: SourcedSeries | None = Field(
        default=None, description="Monthly clearness index H/H0 [-] (if no sunshine)."
    )
    wind_speed_m_per_s: Sourced | None = Field(
        default=None, description="Annual mean 10 m wind speed [m/s]; default: generator's."
    )
    design: DesignConditions

    _check_monthly = field_validator(
        "tmax_degc", "tmin_degc", "dewpoint_degc", "rh_frac", "sunshine_h", "clearness_frac"
    )(_monthly)

    @model_validator(mode="after")
    def _one_of_each(self) -> WeatherSite:
        if (self.dewpoint_degc is None) == (self.rh_frac is None):
            raise ValueError("give exactly one of dewpoint_degc and rh_frac")
        if (self.sunshine_h is None) == (self.clearness_frac is None):
            raise ValueError("give exactly one of sunshine_h and clearness_frac")
        if any(hi < lo for hi, lo in zip(self.tmax_degc.value, self.tmin_degc.value, strict=True)):
            raise ValueError("tmax_degc below tmin_degc in some month")
        return self


class Generator(_Frozen):
    """Constants of the synthetic typical-year generator."""

    diurnal_range_frac: SourcedSeries = Field(
        description="Fraction of the daily range below the maximum, hours ending 1..24 [-]."
    )
    anomaly_lag1_frac: Sourced = Field(description="Lag-1 autocorrelation of daily anomalies.")
    angstrom_a_frac: Sourced = Field(description="Angstrom-Prescott intercept a [-].")
    angstrom_b_frac: Sourced = Field(description="Angstrom-Prescott slope b [-].")
    wind_speed_default_m_per_s: Sourced = Field(description="Wind speed if a site gives none.")
    site_distance_warn_km: Sourced = Field(
        description="Site-to-weather distance above which a warning is logged [km]."
    )

    @field_validator("diurnal_range_frac")
    @classmethod
    def _hourly(cls, v: SourcedSeries) -> SourcedSeries:
        if len(v.value) != _HOURS_PER_DAY or min(v.value) != 0.0 or max(v.value) != 1.0:
            raise ValueError("expected 24 fractions from 0 (daily maximum) to 1 (minimum)")
        return v


class _WeatherSitesFile(_Frozen):
    generator: Generator
    sites: dict[str, WeatherSite]


_ADAPTER = TypeAdapter(_WeatherSitesFile)


@functools.cache
def _cached(path: Path) -> _WeatherSitesFile:
    return _validate(_ADAPTER, read_yaml(path), path)


def load_weather_sites(
    path: str | Path | None = None,
) -> tuple[Generator, dict[str, WeatherSite]]:
    """Load the weather-site library.

    Parameters
    ----------
    path
        YAML file; the shipped ``data/weather_sites.yaml`` when None.

    Returns
    -------
    generator, sites
        The generator constants and the sites keyed by id (frozen models).

    Raises
    ------
    ConfigError
        If the file cannot be read or an entry is invalid (file and field named).
    """
    data = _cached(Path(path) if path is not None else WEATHER_SITES_PATH)
    return data.generator, dict(data.sites)


def weather_sites_table(path: str | Path | None = None) -> pd.DataFrame:
    """The library as a table, one row per site (for ``dcsim catalog weather_sites``).

    Parameters
    ----------
    path
        YAML file; the shipped one when None.

    Returns
    -------
    pandas.DataFrame
        Indexed by site id: ``name``, ``region``, ``koppen``, ``latitude_deg``,
        ``longitude_deg``, ``elevation_m``, ``utc_offset_h``, annual means of the normals
        (``tmean_degc``, the mean of daily max and min; ``dewpoint_degc`` where given), the
        warmest month's mean maximum ``tmax_warmest_degc``, the coldest month's mean minimum
        ``tmin_coldest_degc`` and the design values; a ``<column>_confidence`` column beside
        each sourced figure holds its grade.
    """
    _, sites = load_weather_sites(path)
    rows = {}
    for sid, s in sites.items():
        tmax, tmin = np.array(s.tmax_degc.value), np.array(s.tmin_degc.value)
        d = s.design
        rows[sid] = {
            "name": s.name,
            "region": s.region,
            "koppen": s.koppen,
            "latitude_deg": s.location.latitude_deg,
            "longitude_deg": s.location.longitude_deg,
            "elevation_m": s.location.elevation_m,
            "utc_offset_h": s.location.utc_offset_h,
            "tmean_degc": round(float(np.mean((tmax + tmin) / 2.0)), 1),
            "tmean_degc_confidence": s.tmax_degc.confidence,
            "tmax_warmest_degc": float(tmax.max()),
            "tmax_warmest_degc_confidence": s.tmax_degc.confidence,
            "tmin_coldest_degc": float(tmin.min()),
            "tmin_coldest_degc_confidence": s.tmin_degc.confidence,
            "cooling_db_0p4_degc": d.cooling_db_0p4_degc,
            "cooling_db_0p4_degc_confidence": d.confidence,
            "cooling_mcwb_0p4_degc": d.cooling_mcwb_0p4_degc,
            "cooling_mcwb_0p4_degc_confidence": d.confidence,
            "evaporation_wb_0p4_degc": d.evaporation_wb_0p4_degc,
            "evaporation_wb_0p4_degc_confidence": d.confidence,
            "heating_db_99p6_degc": d.heating_db_99p6_degc,
            "heating_db_99p6_degc_confidence": d.confidence,
        }
    return pd.DataFrame.from_dict(rows, orient="index")
