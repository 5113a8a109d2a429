"""Validated scenario -> per-hall cooling tables (SI) and unit bookkeeping for faults.

:func:`build_cooling` turns each hall's ``cooling:`` block and the cooling catalog
(``dcsim/catalog/data/cooling_equipment.yaml``) into the rows of ``cool_par`` and
``cool_state`` (columns in :mod:`dcsim.kernels.cooling_layout`), halls in the order
sites -> buildings -> halls. Catalog units (kW, kPa, L/s, h) become SI here, once.

A hall with ``FixedCopCooling`` gets type ``COOLING_FIXED_COP`` and only its COP: the kernel
then computes mechanical power as heat / COP, with no temperatures and no thermal limit.
An ``AirCooling`` hall gets type ``COOLING_AIR``: its chilled-water plant fills the loop,
pump, economiser, chiller and CRAH columns, plus its UPS, lighting and humidifier columns.

Equipment comes from the catalog's ``cooling_equipment`` table (the shipped file merged with a
scenario's ``catalog: {cooling_equipment: ...}`` block).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dcsim import units
from dcsim.catalog.cooling_equipment import (
    CDU,
    CRAH,
    AdiabaticPad,
    Chiller,
    CoolingTower,
    DryCooler,
    Fluids,
    Humidifier,
    Pump,
    SpaceLoads,
    merge_cooling_equipment,
)
from dcsim.catalog.equipment import load_power_equipment
from dcsim.errors import ConfigError
from dcsim.kernels import cooling_layout as CL
from dcsim.model.outside_it import hall_outside_it_per_rack_w
from dcsim.physics.cooling import (
    adiabatic_air_degc,
    cdu_approach_delta_k,
    chiller_capacity_frac,
    pump_power_w,
)
from dcsim.physics.power_chain import TOPOLOGY_CODES, ups_modules_sharing
from dcsim.scenario.paths import hall_path

__all__ = [
    "FAULT_UNIT_KIND",
    "UNIT_KINDS",
    "UNIT_STATE_COLS",
    "CoolingPlant",
    "DesignCapacity",
    "ScheduledFault",
    "build_cooling",
    "design_capacity",
    "hall_design_heat_w",
    "halls_in_order",
]

#: Unit kinds that fail and are repaired, and their available-count columns in cool_state.
#: "adiabatic" is the water supply of a hall's adiabatic pads (one per hall that has pads):
#: it has no failure rate of its own and goes out only in a scheduled outage.
UNIT_KINDS = ("cdu", "fws_pump", "heat_rejection", "chiller", "air_chiller", "crah", "adiabatic")
UNIT_STATE_COLS = (
    CL.CS_CDU_AVAIL_COUNT,
    CL.CS_PUMP_AVAIL_COUNT,
    CL.CS_REJECT_AVAIL_COUNT,
    CL.CS_CHILLER_AVAIL_COUNT,
    CL.CS_AIR_CHILLER_AVAIL_COUNT,
    CL.CS_CRAH_AVAIL_COUNT,
    CL.CS_ADIABATIC_AVAIL_COUNT,
)
#: Scenario fault unit names -> index in UNIT_KINDS (an air hall's chilled-water pumps and
#: chillers sit in the fws_pump and chiller slots).
FAULT_UNIT_KIND = {
    "cdu": 0,
    "fws_pump": 1,
    "chw_pump": 1,
    "dry_cooler": 2,
    "tower_cell": 2,
    "chiller": 3,
    "air_chiller": 4,
    "crah": 5,
    "adiabatic_water": 6,
}


@dataclass(frozen=True)
class _PadWater:
    """The water supply of a hall's adiabatic pads, as a unit group of one."""

    equipment: str
    installed_count: int = 1
    design_count: int = 1


@dataclass(frozen=True)
class ScheduledFault:
    """A scheduled outage: ``count`` units of one kind in one hall, from start for duration."""

    hall: int
    kind: int
    start_s: float
    duration_s: float
    count: int
    label: str


@dataclass
class CoolingPlant:
    """Cooling tables of every hall and the unit bookkeeping the fault processes need.

    ``unit_*`` arrays have shape (n_hall, len(UNIT_KINDS)); a kind a hall does not have has
    count 0. Times in seconds.
    """

    hall_names: list[str]
    hall_short_names: list[str]
    hall_site: np.ndarray
    cool_par: np.ndarray
    cool_state0: np.ndarray
    unit_kinds: tuple[str, ...]
    unit_state_cols: tuple[int, ...]
    unit_installed_count: np.ndarray
    unit_design_count: np.ndarray
    unit_equipment: list[list[str]]
    unit_mtbf_s: np.ndarray
    unit_mttr_s: np.ndarray
    random_failures: np.ndarray
    scheduled_faults: list[ScheduledFault]
    design_heat_w: np.ndarray
    design_liquid_heat_w: np.ndarray
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def n_halls(self) -> int:
        """Number of halls."""
        return int(self.cool_par.shape[0])


@dataclass(frozen=True)
class DesignCapacity:
    """Capacities of a liquid plant at its design conditions, N units (no spares) [W]."""

    cdus_w: float
    pumps_w: float
    economiser_w: float
    chillers_w: float
    crah_w: float
    air_chillers_w: float
    tcs_supply_degc: float

    @property
    def heat_rejection_w(self) -> float:
        """Economiser plus chillers on the facility water [W]."""
        return self.economiser_w + self.chillers_w


def halls_in_order(scenario: Any) -> list[tuple[str, int, Any, Any]]:
    """Every hall, whatever its cooling, as (dotted path, site index, site, hall).

    Parameters
    ----------
    scenario
        A validated scenario.

    Returns
    -------
    list
        One tuple per hall, sites -> buildings -> halls.
    """
    out = []
    for i, site in enumerate(scenario.sites):
        for j, building in enumerate(site.buildings):
            for k, hall in enumerate(building.halls):
                out.append((hall_path(scenario, i, j, k), i, site, hall))
    return out


def hall_design_heat_w(hall: Any, site: Any, catalog: Any) -> tuple[float, float]:
    """Design white-space heat of a hall and its liquid share [W].

    Design heat = (rack design power x count + IT outside the racks at full load) / PDU
    efficiency; the liquid share is rack design power x count x liquid_heat_frac of each rack
    system. The scale-out fabric, storage and management (:mod:`dcsim.model.fabric`, loaded
    figure per rack unit) sit in the hall's white space and reject their heat to air, like the
    PDU loss: the run puts them in the hall's heat (``docs/core.md``), so the design does too.

    Parameters
    ----------
    hall, site
        Scenario hall and its site (for the PDU entry of its power chain).
    catalog
        The equipment catalog (rack systems).

    Returns
    -------
    heat_w, liquid_w
        [W].
    """
    pdu = load_power_equipment()[site.power_chain.pdu]
    rack_w = 0.0
    liquid_w = 0.0
    for g in hall.rack_groups:
        system = catalog.rack_systems[g.system]
        p_w = g.count * system.design_power_kw.value * units.KW_W
        rack_w += p_w
        liquid_w += p_w * system.liquid_heat_frac.value
    racks = sum(g.count for g in hall.rack_groups)
    outside_w = racks * hall_outside_it_per_rack_w(hall, catalog)["serve"]
    return (rack_w + outside_w) / pdu.efficiency_frac.value, liquid_w


def _get(equipment: dict, key: str, cls: type, where: str) -> Any:
    entry = equipment.get(key)
    if not isinstance(entry, cls):
        known = sorted(k for k, v in equipment.items() if isinstance(v, cls))
        raise ConfigError(
            f"'{key}' is not a known {cls.__name__} entry of catalog/data/cooling_equipment.yaml; "
            f"known: {', '.join(known)}",
            where=where,
        )
    return entry


def _econ_k_w_per_k(unit: DryCooler | CoolingTower) -> float:
    itd = unit.rated_itd_delta_k if isinstance(unit, CoolingTower) else unit.rated_itd_delta_k.value
    return unit.rated_heat_kw.value * units.KW_W / itd


def _design_capacity_frac(ch: Chiller, spec: Any, equipment: dict) -> float:
    """Available over rated capacity of a chiller at the plant's design dry and wet bulb."""
    t_in = spec.design_dry_bulb_degc
    if ch.condenser == "water":
        t_in = spec.design_wet_bulb_degc + equipment[ch.condenser_tower].rated_approach_delta_k
    return chiller_capacity_frac(
        t_in,
        ch.rating_condenser_degc.value,
        ch.capacity_derate_per_k_frac.value if ch.capacity_derate_per_k_frac else 0.0,
        ch.high_limit_condenser_degc.value if ch.high_limit_condenser_degc else 0.0,
    )


def design_capacity(
    spec: Any, equipment: dict, liquid_w: float, where: str = "cooling"
) -> DesignCapacity:
    """Capacities of a liquid plant at design conditions with N units of each kind.

    The economiser's capacity is taken at the design dry and wet bulb, the facility-water
    setpoint and full fans (adiabatic pads wet if fitted), the chillers' at the condenser
    temperature of the design dry bulb (or wet bulb, water-cooled); the TCS supply is the
    setpoint plus the CDU approach at the design liquid heat shared by N CDUs.

    Parameters
    ----------
    spec
        A ``LiquidCooling`` block.
    equipment
        Cooling catalog from :func:`dcsim.catalog.cooling_equipment.load_cooling_equipment`.
    liquid_w
        Design liquid heat of the hall [W].
    where
        Dotted path of ``spec`` for error messages.

    Returns
    -------
    DesignCapacity
    """
    cdu = _get(equipment, spec.cdus.equipment, CDU, f"{where}.cdus.equipment")
    pump = _get(equipment, spec.fws_pumps.equipment, Pump, f"{where}.fws_pumps.equipment")
    fluids = equipment["fluids"]
    rho_cp = fluids.water_density_kg_per_l.value * fluids.water_cp_j_per_kg_k.value
    rej = spec.heat_rejection
    econ_w = 0.0
    chillers = None
    t_set = spec.fws_supply_setpoint_degc
    if rej.type == "dry_cooler":
        unit = _get(
            equipment, rej.units.equipment, DryCooler, f"{where}.heat_rejection.units.equipment"
        )
        t_air = spec.design_dry_bulb_degc
        if rej.adiabatic is not None:
            pad = _get(
                equipment, rej.adiabatic.equipment, AdiabaticPad,
                f"{where}.heat_rejection.adiabatic.equipment",
            )  # fmt: skip
            t_air = adiabatic_air_degc(
                spec.design_dry_bulb_degc,
                spec.design_wet_bulb_degc,
                pad.saturation_efficiency_frac.value,
            )
        itd = t_set + spec.fws_range_delta_k - t_air
        econ_w = rej.units.design_count * _econ_k_w_per_k(unit) * max(itd, 0.0)
        chillers = rej.trim_chillers
    elif rej.type == "cooling_tower":
        cell = _get(
            equipment, rej.cells.equipment, CoolingTower, f"{where}.heat_rejection.cells.equipment"
        )
        itd = (
            t_set + spec.fws_range_delta_k - cell.hx_approach_delta_k.value
            - spec.design_wet_bulb_degc
        )  # fmt: skip
        econ_w = rej.cells.design_count * _econ_k_w_per_k(cell) * max(itd, 0.0)
        chillers = rej.trim_chillers
    else:
        chillers = rej.chillers
    chillers_w = 0.0
    if chillers is not None:
        field = "chillers" if rej.type == "chiller" else "trim_chillers"
        ch = _get(
            equipment, chillers.equipment, Chiller, f"{where}.heat_rejection.{field}.equipment"
        )
        chillers_w = (
            chillers.design_count
            * ch.rated_heat_kw.value
            * units.KW_W
            * _design_capacity_frac(ch, spec, equipment)
        )
    crah_w = 0.0
    air_ch_w = 0.0
    if spec.air_path is not None:
        crah = _get(
            equipment, spec.air_path.crah.equipment, CRAH, f"{where}.air_path.crah.equipment"
        )
        ach = _get(
            equipment,
            spec.air_path.chillers.equipment,
            Chiller,
            f"{where}.air_path.chillers.equipment",
        )
        crah_w = spec.air_path.crah.design_count * crah.rated_heat_kw.value * units.KW_W
        air_ch_w = (
            spec.air_path.chillers.design_count
            * ach.rated_heat_kw.value
            * units.KW_W
            * _design_capacity_frac(ach, spec, equipment)
        )
    cdu_unit_w = cdu.rated_heat_kw.value * units.KW_W
    per_cdu_w = liquid_w / spec.cdus.design_count
    return DesignCapacity(
        cdus_w=spec.cdus.design_count * cdu_unit_w,
        pumps_w=spec.fws_pumps.design_count
        * pump.design_flow_l_per_s.value
        * rho_cp
        * spec.fws_range_delta_k,
        economiser_w=econ_w,
        chillers_w=chillers_w,
        crah_w=crah_w,
        air_chillers_w=air_ch_w,
        tcs_supply_degc=t_set
        + cdu_approach_delta_k(per_cdu_w, cdu_unit_w, cdu.rated_approach_delta_k.value),
    )


def _chiller_cols(row: np.ndarray, col0: int, ch: Chiller) -> None:
    plr0 = CL.CP_CH_EIR_A if col0 == CL.CP_CH_UNIT_W else CL.CP_ACH_EIR_A
    row[plr0] = ch.eir_fplr_a.value
    row[plr0 + 1] = ch.eir_fplr_b.value
    row[plr0 + 2] = ch.eir_fplr_c.value
    row[plr0 + 3] = ch.min_unloading_frac.value
    row[col0] = ch.rated_heat_kw.value * units.KW_W
    row[col0 + 1] = ch.carnot_frac.value
    row[col0 + 2] = ch.evap_approach_delta_k.value
    row[col0 + 3] = ch.cond_approach_delta_k.value
    row[col0 + 4] = ch.cop_max.value
    row[col0 + 5] = 1.0 if ch.condenser == "water" else 0.0
    row[col0 + 6] = ch.condenser_range_delta_k.value if ch.condenser == "water" else 0.0
    der0 = CL.CP_CH_RATING_COND_DEGC if col0 == CL.CP_CH_UNIT_W else CL.CP_ACH_RATING_COND_DEGC
    row[der0] = ch.rating_condenser_degc.value
    if ch.capacity_derate_per_k_frac is not None:
        row[der0 + 1] = ch.capacity_derate_per_k_frac.value
    if ch.high_limit_condenser_degc is not None:
        row[der0 + 2] = ch.high_limit_condenser_degc.value  # 0 in the table: no limit


def _tower_cols(row: np.ndarray, tower: CoolingTower) -> None:
    row[CL.CP_TOWER_EVAP_FRAC] = tower.evaporation_heat_frac.value
    row[CL.CP_TOWER_CYCLES] = tower.cycles_of_concentration.value
    row[CL.CP_TOWER_DRIFT_FRAC] = tower.drift_frac.value
    row[CL.CP_TOWER_RANGE_DELTA_K] = tower.rated_range_delta_k
    row[CL.CP_TOWER_FAN_W_PER_W] = tower.fan_power_kw.value / tower.rated_heat_kw.value
    row[CL.CP_TOWER_APPROACH_DELTA_K] = tower.rated_approach_delta_k


def _liquid_row(
    where: str, hall: Any, site: Any, catalog: Any, equipment: dict
) -> tuple[np.ndarray, np.ndarray, list[tuple[Any, Any]], dict[str, str]]:
    """cool_par and cool_state rows of a liquid hall, and (group, entry) per unit kind."""
    spec = hall.cooling
    fluids: Fluids = equipment["fluids"]
    cp_w = fluids.water_cp_j_per_kg_k.value
    rho = fluids.water_density_kg_per_l.value
    heat_w, liquid_w = hall_design_heat_w(hall, site, catalog)
    row = np.zeros(CL.CP_NCOLS)
    row[CL.CP_TYPE] = CL.COOLING_LIQUID
    row[CL.CP_LIQUID_FRAC] = liquid_w / heat_w if heat_w > 0.0 else 0.0
    liquid_limits = [
        catalog.rack_systems[g.system].max_supply_temp_degc.value
        for g in hall.rack_groups
        if catalog.rack_systems[g.system].liquid_heat_frac.value > 0.0
    ]
    limit = spec.tcs_supply_limit_degc
    if limit is None:
        limit = min(liquid_limits) if liquid_limits else np.inf
    row[CL.CP_TCS_LIMIT_DEGC] = limit
    row[CL.CP_FWS_SETPOINT_DEGC] = spec.fws_supply_setpoint_degc
    row[CL.CP_FWS_RANGE_DELTA_K] = spec.fws_range_delta_k
    row[CL.CP_LOOP_HEAT_CAP_J_PER_K] = (
        (spec.tcs_water_volume_l + spec.fws_water_volume_l) * rho * cp_w
    )
    row[CL.CP_WATER_CP_J_PER_KG_K] = cp_w
    row[CL.CP_AIR_CP_J_PER_KG_K] = fluids.air_cp_j_per_kg_k.value
    row[CL.CP_WATER_KG_PER_L] = rho
    row[CL.CP_LATENT_HEAT_J_PER_KG] = fluids.latent_heat_j_per_kg.value
    notes: dict[str, str] = {}

    cdu = _get(equipment, spec.cdus.equipment, CDU, f"{where}.cooling.cdus.equipment")
    cdu_w = cdu.rated_heat_kw.value * units.KW_W
    tcs_flow_l_per_s = cdu_w / (rho * cp_w * cdu.tcs_range_delta_k.value)
    row[CL.CP_CDU_UNIT_W] = cdu_w
    row[CL.CP_CDU_APPROACH_DELTA_K] = cdu.rated_approach_delta_k.value
    row[CL.CP_CDU_PUMP_W] = pump_power_w(
        tcs_flow_l_per_s, cdu.pump_head_kpa.value, cdu.pump_efficiency_frac.value
    )
    row[CL.CP_CDU_MIN_SPEED_FRAC] = cdu.min_speed_frac.value
    row[CL.CP_TCS_RANGE_DELTA_K] = cdu.tcs_range_delta_k.value
    # One exponent serves both pump groups; the CDU's own is used when they differ (noted).
    pump = _get(equipment, spec.fws_pumps.equipment, Pump, f"{where}.cooling.fws_pumps.equipment")
    row[CL.CP_PUMP_UNIT_HEAT_W] = (
        pump.design_flow_l_per_s.value * rho * cp_w * spec.fws_range_delta_k
    )
    row[CL.CP_PUMP_W] = pump_power_w(
        pump.design_flow_l_per_s.value, pump.design_head_kpa.value, pump.efficiency_frac.value
    )
    row[CL.CP_PUMP_MIN_SPEED_FRAC] = pump.min_speed_frac.value
    row[CL.CP_PUMP_EXPONENT] = pump.power_exponent.value
    if pump.power_exponent.value != cdu.pump_power_exponent.value:
        notes["pump_exponent"] = (
            f"{where}: CDU and FWS pump exponents differ; the FWS pump's "
            f"{pump.power_exponent.value:g} is used for both"
        )
    kinds: list[tuple[Any, Any]] = [(spec.cdus, cdu), (spec.fws_pumps, pump)]

    rej = spec.heat_rejection
    tower_ids: list[str] = []  # towers whose water and fan figures apply, first one used
    chiller_group = None
    if rej.type in ("dry_cooler", "cooling_tower"):
        group = rej.units if rej.type == "dry_cooler" else rej.cells
        cls = DryCooler if rej.type == "dry_cooler" else CoolingTower
        field = "units" if rej.type == "dry_cooler" else "cells"
        unit = _get(
            equipment, group.equipment, cls, f"{where}.cooling.heat_rejection.{field}.equipment"
        )
        row[CL.CP_ECON_KIND] = (
            CL.ECON_DRY_COOLER if rej.type == "dry_cooler" else CL.ECON_COOLING_TOWER
        )
        row[CL.CP_ECON_K_W_PER_K] = _econ_k_w_per_k(unit)
        row[CL.CP_ECON_FAN_W] = unit.fan_power_kw.value * units.KW_W
        row[CL.CP_ECON_AIRFLOW_EXPONENT] = unit.airflow_exponent.value
        row[CL.CP_ECON_FAN_EXPONENT] = unit.fan_power_exponent.value
        if isinstance(unit, CoolingTower):
            row[CL.CP_ECON_HX_APPROACH_DELTA_K] = unit.hx_approach_delta_k.value
            tower_ids.append(group.equipment)
        else:
            row[CL.CP_ECON_AIR_KG_PER_S] = unit.air_flow_kg_per_s.value
        if rej.type == "dry_cooler" and rej.adiabatic is not None:
            pad = _get(
                equipment, rej.adiabatic.equipment, AdiabaticPad,
                f"{where}.cooling.heat_rejection.adiabatic.equipment",
            )  # fmt: skip
            row[CL.CP_ADIABATIC] = 1.0
            row[CL.CP_ADIABATIC_EFF_FRAC] = pad.saturation_efficiency_frac.value
            row[CL.CP_ADIABATIC_BLEED_FRAC] = pad.bleed_frac.value
            row[CL.CP_ADIABATIC_FAN_ADDER_FRAC] = pad.fan_power_adder_frac.value
            row[CL.CP_ADIABATIC_ON_SPEED_FRAC] = rej.adiabatic.on_above_fan_speed_frac
        kinds.append((group, unit))
        chiller_group = rej.trim_chillers
    else:
        row[CL.CP_ECON_KIND] = CL.ECON_NONE
        kinds.append((None, None))
        chiller_group = rej.chillers
    if chiller_group is not None:
        field = "chillers" if rej.type == "chiller" else "trim_chillers"
        ch = _get(
            equipment,
            chiller_group.equipment,
            Chiller,
            f"{where}.cooling.heat_rejection.{field}.equipment",
        )
        _chiller_cols(row, CL.CP_CH_UNIT_W, ch)
        kinds.append((chiller_group, ch))
        if ch.condenser == "water":
            tower_ids.append(ch.condenser_tower)
    else:
        kinds.append((None, None))
    if spec.air_path is not None:
        air = spec.air_path
        at = f"{where}.cooling.air_path"
        crah = _get(equipment, air.crah.equipment, CRAH, f"{at}.crah.equipment")
        ach = _get(equipment, air.chillers.equipment, Chiller, f"{at}.chillers.equipment")
        row[CL.CP_CHW_SUPPLY_DEGC] = air.chw_supply_degc
        row[CL.CP_CRAH_UNIT_W] = crah.rated_heat_kw.value * units.KW_W
        row[CL.CP_CRAH_FAN_W] = crah.fan_power_kw.value * units.KW_W
        row[CL.CP_CRAH_MIN_SPEED_FRAC] = crah.min_speed_frac.value
        row[CL.CP_CRAH_FAN_EXPONENT] = crah.fan_power_exponent.value
        _chiller_cols(row, CL.CP_ACH_UNIT_W, ach)
        kinds.append((air.chillers, ach))
        kinds.append((air.crah, crah))
        if ach.condenser == "water":
            tower_ids.append(ach.condenser_tower)
    else:
        kinds += [(None, None), (None, None)]
    pads = rej.adiabatic if rej.type == "dry_cooler" else None
    kinds.append((_PadWater(pads.equipment), None) if pads is not None else (None, None))
    if tower_ids:
        _tower_cols(row, equipment[tower_ids[0]])
        if len(set(tower_ids)) > 1:
            notes["towers"] = (
                f"{where}: towers {sorted(set(tower_ids))} are named; the water and fan "
                f"figures of '{tower_ids[0]}' are used for all"
            )
    state = np.zeros(CL.CS_NCOLS)
    state[CL.CS_T_FWS_DEGC] = spec.fws_supply_setpoint_degc
    state[CL.CS_T_TCS_SUPPLY_DEGC] = spec.fws_supply_setpoint_degc
    for (group, _), col in zip(kinds, UNIT_STATE_COLS, strict=True):
        state[col] = group.installed_count if group is not None else 0
    return row, state, kinds, notes


@dataclass(frozen=True)
class AirDesignCapacity:
    """Capacities of an air hall's plant at design conditions, N units (no spares) [W]."""

    crah_w: float
    chillers_w: float
    chw_pumps_w: float
    supply_air_degc: float
    internal_gains_w: float


def _ups_cols(row: np.ndarray, hall: Any, site: Any) -> None:
    # The same UPS as the hall's power chain (dcsim.model.plant builds its own copy).
    ups = load_power_equipment()[site.power_chain.ups]
    modules_n = int(np.ceil(hall.feed_mw / hall.ups_module_mw))
    row[CL.CP_UPS_MODULE_W] = hall.ups_module_mw * units.MW_W
    row[CL.CP_UPS_MODULES_ACTIVE] = ups_modules_sharing(
        TOPOLOGY_CODES[hall.ups_topology], modules_n
    )
    row[CL.CP_UPS_A0] = ups.a0_frac.value
    row[CL.CP_UPS_A1] = ups.a1_frac.value
    row[CL.CP_UPS_A2] = ups.a2_frac.value


def _air_row(
    where: str, hall: Any, site: Any, catalog: Any, equipment: dict
) -> tuple[np.ndarray, np.ndarray, list[tuple[Any, Any]]]:
    """cool_par and cool_state rows of an air hall, and (group, entry) per unit kind."""
    spec = hall.cooling
    at = f"{where}.cooling"
    fluids: Fluids = equipment["fluids"]
    cp_w = fluids.water_cp_j_per_kg_k.value
    rho = fluids.water_density_kg_per_l.value
    row = np.zeros(CL.CP_NCOLS)
    row[CL.CP_TYPE] = CL.COOLING_AIR
    air_limits = [
        catalog.rack_systems[g.system].max_supply_temp_degc.value for g in hall.rack_groups
    ]
    row[CL.CP_TCS_LIMIT_DEGC] = min(air_limits) if air_limits else np.inf
    row[CL.CP_FWS_SETPOINT_DEGC] = spec.chw_supply_setpoint_degc
    row[CL.CP_FWS_RANGE_DELTA_K] = spec.chw_range_delta_k
    row[CL.CP_LOOP_HEAT_CAP_J_PER_K] = spec.chw_water_volume_l * rho * cp_w
    row[CL.CP_WATER_CP_J_PER_KG_K] = cp_w
    row[CL.CP_AIR_CP_J_PER_KG_K] = fluids.air_cp_j_per_kg_k.value
    row[CL.CP_WATER_KG_PER_L] = rho
    row[CL.CP_LATENT_HEAT_J_PER_KG] = fluids.latent_heat_j_per_kg.value

    crah = _get(equipment, spec.crah.equipment, CRAH, f"{at}.crah.equipment")
    row[CL.CP_CRAH_UNIT_W] = crah.rated_heat_kw.value * units.KW_W
    row[CL.CP_CRAH_FAN_W] = crah.fan_power_kw.value * units.KW_W
    row[CL.CP_CRAH_MIN_SPEED_FRAC] = (
        crah.min_speed_frac.value if spec.crah_fans_variable_speed else 1.0
    )
    row[CL.CP_CRAH_FAN_EXPONENT] = crah.fan_power_exponent.value
    row[CL.CP_CRAH_AIR_APPROACH_DELTA_K] = crah.air_approach_delta_k.value

    pump = _get(equipment, spec.chw_pumps.equipment, Pump, f"{at}.chw_pumps.equipment")
    row[CL.CP_PUMP_UNIT_HEAT_W] = (
        pump.design_flow_l_per_s.value * rho * cp_w * spec.chw_range_delta_k
    )
    row[CL.CP_PUMP_W] = pump_power_w(
        pump.design_flow_l_per_s.value, pump.design_head_kpa.value, pump.efficiency_frac.value
    )
    row[CL.CP_PUMP_MIN_SPEED_FRAC] = (
        pump.min_speed_frac.value if spec.chw_pumps_variable_speed else 1.0
    )
    row[CL.CP_PUMP_EXPONENT] = pump.power_exponent.value

    ch = _get(equipment, spec.chillers.equipment, Chiller, f"{at}.chillers.equipment")
    _chiller_cols(row, CL.CP_CH_UNIT_W, ch)
    if ch.condenser == "water":
        if spec.cw_pumps is None:
            raise ConfigError(
                f"chillers '{spec.chillers.equipment}' are water-cooled; expected cw_pumps "
                "(condenser-water pumps)",
                where=f"{at}.cw_pumps",
            )
        cw = _get(equipment, spec.cw_pumps.equipment, Pump, f"{at}.cw_pumps.equipment")
        row[CL.CP_CW_PUMP_W] = pump_power_w(
            cw.design_flow_l_per_s.value, cw.design_head_kpa.value, cw.efficiency_frac.value
        )
    tower_ids = [ch.condenser_tower] if ch.condenser == "water" else []

    econ_group, econ_unit = None, None
    row[CL.CP_ECON_KIND] = CL.ECON_NONE
    if spec.economiser is not None:
        eco = spec.economiser
        cls = CoolingTower if eco.type == "cooling_tower" else DryCooler
        econ_unit = _get(equipment, eco.units.equipment, cls, f"{at}.economiser.units.equipment")
        econ_group = eco.units
        row[CL.CP_ECON_KIND] = (
            CL.ECON_COOLING_TOWER if eco.type == "cooling_tower" else CL.ECON_DRY_COOLER
        )
        row[CL.CP_ECON_K_W_PER_K] = _econ_k_w_per_k(econ_unit)
        row[CL.CP_ECON_FAN_W] = econ_unit.fan_power_kw.value * units.KW_W
        row[CL.CP_ECON_AIRFLOW_EXPONENT] = econ_unit.airflow_exponent.value
        row[CL.CP_ECON_FAN_EXPONENT] = econ_unit.fan_power_exponent.value
        if isinstance(econ_unit, CoolingTower):
            row[CL.CP_ECON_HX_APPROACH_DELTA_K] = econ_unit.hx_approach_delta_k.value
            tower_ids.insert(0, eco.units.equipment)
        else:
            row[CL.CP_ECON_AIR_KG_PER_S] = econ_unit.air_flow_kg_per_s.value
    if tower_ids:
        _tower_cols(row, equipment[tower_ids[0]])

    space = _get(equipment, spec.space_loads, SpaceLoads, f"{at}.space_loads")
    row[CL.CP_LIGHTING_W] = space.lighting_w_per_m2.value * spec.white_space_m2
    row[CL.CP_ANCILLARY_W] = space.ancillary_w_per_m2.value * spec.white_space_m2
    row[CL.CP_PRESSURE_PA] = space.pressure_pa.value
    if spec.humidification is not None:
        hum = _get(
            equipment, spec.humidification.equipment, Humidifier,
            f"{at}.humidification.equipment",
        )  # fmt: skip
        row[CL.CP_HUMID_J_PER_KG] = hum.energy_j_per_kg.value
        row[CL.CP_HUMID_MIN_DEW_POINT_DEGC] = spec.humidification.min_dew_point_degc
        row[CL.CP_OUTDOOR_AIR_KG_PER_S] = (
            space.outdoor_air_l_per_s_per_m2.value
            * spec.white_space_m2
            / units.M3_L
            * space.air_density_kg_per_m3.value
        )
    if spec.ups_rooms_cooled:
        row[CL.CP_UPS_ROOM_COOLED] = 1.0
        _ups_cols(row, hall, site)

    state = np.zeros(CL.CS_NCOLS)
    state[CL.CS_T_FWS_DEGC] = spec.chw_supply_setpoint_degc
    state[CL.CS_T_TCS_SUPPLY_DEGC] = spec.chw_supply_setpoint_degc + crah.air_approach_delta_k.value
    # Unit kinds in UNIT_KINDS order: cdu, fws_pump (CHW pumps), heat_rejection (economiser),
    # chiller, air_chiller, crah.
    kinds: list[tuple[Any, Any]] = [
        (None, None),
        (spec.chw_pumps, pump),
        (econ_group, econ_unit),
        (spec.chillers, ch),
        (None, None),
        (spec.crah, crah),
        (None, None),
    ]
    for (group, _), col in zip(kinds, UNIT_STATE_COLS, strict=True):
        state[col] = group.installed_count if group is not None else 0
    return row, state, kinds


def air_design_capacity(
    hall: Any, site: Any, catalog: Any, equipment: dict, where: str = "cooling"
) -> tuple[AirDesignCapacity, float, float]:
    """Capacities of an air hall's plant with N units at design conditions, and its heat.

    The kernel's own heat limit (:func:`dcsim.kernels.cooling.hall_heat_limit_w`) is
    evaluated on the hall's row with N units in service, at the design dry and wet bulb, so
    that the check and the run agree.

    Returns
    -------
    capacity
        :class:`AirDesignCapacity`.
    limit_w
        White-space heat the N units carry at the design dry and wet bulb [W].
    design_heat_w
        Design white-space heat of the hall (rack design power + PDU loss) [W].
    """
    from dcsim.kernels.cooling import hall_heat_limit_w

    spec = hall.cooling
    row, state, _ = _air_row(where.removesuffix(".cooling"), hall, site, catalog, equipment)
    for col, group in (
        (CL.CS_CRAH_AVAIL_COUNT, spec.crah),
        (CL.CS_CHILLER_AVAIL_COUNT, spec.chillers),
        (CL.CS_PUMP_AVAIL_COUNT, spec.chw_pumps),
        (CL.CS_REJECT_AVAIL_COUNT, spec.economiser.units if spec.economiser else None),
    ):
        state[col] = group.design_count if group is not None else 0
    heat_w, _ = hall_design_heat_w(hall, site, catalog)
    par, st = row[None, :], state[None, :]
    limit_w = hall_heat_limit_w(
        0, spec.design_dry_bulb_degc, spec.design_wet_bulb_degc, par, st, 60.0
    )
    crah_w = spec.crah.design_count * row[CL.CP_CRAH_UNIT_W]
    gains_w = row[CL.CP_LIGHTING_W] + spec.crah.installed_count * row[CL.CP_CRAH_FAN_W]
    cap = AirDesignCapacity(
        crah_w=crah_w,
        chillers_w=spec.chillers.design_count * row[CL.CP_CH_UNIT_W],
        chw_pumps_w=spec.chw_pumps.design_count * row[CL.CP_PUMP_UNIT_HEAT_W],
        supply_air_degc=spec.chw_supply_setpoint_degc + row[CL.CP_CRAH_AIR_APPROACH_DELTA_K],
        internal_gains_w=gains_w,
    )
    return cap, limit_w, heat_w


def build_cooling(scenario: Any, catalog: Any, base_dir: Path | None = None) -> CoolingPlant:
    """Build the cooling tables of every hall.

    Parameters
    ----------
    scenario
        A validated scenario (schema and checks). Halls whose ``cooling`` has
        ``type: fixed_cop`` become fixed-COP rows; ``type: liquid`` the full plant.
        ``scenario.cooling_faults`` (if present) become scheduled faults.
    catalog
        The equipment catalog (rack systems: liquid share and supply limits).
    base_dir
        Folder of the scenario file (unused today: the cooling block names no files; kept so
        that all builders share one signature).

    Returns
    -------
    CoolingPlant

    Raises
    ------
    ConfigError
        For an unknown or mistyped equipment id, or a scheduled fault naming an unknown hall
        or a unit kind the hall does not have (``where`` is the dotted field path).
    """
    del base_dir
    equipment = merge_cooling_equipment(catalog)
    halls = halls_in_order(scenario)
    n_hall = len(halls)
    n_kind = len(UNIT_KINDS)
    cool_par = np.zeros((n_hall, CL.CP_NCOLS))
    cool_state0 = np.zeros((n_hall, CL.CS_NCOLS))
    installed = np.zeros((n_hall, n_kind), dtype=np.int64)
    design = np.zeros((n_hall, n_kind), dtype=np.int64)
    mtbf_s = np.full((n_hall, n_kind), np.inf)
    mttr_s = np.zeros((n_hall, n_kind))
    unit_equipment = [["" for _ in range(n_kind)] for _ in range(n_hall)]
    random_failures = np.zeros(n_hall, dtype=bool)
    design_heat = np.zeros(n_hall)
    design_liquid = np.zeros(n_hall)
    hall_names: list[str] = []
    short_names: list[str] = []
    hall_site = np.zeros(n_hall, dtype=np.int64)
    notes: dict[str, str] = {}
    for h, (where, s_idx, site, hall) in enumerate(halls):
        building = next(b for b in site.buildings if any(x is hall for x in b.halls))
        hall_names.append(f"{site.name}/{building.name}/{hall.name}")
        short_names.append(hall.name)
        hall_site[h] = s_idx
        design_heat[h], design_liquid[h] = hall_design_heat_w(hall, site, catalog)
        spec = hall.cooling
        if spec.type == "fixed_cop":
            cool_par[h, CL.CP_TYPE] = CL.COOLING_FIXED_COP
            cool_par[h, CL.CP_FIXED_COP] = spec.cop
            cool_state0[h, CL.CS_T_FWS_DEGC] = np.nan
            cool_state0[h, CL.CS_T_TCS_SUPPLY_DEGC] = np.nan
            continue
        if spec.type == "air":
            row, state, kinds = _air_row(where, hall, site, catalog, equipment)
        else:
            row, state, kinds, row_notes = _liquid_row(where, hall, site, catalog, equipment)
            notes.update(row_notes)
        cool_par[h] = row
        cool_state0[h] = state
        random_failures[h] = spec.random_failures
        for k, (group, entry) in enumerate(kinds):
            if group is None:
                continue
            installed[h, k] = group.installed_count
            design[h, k] = group.design_count
            unit_equipment[h][k] = group.equipment
            if entry is None:
                continue  # pad water: scheduled outages only (mtbf stays inf)
            mtbf_s[h, k] = entry.mtbf_h.value * units.H_S
            mttr_s[h, k] = entry.mttr_h.value * units.H_S
    faults = _scheduled_faults(scenario, short_names, installed, cool_par)
    return CoolingPlant(
        hall_names=hall_names,
        hall_short_names=short_names,
        hall_site=hall_site,
        cool_par=cool_par,
        cool_state0=cool_state0,
        unit_kinds=UNIT_KINDS,
        unit_state_cols=UNIT_STATE_COLS,
        unit_installed_count=installed,
        unit_design_count=design,
        unit_equipment=unit_equipment,
        unit_mtbf_s=mtbf_s,
        unit_mttr_s=mttr_s,
        random_failures=random_failures,
        scheduled_faults=faults,
        design_heat_w=design_heat,
        design_liquid_heat_w=design_liquid,
        notes=notes,
    )


def _scheduled_faults(
    scenario: Any, short_names: list[str], installed: np.ndarray, cool_par: np.ndarray
) -> list[ScheduledFault]:
    out: list[ScheduledFault] = []
    start: dt.datetime = scenario.start
    for i, fault in enumerate(getattr(scenario, "cooling_faults", None) or []):
        where = f"cooling_faults.{i}"
        if fault.hall not in short_names:
            raise ConfigError(
                f"'{fault.hall}' is not a hall of this scenario; known: {', '.join(short_names)}",
                where=f"{where}.hall",
            )
        h = short_names.index(fault.hall)
        if cool_par[h, CL.CP_TYPE] == CL.COOLING_FIXED_COP:
            raise ConfigError(
                f"hall '{fault.hall}' has fixed-COP cooling, which has no units to fail; "
                "expected a hall with cooling type: liquid or air",
                where=f"{where}.hall",
            )
        k = FAULT_UNIT_KIND[fault.unit]
        econ = cool_par[h, CL.CP_ECON_KIND]
        wrong_rejection = (fault.unit == "dry_cooler" and econ != CL.ECON_DRY_COOLER) or (
            fault.unit == "tower_cell" and econ != CL.ECON_COOLING_TOWER
        )
        if installed[h, k] == 0 or wrong_rejection:
            raise ConfigError(
                f"hall '{fault.hall}' has no {fault.unit} units; expected a unit kind the "
                "hall's cooling plant has",
                where=f"{where}.unit",
            )
        if fault.count > installed[h, k]:
            raise ConfigError(
                f"{fault.count} is more than the {installed[h, k]} {fault.unit} units "
                f"installed in hall '{fault.hall}'",
                where=f"{where}.count",
            )
        out.append(
            ScheduledFault(
                hall=h,
                kind=k,
                start_s=(fault.start - start).total_seconds(),
                duration_s=fault.duration_s,
                count=fault.count,
                label=f"{fault.unit} x{fault.count}",
            )
        )
    return out
