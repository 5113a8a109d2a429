"""Cooling and weather schema blocks, the shipped snippets, and the cooling checks.

The integrator adds LiquidCooling to Hall.cooling, Weather to Site and CoolingFault to
Scenario; here the schema is extended the same way with subclasses, so the blocks are
tested standalone and as they will sit in a scenario.
"""

import copy
import inspect
import types
import typing
from pathlib import Path
from typing import Annotated

import pytest
from pydantic import BaseModel, Field, ValidationError
from ruamel.yaml import YAML

from dcsim.catalog.load import load_catalog
from dcsim.errors import ConfigError
from dcsim.model import cooling_checks as CC
from dcsim.scenario.cooling_schema import CoolingFault, LiquidCooling
from dcsim.scenario.schema import Building, FixedCopCooling, Hall, Scenario, Site
from dcsim.scenario.weather_schema import Weather
from dcsim.units import KNOWN_SUFFIXES

REPO = Path(__file__).resolve().parents[2]
SNIPPETS = REPO / "scenarios" / "snippets"
HALL = "sites.main.buildings.b1.halls.h1"  # errors name items as the scenario does


class HallL(Hall):
    cooling: Annotated[FixedCopCooling | LiquidCooling, Field(discriminator="type")] = Field(
        default_factory=lambda: FixedCopCooling(cop=12.0)
    )


class BuildingL(Building):
    halls: list[HallL]


class SiteL(Site):
    buildings: list[BuildingL]
    weather: Weather | None = None


class ScenarioL(Scenario):
    sites: list[SiteL]
    cooling_faults: list[CoolingFault] = Field(default_factory=list)


def load_yaml(name: str) -> dict:
    return YAML(typ="safe").load((SNIPPETS / name).read_text())


def scenario(cooling, system="gb200-nvl72", count=400, faults=(), weather=None) -> ScenarioL:
    y = YAML(typ="safe").load((REPO / "scenarios" / "small-hall.yaml").read_text())
    site = y["sites"][0]
    site["import_limit_mw"] = 70
    hall = {
        "name": "h1",
        "feed_mw": 60,
        "rack_groups": [{"system": system, "count": count, "workload": "chat"}],
        "cooling": copy.deepcopy(cooling),
    }
    site["buildings"] = [{"name": "b1", "halls": [hall]}]
    if weather is not None:
        site["weather"] = weather
    y["cooling_faults"] = list(faults)
    return ScenarioL.model_validate(y)


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


@pytest.fixture
def dry():
    return load_yaml("cooling-dlc-dry-adiabatic-trim.yaml")["cooling"]


@pytest.fixture
def towers():
    return load_yaml("cooling-towers.yaml")["cooling"]


def assert_checks_pass(s, cat):
    """Run every cooling check; each must accept the scenario (a refusal is a ConfigError)."""
    refused = []
    for check in CC.COOLING_CHECKS:
        try:
            check(s, cat)
        except ConfigError as err:
            refused.append((check.__name__, str(err)))
    assert len(CC.COOLING_CHECKS) >= 4  # the rule is not vacuous
    assert refused == []


# --------------------------------------------------------------------------- snippets


@pytest.mark.parametrize("name", ["cooling-dlc-dry-adiabatic-trim.yaml", "cooling-towers.yaml"])
def test_cooling_snippets_validate_and_pass_the_checks(name, cat):
    block = load_yaml(name)["cooling"]
    LiquidCooling.model_validate(block)
    assert_checks_pass(scenario(block), cat)


def test_commented_gb300_variant_validates_and_passes(cat):
    text = (SNIPPETS / "cooling-dlc-dry-adiabatic-trim.yaml").read_text()
    tail = text[text.index("# cooling:\n") :]
    block = YAML(typ="safe").load("\n".join(line[2:] for line in tail.splitlines()))["cooling"]
    assert_checks_pass(scenario(block, system="gb300-nvl72"), cat)


def test_weather_snippet_validates():
    w = Weather.model_validate(load_yaml("cooling-weather-heat-wave.yaml")["weather"])
    assert w.file == "site:dallas"
    assert w.heat_waves[0].duration_s == 4 * 86400 and w.heat_waves[0].temp_rise_delta_k == 8
    s = scenario(load_yaml("cooling-towers.yaml")["cooling"], weather=w.model_dump())
    assert s.sites[0].weather == w


# --------------------------------------------------------------------------- schema rules


def _leaves(tp):
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _leaves(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, dict):
        return [x for a in typing.get_args(tp) for x in _leaves(a)]
    return [tp]


def _numeric_fields(model, prefix=""):
    out = []
    for name, info in model.model_fields.items():
        leaves = _leaves(info.annotation)
        if any(isinstance(t, type) and issubclass(t, int | float) and t is not bool
               for t in leaves):  # fmt: skip
            out.append(prefix + name)
        for t in leaves:
            if isinstance(t, type) and issubclass(t, BaseModel):
                out += _numeric_fields(t, f"{prefix}{name}.")
    return out


@pytest.mark.parametrize("model", [LiquidCooling, Weather, CoolingFault])
def test_every_numeric_field_has_a_unit_suffix_and_a_description(model):
    fields = _numeric_fields(model)
    assert fields
    for path in fields:
        leaf = path.rsplit(".", 1)[-1]
        assert any(("_" + leaf).endswith(s) for s in KNOWN_SUFFIXES), path


def _all_fields(model):
    for info in model.model_fields.values():
        yield info
        for t in _leaves(info.annotation):
            if isinstance(t, type) and issubclass(t, BaseModel):
                yield from _all_fields(t)


@pytest.mark.parametrize("model", [LiquidCooling, Weather, CoolingFault])
def test_every_field_is_described(model):
    assert all(info.description for info in _all_fields(model))


def test_unknown_key_and_bad_discriminator_are_refused(dry):
    bad = copy.deepcopy(dry)
    bad["fws_setpoint_degc"] = 30
    with pytest.raises(ValidationError, match="fws_setpoint_degc"):
        LiquidCooling.model_validate(bad)
    bad = copy.deepcopy(dry)
    bad["heat_rejection"]["type"] = "drycooler"
    with pytest.raises(ValidationError, match="dry_cooler"):
        LiquidCooling.model_validate(bad)
    bad = copy.deepcopy(dry)
    bad["cdus"]["design_count"] = 0
    with pytest.raises(ValidationError, match="greater than 0"):
        LiquidCooling.model_validate(bad)


def test_fault_durations_and_dates_parse():
    f = CoolingFault.model_validate(
        {"unit": "cdu", "hall": "b1h1", "start": "2027-07-08T14:00", "duration_s": "6h"}
    )
    assert f.duration_s == 21600 and f.count == 1
    with pytest.raises(ValidationError, match="pump"):
        CoolingFault.model_validate(
            {"unit": "pump", "hall": "b1h1", "start": "2027-07-08", "duration_s": "6h"}
        )


# --------------------------------------------------------------------------- checks


def test_checks_have_the_checks_signature():
    assert len(CC.COOLING_CHECKS) == 5
    for check in CC.COOLING_CHECKS:
        assert list(inspect.signature(check).parameters) == ["scenario", "catalog"]
        assert check.__name__.startswith("check_") and check.__doc__


def test_supply_temperature_above_the_rack_limit(dry, cat):
    # 37 + 3.90 K CDU approach at design = 40.90 degC > 40 (gb200-nvl72).
    dry["fws_supply_setpoint_degc"] = 37
    with pytest.raises(ConfigError) as err:
        CC.check_supply_temp_within_rack_limit(scenario(dry), cat)
    assert err.value.where == f"{HALL}.cooling.fws_supply_setpoint_degc"
    msg = err.value.message
    assert "40.90 degC technology-loop supply, above the 40 degC limit of 'gb200-nvl72'" in msg
    assert "at most 36.10 degC" in msg
    # The same plant is fine for GB300 racks (45 degC, U).
    CC.check_supply_temp_within_rack_limit(scenario(dry, system="gb300-nvl72", count=300), cat)


def test_tcs_limit_override_cannot_exceed_the_racks(dry, cat):
    dry["tcs_supply_limit_degc"] = 42
    with pytest.raises(ConfigError) as err:
        CC.check_supply_temp_within_rack_limit(scenario(dry), cat)
    assert err.value.where == f"{HALL}.cooling.tcs_supply_limit_degc"


def test_air_cooled_racks_need_cool_enough_air(towers, cat):
    # dgx-b200 inlet limit 30 degC; 26 degC chilled water + 6 K air approach = 32 degC.
    towers["air_path"]["chw_supply_degc"] = 26
    with pytest.raises(ConfigError) as err:
        CC.check_supply_temp_within_rack_limit(scenario(towers, system="dgx-b200"), cat)
    assert err.value.where == f"{HALL}.cooling.air_path.chw_supply_degc"


@pytest.mark.parametrize(
    ("edit", "field", "text"),
    [
        # 30 dry coolers x 1.033 MW (pads at 35/25 degC) + 4 trim chillers x 1.5 MW = 37 MW.
        (("heat_rejection", "units", "design_count", 30), "heat_rejection",
         "heat rejection at design ambient: 37.00 MW with N units is below the hall's design "
         "liquid heat 44.88 MW (400 x gb200-nvl72)"),
        (("cdus", "design_count", 20), "cdus.design_count", "CDUs: 40.00 MW"),
        (("fws_pumps", "design_count", 7), "fws_pumps.design_count", "facility-water pumps"),
        # Air heat: 57.43 MW design heat (racks + 4.05 MW outside them, / 0.99) - 44.88 MW.
        (("air_path", "crah", "design_count", 30), "air_path.crah.design_count",
         "CRAHs: 7.50 MW with N units is below the hall's design air heat 12.55 MW"),
    ],
)  # fmt: skip
def test_design_capacity_below_design_heat(dry, cat, edit, field, text):
    node = dry
    for key in edit[:-2]:
        node = node[key]
    node[edit[-2]] = edit[-1]
    with pytest.raises(ConfigError) as err:
        CC.check_cooling_capacity_covers_design_heat(scenario(dry), cat)
    assert err.value.where == f"{HALL}.cooling.{field}"
    assert text in err.value.message


def test_spares_do_not_count_towards_design_capacity(dry, cat):
    # 30 dry coolers + 20 spares: the N = 30 still fall short.
    dry["heat_rejection"]["units"].update(design_count=30, spare_count=20)
    with pytest.raises(ConfigError):
        CC.check_cooling_capacity_covers_design_heat(scenario(dry), cat)


def test_air_heat_needs_an_air_path(dry, cat):
    del dry["air_path"]
    with pytest.raises(ConfigError) as err:
        CC.check_cooling_capacity_covers_design_heat(scenario(dry), cat)
    assert err.value.where == f"{HALL}.cooling.air_path"


def test_unknown_equipment_is_named(dry, cat):
    dry["heat_rejection"]["units"]["equipment"] = "dry_cooler_2mw"
    with pytest.raises(ConfigError) as err:
        CC.check_cooling_equipment_known(scenario(dry), cat)
    assert err.value.where == f"{HALL}.cooling.heat_rejection.units.equipment"
    assert "'dry_cooler_2mw' is not a known DryCooler entry" in err.value.message


def test_fault_checks(towers, cat):
    ok = {"unit": "tower_cell", "hall": "h1", "start": "2027-01-05", "duration_s": "6h"}
    CC.check_cooling_faults_known(scenario(towers, faults=[ok]), cat)
    bad = {**ok, "unit": "dry_cooler"}
    with pytest.raises(ConfigError) as err:
        CC.check_cooling_faults_known(scenario(towers, faults=[bad]), cat)
    assert err.value.where == "cooling_faults.0.unit"


def test_fixed_cop_halls_are_not_checked(cat):
    assert_checks_pass(scenario({"type": "fixed_cop", "cop": 12}), cat)
