"""Build-out, reliability, training and economics blocks: schema, checks, snippets.

The Scenario of dcsim.scenario.schema gains the blocks when the integrator wires them in;
until then (and independently of it) these tests extend it locally the same way:
``buildout``, ``reliability``, ``economics`` on the scenario, ``training`` on a workload.
"""

from __future__ import annotations

import copy
import types
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML

from dcsim.catalog.load import load_catalog
from dcsim.errors import ConfigError
from dcsim.scenario import buildout_checks as bc
from dcsim.scenario.buildout_schema import Buildout, Economics, Reliability, Training
from dcsim.scenario.schema import Scenario, Workload
from dcsim.units import KNOWN_SUFFIXES

REPO = Path(__file__).resolve().parents[2]
SNIPPETS = sorted((REPO / "scenarios" / "snippets").glob("capacity-*.yaml"))


class _Workload(Workload):
    training: Training | None = None


class _Scenario(Scenario):
    workloads: list[_Workload]
    buildout: Buildout | None = None
    reliability: Reliability | None = None
    economics: Economics | None = None


def _yaml(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def small_hall_data():
    return _yaml(REPO / "scenarios" / "small-hall.yaml")


def run_checks(data: dict, catalog) -> None:
    sc = _Scenario.model_validate(data)
    for check in bc.BUILDOUT_CHECKS:
        check(sc, catalog)


GOOD = {
    "phases": [
        {
            "name": "p1",
            "halls": ["h1"],
            "shell_ready": "2027-01-01",
            "energised": "2027-02-01",
            "cooling_commissioned": "2027-02-15",
        }
    ],
    "deliveries": [{"rack_group": "h1/chat", "count": 6, "earliest": "2027-01-10"}],
    "supply": [{"system": "gb200-nvl72", "racks_per_month": 10}],
    "installation": {"racks_per_week": 5},
}


def with_blocks(base: dict, **blocks) -> dict:
    data = copy.deepcopy(base)
    data.update(copy.deepcopy(blocks))
    return data


def test_a_good_buildout_passes(small_hall_data, catalog):
    run_checks(with_blocks(small_hall_data, buildout=GOOD), catalog)


# --------------------------------------------------------------------------- bad input


def bad(data: dict, catalog) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        run_checks(data, catalog)
    err = info.value
    assert "\n" not in str(err)
    return err


def test_phase_dates_out_of_order(small_hall_data, catalog):
    bo = copy.deepcopy(GOOD)
    bo["phases"][0]["energised"] = "2026-12-01"
    err = bad(with_blocks(small_hall_data, buildout=bo), catalog)
    assert err.where == "buildout.phases.0.energised"
    assert "2026-12-01 is before shell_ready 2027-01-01" in err.message
    bo["phases"][0]["energised"] = "2027-03-01"
    err = bad(with_blocks(small_hall_data, buildout=bo), catalog)
    assert err.where == "buildout.phases.0.cooling_commissioned"
    assert "expected shell_ready <= energised <= cooling_commissioned" in err.message


def test_phase_halls_known_and_built_once(small_hall_data, catalog):
    bo = copy.deepcopy(GOOD)
    bo["phases"][0]["halls"] = ["h2"]
    err = bad(with_blocks(small_hall_data, buildout=bo), catalog)
    assert err.where == "buildout.phases.0.halls.0" and "unknown hall 'h2'" in err.message
    bo["phases"] = [GOOD["phases"][0], {**GOOD["phases"][0], "name": "p2"}]
    err = bad(with_blocks(small_hall_data, buildout=bo), catalog)
    assert err.where == "buildout.phases.1.halls.0" and "already built by phase 'p1'" in err.message


def test_deliveries_into_a_hall_never_built(small_hall_data, catalog):
    data = copy.deepcopy(small_hall_data)
    site = data["sites"][0]
    site["buildings"][0]["halls"].append(
        {
            "name": "h2",
            "feed_mw": 1.0,
            "rack_groups": [
                {"name": "extra", "system": "gb200-nvl72", "count": 2, "workload": "chat"}
            ],
        }
    )
    bo = copy.deepcopy(GOOD)
    bo["deliveries"] = [{"rack_group": "h2/extra", "earliest": "2027-01-10"}]
    err = bad(with_blocks(data, buildout=bo), catalog)
    assert err.where == "buildout.deliveries.0.rack_group"
    assert "hall 'h2', which is never built" in err.message
    bo["deliveries"] = [{"rack_group": "h1/chatt", "earliest": "2027-01-10"}]
    err = bad(with_blocks(data, buildout=bo), catalog)
    assert "unknown rack group 'h1/chatt'; did you mean 'h1/chat'?" in err.message


def test_deliveries_beyond_the_racks_of_a_group(small_hall_data, catalog):
    bo = copy.deepcopy(GOOD)
    bo["deliveries"] = [
        {"rack_group": "h1/chat", "count": 8, "earliest": "2027-01-10"},
        {"rack_group": "h1/chat", "count": 8, "earliest": "2027-02-10"},
    ]
    err = bad(with_blocks(small_hall_data, buildout=bo), catalog)
    assert err.where == "buildout.deliveries.1.count" and "at most its 12 racks" in err.message


def test_a_zero_supply_rate_with_deliveries_required(small_hall_data, catalog):
    bo = copy.deepcopy(GOOD)
    bo["supply"][0]["racks_per_month"] = 0
    err = bad(with_blocks(small_hall_data, buildout=bo), catalog)
    assert err.where == "buildout.supply.0.racks_per_month"
    assert "0 racks/month, but 16 'gb200-nvl72' racks are to be delivered" in err.message
    bo["supply"] = [{"system": "gb300-nvl72", "racks_per_month": 10}]
    err = bad(with_blocks(small_hall_data, buildout=bo), catalog)
    assert err.where == "buildout.supply" and "no supply entry for rack system" in err.message


def test_shortage_dates_and_system(small_hall_data, catalog):
    bo = copy.deepcopy(GOOD)
    bo["shortages"] = [
        {"component": "hbm", "start": "2027-03-01", "end": "2027-02-01", "supply_cut_frac": 0.5}
    ]
    err = bad(with_blocks(small_hall_data, buildout=bo), catalog)
    assert err.where == "buildout.shortages.0.end"
    bo["shortages"] = [
        {"system": "gb200-nvl7", "start": "2027-01-01", "end": "2027-02-01", "supply_cut_frac": 0.5}
    ]
    err = bad(with_blocks(small_hall_data, buildout=bo), catalog)
    assert "did you mean 'gb200-nvl72'" in err.message


def test_negative_failure_rates_and_repair_times(small_hall_data, catalog):
    err = bad(
        with_blocks(small_hall_data, reliability={"rate_overrides_per_h": {"gpu": -1e-6}}), catalog
    )
    assert err.where == "reliability.rate_overrides_per_h.gpu"
    assert err.message == "failure rate -1e-06 /h; expected a rate >= 0"
    err = bad(
        with_blocks(small_hall_data, reliability={"repair_overrides_s": {"gpu": "-2h"}}), catalog
    )
    assert err.where == "reliability.repair_overrides_s.gpu"
    assert err.message == "repair time -7200 s; expected a time >= 0"
    rel = {"spares": {"per_hall_count": 2, "rma_turnaround_s": "-1d"}}
    err = bad(with_blocks(small_hall_data, reliability=rel), catalog)
    assert err.where == "reliability.spares.rma_turnaround_s"
    err = bad(
        with_blocks(small_hall_data, reliability={"rate_overrides_per_h": {"gpus": 1e-6}}), catalog
    )
    assert "unknown failure cause 'gpus'; did you mean 'gpu'?" in err.message


def test_training_groups_must_serve_the_workload(small_hall_data, catalog):
    data = copy.deepcopy(small_hall_data)
    data["workloads"][0]["training"] = {
        "rack_groups": ["h1/batch"],
        "checkpoint_write_s": "1min",
        "restart_s": "5min",
    }
    err = bad(data, catalog)
    assert err.where == "workloads.0.training.rack_groups.0"
    assert "serves another workload" in err.message


def test_economics_names_known_systems(small_hall_data, catalog):
    err = bad(with_blocks(small_hall_data, economics={"rack_capex_usd": {"gb500": 1.0}}), catalog)
    assert err.where == "economics.rack_capex_usd.gb500"


@pytest.mark.parametrize(
    ("model", "data", "text"),
    [
        (
            Buildout,
            {**GOOD, "deliveries": [{"earliest": "2027-01-01"}]},
            "exactly one of rack_group",
        ),
        (
            Buildout,
            {
                **GOOD,
                "shortages": [{"start": "2027-01-01", "end": "2027-02-01", "supply_cut_frac": 0.1}],
            },
            "exactly one of system or component",
        ),
        (Reliability, {"spares": {}}, "spares_frac or per_hall_count"),
        (Training, {"checkpoint_write_s": "0s", "restart_s": "1min"}, "greater than 0"),
        (
            Buildout,
            {**GOOD, "supply": [{"system": "x", "racks_per_month": -1}]},
            "greater than or equal",
        ),
    ],
)
def test_schema_level_errors(model, data, text):
    with pytest.raises(ValidationError, match=text):
        model.model_validate(data)


# --------------------------------------------------------------------------- snippets


def test_capacity_snippets_exist():
    assert {p.name for p in SNIPPETS} >= {
        "capacity-gw-campus.yaml",
        "capacity-gw-campus-hbm-slip.yaml",
    }


@pytest.mark.parametrize("path", SNIPPETS, ids=[p.name for p in SNIPPETS])
def test_snippets_validate_and_pass_the_checks_on_gw_campus(path, catalog):
    gw = _yaml(REPO / "scenarios" / "gw-campus.yaml")
    blocks = _yaml(path)
    assert set(blocks) <= {"buildout", "reliability", "economics"}
    sc = _Scenario.model_validate(with_blocks(gw, **blocks))
    for check in bc.BUILDOUT_CHECKS:
        check(sc, catalog)
    assert sc.buildout.phases and sc.buildout.supply


def test_the_slip_variant_differs_only_in_supply():
    plain, slip = (_yaml(REPO / "scenarios" / "snippets" / n) for n in (
        "capacity-gw-campus.yaml", "capacity-gw-campus-hbm-slip.yaml"
    ))  # fmt: skip
    assert plain["buildout"]["phases"] == slip["buildout"]["phases"]
    assert plain["buildout"]["deliveries"] == slip["buildout"]["deliveries"]
    assert slip["buildout"]["shortages"][0]["component"] == "hbm"
    assert plain["reliability"] == slip["reliability"]


# --------------------------------------------------------------------------- units


def _leaf_types(tp):
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _leaf_types(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, dict):
        return [leaf for arg in typing.get_args(tp) for leaf in _leaf_types(arg)]
    return [tp]


def numeric_fields(model, prefix=""):
    out = []
    for name, info in model.model_fields.items():
        leaves = _leaf_types(info.annotation)
        if any(
            isinstance(t, type) and issubclass(t, int | float) and not issubclass(t, bool)
            for t in leaves
        ):
            out.append(prefix + name)
        for t in leaves:
            if isinstance(t, type) and issubclass(t, BaseModel):
                out += numeric_fields(t, f"{prefix}{name}.")
    return out


@pytest.mark.parametrize("model", [Buildout, Reliability, Training, Economics])
def test_every_numeric_field_has_a_unit_and_a_description(model):
    fields = numeric_fields(model)
    assert fields
    for path in fields:
        leaf = path.rsplit(".", 1)[-1]
        assert any(("_" + leaf).endswith(s) for s in KNOWN_SUFFIXES), path


def _all_fields(model):
    for name, info in model.model_fields.items():
        yield name, info
        for t in _leaf_types(info.annotation):
            if isinstance(t, type) and issubclass(t, BaseModel):
                yield from _all_fields(t)


@pytest.mark.parametrize("model", [Buildout, Reliability, Training, Economics])
def test_every_field_is_described(model):
    assert [n for n, info in _all_fields(model) if not info.description] == []


def test_each_buildout_check_has_a_broken_case_here():
    # A check added to BUILDOUT_CHECKS without a broken case above fails this test.
    tested = {
        bc.check_buildout_phases,  # test_phase_dates_out_of_order, ..._built_once
        bc.check_buildout_deliveries,  # test_deliveries_into_a_hall_never_built, ...
        bc.check_buildout_supply,  # test_a_zero_supply_rate_..., test_shortage_...
        bc.check_reliability_inputs,  # test_negative_failure_rates_and_repair_times
        bc.check_training_groups,  # test_training_groups_must_serve_the_workload
        bc.check_economics_systems,  # test_economics_names_known_systems
    }
    assert set(bc.BUILDOUT_CHECKS) == tested and len(bc.BUILDOUT_CHECKS) == len(tested)
