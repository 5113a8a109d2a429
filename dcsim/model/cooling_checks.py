"""Named cross-field checks of liquid-cooled halls and scheduled cooling faults.

Same contract as :mod:`dcsim.scenario.checks`: ``check_x(scenario, catalog) -> None`` raising
:class:`~dcsim.errors.ConfigError` with ``where`` the dotted field path it blames. They size
the cooling plant with the model's own design computations, so they sit on the model layer;
:data:`dcsim.model.checks.CHECKS` runs them after ``check_rack_groups_known``, since they look
up rack systems.
"""

from __future__ import annotations

from typing import Any

from dcsim import units
from dcsim.catalog.cooling_equipment import CRAH, merge_cooling_equipment
from dcsim.errors import ConfigError
from dcsim.model.cooling import (
    air_design_capacity,
    build_cooling,
    design_capacity,
    hall_design_heat_w,
    halls_in_order,
)

__all__ = [
    "COOLING_CHECKS",
    "check_air_hall_covers_design_heat",
    "check_cooling_capacity_covers_design_heat",
    "check_cooling_equipment_known",
    "check_cooling_faults_known",
    "check_supply_temp_within_rack_limit",
]


def _liquid(scenario: Any) -> list[tuple[str, Any, Any]]:
    return [
        (where, site, hall)
        for where, _, site, hall in halls_in_order(scenario)
        if getattr(hall.cooling, "type", None) == "liquid"
    ]


def _equipment(catalog: Any = None) -> dict:
    return merge_cooling_equipment(catalog)


def _air(scenario: Any) -> list[tuple[str, Any, Any]]:
    return [
        (where, site, hall)
        for where, _, site, hall in halls_in_order(scenario)
        if getattr(hall.cooling, "type", None) == "air"
    ]


def _mw(w: float) -> str:
    return f"{w / units.MW_W:.2f} MW"


def check_cooling_equipment_known(scenario: Any, catalog: Any) -> None:
    """Every equipment id of a liquid plant is a catalog entry of the right kind."""
    equipment = _equipment(catalog)
    for where, site, hall in _liquid(scenario):
        _, liquid_w = hall_design_heat_w(hall, site, catalog)
        # design_capacity looks every id up with its expected type and names the field.
        design_capacity(hall.cooling, equipment, liquid_w, f"{where}.cooling")
    if _air(scenario):
        # The builder looks every id of an air plant up with its expected type.
        build_cooling(scenario, catalog)


def check_supply_temp_within_rack_limit(scenario: Any, catalog: Any) -> None:
    """At design heat the TCS supply (FWS setpoint + CDU approach) is within the racks' limit.

    The setpoint is the lowest the plant ever supplies, so a plant failing here throttles its
    racks even on a mild day. Air-cooled rack systems in a liquid hall are checked on the air
    path: chilled-water supply + CRAH air approach against their inlet-air limit.
    """
    from dcsim.model.cooling import design_capacity, hall_design_heat_w

    equipment = _equipment(catalog)
    for where, site, hall in _liquid(scenario):
        spec = hall.cooling
        _, liquid_w = hall_design_heat_w(hall, site, catalog)
        cap = design_capacity(spec, equipment, liquid_w, f"{where}.cooling")
        systems = {g.system: catalog.rack_systems[g.system] for g in hall.rack_groups}
        liquid = {k: s for k, s in systems.items() if s.liquid_heat_frac.value > 0.0}
        if liquid:
            key, strictest = min(liquid.items(), key=lambda kv: kv[1].max_supply_temp_degc.value)
            rack_limit = strictest.max_supply_temp_degc.value
            if spec.tcs_supply_limit_degc is not None and spec.tcs_supply_limit_degc > rack_limit:
                raise ConfigError(
                    f"{spec.tcs_supply_limit_degc:g} degC is above the supply limit of rack "
                    f"system '{key}' ({rack_limit:g} degC); expected at most {rack_limit:g}",
                    f"{where}.cooling.tcs_supply_limit_degc",
                )
            limit = rack_limit if spec.tcs_supply_limit_degc is None else spec.tcs_supply_limit_degc
            if cap.tcs_supply_degc > limit + 1e-9:
                approach = cap.tcs_supply_degc - spec.fws_supply_setpoint_degc
                raise ConfigError(
                    f"{spec.fws_supply_setpoint_degc:g} degC + CDU approach {approach:.2f} K at "
                    f"design heat = {cap.tcs_supply_degc:.2f} degC technology-loop supply, above "
                    f"the {limit:g} degC limit of '{key}'; expected a setpoint of at most "
                    f"{limit - approach:.2f} degC (or more CDUs)",
                    f"{where}.cooling.fws_supply_setpoint_degc",
                )
        air = {k: s for k, s in systems.items() if s.liquid_heat_frac.value == 0.0}
        if air and spec.air_path is not None:
            crah = equipment[spec.air_path.crah.equipment]
            if isinstance(crah, CRAH):
                supply = spec.air_path.chw_supply_degc + crah.air_approach_delta_k.value
                key, strictest = min(air.items(), key=lambda kv: kv[1].max_supply_temp_degc.value)
                if supply > strictest.max_supply_temp_degc.value + 1e-9:
                    raise ConfigError(
                        f"{spec.air_path.chw_supply_degc:g} degC chilled water + "
                        f"{crah.air_approach_delta_k.value:g} K air approach = {supply:g} degC "
                        f"supply air, above the {strictest.max_supply_temp_degc.value:g} degC "
                        f"inlet limit of '{key}'; expected a lower chilled-water supply",
                        f"{where}.cooling.air_path.chw_supply_degc",
                    )


def check_cooling_capacity_covers_design_heat(scenario: Any, catalog: Any) -> None:
    """N units (spares excluded) carry the hall's design heat at design conditions.

    Design heat = rack design power x count + PDU loss; the liquid share goes through CDUs,
    facility-water pumps and heat rejection (economiser at the design dry/wet bulb and
    setpoint, plus chillers), the rest through the air path (CRAHs and their chillers).
    """
    equipment = _equipment(catalog)
    for where, site, hall in _liquid(scenario):
        spec = hall.cooling
        heat_w, liquid_w = hall_design_heat_w(hall, site, catalog)
        air_w = heat_w - liquid_w
        cap = design_capacity(spec, equipment, liquid_w, f"{where}.cooling")
        racks = ", ".join(f"{g.count} x {g.system}" for g in hall.rack_groups)
        need = f"the hall's design liquid heat {_mw(liquid_w)} ({racks})"
        at = f"{where}.cooling"
        for value, field, what in (
            (cap.cdus_w, "cdus.design_count", "CDUs"),
            (cap.pumps_w, "fws_pumps.design_count", "facility-water pumps"),
            (cap.heat_rejection_w, "heat_rejection", "heat rejection at design ambient"),
        ):
            if value < liquid_w * (1 - 1e-9):
                raise ConfigError(
                    f"{what}: {_mw(value)} with N units is below {need}; expected more units "
                    "or larger ones",
                    f"{at}.{field}",
                )
        if air_w <= 0.0:
            continue
        need_air = f"the hall's design air heat {_mw(air_w)} (air share of the racks + PDU loss)"
        if spec.air_path is None:
            raise ConfigError(
                f"no air path for {need_air}; expected an air_path with CRAHs and chillers",
                f"{at}.air_path",
            )
        for value, field, what in (
            (cap.crah_w, "air_path.crah.design_count", "CRAHs"),
            (cap.air_chillers_w, "air_path.chillers.design_count", "air-path chillers"),
        ):
            if value < air_w * (1 - 1e-9):
                raise ConfigError(
                    f"{what}: {_mw(value)} with N units is below {need_air}; expected more "
                    "units or larger ones",
                    f"{at}.{field}",
                )


def check_air_hall_covers_design_heat(scenario: Any, catalog: Any) -> None:
    """An air hall's N units carry its design heat at design conditions, within the inlet limit.

    Design heat = rack design power x count + PDU loss; the CRAHs also take lighting and UPS
    loss, the plant their fan heat (see :func:`dcsim.model.cooling.air_design_capacity`). The
    supply air (chilled-water setpoint + CRAH air approach) must be within the racks' inlet
    limit.
    """
    equipment = _equipment(catalog)
    for where, site, hall in _air(scenario):
        spec = hall.cooling
        at = f"{where}.cooling"
        cap, limit_w, heat_w = air_design_capacity(hall, site, catalog, equipment, at)
        systems = {g.system: catalog.rack_systems[g.system] for g in hall.rack_groups}
        if systems:
            key, strictest = min(systems.items(), key=lambda kv: kv[1].max_supply_temp_degc.value)
            t_lim = strictest.max_supply_temp_degc.value
            if cap.supply_air_degc > t_lim + 1e-9:
                raise ConfigError(
                    f"{spec.chw_supply_setpoint_degc:g} degC chilled water + CRAH air approach = "
                    f"{cap.supply_air_degc:g} degC supply air, above the {t_lim:g} degC inlet "
                    f"limit of '{key}'; expected a lower chilled-water setpoint",
                    f"{at}.chw_supply_setpoint_degc",
                )
        if limit_w < heat_w * (1 - 1e-9):
            racks = ", ".join(f"{g.count} x {g.system}" for g in hall.rack_groups)
            parts = (
                (cap.crah_w, "crah.design_count", "CRAHs"),
                (cap.chillers_w, "chillers.design_count", "chillers"),
                (cap.chw_pumps_w, "chw_pumps.design_count", "chilled-water pumps"),
            )
            cap_w, field, what = min(parts, key=lambda p: p[0])
            raise ConfigError(
                f"N units carry {_mw(limit_w)} of white-space heat at the design ambient, below "
                f"the hall's design heat {_mw(heat_w)} ({racks}) plus lighting, fan and UPS "
                f"heat; expected more or larger units (smallest group: {what}, {_mw(cap_w)})",
                f"{at}.{field}",
            )


def check_cooling_faults_known(scenario: Any, catalog: Any) -> None:
    """Scheduled cooling faults name a liquid or air hall, a unit kind it has, at most its count."""
    if not getattr(scenario, "cooling_faults", None):
        return
    # The builder validates faults against the units it builds; reuse it (errors name the
    # dotted field path).
    build_cooling(scenario, catalog)


#: The checks, in the order they run.
COOLING_CHECKS = (
    check_cooling_equipment_known,
    check_supply_temp_within_rack_limit,
    check_cooling_capacity_covers_design_heat,
    check_air_hall_covers_design_heat,
    check_cooling_faults_known,
)
