"""Scenario schema of a liquid-cooled hall plant and of scheduled cooling faults.

The integrator adds :class:`LiquidCooling` to the ``Cooling`` union of ``Hall.cooling`` (beside
``FixedCopCooling``) and ``cooling_faults: list[CoolingFault]`` to ``Scenario``. Equipment
ids refer to ``dcsim/catalog/data/cooling_equipment.yaml``. Unit groups give the units needed
at design (N, ``design_count``) and the redundant ones (``spare_count``: 1 for N+1); all
installed units share the load in operation. Example (GB200 NVL72 hall, warm water, dry
coolers with adiabatic assist and trim chillers)::

    cooling:
      type: liquid
      fws_supply_setpoint_degc: 32
      tcs_water_volume_l: 50000
      fws_water_volume_l: 300000
      cdus: {equipment: cdu_2mw, design_count: 23, spare_count: 1}
      fws_pumps: {equipment: pump_fws_150ls, design_count: 8, spare_count: 1}
      heat_rejection:
        type: dry_cooler
        units: {equipment: dry_cooler_1mw, design_count: 44, spare_count: 2}
        adiabatic: {equipment: adiabatic_pad_cellulose, on_above_fan_speed_frac: 0.9}
        trim_chillers: {equipment: chiller_ac_1500kw, design_count: 4, spare_count: 1}
      air_path:
        crah: {equipment: fan_wall_250kw, design_count: 34, spare_count: 2}
        chillers: {equipment: chiller_ac_1500kw, design_count: 6, spare_count: 1}
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from dcsim.scenario.base import Frac, Name, Pos
from dcsim.scenario.base import ScenarioModel as _Model
from dcsim.scenario.types import Date, DurationS

__all__ = [
    "AdiabaticAssist",
    "AirCooling",
    "AirPath",
    "Chillers",
    "CoolingFault",
    "CoolingTowers",
    "DryCoolers",
    "FAULT_UNITS",
    "HeatRejection",
    "LiquidCooling",
    "Humidification",
    "UnitGroup",
    "WaterSideEconomiser",
]

#: Loop temperatures a scenario may give [degC] (liquid water, far from freezing and boiling).
_T_MIN_DEGC = 5.0
_T_MAX_DEGC = 70.0


class UnitGroup(_Model):
    """Identical units of one catalog entry: N for the design load plus spares."""

    equipment: str = Field(description="Entry id in catalog/data/cooling_equipment.yaml.")
    design_count: int = Field(gt=0, description="Units needed to carry the design load (N).")
    spare_count: int = Field(
        default=1, ge=0, description="Redundant units beyond N (1 for N+1, N for 2N)."
    )

    @property
    def installed_count(self) -> int:
        """Units installed, design plus spares."""
        return self.design_count + self.spare_count


class AdiabaticAssist(_Model):
    """Evaporative pads ahead of the dry-cooler coils."""

    equipment: str = Field(
        default="adiabatic_pad_cellulose", description="Adiabatic pad entry in the catalog."
    )
    on_above_fan_speed_frac: Frac = Field(
        default=0.9,
        description=(
            "Pads are wetted when the dry coolers, dry, would need more than this fan speed to "
            "hold the setpoint [frac]; 1 = only when dry operation cannot hold it."
        ),
    )


class DryCoolers(_Model):
    """Dry coolers on the facility water, optional adiabatic assist, optional trim chillers."""

    type: Literal["dry_cooler"] = Field(description="Discriminator.")
    units: UnitGroup = Field(description="Dry coolers.")
    adiabatic: AdiabaticAssist | None = Field(
        default=None, description="Adiabatic pre-cooling (uses water); none if absent."
    )
    trim_chillers: UnitGroup | None = Field(
        default=None, description="Chillers that trim the facility water to its setpoint."
    )


class CoolingTowers(_Model):
    """Open cooling-tower cells with plate exchangers on the facility water, optional trim."""

    type: Literal["cooling_tower"] = Field(description="Discriminator.")
    cells: UnitGroup = Field(description="Cooling-tower cells.")
    trim_chillers: UnitGroup | None = Field(
        default=None, description="Chillers that trim the facility water to its setpoint."
    )


class Chillers(_Model):
    """Chillers alone produce the facility water (no economiser)."""

    type: Literal["chiller"] = Field(description="Discriminator.")
    chillers: UnitGroup = Field(description="Chillers (air- or water-cooled, by catalog entry).")


HeatRejection = Annotated[DryCoolers | CoolingTowers | Chillers, Field(discriminator="type")]


class AirPath(_Model):
    """CRAH units or fan walls on chilled water for the air share of the heat."""

    crah: UnitGroup = Field(description="CRAH units or fan walls.")
    chillers: UnitGroup = Field(description="Chillers producing the air path's chilled water.")
    chw_supply_degc: float = Field(
        default=18.0,
        ge=_T_MIN_DEGC,
        le=_T_MAX_DEGC,
        description="Chilled-water supply setpoint of the air path [degC].",
    )


class LiquidCooling(_Model):
    """Liquid-cooled hall: technology loop, CDUs, facility water, heat rejection, air path.

    See :mod:`dcsim.physics.cooling` for the model and the module docstring for an example.
    """

    type: Literal["liquid"] = Field(default="liquid", description="Discriminator.")
    fws_supply_setpoint_degc: float = Field(
        ge=_T_MIN_DEGC,
        le=_T_MAX_DEGC,
        description="Facility-water supply temperature the plant aims to hold [degC].",
    )
    fws_range_delta_k: Pos = Field(
        default=10.0,
        description="Facility-water return minus supply, held by the variable-speed pumps [K].",
    )
    tcs_supply_limit_degc: float | None = Field(
        default=None,
        ge=_T_MIN_DEGC,
        le=_T_MAX_DEGC,
        description=(
            "Technology-loop supply limit [degC]; default: the lowest max_supply_temp_degc of "
            "the hall's liquid-cooled rack systems (a lower value adds margin)."
        ),
    )
    design_dry_bulb_degc: float = Field(
        default=35.0,
        ge=-40.0,
        le=60.0,
        description="Design outdoor dry bulb for the capacity checks (e.g. ASHRAE 0.4%) [degC].",
    )
    design_wet_bulb_degc: float = Field(
        default=25.0,
        ge=-40.0,
        le=40.0,
        description="Design outdoor wet bulb for the capacity checks [degC].",
    )
    tcs_water_volume_l: Pos = Field(
        description="Water in the technology loops: racks, manifolds, CDU secondaries [L]."
    )
    fws_water_volume_l: Pos = Field(
        description="Water in the facility loop: headers, CDU primaries, coils, exchangers [L]."
    )
    cdus: UnitGroup = Field(description="Coolant distribution units.")
    fws_pumps: UnitGroup = Field(description="Facility-water pumps.")
    heat_rejection: HeatRejection = Field(description="How the facility water is cooled.")
    air_path: AirPath | None = Field(
        default=None, description="Air path for the rack heat not taken by liquid."
    )
    random_failures: bool = Field(
        default=True,
        description="Units fail and are repaired at random (catalog MTBF and MTTR).",
    )


class WaterSideEconomiser(_Model):
    """Water-side economiser: tower cells (via a plate exchanger) or dry coolers.

    They pre-cool, or fully cool, the chilled-water return before the chillers (integrated
    economiser).
    """

    type: Literal["cooling_tower", "dry_cooler"] = Field(description="Economiser kind.")
    units: UnitGroup = Field(description="Tower cells or dry coolers (catalog entries).")


class Humidification(_Model):
    """Humidifiers bringing the make-up air of the hall to a minimum dew point."""

    equipment: str = Field(
        default="humidifier_electrode_steam", description="Humidifier entry in the catalog."
    )
    min_dew_point_degc: float = Field(
        default=5.5,
        ge=-20.0,
        le=20.0,
        description=(
            "Lowest dew point of the hall air [degC]: 5.5 is the lower edge of the ASHRAE TC9.9 "
            "2008-2011 recommended envelope that legacy halls were built to; the 2015 edition "
            "lowered it to -9 (then humidification all but stops)."
        ),
    )


class AirCooling(_Model):
    """Air-cooled hall: CRAHs (or fan walls) on a chilled-water plant, no liquid loop.

    The chilled-water loop (setpoint, range, volume) is served by chillers staged on with their
    part-load curve, with an optional water-side economiser ahead of them; chilled-water
    pumps carry the flow, condenser-water pumps run one per water-cooled chiller on. The CRAHs
    take the white-space heat (rack power and PDU loss), the lighting and (with
    ``ups_rooms_cooled``) the UPS loss. Lighting and ancillary loads scale with the white-space
    floor area (catalog ``space_loads`` entry). Example (legacy hall, see
    ``scenarios/hall-air-legacy.yaml``)::

        cooling:
          type: air
          chw_supply_setpoint_degc: 10
          white_space_m2: 600
          crah: {equipment: crah_cw_105kw, design_count: 22, spare_count: 2}
          crah_fans_variable_speed: false
          chillers: {equipment: chiller_wc_1000kw_vanes, design_count: 3, spare_count: 1}
          chw_pumps: {equipment: pump_chw_50ls, design_count: 3, spare_count: 1}
          cw_pumps: {equipment: pump_cw_55ls}
          humidification: {min_dew_point_degc: 5.5}
    """

    type: Literal["air"] = Field(description="Discriminator.")
    chw_supply_setpoint_degc: float = Field(
        ge=_T_MIN_DEGC, le=_T_MAX_DEGC, description="Chilled-water supply setpoint [degC]."
    )
    chw_range_delta_k: Pos = Field(
        default=6.0, description="Chilled-water return minus supply at design flow [K]."
    )
    chw_water_volume_l: Pos = Field(
        default=20000.0,
        description="Water in the chilled-water loop: pipes, coils, evaporators, buffer tank [L].",
    )
    design_dry_bulb_degc: float = Field(
        default=35.0, ge=-40.0, le=60.0, description="Design outdoor dry bulb [degC]."
    )
    design_wet_bulb_degc: float = Field(
        default=25.0, ge=-40.0, le=40.0, description="Design outdoor wet bulb [degC]."
    )
    white_space_m2: Pos = Field(
        description="White-space floor area [m2]: scales lighting, ancillary loads, make-up air."
    )
    space_loads: str = Field(
        default="space_loads_legacy",
        description="Catalog entry with lighting, ancillary and make-up air per m2.",
    )
    crah: UnitGroup = Field(description="CRAHs or fan walls in the white space.")
    crah_fans_variable_speed: bool = Field(
        default=True,
        description=(
            "CRAH fans follow the heat (affinity law down to the catalog minimum speed); "
            "false: constant speed, every installed CRAH at full airflow (legacy halls)."
        ),
    )
    chillers: UnitGroup = Field(description="Chillers (air- or water-cooled, by catalog entry).")
    chw_pumps: UnitGroup = Field(description="Chilled-water pumps.")
    chw_pumps_variable_speed: bool = Field(
        default=True,
        description="Chilled-water flow follows the heat; false: constant flow (primary-only).",
    )
    cw_pumps: UnitGroup | None = Field(
        default=None,
        description=(
            "Condenser-water pumps (one runs per water-cooled chiller on; counts are "
            "informational); required with water-cooled chillers."
        ),
    )
    economiser: WaterSideEconomiser | None = Field(
        default=None, description="Water-side economiser; none if absent."
    )
    humidification: Humidification | None = Field(
        default=None, description="Humidification of the make-up air; none if absent."
    )
    ups_rooms_cooled: bool = Field(
        default=True,
        description="The plant's CRAHs also remove the UPS loss (UPS rooms on chilled water).",
    )
    random_failures: bool = Field(
        default=True,
        description="Units fail and are repaired at random (catalog MTBF and MTTR).",
    )


#: Unit kinds a fault may name.
FAULT_UNITS = (
    "cdu", "fws_pump", "chw_pump", "dry_cooler", "tower_cell", "chiller", "air_chiller", "crah",
    "adiabatic_water",
)  # fmt: skip


class CoolingFault(_Model):
    """A scheduled outage of cooling units in one hall (a what-if, on top of random faults)."""

    unit: Literal[
        "cdu",
        "fws_pump",
        "chw_pump",
        "dry_cooler",
        "tower_cell",
        "chiller",
        "air_chiller",
        "crah",
        "adiabatic_water",
    ] = Field(
        description=(
            "Unit kind: cdu, fws_pump (or chw_pump in an air hall), dry_cooler or tower_cell "
            "(heat rejection or economiser), chiller (trim or plant chillers), air_chiller, crah, "
            "adiabatic_water (the water supply of the hall's adiabatic pads: the pads run dry)."
        )
    )
    hall: Name = Field(description="Hall name.")
    start: Date = Field(description="Start of the outage (site local standard time).")
    duration_s: DurationS = Field(description="Length of the outage [s], e.g. '6h'.")
    count: int = Field(default=1, gt=0, description="Units out of service.")
