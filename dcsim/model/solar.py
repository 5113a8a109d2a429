"""Solar PV output from the site weather with pvlib (the PVWatts chain).

Chain, per hourly weather row (pvlib functions named):

1. sun position at the middle of the hour the row averages (``solarposition.get_solarposition``):
   a row labelled T holds the irradiance averaged over the hour ending at T (the TMY/EPW
   convention that :meth:`dcsim.model.weather.WeatherHourly.frame` keeps), so the sun is
   taken at T - 30 min;
2. plane-of-array irradiance with the Perez sky model
   (``irradiance.get_total_irradiance``), fixed tilt or single-axis trackers with
   backtracking (``tracking.singleaxis``);
3. reflection loss of the direct beam (``iam.physical``, glass n = 1.526);
4. cell temperature (``temperature.sapm_cell``, open-rack glass/polymer);
5. DC power (``pvsystem.pvwatts_dc``) times (1 - system losses);
6. AC power (``inverter.pvwatts``), clipped at the inverter rating.

Default coefficients (losses, inverter efficiencies, temperature coefficients, albedo,
tracker limits) are PVWatts Version 5 values from ``catalog/data/grid_defaults.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dcsim import units
from dcsim.catalog.grid_defaults import grid_default

__all__ = ["PvSpec", "pv_spec", "solar_ac_w"]

#: Weather columns the chain reads (pvlib names).
WEATHER_COLUMNS = ("ghi", "dni", "dhi", "temp_air", "wind_speed")


@dataclass(frozen=True)
class PvSpec:
    """A PV array with every coefficient resolved (SI, except angles in degrees)."""

    dc_w: float
    ac_w: float
    mount: str  # "fixed" or "single_axis"
    tilt_deg: float
    azimuth_deg: float
    losses_frac: float
    gamma_per_k: float
    eta_inv_nom_frac: float
    eta_inv_ref_frac: float
    albedo_frac: float
    sapm_a: float
    sapm_b_s_per_m: float
    sapm_delta_k: float
    max_angle_deg: float
    gcr_frac: float


def pv_spec(solar, latitude_deg: float) -> PvSpec:
    """Resolve a scenario ``Solar`` block into a :class:`PvSpec`.

    Parameters
    ----------
    solar
        :class:`dcsim.scenario.grid_schema.Solar`.
    latitude_deg
        Site latitude [deg]; the default fixed tilt.

    Returns
    -------
    PvSpec
    """
    return PvSpec(
        dc_w=solar.dc_mw * units.MW_W,
        ac_w=solar.ac_mw * units.MW_W,
        mount=solar.mount,
        tilt_deg=solar.tilt_deg if solar.tilt_deg is not None else abs(latitude_deg),
        azimuth_deg=solar.azimuth_deg,
        losses_frac=(
            solar.losses_frac if solar.losses_frac is not None else grid_default("pv_losses_frac")
        ),
        gamma_per_k=grid_default(f"pv_gamma_{solar.module_type}_per_k"),
        eta_inv_nom_frac=grid_default("pv_inverter_eta_nom_frac"),
        eta_inv_ref_frac=grid_default("pv_inverter_eta_ref_frac"),
        albedo_frac=grid_default("pv_albedo_frac"),
        sapm_a=grid_default("pv_sapm_a"),
        sapm_b_s_per_m=grid_default("pv_sapm_b"),
        sapm_delta_k=grid_default("pv_sapm_delta_k"),
        max_angle_deg=grid_default("pv_tracker_max_angle_deg"),
        gcr_frac=grid_default("pv_tracker_gcr_frac"),
    )


def solar_ac_w(
    weather_frame: pd.DataFrame, latitude_deg: float, longitude_deg: float, spec: PvSpec
) -> np.ndarray:
    """Hourly AC output of a PV array [W].

    Parameters
    ----------
    weather_frame
        Hourly weather indexed by a tz-aware DatetimeIndex (site local standard time as a
        fixed offset), columns ``ghi``, ``dni``, ``dhi`` [W/m2], ``temp_air`` [degC],
        ``wind_speed`` [m/s]; a row labelled T holds the irradiance averaged over the hour
        ending at T and the temperature and wind at T.
    latitude_deg, longitude_deg
        Site location [deg].
    spec
        The array (:func:`pv_spec`).

    Returns
    -------
    numpy.ndarray
        AC power per row [W], >= 0, at most ``spec.ac_w``: the mean over the hour ending at
        the row's label.
    """
    # pvlib (with the scipy and requests it loads) takes ~0.5 s to import: only for sites
    # with PV.
    import pvlib

    w = weather_frame
    mid = w.index - pd.Timedelta(minutes=30)
    sun = pvlib.solarposition.get_solarposition(
        mid, latitude_deg, longitude_deg, temperature=w["temp_air"].to_numpy()
    )
    zen = sun["apparent_zenith"].to_numpy()
    azi = sun["azimuth"].to_numpy()
    if spec.mount == "single_axis":
        track = pvlib.tracking.singleaxis(
            zen,
            azi,
            axis_tilt=0.0,
            axis_azimuth=180.0,
            max_angle=spec.max_angle_deg,
            backtrack=True,
            gcr=spec.gcr_frac,
        )
        # The tracker stows flat when the sun is down (pvlib returns NaN there).
        tilt = np.nan_to_num(np.asarray(track["surface_tilt"], dtype=float), nan=0.0)
        surf_az = np.nan_to_num(np.asarray(track["surface_azimuth"], dtype=float), nan=180.0)
    else:
        tilt = np.full(len(w), spec.tilt_deg)
        surf_az = np.full(len(w), spec.azimuth_deg)
    # Day of year as numbers: pvlib's own conversion of a DatetimeIndex warns under pandas 3.
    doy = np.asarray(mid.tz_convert("UTC").day_of_year, dtype=float)
    dni_extra = np.asarray(pvlib.irradiance.get_extra_radiation(doy), dtype=float)
    airmass = pvlib.atmosphere.get_relative_airmass(zen)
    with np.errstate(invalid="ignore", divide="ignore"):
        poa = pvlib.irradiance.get_total_irradiance(
            tilt,
            surf_az,
            zen,
            azi,
            w["dni"].to_numpy(),
            w["ghi"].to_numpy(),
            w["dhi"].to_numpy(),
            dni_extra=dni_extra,
            airmass=airmass,
            albedo=spec.albedo_frac,
            model="perez",
        )
        aoi = pvlib.irradiance.aoi(tilt, surf_az, zen, azi)
        iam = pvlib.iam.physical(aoi)
    poa_direct = np.nan_to_num(np.asarray(poa["poa_direct"], dtype=float))
    poa_diffuse = np.nan_to_num(np.asarray(poa["poa_diffuse"], dtype=float))
    poa_global = poa_direct + poa_diffuse
    effective = poa_direct * np.nan_to_num(np.asarray(iam, dtype=float)) + poa_diffuse
    t_cell = pvlib.temperature.sapm_cell(
        poa_global,
        w["temp_air"].to_numpy(),
        w["wind_speed"].to_numpy(),
        spec.sapm_a,
        spec.sapm_b_s_per_m,
        spec.sapm_delta_k,
    )
    pdc = pvlib.pvsystem.pvwatts_dc(effective, t_cell, spec.dc_w, spec.gamma_per_k)
    pdc = np.asarray(pdc, dtype=float) * (1.0 - spec.losses_frac)
    pac = pvlib.inverter.pvwatts(
        pdc, spec.ac_w / spec.eta_inv_nom_frac, spec.eta_inv_nom_frac, spec.eta_inv_ref_frac
    )
    return np.clip(np.nan_to_num(np.asarray(pac, dtype=float)), 0.0, spec.ac_w)
