"""Named cross-field checks of the grid, tariff, carbon and on-site blocks of each site.

Same contract as :mod:`dcsim.scenario.checks`: ``check_x(scenario, catalog) -> None`` raises
:class:`~dcsim.errors.ConfigError` with ``where`` the dotted field path it blames
(``sites.0.onsite.battery.reserve_mwh``), and a message naming the value and what was
expected. A site without the blocks passes every check. :data:`GRID_CHECKS` lists them in
the order they should run. Data files (prices, carbon, system load) are checked when the
plant is built, where the scenario folder is known (:mod:`dcsim.model.grid_files`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from dcsim import units
from dcsim.errors import ConfigError
from dcsim.scenario.grid_schema import MONTHS, WEEKDAYS
from dcsim.scenario.types import format_date

if TYPE_CHECKING:
    from dcsim.catalog.schema import Catalog
    from dcsim.scenario.schema import Scenario

__all__ = [
    "GRID_CHECKS",
    "check_battery_reserve_within_energy",
    "check_contract_within_import_limit",
    "check_grid_events_in_horizon",
    "check_grid_ramp_order",
    "check_min_take_has_demand_charge",
    "check_record_interval_for_demand_charges",
    "check_scheduled_curtailment_within_budget",
    "check_tariff_periods_disjoint",
    "check_tariff_prices_non_negative",
]

Check = Callable[["Scenario", "Catalog"], None]

#: Demand charges are billed on 15-minute averages (see dcsim.physics.grid).
_DEMAND_INTERVAL_S = 15.0 * units.MIN_S


def _blocks(s: Scenario, name: str) -> Iterator[tuple[str, Any, Any]]:
    """(``sites.i.<name>``, site, block) for every site that has the block."""
    for i, site in enumerate(s.sites):
        block = getattr(site, name, None)
        if block is not None:
            yield f"sites.{i}.{name}", site, block


def _d(stamp: dt.datetime) -> str:
    return format_date(stamp)


def check_contract_within_import_limit(s: Scenario, catalog: Catalog) -> None:
    """Firm + non-firm contract never exceeds the site's import limit (physical connection)."""
    for where, site, grid in _blocks(s, "grid"):
        steps = sorted(
            [
                (st.date, "firm", st.mw, f"{where}.firm_ramp.{k}")
                for k, st in enumerate(grid.firm_ramp)
            ]
            + [
                (st.date, "nonfirm", st.mw, f"{where}.nonfirm_ramp.{k}")
                for k, st in enumerate(grid.nonfirm_ramp)
            ],
            key=lambda x: x[0],
        )
        level = {"firm": grid.firm_mw, "nonfirm": grid.nonfirm_mw}
        blame = f"{where}.nonfirm_mw" if grid.nonfirm_mw > 0 else f"{where}.firm_mw"
        for when, kind, mw, path in [(None, None, None, blame), *steps]:
            if kind is not None:
                level[kind] = mw
            total = level["firm"] + level["nonfirm"]
            if total > site.import_limit_mw * (1 + 1e-9):
                since = "" if when is None else f" from {_d(when)}"
                raise ConfigError(
                    f"contract {level['firm']:g} MW firm + {level['nonfirm']:g} MW non-firm = "
                    f"{total:g} MW{since} exceeds import_limit_mw {site.import_limit_mw:g}; "
                    "expected a contract within the physical connection",
                    path,
                )


def check_grid_ramp_order(s: Scenario, catalog: Catalog) -> None:
    """Energisation steps are in strictly increasing date order."""
    for where, _, grid in _blocks(s, "grid"):
        for name in ("firm_ramp", "nonfirm_ramp"):
            steps = getattr(grid, name)
            for k in range(1, len(steps)):
                if steps[k].date <= steps[k - 1].date:
                    raise ConfigError(
                        f"{_d(steps[k].date)} is not after the previous step "
                        f"({_d(steps[k - 1].date)}); expected steps in date order",
                        f"{where}.{name}.{k}.date",
                    )


def check_grid_events_in_horizon(s: Scenario, catalog: Catalog) -> None:
    """Scheduled curtailments and disconnects start inside the simulated horizon."""
    lo, hi = s.start, s.end
    for where, _, grid in _blocks(s, "grid"):
        lists = [("disconnects", grid.disconnects)]
        if grid.curtailment is not None:
            lists.insert(0, ("curtailment.events", grid.curtailment.events))
        for name, events in lists:
            for k, e in enumerate(events):
                if not lo <= e.start < hi:
                    raise ConfigError(
                        f"{_d(e.start)} is outside the horizon {_d(lo)} to {_d(hi)}; "
                        "expected an event start inside it",
                        f"{where}.{name}.{k}.start",
                    )


def _level_at(initial: float, steps, when: dt.datetime) -> float:
    level = initial
    for st in steps:
        if st.date <= when:
            level = st.mw
    return level


def check_scheduled_curtailment_within_budget(s: Scenario, catalog: Catalog) -> None:
    """Scheduled curtailment fits the annual budget and the non-firm block it curtails."""
    for where, _, grid in _blocks(s, "grid"):
        cur = grid.curtailment
        if cur is None:
            continue
        used: dict[int, float] = {}
        for k, e in enumerate(cur.events):
            nonfirm = _level_at(grid.nonfirm_mw, grid.nonfirm_ramp, e.start)
            if nonfirm <= 0.0:
                raise ConfigError(
                    f"curtailment on {_d(e.start)} but the non-firm capacity is 0 MW then; "
                    "expected nonfirm_mw > 0 (firm capacity is never curtailed; use a disconnect)",
                    f"{where}.curtailment.events.{k}.start",
                )
            if e.depth_mw is not None and e.depth_mw > nonfirm * (1 + 1e-9):
                raise ConfigError(
                    f"{e.depth_mw:g} MW exceeds the non-firm capacity {nonfirm:g} MW on "
                    f"{_d(e.start)}; expected at most the non-firm block",
                    f"{where}.curtailment.events.{k}.depth_mw",
                )
            year = int((e.start - s.start).total_seconds() // units.Y_S)
            used[year] = used.get(year, 0.0) + e.duration_s
            if cur.annual_budget_h is not None and used[year] > cur.annual_budget_h * units.H_S * (
                1 + 1e-9
            ):
                raise ConfigError(
                    f"scheduled curtailment reaches {used[year] / units.H_S:g} h in contract "
                    f"year {year + 1}; expected at most annual_budget_h "
                    f"{cur.annual_budget_h:g} h",
                    f"{where}.curtailment.events.{k}.duration_s",
                )


def _tou_cells(period) -> set[tuple[int, int, int]]:
    hours = (
        range(period.from_h, period.to_h)
        if period.from_h < period.to_h
        else itertools.chain(range(period.from_h, 24), range(0, period.to_h))
    )
    return {
        (MONTHS.index(m), WEEKDAYS.index(d), h)
        for m in period.months
        for d in period.weekdays
        for h in hours
    }


def check_tariff_periods_disjoint(s: Scenario, catalog: Catalog) -> None:
    """Time-of-use periods do not overlap (an hour has one price)."""
    for where, _, tariff in _blocks(s, "tariff"):
        if tariff.energy.type != "tou":
            continue
        periods = tariff.energy.periods
        cells = [_tou_cells(p) for p in periods]
        for j in range(len(periods)):
            for i in range(j):
                common = cells[i] & cells[j]
                if common:
                    m, d, h = min(common)
                    a = periods[i].name or f"periods.{i}"
                    raise ConfigError(
                        f"overlaps {a} (e.g. {MONTHS[m]} {WEEKDAYS[d]} {h:02d}:00); "
                        "expected time-of-use periods that do not overlap",
                        f"{where}.energy.periods.{j}",
                    )


def check_tariff_prices_non_negative(s: Scenario, catalog: Catalog) -> None:
    """Flat and time-of-use prices are >= 0 unless ``allow_negative_prices: true``."""
    for where, _, tariff in _blocks(s, "tariff"):
        if tariff.allow_negative_prices:
            continue
        e = tariff.energy
        items: list[tuple[str, float]] = []
        if e.type == "flat":
            items.append((f"{where}.energy.price_usd_per_mwh", e.price_usd_per_mwh))
        elif e.type == "tou":
            items.append((f"{where}.energy.base_usd_per_mwh", e.base_usd_per_mwh))
            items += [
                (f"{where}.energy.periods.{k}.price_usd_per_mwh", p.price_usd_per_mwh)
                for k, p in enumerate(e.periods)
            ]
        for path, value in items:
            if value < 0.0:
                raise ConfigError(
                    f"{value:g} USD/MWh is negative; expected >= 0, or "
                    "allow_negative_prices: true in the tariff",
                    path,
                )


def check_min_take_has_demand_charge(s: Scenario, catalog: Catalog) -> None:
    """A minimum-take clause is billed at the demand rate, so the tariff must have one."""
    for i, site in enumerate(s.sites):
        grid = getattr(site, "grid", None)
        if grid is None or not grid.min_take_frac:
            continue
        tariff = getattr(site, "tariff", None)
        if tariff is None or tariff.demand_charge_usd_per_kw_per_month <= 0.0:
            raise ConfigError(
                f"{grid.min_take_frac:g} needs a demand charge to bill; expected "
                "tariff.demand_charge_usd_per_kw_per_month > 0 for the site",
                f"sites.{i}.grid.min_take_frac",
            )


def check_battery_reserve_within_energy(s: Scenario, catalog: Catalog) -> None:
    """A battery's ride-through reserve fits in its energy."""
    for where, _, onsite in _blocks(s, "onsite"):
        b = onsite.battery
        if b is not None and b.reserve_mwh > b.energy_mwh:
            raise ConfigError(
                f"{b.reserve_mwh:g} MWh exceeds the battery energy {b.energy_mwh:g} MWh; "
                "expected a reserve at most energy_mwh",
                f"{where}.battery.reserve_mwh",
            )


def check_record_interval_for_demand_charges(s: Scenario, catalog: Catalog) -> None:
    """Demand-type charges need 15-minute averages: the record interval divides 15 min."""
    for where, site, tariff in _blocks(s, "tariff"):
        grid = getattr(site, "grid", None)
        needs = (
            tariff.demand_charge_usd_per_kw_per_month > 0.0
            or tariff.coincident_peak is not None
            or (grid is not None and bool(grid.min_take_frac))
        )
        if not needs:
            continue
        ratio = _DEMAND_INTERVAL_S / s.record_every_s
        if ratio < 1 - 1e-9 or abs(ratio - round(ratio)) > 1e-9:
            raise ConfigError(
                f"{s.record_every_s:g} s does not divide 900 s, which the demand charges of "
                f"{where} need; expected e.g. 15min, 5min or 1min",
                "record_every_s",
            )
        offset_s = s.start.minute * units.MIN_S + s.start.second
        if offset_s % _DEMAND_INTERVAL_S:
            raise ConfigError(
                f"{_d(s.start)} is not on a quarter hour, which the demand charges of {where} "
                "need; expected a start at :00, :15, :30 or :45",
                "start",
            )


#: The grid checks, in the order they run.
GRID_CHECKS: tuple[Check, ...] = (
    check_grid_ramp_order,
    check_contract_within_import_limit,
    check_grid_events_in_horizon,
    check_scheduled_curtailment_within_budget,
    check_tariff_periods_disjoint,
    check_tariff_prices_non_negative,
    check_min_take_has_demand_charge,
    check_battery_reserve_within_energy,
    check_record_interval_for_demand_charges,
)
