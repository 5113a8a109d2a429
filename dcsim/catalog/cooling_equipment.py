"""Typed catalog entries for cooling equipment, and their loader.

Shipped data: ``data/cooling_equipment.yaml``: CDUs, pumps, dry coolers, adiabatic pads,
cooling-tower cells, chillers (air- and water-cooled), CRAHs / fan walls and the fluid
properties the cooling model uses. Every number carries a source and a confidence grade
(see :mod:`dcsim.catalog.schema`). YAML units are practical (kW, kPa, L/s, h, degC); the
cooling builder (:mod:`dcsim.model.cooling`) converts them to SI once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from dcsim.catalog.schema import SNum, Sourced
from dcsim.catalog.yaml_file import read_yaml
from dcsim.errors import ConfigError

__all__ = [
    "CDU",
    "COOLING_EQUIPMENT_PATH",
    "CRAH",
    "AdiabaticPad",
    "Chiller",
    "CoolingEquipment",
    "CoolingTower",
    "DryCooler",
    "Fluids",
    "Humidifier",
    "Pump",
    "SpaceLoads",
    "merge_cooling_equipment",
    "load_cooling_equipment",
]

COOLING_EQUIPMENT_PATH = Path(__file__).parent / "data" / "cooling_equipment.yaml"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Human-readable name.")
    notes: str = Field(default="", description="Free text: caveats, what a figure means.")


def _positive(v: Sourced) -> Sourced:
    if not (math.isfinite(v.value) and v.value > 0.0):
        raise ValueError(f"{v.value} must be > 0")
    return v


def _non_negative(v: Sourced) -> Sourced:
    if not (math.isfinite(v.value) and v.value >= 0.0):
        raise ValueError(f"{v.value} must be >= 0")
    return v


def _unit_interval(v: Sourced) -> Sourced:
    if not (0.0 < v.value <= 1.0):
        raise ValueError(f"{v.value} must be in (0, 1]")
    return v


class _Repairable(_Entry):
    mtbf_h: SNum = Field(description="Mean time between failures of one unit [h].")
    mttr_h: SNum = Field(description="Mean time to repair one unit [h].")

    @field_validator("mtbf_h", "mttr_h")
    @classmethod
    def _times_positive(cls, v: Sourced) -> Sourced:
        return _positive(v)


class Fluids(_Entry):
    """Water and air properties used by the cooling model."""

    type: Literal["fluids"] = Field(description="Discriminator.")
    water_cp_j_per_kg_k: SNum = Field(description="Specific heat of water [J/(kg K)].")
    water_density_kg_per_l: SNum = Field(description="Density of water [kg/L].")
    air_cp_j_per_kg_k: SNum = Field(description="Specific heat of dry air [J/(kg K)].")
    latent_heat_j_per_kg: SNum = Field(description="Latent heat of vaporisation of water [J/kg].")

    @field_validator("*", mode="after")
    @classmethod
    def _numbers_positive(cls, v: object) -> object:
        return _positive(v) if isinstance(v, Sourced) else v


class CDU(_Repairable):
    """Coolant distribution unit: TCS-FWS plate exchanger with its TCS pumps."""

    type: Literal["cdu"] = Field(description="Discriminator.")
    rated_heat_kw: SNum = Field(
        description="Heat moved at the rated approach; also its maximum [kW]."
    )
    rated_approach_delta_k: SNum = Field(
        description="TCS supply minus FWS supply at rated heat [K]."
    )
    tcs_range_delta_k: SNum = Field(description="TCS return minus supply at design flow [K].")
    pump_head_kpa: SNum = Field(description="TCS pump pressure rise at design flow [kPa].")
    pump_efficiency_frac: SNum = Field(description="TCS pump wire-to-water efficiency [frac].")
    min_speed_frac: SNum = Field(description="Lowest TCS pump speed [frac of design].")
    pump_power_exponent: SNum = Field(description="Affinity exponent of pump power on speed [-].")

    @field_validator(
        "rated_heat_kw", "rated_approach_delta_k", "tcs_range_delta_k", "pump_head_kpa",
        "pump_power_exponent",
    )  # fmt: skip
    @classmethod
    def _pos(cls, v: Sourced) -> Sourced:
        return _positive(v)

    @field_validator("pump_efficiency_frac", "min_speed_frac")
    @classmethod
    def _frac(cls, v: Sourced) -> Sourced:
        return _unit_interval(v)


class Pump(_Repairable):
    """Variable-speed water pump (facility water)."""

    type: Literal["pump"] = Field(description="Discriminator.")
    design_flow_l_per_s: SNum = Field(description="Flow at the design point [L/s].")
    design_head_kpa: SNum = Field(description="Pressure rise at the design point [kPa].")
    efficiency_frac: SNum = Field(description="Wire-to-water efficiency at design [frac].")
    min_speed_frac: SNum = Field(description="Lowest speed [frac of design].")
    power_exponent: SNum = Field(description="Affinity exponent of power on speed [-].")

    @field_validator("design_flow_l_per_s", "design_head_kpa", "power_exponent")
    @classmethod
    def _pos(cls, v: Sourced) -> Sourced:
        return _positive(v)

    @field_validator("efficiency_frac", "min_speed_frac")
    @classmethod
    def _frac(cls, v: Sourced) -> Sourced:
        return _unit_interval(v)


class _FanCooled(_Repairable):
    rated_heat_kw: SNum = Field(description="Heat rejected at the rating point, full fans [kW].")
    fan_power_kw: SNum = Field(description="Fan power at full speed [kW].")
    airflow_exponent: SNum = Field(description="Capacity ~ fan speed^n: the exponent n [-].")
    fan_power_exponent: SNum = Field(description="Affinity exponent of fan power on speed [-].")

    @field_validator("rated_heat_kw", "fan_power_kw", "airflow_exponent", "fan_power_exponent")
    @classmethod
    def _pos(cls, v: Sourced) -> Sourced:
        return _positive(v)


class DryCooler(_FanCooled):
    """Dry cooler: Q = K s^n max(ITD, 0), K = rated heat / rated ITD."""

    type: Literal["dry_cooler"] = Field(description="Discriminator.")
    rated_itd_delta_k: SNum = Field(description="Entering fluid minus entering air at rating [K].")
    air_flow_kg_per_s: SNum = Field(description="Air mass flow at full fan speed [kg/s].")

    @field_validator("rated_itd_delta_k", "air_flow_kg_per_s")
    @classmethod
    def _pos2(cls, v: Sourced) -> Sourced:
        return _positive(v)


class AdiabaticPad(_Entry):
    """Evaporative pre-cooling pads for dry coolers."""

    type: Literal["adiabatic_pad"] = Field(description="Discriminator.")
    saturation_efficiency_frac: SNum = Field(
        description="Share of the wet-bulb depression removed."
    )
    bleed_frac: SNum = Field(description="Water bled per unit of water evaporated [frac].")
    fan_power_adder_frac: SNum = Field(description="Extra fan power while wet [frac].")

    @field_validator("saturation_efficiency_frac")
    @classmethod
    def _frac(cls, v: Sourced) -> Sourced:
        return _unit_interval(v)

    @field_validator("bleed_frac", "fan_power_adder_frac")
    @classmethod
    def _nonneg(cls, v: Sourced) -> Sourced:
        return _non_negative(v)


class CoolingTower(_FanCooled):
    """Open cooling-tower cell with a plate exchanger to the facility water."""

    type: Literal["cooling_tower"] = Field(description="Discriminator.")
    rated_hot_water_degc: SNum = Field(description="Entering (hot) water at rating [degC].")
    rated_cold_water_degc: SNum = Field(description="Leaving (cold) water at rating [degC].")
    rated_wet_bulb_degc: SNum = Field(description="Entering wet bulb at rating [degC].")
    hx_approach_delta_k: SNum = Field(description="Plate exchanger approach to the loop [K].")
    evaporation_heat_frac: SNum = Field(description="Latent share of the heat rejected [frac].")
    cycles_of_concentration: SNum = Field(description="Make-up to blowdown solids ratio [-].")
    drift_frac: SNum = Field(description="Drift over circulating water flow [frac].")

    @field_validator("hx_approach_delta_k", "drift_frac")
    @classmethod
    def _nonneg(cls, v: Sourced) -> Sourced:
        return _non_negative(v)

    @field_validator("evaporation_heat_frac")
    @classmethod
    def _frac(cls, v: Sourced) -> Sourced:
        return _unit_interval(v)

    @model_validator(mode="after")
    def _rating_order(self) -> CoolingTower:
        hot, cold, wb = (
            self.rated_hot_water_degc.value,
            self.rated_cold_water_degc.value,
            self.rated_wet_bulb_degc.value,
        )
        if not hot > cold > wb:
            raise ValueError(
                f"rating temperatures hot {hot}, cold {cold}, wet bulb {wb} must decrease"
            )
        if self.cycles_of_concentration.value <= 1.0:
            raise ValueError(
                f"cycles_of_concentration {self.cycles_of_concentration.value} must be > 1"
            )
        return self

    @property
    def rated_itd_delta_k(self) -> float:
        """Hot water minus wet bulb at rating [K]."""
        return self.rated_hot_water_degc.value - self.rated_wet_bulb_degc.value

    @property
    def rated_range_delta_k(self) -> float:
        """Hot minus cold water at rating [K]."""
        return self.rated_hot_water_degc.value - self.rated_cold_water_degc.value

    @property
    def rated_approach_delta_k(self) -> float:
        """Cold water minus wet bulb at rating [K]."""
        return self.rated_cold_water_degc.value - self.rated_wet_bulb_degc.value


class Chiller(_Repairable):
    """Vapour-compression chiller: COP = carnot_frac T_evap / (T_cond - T_evap)."""

    type: Literal["chiller"] = Field(description="Discriminator.")
    condenser: Literal["air", "water"] = Field(description="Air-cooled or water-cooled.")
    condenser_tower: str | None = Field(
        default=None, description="Cooling-tower entry serving the condenser (water-cooled)."
    )
    rated_heat_kw: SNum = Field(description="Cooling capacity [kW].")
    rating_chw_degc: SNum = Field(description="Leaving chilled water at the rating point [degC].")
    rating_condenser_degc: SNum = Field(
        description="Entering condenser water or air at the rating point [degC]."
    )
    rating_cop: SNum = Field(description="COP at the rating point [W/W].")
    condenser_range_delta_k: SNum | None = Field(
        default=None, description="Condenser water leaving minus entering (water-cooled) [K]."
    )
    carnot_frac: SNum = Field(description="COP over the Carnot COP of refrigerant temperatures.")
    evap_approach_delta_k: SNum = Field(description="Leaving chilled water minus evaporating [K].")
    cond_approach_delta_k: SNum = Field(description="Condensing minus condenser medium [K].")
    cop_max: SNum = Field(description="Upper bound of the COP at low lift [W/W].")
    eir_fplr_a: SNum = Field(description="Part-load power curve EIRfPLR = a + b PLR + c PLR^2: a.")
    eir_fplr_b: SNum = Field(description="Part-load power curve: b.")
    eir_fplr_c: SNum = Field(description="Part-load power curve: c.")
    min_unloading_frac: SNum = Field(
        description="Part-load ratio below which the chiller false-loads (power stops falling)."
    )
    capacity_derate_per_k_frac: SNum | None = Field(
        default=None,
        description=(
            "Capacity lost per K of entering condenser air or water above the rating point "
            "[frac/K]; none: the rated capacity at any condenser temperature."
        ),
    )
    high_limit_condenser_degc: SNum | None = Field(
        default=None,
        description=(
            "Highest entering condenser air (maximum ambient) or water at which the chiller "
            "runs; above it, it stops [degC]. None: no limit."
        ),
    )

    @field_validator("capacity_derate_per_k_frac")
    @classmethod
    def _derate(cls, v: Sourced | None) -> Sourced | None:
        if v is not None and not (0.0 <= v.value < 1.0):
            raise ValueError(f"{v.value} must be in [0, 1)")
        return v

    @field_validator("min_unloading_frac")
    @classmethod
    def _unload(cls, v: Sourced) -> Sourced:
        if not (0.0 <= v.value < 1.0):
            raise ValueError(f"{v.value} must be in [0, 1)")
        return v

    @field_validator("rated_heat_kw", "rating_cop", "cop_max")
    @classmethod
    def _pos(cls, v: Sourced) -> Sourced:
        return _positive(v)

    @field_validator("evap_approach_delta_k", "cond_approach_delta_k")
    @classmethod
    def _nonneg(cls, v: Sourced) -> Sourced:
        return _non_negative(v)

    @field_validator("carnot_frac")
    @classmethod
    def _frac(cls, v: Sourced) -> Sourced:
        return _unit_interval(v)

    @model_validator(mode="after")
    def _water_side(self) -> Chiller:
        if self.condenser == "water":
            if self.condenser_tower is None or self.condenser_range_delta_k is None:
                raise ValueError(
                    "a water-cooled chiller needs condenser_tower and condenser_range_delta_k"
                )
            _positive(self.condenser_range_delta_k)
        limit = self.high_limit_condenser_degc
        if limit is not None and not limit.value > self.rating_condenser_degc.value:
            raise ValueError(
                f"high_limit_condenser_degc {limit.value} must be above rating_condenser_degc "
                f"{self.rating_condenser_degc.value}"
            )
        full = self.eir_fplr_a.value + self.eir_fplr_b.value + self.eir_fplr_c.value
        if abs(full - 1.0) > 0.01:
            raise ValueError(
                f"eir_fplr_a + eir_fplr_b + eir_fplr_c = {full:.4f}; expected 1 (+-0.01): the "
                "curve is normalised to full-load power"
            )
        lo = min(self.min_unloading_frac.value, 1.0)
        for plr in (lo, 0.5 * (lo + 1.0), 1.0):
            eir = self.eir_fplr_a.value + plr * (
                self.eir_fplr_b.value + plr * self.eir_fplr_c.value
            )
            if eir <= 0.0:
                raise ValueError(
                    f"part-load power curve is {eir:.4f} at PLR {plr:.2f}; expected > 0"
                )
        return self


class CRAH(_Repairable):
    """CRAH or fan wall on chilled water."""

    type: Literal["crah"] = Field(description="Discriminator.")
    rated_heat_kw: SNum = Field(description="Heat removed at rated airflow [kW].")
    fan_power_kw: SNum = Field(description="Fan power at rated airflow [kW].")
    min_speed_frac: SNum = Field(description="Lowest fan speed [frac].")
    fan_power_exponent: SNum = Field(description="Affinity exponent of fan power on speed [-].")
    air_approach_delta_k: SNum = Field(description="Supply air minus entering chilled water [K].")

    @field_validator("rated_heat_kw", "fan_power_kw", "fan_power_exponent")
    @classmethod
    def _pos(cls, v: Sourced) -> Sourced:
        return _positive(v)

    @field_validator("min_speed_frac")
    @classmethod
    def _frac(cls, v: Sourced) -> Sourced:
        return _unit_interval(v)

    @field_validator("air_approach_delta_k")
    @classmethod
    def _nonneg(cls, v: Sourced) -> Sourced:
        return _non_negative(v)


class Humidifier(_Entry):
    """Humidifier of the make-up (outdoor) air of an air-cooled hall."""

    type: Literal["humidifier"] = Field(description="Discriminator.")
    energy_j_per_kg: SNum = Field(
        description="Electricity per kg of water added to the air [J/kg]."
    )

    @field_validator("energy_j_per_kg")
    @classmethod
    def _pos(cls, v: Sourced) -> Sourced:
        return _positive(v)


class SpaceLoads(_Entry):
    """Loads of a hall building that scale with its white-space floor area."""

    type: Literal["space_loads"] = Field(description="Discriminator.")
    lighting_w_per_m2: SNum = Field(description="Lighting power per m2 of white space [W/m2].")
    ancillary_w_per_m2: SNum = Field(
        description="Security, fire, BMS, offices and support spaces per m2 of white space [W/m2]."
    )
    outdoor_air_l_per_s_per_m2: SNum = Field(
        description="Outdoor air (pressurisation, people) per m2 of white space [L/s/m2]."
    )
    air_density_kg_per_m3: SNum = Field(description="Density of the outdoor air [kg/m3].")
    pressure_pa: SNum = Field(description="Atmospheric pressure for psychrometrics [Pa].")

    @field_validator("*", mode="after")
    @classmethod
    def _numbers_non_negative(cls, v: object) -> object:
        return _non_negative(v) if isinstance(v, Sourced) else v


CoolingEquipment = Annotated[
    Fluids
    | CDU
    | Pump
    | DryCooler
    | AdiabaticPad
    | CoolingTower
    | Chiller
    | CRAH
    | Humidifier
    | SpaceLoads,
    Field(discriminator="type"),
]

_ENTRY_ADAPTER: TypeAdapter = TypeAdapter(CoolingEquipment)


def load_cooling_equipment(
    path: str | Path | None = None,
    additions: Mapping[str, Any] | None = None,
    where: str = "catalog.cooling_equipment",
) -> dict[str, BaseModel]:
    """Load cooling equipment entries, keyed by entry id, with a scenario's additions.

    Parameters
    ----------
    path
        YAML file; the shipped ``data/cooling_equipment.yaml`` when None.
    additions
        A scenario's ``catalog: {cooling_equipment: {id: {field: value}}}`` block: an existing
        id is overridden field by field, a new id must give every field (with ``type:``); a
        bare number stands for ``{value, source: "scenario file", confidence: scenario}``.
    where
        Location of ``additions`` for error messages.

    Returns
    -------
    Entry id -> :class:`Fluids`, :class:`CDU`, :class:`Pump`, :class:`DryCooler`,
    :class:`AdiabaticPad`, :class:`CoolingTower`, :class:`Chiller`, :class:`CRAH`,
    :class:`Humidifier` or :class:`SpaceLoads` (by ``type:``). The file must hold exactly one
    ``fluids`` entry, named ``fluids``.

    Raises
    ------
    ConfigError
        If the file cannot be read, an entry is invalid, or a chiller names an unknown
        condenser tower; the message names the entry and field.
    """
    p = Path(path) if path is not None else COOLING_EQUIPMENT_PATH
    data = read_yaml(p)
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping id -> entry", where=str(p))
    touched: set[str] = set()
    if additions:
        if not isinstance(additions, Mapping):
            raise ConfigError(
                f"{additions!r} must be a mapping of id -> entry (fields of the entry)", where=where
            )
        data = dict(data)
        for key, entry in additions.items():
            if not isinstance(entry, Mapping):
                raise ConfigError(
                    f"{entry!r} must be a mapping of field -> value", f"{where}.{key}"
                )
            base = data.get(key)
            data[key] = {**base, **dict(entry)} if isinstance(base, Mapping) else dict(entry)
            touched.add(str(key))
    entries: dict[str, BaseModel] = {}
    for key, raw in data.items():
        try:
            entries[key] = _ENTRY_ADAPTER.validate_python(raw)
        except ValidationError as e:
            err = e.errors()[0]
            parts = [str(x) for x in err["loc"]]
            what = "missing:" if err["type"] == "missing" else f"{err.get('input')!r}"
            if len(parts) <= 1:  # an error of the whole entry (type, or a cross-field rule)
                what = ""
            if key in touched:  # located at the scenario's catalog block
                loc, field = f"{where}.{key}", ".".join(parts[1:])
            else:  # located in the file, as <id>.<type>.<field>
                loc, field = str(p), ".".join([str(key), *parts])
            raise ConfigError(f"{field}: {what} {err['msg']}".replace("  ", " "), where=loc) from e
    if not isinstance(entries.get("fluids"), Fluids):
        raise ConfigError("fluids: missing; expected an entry 'fluids' of type fluids", str(p))
    for key, entry in entries.items():
        if isinstance(entry, Chiller) and entry.condenser_tower is not None:
            tower = entries.get(entry.condenser_tower)
            if not isinstance(tower, CoolingTower):
                loc = f"{where}.{key}" if key in touched else str(p)
                raise ConfigError(
                    f"{key}.condenser_tower: '{entry.condenser_tower}' is not a cooling_tower "
                    "entry of this file",
                    where=loc,
                )
    return entries


def merge_cooling_equipment(catalog: Any) -> dict[str, BaseModel]:
    """Cooling equipment of a loaded catalog: the scenario's merged table, or the shipped one.

    Parameters
    ----------
    catalog
        A :class:`dcsim.catalog.schema.Catalog` (its ``cooling_equipment`` holds the merged
        table when the scenario's catalog block adds or overrides entries) or None.

    Returns
    -------
    Entry id -> entry, as :func:`load_cooling_equipment`.
    """
    table = getattr(catalog, "cooling_equipment", None)
    return dict(table) if table else load_cooling_equipment()
