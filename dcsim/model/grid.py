"""Grid contract, tariff, carbon and on-site energy of every site, as per-tick arrays (SI).

:func:`build_grid` turns the ``grid``, ``tariff``, ``carbon`` and ``onsite`` blocks of each
site (:mod:`dcsim.scenario.grid_schema`) into what the fused kernel reads every tick and what
the cost accounts (:mod:`dcsim.results.grid_costs`) need afterwards:

- per-tick arrays, shape (n_site, n_ticks): ``contract_w`` (firm ramp + non-firm, capped at
  the import limit), ``grid_avail_w`` (contract minus curtailment; 0 in a disconnect),
  ``solar_w``, ``clean_w``, ``batt_cmd`` (+1 discharge, -1 charge, 0 hold: the arbitrage
  price signal; 0 for the other policies, whose rule the kernel applies itself) and
  ``cp_shed`` (1 where deferrable work is shed to avoid a coincident peak);
- ``site_grid_par`` (n_site, ``grid_layout.G_NCOLS``): battery and turbine parameters;
- ``events``: what to log (ramp steps, curtailments, disconnects, clean-block outages,
  coincident-peak intervals) as ``(t_s, kind, asset, detail, value)``;
- ``sites``: per-site :class:`SiteGridInfo` for the accounts (hourly price and carbon
  intensity, charge rates, coincident-peak intervals, fuel coefficients).

A site without a grid block keeps the spine behaviour: contract = available import = the
import limit, no on-site supply. Time convention: tick i covers ``[i*tick_s, (i+1)*tick_s)``
after the scenario start; an event or step at time t acts from the first tick that starts at
or after t, and an event shorter than a tick still takes one tick.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dcsim import units
from dcsim.catalog.grid_defaults import grid_default
from dcsim.errors import ConfigError
from dcsim.kernels import grid_layout as G
from dcsim.model.grid_files import (
    CARBON_COLUMN,
    PRICE_COLUMN,
    SYSTEM_LOAD_COLUMN,
    clock_hours,
    read_hourly_csv,
    resolve_data_path,
    typical_year_index,
    values_at_hours,
)
from dcsim.model.memory import TALLY_TICKS
from dcsim.model.solar import pv_spec, solar_ac_w
from dcsim.model.weather import load_weather
from dcsim.physics import grid as pg
from dcsim.scenario.grid_schema import MONTHS, WEEKDAYS
from dcsim.scenario.paths import site_key, site_path

__all__ = ["GridPlant", "SiteGridInfo", "build_grid"]

RngFor = Callable[[int, str, int], np.random.Generator]

#: Battery policy names of the schema -> kernel codes.
POLICY_CODES = {
    "ride_through": G.POLICY_RIDE_THROUGH,
    "peak_shaving": G.POLICY_PEAK_SHAVING,
    "arbitrage": G.POLICY_ARBITRAGE,
}


@dataclass
class SiteGridInfo:
    """What the accounts of one site need besides its recorded series (SI).

    Hourly arrays hold one value per clock hour of the horizon: hour k covers
    ``[k*3600 - hour0_offset_s, (k+1)*3600 - hour0_offset_s)`` seconds after the start.
    """

    name: str
    start: dt.datetime
    horizon_s: float
    tick_s: float
    import_limit_w: float
    hour0_offset_s: float
    has_tariff: bool = False
    energy_price_usd_per_j: np.ndarray = field(default_factory=lambda: np.zeros(0))
    carbon_kg_per_j: np.ndarray = field(default_factory=lambda: np.zeros(0))
    demand_usd_per_w_month: float = 0.0
    cp_usd_per_w_y: float = 0.0
    cp_months_count: int = 0
    cp_interval_start_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    min_take_frac: float = 0.0
    #: Largest contract of each calendar month (key ``year * 12 + month - 1``) [W].
    contract_month_max_w: dict[int, float] = field(default_factory=dict)
    clean_supply_j_per_y: float = 0.0
    clean_share_frac: float | None = None
    heat_rate_j_per_j: float = 0.0
    fuel_usd_per_j: float = 0.0
    fuel_kg_per_j: float = 0.0
    curtailed_s: float = 0.0
    disconnected_s: float = 0.0
    cp_shed_s: float = 0.0
    provenance: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class SiteSchedule:
    """The per-tick inputs of one site in compact form: steps, intervals and hourly values.

    :meth:`window` evaluates them for any range of ticks; any chunking of the horizon gives
    the values of the whole horizon, bit for bit (every value is a function of its own tick
    time). Tick ranges are ``(first, stop)`` tick indices; times are seconds after the start.
    """

    start: dt.datetime
    tick_s: float
    import_limit_w: float
    has_grid: bool = False
    firm_w: float = 0.0
    firm_steps: list[tuple[float, float]] = field(default_factory=list)  # (t_s, W)
    nonfirm_w: float = 0.0
    nonfirm_steps: list[tuple[float, float]] = field(default_factory=list)
    # (first, stop, kind, value): kind "cap" -> min(value W, non-firm), "frac" -> value x it
    curtailments: list[tuple[int, int, str, float]] = field(default_factory=list)
    disconnects: list[tuple[int, int]] = field(default_factory=list)
    hour0_offset_s: float = 0.0
    solar_hour_w: np.ndarray | None = None  # per clock hour [W]
    clean_w: float = 0.0
    clean_outages: list[tuple[int, int]] = field(default_factory=list)
    batt_cmd_hour: np.ndarray | None = None  # per clock hour: +1, -1, 0
    cp_days: np.ndarray | None = None  # days since 1970-01-01 flagged for avoidance
    cp_months: np.ndarray | None = None  # (12,) bool
    cp_from_h: float = 0.0
    cp_to_h: float = 0.0

    def contract_w(self, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Contract (capped at the import limit) and its effective non-firm part [W]."""
        if not self.has_grid:
            return np.full(len(t_s), self.import_limit_w), np.zeros(len(t_s))
        firm = _step_level(self.firm_w, self.firm_steps, t_s)
        nonfirm = _step_level(self.nonfirm_w, self.nonfirm_steps, t_s)
        contract = np.minimum(firm + nonfirm, self.import_limit_w)
        return contract, contract - np.minimum(firm, contract)

    def window(self, i0: int, i1: int) -> dict[str, np.ndarray]:
        """The site's inputs at ticks ``[i0, i1)`` (see :data:`SERIES`) and its disconnects.

        Returns
        -------
        dict
            The arrays of :data:`SERIES`, each of shape (i1 - i0,), and ``disconnected``
            (bool).
        """
        n = i1 - i0
        t_s = np.arange(i0, i1) * self.tick_s
        contract, nonfirm_eff = self.contract_w(t_s)
        disconnected = np.zeros(n, dtype=bool)
        if self.has_grid:
            curtail = np.zeros(n)
            for first, stop, kind, value in self.curtailments:
                a, b = max(first, i0) - i0, min(stop, i1) - i0
                if a < b:
                    ne = nonfirm_eff[a:b]
                    w = np.minimum(value, ne) if kind == "cap" else value * ne
                    curtail[a:b] = np.maximum(curtail[a:b], w)
            avail = contract - np.minimum(curtail, nonfirm_eff)
            for first, stop in self.disconnects:
                disconnected[max(first, i0) - i0 : max(min(stop, i1) - i0, 0)] = True
            avail[disconnected] = 0.0
        else:
            avail = contract.copy()
        tick_hour = None
        if self.solar_hour_w is not None or self.batt_cmd_hour is not None:
            tick_hour = np.floor((t_s + self.hour0_offset_s) / units.H_S + 1e-9).astype(np.int64)
        solar = self.solar_hour_w[tick_hour] if self.solar_hour_w is not None else np.zeros(n)
        clean = np.full(n, self.clean_w)
        for first, stop in self.clean_outages:
            clean[max(first, i0) - i0 : max(min(stop, i1) - i0, 0)] = 0.0
        cmd = self.batt_cmd_hour[tick_hour] if self.batt_cmd_hour is not None else np.zeros(n)
        shed = np.zeros(n)
        if self.cp_days is not None:
            _, month, _, hour_h, day = pg.calendar_fields(np.datetime64(self.start), t_s)
            shed = (
                np.isin(day, self.cp_days)
                & self.cp_months[month - 1]
                & pg.hour_window_mask(hour_h, self.cp_from_h, self.cp_to_h)
            ).astype(float)
        return {
            "contract_w": contract,
            "grid_avail_w": avail,
            "solar_w": solar,
            "clean_w": clean,
            "batt_cmd": cmd,
            "cp_shed": shed,
            "disconnected": disconnected,
        }


#: The per-tick series of a site, in the order of :meth:`GridPlant.window`.
SERIES = ("contract_w", "grid_avail_w", "solar_w", "clean_w", "batt_cmd", "cp_shed")


@dataclass
class GridPlant:
    """Grid and on-site inputs of all sites; see the module docstring.

    The per-tick series are produced for a range of ticks at a time (:meth:`window`), so a
    run holds a chunk of them, not the horizon. The attributes named in :data:`SERIES`
    evaluate the whole horizon (n_site, n_ticks) at each access: for tests and studies.
    """

    site_names: list[str]
    n_ticks: int
    schedules: list[SiteSchedule]
    site_grid_par: np.ndarray
    events: list[tuple[float, str, str, str, float]]
    sites: list[SiteGridInfo]

    def window(self, i0: int, i1: int) -> dict[str, np.ndarray]:
        """The series of :data:`SERIES` at ticks ``[i0, i1)``, each (n_site, i1 - i0)."""
        per_site = [sch.window(i0, i1) for sch in self.schedules]
        return {k: np.array([w[k] for w in per_site]).reshape(-1, i1 - i0) for k in SERIES}

    def _whole(self, key: str) -> np.ndarray:
        return self.window(0, self.n_ticks)[key]

    contract_w = property(lambda self: self._whole("contract_w"))
    grid_avail_w = property(lambda self: self._whole("grid_avail_w"))
    solar_w = property(lambda self: self._whole("solar_w"))
    clean_w = property(lambda self: self._whole("clean_w"))
    batt_cmd = property(lambda self: self._whole("batt_cmd"))
    cp_shed = property(lambda self: self._whole("cp_shed"))


# --------------------------------------------------------------------------- helpers


def _secs(start: dt.datetime, when: dt.datetime) -> float:
    return (when - start).total_seconds()


def _tick_range(t0_s: float, dur_s: float, tick_s: float, n_ticks: int) -> slice:
    """Ticks whose start lies in ``[t0, t0 + dur)``; at least one tick."""
    i0 = int(np.ceil(t0_s / tick_s - 1e-9))
    i1 = int(np.ceil((t0_s + dur_s) / tick_s - 1e-9))
    i1 = max(i1, i0 + 1)
    return slice(max(min(i0, n_ticks), 0), max(min(i1, n_ticks), 0))


def _step_level(initial_w: float, steps: list[tuple[float, float]], t_s: np.ndarray):
    """Capacity per tick [W]: the initial level, then each step's ``(t_s, W)`` from its time."""
    level = np.full(len(t_s), float(initial_w))
    for at_s, w in steps:
        level[t_s >= at_s - 1e-9] = w
    return level


def _month_mask(months: list[str]) -> np.ndarray:
    mask = np.zeros(12, dtype=bool)
    mask[[MONTHS.index(m) for m in months]] = True
    return mask


def _frame_rows(frame: pd.DataFrame, hours: pd.DatetimeIndex, where: str) -> np.ndarray:
    """Rows of an hourly weather frame labelled with the given hours (local standard time).

    The frame's own rows when it holds them all, else (a typical year) the rows with the
    same month, day and hour.
    """
    idx = frame.index
    naive = idx.tz_localize(None) if idx.tz is not None else idx
    if naive.is_unique:
        pos = naive.get_indexer(hours)
        if (pos >= 0).all():
            return pos
    try:
        return typical_year_index(naive, hours)
    except ValueError as e:
        raise ConfigError(
            f"site weather: {e}; expected hourly weather covering the horizon or a typical year",
            where,
        ) from None


def _month_temp_degc(
    frame: pd.DataFrame, s: int, site, m_hours: pd.DatetimeIndex, base_dir: Path
) -> np.ndarray:
    """Dry bulb [degC] at every hour of a calendar month, for the coincident-peak proxy.

    A month's system peak may fall outside the horizon (a horizon that starts or ends inside
    it), and the run loads weather for the horizon only; the hours the frame lacks come from
    the site's weather block for the whole month (the same typical year and heat waves).
    """
    naive = frame.index.tz_localize(None) if frame.index.tz is not None else frame.index
    if naive.is_unique:
        pos = naive.get_indexer(m_hours)
        if (pos >= 0).all():
            return frame["temp_air"].to_numpy()[pos]
    try:
        return frame["temp_air"].to_numpy()[typical_year_index(naive, m_hours)]
    except ValueError:
        pass
    month = load_weather(
        getattr(site, "weather", None),
        site.location,
        m_hours[0].to_pydatetime(),
        len(m_hours) * units.H_S,
        base_dir,
        f"{site_key(site, s)}.weather",
    )
    return month.temp_air_degc[: len(m_hours)]


def _tou_prices(energy, hours: pd.DatetimeIndex) -> np.ndarray:
    price = np.full(len(hours), float(energy.base_usd_per_mwh))
    month = np.asarray(hours.month)
    weekday = np.asarray(hours.day_of_week)
    hour = np.asarray(hours.hour, dtype=float)
    for period in energy.periods:
        sel = (
            _month_mask(period.months)[month - 1]
            & np.isin(weekday, [WEEKDAYS.index(d) for d in period.weekdays])
            & pg.hour_window_mask(hour, period.from_h, period.to_h)
        )
        price[sel] = period.price_usd_per_mwh
    return price


def _arbitrage_cmd(policy, price_usd_per_mwh: np.ndarray, hours: pd.DatetimeIndex) -> np.ndarray:
    """+1 / -1 / 0 per clock hour from price thresholds or daily price quantiles."""
    if policy.charge_below_usd_per_mwh is not None:
        lo = np.full(len(price_usd_per_mwh), policy.charge_below_usd_per_mwh)
        hi = np.full(len(price_usd_per_mwh), policy.discharge_above_usd_per_mwh)
    else:
        day = np.asarray(hours.normalize().asi8)
        lo = np.empty(len(price_usd_per_mwh))
        hi = np.empty(len(price_usd_per_mwh))
        for d in np.unique(day):
            sel = day == d
            lo[sel] = np.quantile(price_usd_per_mwh[sel], policy.charge_below_quantile_frac)
            hi[sel] = np.quantile(price_usd_per_mwh[sel], policy.discharge_above_quantile_frac)
    p = price_usd_per_mwh
    cmd = np.zeros(len(p))
    cmd[(p <= lo) & (p < hi)] = -1.0
    cmd[(p >= hi) & (p > lo)] = 1.0
    return cmd


def _default(value, name: str) -> float:
    return float(value) if value is not None else grid_default(name)


# --------------------------------------------------------------------------- builder


def build_grid(
    scenario,
    catalog,
    base_dir: Path,
    weather_frames: list[pd.DataFrame | None],
    n_ticks: int,
    tick_s: float,
    rng_for: RngFor,
) -> GridPlant:
    """Build the per-tick grid and on-site arrays of every site.

    Parameters
    ----------
    scenario
        A validated :class:`dcsim.scenario.schema.Scenario`; each site may carry ``grid``,
        ``tariff``, ``carbon`` and ``onsite`` blocks (missing attributes count as absent).
    catalog
        The catalog (unused today; grid defaults come from ``grid_defaults.yaml``).
    base_dir
        Folder of the scenario file; price, carbon and system-load paths are relative to it.
    weather_frames
        Per site, hourly weather (see :func:`dcsim.model.solar.solar_ac_w`) or None.
    n_ticks, tick_s
        Ticks in the horizon [count] and tick length [s].
    rng_for
        ``rng_for(seed, family, index)`` -> an independent random stream
        (:func:`dcsim.model.streams.rng_for`); families ``"curtailment"`` and ``"clean_outage"``
        indexed by site.

    Returns
    -------
    GridPlant

    Raises
    ------
    ConfigError
        For data files (named with line) and for blocks that need what the site lacks
        (solar or the coincident-peak proxy without weather, arbitrage without a tariff).
    """
    del catalog  # grid defaults are in their own sourced file
    n_site = len(scenario.sites)
    out = GridPlant(
        site_names=[s.name for s in scenario.sites],
        n_ticks=n_ticks,
        schedules=[],
        site_grid_par=np.zeros((n_site, G.G_NCOLS)),
        events=[],
        sites=[],
    )
    horizon_s = n_ticks * tick_s
    hours, offset_s = clock_hours(scenario.start, horizon_s)
    for s, site in enumerate(scenario.sites):
        frame = weather_frames[s] if s < len(weather_frames) else None
        info, schedule = _build_site(
            out, s, site, scenario, Path(base_dir), frame, n_ticks, tick_s, hours, offset_s,
            rng_for,
        )  # fmt: skip
        _tally_site(schedule, info, n_ticks)
        out.sites.append(info)
        out.schedules.append(schedule)
    out.events.sort(key=lambda e: (e[0], e[2], e[1]))
    return out


def _tally_site(sch: SiteSchedule, info: SiteGridInfo, n_ticks: int) -> None:
    """Horizon-long counts of a site, over its series a block of ticks at a time.

    Curtailed, disconnected and coincident-peak shed time, and the largest contract of each
    calendar month (the take-or-pay base of the accounts).
    """
    curtailed = disconnected = shed = 0
    month_max: dict[int, float] = {}
    for i0 in range(0, n_ticks, TALLY_TICKS):
        i1 = min(i0 + TALLY_TICKS, n_ticks)
        w = sch.window(i0, i1)
        off = w["disconnected"]
        curtailed += int(np.count_nonzero((w["grid_avail_w"] < w["contract_w"]) & ~off))
        disconnected += int(np.count_nonzero(off))
        shed += int(w["cp_shed"].sum())
        key = pg.calendar_fields(np.datetime64(sch.start), np.arange(i0, i1) * sch.tick_s)[0]
        for m in np.unique(key):
            top = float(w["contract_w"][key == m].max())
            month_max[int(m)] = max(month_max.get(int(m), top), top)
    if sch.has_grid:
        info.curtailed_s = float(curtailed) * sch.tick_s
        info.disconnected_s = float(disconnected) * sch.tick_s
    if sch.cp_days is not None:
        info.cp_shed_s = float(shed) * sch.tick_s
    info.contract_month_max_w = month_max


def _build_site(
    out: GridPlant,
    s: int,
    site,
    scenario,
    base_dir: Path,
    frame: pd.DataFrame | None,
    n_ticks: int,
    tick_s: float,
    hours: pd.DatetimeIndex,
    offset_s: float,
    rng_for: RngFor,
) -> tuple[SiteGridInfo, SiteSchedule]:
    where = site_path(scenario, s)
    horizon_s = n_ticks * tick_s
    start = scenario.start
    grid = getattr(site, "grid", None)
    tariff = getattr(site, "tariff", None)
    carbon = getattr(site, "carbon", None)
    onsite = getattr(site, "onsite", None)
    limit_w = site.import_limit_mw * units.MW_W
    info = SiteGridInfo(
        name=site.name,
        start=start,
        horizon_s=horizon_s,
        tick_s=tick_s,
        import_limit_w=limit_w,
        hour0_offset_s=offset_s,
    )
    sch = SiteSchedule(start=start, tick_s=tick_s, import_limit_w=limit_w, hour0_offset_s=offset_s)
    log = out.events

    def ticks_t_s(sl: slice) -> np.ndarray:
        return np.arange(sl.start, sl.stop) * tick_s

    # --- contract, curtailment, disconnects
    if grid is not None:
        sch.has_grid = True
        sch.firm_w = float(grid.firm_mw * units.MW_W)
        sch.firm_steps = [(_secs(start, st.date), st.mw * units.MW_W) for st in grid.firm_ramp]
        sch.nonfirm_w = float(grid.nonfirm_mw * units.MW_W)
        sch.nonfirm_steps = [
            (_secs(start, st.date), st.mw * units.MW_W) for st in grid.nonfirm_ramp
        ]
        for kind, steps in (
            ("grid_firm_step", grid.firm_ramp),
            ("grid_nonfirm_step", grid.nonfirm_ramp),
        ):
            for step in steps:
                t0 = _secs(start, step.date)
                if 0.0 <= t0 < horizon_s:
                    log.append((t0, kind, site.name, "energised", step.mw * units.MW_W))
        cur = grid.curtailment
        if cur is not None:
            # (start, duration, source, tick range, kind, value) of each curtailment
            evs: list[tuple[float, float, str, slice, str, float]] = []
            n_years = max(int(np.ceil(horizon_s / units.Y_S - 1e-12)), 1)
            used = np.zeros(n_years)
            for e in cur.events:
                t0 = _secs(start, e.start)
                sl = _tick_range(t0, e.duration_s, tick_s, n_ticks)
                if e.depth_mw is not None:
                    kind, value = "cap", e.depth_mw * units.MW_W
                else:
                    kind, value = "frac", 1.0 if e.depth_frac is None else e.depth_frac
                evs.append((t0, min(e.duration_s, horizon_s - t0), "scheduled", sl, kind, value))
                y = min(max(int(t0 // units.Y_S), 0), n_years - 1)
                used[y] += min(e.duration_s, horizon_s - t0)
            if cur.random is not None and cur.random.events_per_y > 0.0:
                r = cur.random
                dur = r.duration
                if dur.type == "fixed":
                    dpar = ("fixed", dur.duration_s, dur.duration_s)
                elif dur.type == "uniform":
                    dpar = ("uniform", dur.min_s, dur.max_s)
                else:
                    dpar = ("exponential", dur.mean_s, dur.max_s or np.inf)
                dep = r.depth
                xpar = (
                    ("fixed", dep.depth_frac, dep.depth_frac)
                    if dep.type == "fixed"
                    else ("uniform", dep.min_frac, dep.max_frac)
                )
                budget_s = (
                    cur.annual_budget_h * units.H_S if cur.annual_budget_h is not None else np.inf
                )
                rt, rd, rx = pg.curtailment_events(
                    rng_for(scenario.seed, "curtailment", s),
                    np.datetime64(start),
                    horizon_s,
                    r.events_per_y,
                    _month_mask(r.months),
                    r.from_h,
                    r.to_h,
                    dpar,
                    xpar,
                    budget_s=budget_s,
                    used_s=used,
                )
                for t0, d, x in zip(rt, rd, rx, strict=True):
                    sl = _tick_range(t0, d, tick_s, n_ticks)
                    src = f"random, depth {x:.2f} of non-firm"
                    evs.append((float(t0), float(d), src, sl, "frac", x))
            for t0, d, src, sl, kind, value in evs:
                sch.curtailments.append((sl.start, sl.stop, kind, value))
                ne = sch.contract_w(ticks_t_s(sl))[1]
                w = np.minimum(value, ne) if kind == "cap" else value * ne
                log.append(
                    (t0, "grid_curtailment_start", site.name, src, float(np.max(w, initial=0.0)))
                )
                log.append((t0 + d, "grid_curtailment_end", site.name, src, 0.0))
        for e in grid.disconnects:
            t0 = _secs(start, e.start)
            sl = _tick_range(t0, e.duration_s, tick_s, n_ticks)
            sch.disconnects.append((sl.start, sl.stop))
            contract = sch.contract_w(ticks_t_s(sl))[0]
            log.append(
                (
                    t0,
                    "grid_disconnect_start",
                    site.name,
                    "import 0",
                    float(np.max(contract, initial=0.0)),
                )
            )
            log.append((t0 + e.duration_s, "grid_disconnect_end", site.name, "", 0.0))
        info.min_take_frac = grid.min_take_frac or 0.0

    # --- on-site supply
    if onsite is not None:
        if onsite.solar is not None:
            if frame is None:
                raise ConfigError(
                    f"solar needs the weather of site '{site.name}'; expected a weather block "
                    "for the site",
                    f"{where}.onsite.solar",
                )
            spec = pv_spec(onsite.solar, site.location.latitude_deg)
            ac_row = solar_ac_w(
                frame, site.location.latitude_deg, site.location.longitude_deg, spec
            )
            # Clock hour [H, H + 1 h) takes the row labelled H + 1 h (irradiance averaged over
            # the hour ending at its label).
            ac_rows = _frame_rows(frame, hours + pd.Timedelta(hours=1), f"{where}.onsite.solar")
            sch.solar_hour_w = ac_row[ac_rows]
        if onsite.clean is not None:
            c = onsite.clean
            p_w = c.power_mw * units.MW_W
            if c.mtbf_h is not None:
                sch.clean_w = p_w
                ot, od = pg.alternating_outages(
                    rng_for(scenario.seed, "clean_outage", s),
                    horizon_s,
                    c.mtbf_h * units.H_S,
                    c.mttr_h * units.H_S,
                )
                for t0, d in zip(ot, od, strict=True):
                    sl = _tick_range(t0, d, tick_s, n_ticks)
                    sch.clean_outages.append((sl.start, sl.stop))
                    log.append((float(t0), "clean_outage_start", site.name, "forced outage", p_w))
                    log.append((float(t0 + d), "clean_outage_end", site.name, "", 0.0))
            else:
                sch.clean_w = p_w * _default(c.availability_frac, "clean_availability_frac")
        _fill_grid_par(out.site_grid_par[s], onsite, info)

    # --- prices and carbon per clock hour
    price_mwh = None
    if tariff is not None:
        info.has_tariff = True
        e = tariff.energy
        if e.type == "flat":
            price_mwh = np.full(len(hours), float(e.price_usd_per_mwh))
        elif e.type == "tou":
            price_mwh = _tou_prices(e, hours)
        else:
            series = read_hourly_csv(
                resolve_data_path(e.path, base_dir),
                PRICE_COLUMN,
                allow_negative=tariff.allow_negative_prices,
            )
            price_mwh = values_at_hours(series, hours)
            info.provenance["price"] = series.header
        info.energy_price_usd_per_j = price_mwh / units.MWH_J
        info.demand_usd_per_w_month = tariff.demand_charge_usd_per_kw_per_month / units.KW_W
        if tariff.coincident_peak is not None:
            _coincident_peak(out, s, site, tariff.coincident_peak, info, sch, frame, base_dir)
    info.carbon_kg_per_j = _carbon_per_hour(carbon, hours, base_dir, info) / units.MWH_J
    if carbon is not None:
        if carbon.clean_supply_mwh_per_y is not None:
            info.clean_supply_j_per_y = carbon.clean_supply_mwh_per_y * units.MWH_J
        info.clean_share_frac = carbon.clean_share_frac

    # --- battery price signal
    batt = onsite.battery if onsite is not None else None
    if batt is not None and batt.policy.type == "arbitrage":
        if price_mwh is None:
            raise ConfigError(
                "arbitrage needs energy prices; expected a tariff block for the site",
                f"{where}.onsite.battery.policy",
            )
        sch.batt_cmd_hour = _arbitrage_cmd(batt.policy, price_mwh, hours)
    return info, sch


def _fill_grid_par(row: np.ndarray, onsite, info: SiteGridInfo) -> None:
    b = onsite.battery
    if b is not None:
        rte = _default(b.round_trip_frac, "battery_round_trip_frac")
        energy_j = b.energy_mwh * units.MWH_J
        row[G.G_BATT_POWER_W] = b.power_mw * units.MW_W
        row[G.G_BATT_ENERGY_J] = energy_j
        row[G.G_BATT_ETA_CHARGE_FRAC] = np.sqrt(rte)
        row[G.G_BATT_ETA_DISCHARGE_FRAC] = np.sqrt(rte)
        row[G.G_BATT_RESERVE_J] = b.reserve_mwh * units.MWH_J
        row[G.G_BATT_SOC0_J] = _default(b.initial_soc_frac, "battery_initial_soc_frac") * energy_j
        row[G.G_BATT_POLICY] = POLICY_CODES[b.policy.type]
        if b.policy.type == "peak_shaving":
            row[G.G_PEAK_THRESHOLD_W] = b.policy.threshold_mw * units.MW_W
    t = onsite.turbines
    if t is not None:
        row[G.G_TURB_UNITS] = t.units_count
        row[G.G_TURB_UNIT_W] = t.unit_mw * units.MW_W
        row[G.G_TURB_START_S] = _default(t.start_s, "turbine_start_s")
        row[G.G_TURB_MIN_LOAD_FRAC] = _default(t.min_load_frac, "turbine_min_load_frac")
        row[G.G_TURB_MIN_RUN_S] = _default(t.min_run_s, "turbine_min_run_s")
        heat_rate = _default(t.heat_rate_mmbtu_per_mwh, "turbine_heat_rate_mmbtu_per_mwh")
        info.heat_rate_j_per_j = heat_rate * units.MMBTU_J / units.MWH_J
        info.fuel_usd_per_j = (
            _default(t.fuel_usd_per_mmbtu, "turbine_fuel_usd_per_mmbtu") / units.MMBTU_J
        )
        info.fuel_kg_per_j = (
            _default(t.emission_kg_per_mmbtu, "turbine_emission_kg_per_mmbtu") / units.MMBTU_J
        )


def _carbon_per_hour(carbon, hours: pd.DatetimeIndex, base_dir: Path, info) -> np.ndarray:
    intensity = carbon.intensity if carbon is not None else None
    if intensity is None:
        return np.full(len(hours), grid_default("grid_carbon_kg_per_mwh"))
    if intensity.type == "constant":
        return np.full(len(hours), float(intensity.intensity_kg_per_mwh))
    series = read_hourly_csv(
        resolve_data_path(intensity.path, base_dir), CARBON_COLUMN, allow_negative=False
    )
    info.provenance["carbon"] = series.header
    return values_at_hours(series, hours)


def _coincident_peak(
    out: GridPlant,
    s: int,
    site,
    cp,
    info: SiteGridInfo,
    sch: SiteSchedule,
    frame: pd.DataFrame | None,
    base_dir: Path,
) -> None:
    """Find each coincident-peak month's system-peak interval; build the avoidance signal."""
    where = f"{site_key(site, s)}.tariff.coincident_peak"
    start = info.start
    horizon_s = info.horizon_s
    info.cp_usd_per_w_y = cp.charge_usd_per_kw_per_y / units.KW_W
    info.cp_months_count = len(set(cp.months))
    end = start + dt.timedelta(seconds=horizon_s)
    month_starts = pd.date_range(
        pd.Timestamp(start).to_period("M").to_timestamp(), end, freq="MS", inclusive="left"
    )
    cp_months = _month_mask(cp.months)
    load_series = None
    if cp.system_load_path is not None:
        load_series = read_hourly_csv(
            resolve_data_path(cp.system_load_path, base_dir),
            SYSTEM_LOAD_COLUMN,
            allow_negative=False,
        )
        info.provenance["system_load"] = load_series.header
    elif frame is None:
        raise ConfigError(
            f"the coincident-peak proxy needs the weather of site '{site.name}'; expected a "
            "weather block for the site or system_load_path",
            where,
        )
    peak_hour_h = cp.peak_hour_h if cp.peak_hour_h is not None else grid_default("cp_peak_hour_h")
    starts: list[float] = []
    flagged_days: list[int] = []
    av = cp.avoidance
    if av is not None and frame is None:
        raise ConfigError(
            f"coincident-peak avoidance needs the weather of site '{site.name}' (temperature "
            "forecast); expected a weather block for the site",
            f"{where}.avoidance",
        )
    for m0 in month_starts:
        if not cp_months[m0.month - 1]:
            continue
        m_hours = pd.date_range(m0, m0 + pd.offsets.MonthBegin(1), freq="h", inclusive="left")
        if load_series is not None:
            load = values_at_hours(load_series, m_hours)
            k = int(np.argmax(load))
            t_int = m_hours[k]
            detail = f"{m0:%Y-%m} system peak {load[k]:.0f} MW (system-load file)"
            value = load[k] * units.MW_W
        else:
            temp = _month_temp_degc(frame, s, site, m_hours, base_dir)
            at_hour = np.asarray(m_hours.hour) == int(peak_hour_h)
            k = np.flatnonzero(at_hour)[int(np.argmax(temp[at_hour]))]
            t_int = m_hours[k].normalize() + pd.Timedelta(hours=peak_hour_h)
            detail = (
                f"{m0:%Y-%m} system-peak proxy: hottest {peak_hour_h:g} h, {temp[k]:.1f} degC "
                "(site weather)"
            )
            value = float(temp[k])
        t0 = (t_int.to_pydatetime() - start).total_seconds()
        if 0.0 <= t0 and t0 + pg.DEMAND_INTERVAL_S <= horizon_s + 1e-9:
            starts.append(t0)
            out.events.append((t0, "coincident_peak_interval", site.name, detail, value))
        if av is not None:
            temp = _month_temp_degc(frame, s, site, m_hours, base_dir)
            daily_max = temp.reshape(-1, 24).max(axis=1)
            margin = _default(av.margin_delta_k, "cp_margin_delta_k")
            running = np.maximum.accumulate(np.concatenate(([-np.inf], daily_max[:-1])))
            likely = daily_max >= running - margin
            day0 = int(np.datetime64(m0.to_pydatetime(), "D").astype(np.int64))
            for j in np.flatnonzero(likely):
                if av.weekdays_only and (m0 + pd.Timedelta(days=int(j))).weekday() >= 5:
                    continue
                flagged_days.append(day0 + int(j))
    info.cp_interval_start_s = np.asarray(starts)
    if av is not None and flagged_days:
        sch.cp_from_h = av.from_h if av.from_h is not None else grid_default("cp_window_from_h")
        sch.cp_to_h = av.to_h if av.to_h is not None else grid_default("cp_window_to_h")
        sch.cp_days = np.asarray(flagged_days, dtype=np.int64)
        sch.cp_months = cp_months
