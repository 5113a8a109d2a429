"""The capacity plan: unit conversion, delivery queues, blast radii and spares by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dcsim import units
from dcsim.catalog.load import load_catalog
from dcsim.model.capacity import build_capacity_plan
from dcsim.model.plant import build_plant
from dcsim.scenario.buildout_schema import Buildout, Reliability
from dcsim.scenario.schema import Scenario


def scenario(halls, system="gb200-nvl72"):
    return Scenario.model_validate(
        {
            "name": "plan",
            "start": "2027-01-01",
            "horizon_s": "30d",
            "workloads": [
                {
                    "name": "w",
                    "model": "llama-3.1-70b",
                    "precision": "fp8",
                    "input_tok": 1000,
                    "output_tok": 500,
                    "demand": {"base_capacity_frac": 0.5},
                }
            ],
            "sites": [
                {
                    "name": "s",
                    "location": {"latitude_deg": 40.0, "longitude_deg": -100.0},
                    "import_limit_mw": 50,
                    "buildings": [
                        {
                            "name": "b",
                            "halls": [
                                {
                                    "name": h,
                                    "feed_mw": 5,
                                    "rack_groups": [
                                        {"name": "g", "system": system, "count": n, "workload": "w"}
                                    ],
                                }
                                for h, n in halls
                            ],
                        }
                    ],
                }
            ],
        }
    )


def phase(name, halls, energised):
    return {
        "name": name,
        "halls": halls,
        "shell_ready": "2027-01-01",
        "energised": energised,
        "cooling_commissioned": energised,
    }


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_buildout_plan_in_si(catalog):
    sc = scenario([("a", 3), ("b", 3), ("c", 2)])
    plant = build_plant(sc, catalog)
    bo = Buildout.model_validate(
        {
            "phases": [
                phase("p1", ["a", "b"], "2027-01-11"),
                phase("p2", ["c"], "2027-01-06"),
            ],
            "deliveries": [{"rack_group": "b/g", "count": 1, "earliest": "2027-01-03"}],
            "supply": [{"system": "gb200-nvl72", "racks_per_month": 365 / 12}],
            "installation": {"racks_per_week": 14, "per": "site"},
        }
    )
    plan = build_capacity_plan(sc, catalog, plant, buildout=bo)
    b = plan.buildout
    # 365/12 racks a month = one a day; 14 a week = two a day.
    assert b.supply_rate_per_s[0] * units.D_S == pytest.approx(1.0)
    assert b.install_rate_per_s * units.D_S == pytest.approx(2.0)
    assert b.n_crews == 1 and (b.hall_crew == 0).all()
    assert list(b.hall_energised_s / units.D_S) == [10.0, 10.0, 5.0]
    # The first rack of b ships from day 2, the others from their shell date (day 0).
    assert b.rack_earliest_s[3] == 2 * units.D_S
    assert (np.delete(b.rack_earliest_s, 3) == 0).all()
    # Queue: earliest first (b's first rack, day 2, last); then c (energised first); then
    # a and b in turn by position in their hall: a0, (b0 is late), a1, b1, a2, b2.
    assert list(b.queues[0]) == [6, 7, 0, 1, 4, 2, 5, 3]


def test_blast_radius_in_gpus(catalog):
    sc = scenario([("a", 2)])
    plant = build_plant(sc, catalog)
    plan = build_capacity_plan(sc, catalog, plant, reliability=Reliability())
    rp = plan.reliability
    replica = plant.pool_specs[0].replica_gpus_count
    blast = dict(zip(rp.cause_names, rp.blast_gpus[0], strict=True))
    # NVL72: a host is a 4-GPU tray, rounded up to whole replicas.
    assert blast["gpu"] == math.ceil(4 / replica) * replica
    assert blast["software_bug"] == replica
    assert blast["nvlink_switch_tray"] == 72
    assert blast["dependency"] == 0
    # Rates per rack: 72 GPUs, 18 hosts, 9 trays.
    rates = dict(zip(rp.cause_names, rp.rate_per_rack_s[0] * units.H_S, strict=True))
    assert rates["gpu"] == pytest.approx(72 * 6.9701e-06)
    assert rates["network"] == pytest.approx(18 * 1.3187e-05)
    assert rates["nvlink_switch_tray"] == pytest.approx(9 * 1.3187e-05)


def test_a_host_of_an_8_gpu_node_is_the_whole_node(catalog):
    plant = build_plant(scenario([("a", 4)], system="dgx-h100"), catalog)
    plan = build_capacity_plan(scenario([("a", 4)], system="dgx-h100"), catalog, plant,
                               reliability=Reliability())  # fmt: skip
    blast = dict(zip(plan.reliability.cause_names, plan.reliability.blast_gpus[0], strict=True))
    assert blast["gpu"] == 8 and blast["network"] == 8


def test_spares_are_a_share_of_hosts_rounded_up(catalog):
    sc = scenario([("a", 16), ("b", 1)])
    plant = build_plant(sc, catalog)
    rel = Reliability.model_validate({"spares": {"spares_frac": 0.02}})
    plan = build_capacity_plan(sc, catalog, plant, reliability=rel)
    # 16 racks x 18 trays x 2 % = 5.76 -> 6; 1 rack -> 0.36 -> 1.
    assert list(plan.reliability.hall_spares_count) == [6, 1]


def test_rate_overrides_and_multiplier(catalog):
    sc = scenario([("a", 1)])
    plant = build_plant(sc, catalog)
    rel = Reliability.model_validate(
        {
            "rate_multiplier_frac": 2.0,
            "rate_overrides_per_h": {"gpu": 1e-5},
            "repair_overrides_s": {"gpu": "1h"},
        }
    )
    rp = build_capacity_plan(sc, catalog, plant, reliability=rel).reliability
    k = rp.cause_names.index("gpu")
    assert rp.rate_per_rack_s[0, k] == pytest.approx(72 * 1e-5 * 2 / units.H_S)
    assert rp.swap_s[k] == units.H_S
    assert (
        build_capacity_plan(sc, catalog, plant, reliability=Reliability(enabled=False)).reliability
        is None
    )
