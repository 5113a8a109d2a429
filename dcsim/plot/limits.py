"""The limits a run works against, as series to draw over its data.

A planner reads a power panel against its ceilings (the physical import limit, the firm
block of the grid contract, the power energised by the build-out) and a loop temperature
against the rack systems' supply limit. They come from the run's scenario (a validated
``Scenario`` for a fresh run, the dict of ``scenario.yaml`` for a run read back) and its
monthly capacity table; the import actually available (after curtailments) is the
``grid_available_w`` column of the time series.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from dcsim import units


def scenario_dict(result: Any) -> dict[str, Any]:
    """The run's scenario as plain data (empty when the result carries none)."""
    sc = getattr(result, "scenario", None)
    if sc is None:
        return {}
    if hasattr(sc, "model_dump"):
        return sc.model_dump()
    return sc if isinstance(sc, dict) else {}


def campus_clock(result: Any) -> dt.timezone:
    """The zone of the scenario's dates: the first site's local standard time."""
    from dcsim.results.local_time import site_utc_offsets_h

    offset_h = next(iter(site_utc_offsets_h(scenario_dict(result)).values()), 0.0)
    return dt.timezone(dt.timedelta(hours=offset_h))


def _on_clock(stamps: Any, index: pd.DatetimeIndex, clock: dt.tzinfo) -> Any:
    """Naive scenario dates (the campus clock) made comparable with a UTC-stamped index."""
    if index.tz is not None and stamps.tz is None:
        return stamps.tz_localize(clock)
    return stamps


def _step_series(
    index: pd.DatetimeIndex, start_w: float, ramp: Any, clock: dt.tzinfo = dt.UTC
) -> np.ndarray:
    """A value stepping at dated energisation steps ([{date, mw}], MW), sampled on ``index``."""
    out = np.full(len(index), start_w)
    for step in ramp or []:
        when = _on_clock(pd.Timestamp(step["date"]), index, clock)
        out[index >= when] = float(step["mw"]) * units.MW_W
    return out


def power_limits(result: Any, index: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """Campus power ceilings sampled on the time index [W], by legend label.

    Returns
    -------
    dict
        ``"import limit"`` (sum of the sites' ``import_limit_mw``), ``"firm block"`` (the
        contracts' firm capacity with its ramp, when a site has a grid contract) and
        ``"energised"`` (the capacity table's monthly ``energised_w``, as steps), each only
        when the run has what it needs.
    """
    sc = scenario_dict(result)
    sites = sc.get("sites") or []
    out: dict[str, np.ndarray] = {}
    limits = [s.get("import_limit_mw") for s in sites]
    if limits and all(v is not None for v in limits):
        out["import limit"] = np.full(len(index), sum(limits) * units.MW_W)
    grids = [s.get("grid") for s in sites if s.get("grid")]
    if grids:
        firm = np.zeros(len(index))
        for g in grids:
            firm += _step_series(
                index,
                float(g.get("firm_mw", 0.0)) * units.MW_W,
                g.get("firm_ramp"),
                campus_clock(result),
            )
        out["firm block"] = firm
    cap = (getattr(result, "extra_tables", None) or {}).get("capacity")
    if isinstance(cap, pd.DataFrame) and "energised_w" in cap.columns and len(cap):
        months = pd.DatetimeIndex(
            cap.index if isinstance(cap.index, pd.DatetimeIndex) else cap.iloc[:, 0]
        )
        months = _on_clock(months, index, campus_clock(result))
        pos = np.searchsorted(months.to_numpy(), index.to_numpy(), side="right") - 1
        values = cap["energised_w"].to_numpy(float)
        out["energised"] = values[np.clip(pos, 0, len(values) - 1)]
    return out


def loop_temperature_limit_degc(result: Any) -> float | None:
    """The lowest technology-loop supply limit over the liquid-cooled halls [degC], or None.

    A hall's limit is its ``cooling.tcs_supply_limit_degc`` or, when not set, the lowest
    ``max_supply_temp_degc`` of its liquid-cooled rack systems (the catalog's figure, as the
    plant builder uses).
    """
    from dcsim.catalog.load import load_catalog

    sc = scenario_dict(result)
    try:
        systems = load_catalog(sc.get("catalog") or None).rack_systems
    except Exception:  # noqa: BLE001 - a plot must not fail on a catalog it cannot rebuild
        return None
    found: list[float] = []
    for site in sc.get("sites") or []:
        for building in site.get("buildings") or []:
            for hall in building.get("halls") or []:
                cooling = hall.get("cooling") or {}
                if cooling.get("type") != "liquid":
                    continue
                if cooling.get("tcs_supply_limit_degc") is not None:
                    found.append(float(cooling["tcs_supply_limit_degc"]))
                    continue
                for group in hall.get("rack_groups") or []:
                    rs = systems.get(group.get("system"))
                    if rs is not None and rs.liquid_heat_frac.value > 0:
                        found.append(float(rs.max_supply_temp_degc.value))
    return min(found) if found else None


def partial_months(
    index: pd.DatetimeIndex, months: pd.DatetimeIndex, clock: dt.tzinfo = dt.UTC
) -> list[bool]:
    """Whether each month of a monthly table is only partly covered by the run's time index.

    ``clock`` is the zone of naive month starts (the campus clock, :func:`campus_clock`).
    """
    if len(index) == 0:
        return [False] * len(months)
    step = index[1] - index[0] if len(index) > 1 else pd.Timedelta(0)
    first, last = index[0], index[-1] + step
    out = []
    for m in months:
        m0 = pd.Timestamp(m)
        if first.tz is not None and m0.tz is None:
            m0 = m0.tz_localize(clock)
        m1 = m0 + pd.offsets.MonthBegin(1)
        out.append(bool(first > m0 or last < m1))
    return out
