"""Grid, tariff, carbon and on-site schema (grid_schema.py) and their named checks.

Each check passes on the shipped snippets pasted into gw-campus and fails, naming its field
path and the offending value, on a minimal broken case built from small-hall data. Until the
integrator adds the blocks to ``Site``, a test-local subclass carries them.
"""

from __future__ import annotations

import copy
import types
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel, Field, ValidationError
from ruamel.yaml import YAML

from dcsim.errors import ConfigError
from dcsim.scenario.grid_checks import (
    GRID_CHECKS,
    check_battery_reserve_within_energy,
    check_contract_within_import_limit,
    check_grid_events_in_horizon,
    check_grid_ramp_order,
    check_min_take_has_demand_charge,
    check_record_interval_for_demand_charges,
    check_scheduled_curtailment_within_budget,
    check_tariff_periods_disjoint,
    check_tariff_prices_non_negative,
)
from dcsim.scenario.grid_schema import (
    Arbitrage,
    Battery,
    Carbon,
    CleanBlock,
    CoincidentPeak,
    CurtailmentEvent,
    GridContract,
    OnSite,
    RandomCurtailment,
    Tariff,
    UniformDuration,
)
from dcsim.scenario.load import load_yaml_with_lines
from dcsim.scenario.schema import Scenario, Site
from dcsim.units import KNOWN_SUFFIXES

REPO = Path(__file__).resolve().parents[2]
SNIPPETS = sorted((REPO / "scenarios" / "snippets").glob("grid-*.yaml"))


class GSite(Site):
    grid: GridContract | None = None
    tariff: Tariff | None = None
    carbon: Carbon | None = None
    onsite: OnSite | None = None


class GScenario(Scenario):
    sites: list[GSite] = Field(min_length=1)


@pytest.fixture(scope="module")
def base() -> dict:
    data, _ = load_yaml_with_lines(REPO / "scenarios" / "small-hall.yaml")
    return data


def with_blocks(base: dict, **blocks) -> GScenario:
    data = copy.deepcopy(base)
    data["sites"][0].update(blocks)
    return GScenario.model_validate(data)


def fails(check, sc) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        check(sc, None)
    return info.value


# --------------------------------------------------------------------------- shipped


@pytest.mark.parametrize("path", SNIPPETS, ids=[p.name for p in SNIPPETS])
def test_snippets_validate_and_pass_every_check_in_gw_campus(path):
    data, _ = load_yaml_with_lines(REPO / "scenarios" / "gw-campus.yaml")
    snippet = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    assert set(snippet) == {"grid", "tariff", "carbon", "onsite"}
    data["sites"][0].update(snippet)
    sc = GScenario.model_validate(data)
    for check in GRID_CHECKS:
        check(sc, None)


def test_two_snippets_share_tariff_and_carbon():
    # The variant pair differs only in contract and on-site supply, so costs compare.
    a, b = (YAML(typ="safe").load(p.read_text(encoding="utf-8")) for p in SNIPPETS)
    assert a["tariff"] == b["tariff"] and a["carbon"] == b["carbon"]


def test_checks_pass_without_grid_blocks(base):
    sc = Scenario.model_validate(base)  # the plain schema: no grid attributes at all
    for check in GRID_CHECKS:
        check(sc, None)


def test_each_check_is_tested_here():
    tested = {
        check_battery_reserve_within_energy,
        check_contract_within_import_limit,
        check_grid_events_in_horizon,
        check_grid_ramp_order,
        check_min_take_has_demand_charge,
        check_record_interval_for_demand_charges,
        check_scheduled_curtailment_within_budget,
        check_tariff_periods_disjoint,
        check_tariff_prices_non_negative,
    }
    assert set(GRID_CHECKS) == tested


# --------------------------------------------------------------------------- broken cases


def test_battery_energy_below_reserve(base):
    sc = with_blocks(base, onsite={"battery": {"power_mw": 1, "energy_mwh": 2, "reserve_mwh": 3}})
    err = fails(check_battery_reserve_within_energy, sc)
    assert err.where == "sites.0.onsite.battery.reserve_mwh"
    assert err.message.startswith("3 MWh exceeds the battery energy 2 MWh")


def test_contract_above_import_limit(base):
    sc = with_blocks(base, grid={"firm_mw": 2.5, "nonfirm_mw": 1.0})  # limit 3.2 MW
    err = fails(check_contract_within_import_limit, sc)
    assert err.where == "sites.0.grid.nonfirm_mw"
    assert "2.5 MW firm + 1 MW non-firm = 3.5 MW exceeds import_limit_mw 3.2" in err.message


def test_contract_above_import_limit_after_a_ramp_step(base):
    grid = {"firm_mw": 2.0, "firm_ramp": [{"date": "2027-01-06", "mw": 3.5}]}
    err = fails(check_contract_within_import_limit, with_blocks(base, grid=grid))
    assert err.where == "sites.0.grid.firm_ramp.0"
    assert "3.5 MW from 2027-01-06 exceeds import_limit_mw 3.2" in err.message


def test_ramp_dates_out_of_order(base):
    grid = {
        "firm_mw": 1.0,
        "firm_ramp": [{"date": "2027-03-01", "mw": 2.0}, {"date": "2027-02-01", "mw": 2.5}],
    }
    err = fails(check_grid_ramp_order, with_blocks(base, grid=grid))
    assert err.where == "sites.0.grid.firm_ramp.1.date"
    assert err.message.startswith("2027-02-01 is not after the previous step (2027-03-01)")


@pytest.mark.parametrize(
    "field, start",
    [("curtailment.events", "2027-01-03T23:00"), ("disconnects", "2027-01-11T00:00")],
)
def test_events_outside_the_horizon(base, field, start):
    # small-hall runs 2027-01-04 for 7 days, to 2027-01-11 00:00 (exclusive).
    grid = {"firm_mw": 2.0, "nonfirm_mw": 1.0}
    event = {"start": start, "duration_s": "1h"}
    if field == "disconnects":
        grid["disconnects"] = [event]
    else:
        grid["curtailment"] = {"events": [event]}
    err = fails(check_grid_events_in_horizon, with_blocks(base, grid=grid))
    assert err.where == f"sites.0.grid.{field}.0.start"
    assert "is outside the horizon 2027-01-04 to 2027-01-11" in err.message
    assert start[:10] in err.message


def test_scheduled_curtailment_over_budget(base):
    events = [
        {"start": "2027-01-05T14:00", "duration_s": "3h"},
        {"start": "2027-01-06T14:00", "duration_s": "3h"},
    ]
    grid = {"firm_mw": 2, "nonfirm_mw": 1, "curtailment": {"events": events, "annual_budget_h": 5}}
    err = fails(check_scheduled_curtailment_within_budget, with_blocks(base, grid=grid))
    assert err.where == "sites.0.grid.curtailment.events.1.duration_s"
    assert "reaches 6 h in contract year 1; expected at most annual_budget_h 5 h" in err.message


def test_scheduled_curtailment_deeper_than_the_nonfirm_block(base):
    events = [{"start": "2027-01-05T14:00", "duration_s": "1h", "depth_mw": 1.5}]
    grid = {"firm_mw": 2, "nonfirm_mw": 1, "curtailment": {"events": events}}
    err = fails(check_scheduled_curtailment_within_budget, with_blocks(base, grid=grid))
    assert err.where == "sites.0.grid.curtailment.events.0.depth_mw"
    assert "1.5 MW exceeds the non-firm capacity 1 MW" in err.message


def test_curtailment_without_a_nonfirm_block(base):
    events = [{"start": "2027-01-05T14:00", "duration_s": "1h"}]
    grid = {"firm_mw": 2, "curtailment": {"events": events}}
    err = fails(check_scheduled_curtailment_within_budget, with_blocks(base, grid=grid))
    assert err.where == "sites.0.grid.curtailment.events.0.start"
    assert "non-firm capacity is 0 MW" in err.message


def test_overlapping_tariff_periods(base):
    energy = {
        "type": "tou",
        "base_usd_per_mwh": 40,
        "periods": [
            {"name": "summer-peak", "months": ["jun", "jul"], "from_h": 14, "to_h": 20,
             "price_usd_per_mwh": 120},
            {"name": "evening", "months": ["jul"], "weekdays": ["fri"], "from_h": 18, "to_h": 22,
             "price_usd_per_mwh": 90},
        ],
    }  # fmt: skip
    err = fails(check_tariff_periods_disjoint, with_blocks(base, tariff={"energy": energy}))
    assert err.where == "sites.0.tariff.energy.periods.1"
    assert err.message.startswith("overlaps summer-peak (e.g. jul fri 18:00)")


def test_wrapping_periods_overlap_too(base):
    energy = {
        "type": "tou",
        "base_usd_per_mwh": 40,
        "periods": [
            {"from_h": 22, "to_h": 2, "price_usd_per_mwh": 20},
            {"from_h": 1, "to_h": 5, "price_usd_per_mwh": 25},
        ],
    }
    err = fails(check_tariff_periods_disjoint, with_blocks(base, tariff={"energy": energy}))
    assert "(e.g. jan mon 01:00)" in err.message


@pytest.mark.parametrize(
    "energy, path, value",
    [
        ({"type": "flat", "price_usd_per_mwh": -5}, "energy.price_usd_per_mwh", "-5"),
        (
            {"type": "tou", "base_usd_per_mwh": 30,
             "periods": [{"from_h": 1, "to_h": 4, "price_usd_per_mwh": -2.5}]},
            "energy.periods.0.price_usd_per_mwh", "-2.5",
        ),
    ],
)  # fmt: skip
def test_negative_prices_not_allowed(base, energy, path, value):
    sc = with_blocks(base, tariff={"energy": energy})
    err = fails(check_tariff_prices_non_negative, sc)
    assert err.where == f"sites.0.tariff.{path}"
    assert err.message.startswith(f"{value} USD/MWh is negative")
    allowed = with_blocks(base, tariff={"energy": energy, "allow_negative_prices": True})
    check_tariff_prices_non_negative(allowed, None)


def test_min_take_needs_a_demand_charge(base):
    sc = with_blocks(
        base,
        grid={"firm_mw": 2, "min_take_frac": 0.85},
        tariff={"energy": {"type": "flat", "price_usd_per_mwh": 40}},
    )
    err = fails(check_min_take_has_demand_charge, sc)
    assert err.where == "sites.0.grid.min_take_frac"
    assert err.message.startswith("0.85 needs a demand charge")


def test_record_interval_must_resolve_15_minutes(base):
    tariff = {
        "energy": {"type": "flat", "price_usd_per_mwh": 40},
        "demand_charge_usd_per_kw_per_month": 10,
    }
    data = copy.deepcopy(base)
    data["record_every_s"] = "1h"
    data["sites"][0]["tariff"] = tariff
    err = fails(check_record_interval_for_demand_charges, GScenario.model_validate(data))
    assert err.where == "record_every_s"
    assert err.message.startswith("3600 s does not divide 900 s")
    data["record_every_s"] = "5min"
    data["start"] = "2027-01-04T00:10"
    err = fails(check_record_interval_for_demand_charges, GScenario.model_validate(data))
    assert err.where == "start" and "2027-01-04T00:10 is not on a quarter hour" in err.message


# --------------------------------------------------------------------------- schema


@pytest.mark.parametrize(
    "model, data, text",
    [
        (CurtailmentEvent, {"start": "2027-01-05", "duration_s": "1h", "depth_frac": 0.5,
                            "depth_mw": 1}, "depth_frac or depth_mw, not both"),
        (CurtailmentEvent, {"start": "2027-01-05", "duration_s": "0s"}, "greater than 0"),
        (UniformDuration, {"min_s": "2h", "max_s": "1h"}, "max_s 3600 s is below min_s 7200 s"),
        (RandomCurtailment, {"events_per_y": 3, "from_h": 14, "to_h": 14,
                             "duration": {"type": "fixed", "duration_s": "1h"}}, "empty window"),
        (RandomCurtailment, {"events_per_y": 3, "months": ["july"],
                             "duration": {"type": "fixed", "duration_s": "1h"}}, "'jan'"),
        (Battery, {"power_mw": 1, "energy_mwh": 1, "round_trip_frac": 0}, "greater than 0"),
        (Arbitrage, {"charge_below_usd_per_mwh": 10}, "give both"),
        (Arbitrage, {"charge_below_usd_per_mwh": 50, "discharge_above_usd_per_mwh": 40},
         "must be above the charge bound"),
        (CleanBlock, {"power_mw": 300, "mtbf_h": 1000}, "both mtbf_h and mttr_h"),
        (CleanBlock, {"power_mw": 300, "mtbf_h": 1000, "mttr_h": 50, "availability_frac": 0.9},
         "not both"),
        (CoincidentPeak, {"charge_usd_per_kw_per_y": 100, "peak_hour_h": 15.1},
         "not on a quarter hour"),
        (Carbon, {"clean_supply_mwh_per_y": 1, "clean_share_frac": 0.5}, "not both"),
        (GridContract, {"firm_mw": 1, "firm_capacity_mw": 2}, "Extra inputs"),
    ],
)  # fmt: skip
def test_schema_rejects_with_a_clear_message(model, data, text):
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    assert text in str(info.value)


def test_defaults_are_left_to_the_catalog():
    b = Battery(power_mw=1, energy_mwh=2)
    assert b.round_trip_frac is None and b.policy.type == "ride_through"
    cp = CoincidentPeak(charge_usd_per_kw_per_y=100)
    assert cp.months == ["jun", "jul", "aug", "sep"] and cp.peak_hour_h is None


def _leaf_types(tp):
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _leaf_types(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, dict, typing.Literal):
        if origin is typing.Literal:
            return [type(a) for a in typing.get_args(tp)]
        return [leaf for arg in typing.get_args(tp) for leaf in _leaf_types(arg)]
    return [tp]


def _numeric_fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, info in model.model_fields.items():
        leaves = _leaf_types(info.annotation)
        if any(
            isinstance(t, type) and issubclass(t, int | float) and t is not bool for t in leaves
        ):
            out.append(prefix + name)
        for t in leaves:
            if isinstance(t, type) and issubclass(t, BaseModel):
                out += _numeric_fields(t, f"{prefix}{name}.")
    return out


@pytest.mark.parametrize("model", [GridContract, Tariff, Carbon, OnSite])
def test_every_numeric_field_has_a_unit_and_a_description(model):
    # Same rule as tests/test_units.py, on these blocks before they are wired into Site.
    fields = _numeric_fields(model)
    assert fields
    bad = [
        f
        for f in fields
        if not any(("_" + f.rsplit(".", 1)[-1]).endswith(s) for s in KNOWN_SUFFIXES)
    ]
    assert bad == []

    def described(m: type[BaseModel]) -> list[str]:
        missing = [
            f"{m.__name__}.{n}"
            for n, i in m.model_fields.items()
            if n != "type" and not i.description
        ]
        for i in m.model_fields.values():
            for t in _leaf_types(i.annotation):
                if isinstance(t, type) and issubclass(t, BaseModel):
                    missing += described(t)
        return missing

    assert described(model) == []
