"""A run that starts in the middle of its build-out starts from the state the plan implies.

The build-out before the start is played by the same step rules as inside the horizon
(quietly: the event table begins at the start), so a run of gw-campus started on
2027-12-01 must find its fleet exactly where a run started on 2027-01-01 has it on
2027-12-01: the two follow the same daily steps from the first phase date (2026-12-01) with
the same seeded slips and burn-in failures. Reliability is off in both, since failures
inside the horizon are not part of the plan.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dcsim.catalog.load import load_catalog
from dcsim.kernels import layout as L
from dcsim.model.capacity import build_capacity_plan
from dcsim.model.plant import BURN_IN, IN_SERVICE, build_plant
from dcsim.runner import resolve_scenario
from dcsim.scenario import scenario_catalog
from dcsim.scenario.buildout_schema import Buildout
from dcsim.scenario.schema import Scenario
from dcsim.sim.capacity import simulate_capacity

REPO = Path(__file__).resolve().parents[2]
DAY_S = 86400.0
LATE = dt.datetime(2027, 12, 1)


def _capacity_run(start: str, horizon: str, until_s: float):
    sc = resolve_scenario(
        REPO / "scenarios" / "gw-campus.yaml",
        {"start": start, "horizon_s": horizon, "reliability.enabled": False},
    )
    catalog = scenario_catalog(sc)
    plant = build_plant(sc, catalog)
    plan = build_capacity_plan(sc, catalog, plant)
    state = simulate_capacity(plant, plan, seed=sc.seed, until_s=until_s)
    return sc, plan, state


@pytest.fixture(scope="module")
def runs():  # gw-campus: ~50 s
    offset_s = (LATE - dt.datetime(2027, 1, 1)).total_seconds()
    early = _capacity_run("2027-01-01", "1y", offset_s + 1.0)
    late = _capacity_run("2027-12-01", "10d", 1.0)
    return offset_s, early, late


@pytest.mark.slow
def test_late_start_finds_the_fleet_the_plan_implies(runs):
    offset_s, (_, _, early), (_, plan, late) = runs
    snaps = pd.DataFrame(early.capacity_snapshots).set_index("t_s")
    at_late = snaps.loc[offset_s]
    first = pd.DataFrame(late.capacity_snapshots).iloc[0]
    assert first["t_s"] == 0.0
    for col in (
        "racks_delivered_count",
        "racks_installed_count",
        "racks_burn_in_count",
        "racks_in_service_count",
        "halls_energised_count",
        "gpus_in_service_count",
    ):
        assert first[col] == at_late[col], col
    # Every hall of b1-b4 is energised by 2027-07-01; the plan's 6,400 racks mostly serve.
    assert first["halls_energised_count"] == len(plan.hall_names) == 16
    assert first["racks_in_service_count"] > 1600  # more than b1 alone
    assert np.array_equal(late.plant.rack_status, early.plant.rack_status)
    # The cells' serving counts follow the racks (what the physics reads).
    serving = np.bincount(
        late.plant.rack_cell[late.plant.rack_status == IN_SERVICE],
        minlength=late.cell_state.shape[0],
    )
    assert np.array_equal(late.cell_state[:, L.C_SERVING], serving)
    burning = np.count_nonzero(late.plant.rack_status == BURN_IN)
    assert first["racks_burn_in_count"] == burning


@pytest.mark.slow
def test_no_event_is_dated_before_the_start(runs):
    _, _, (_, _, late) = runs
    events = late.recorder.events_frame()
    assert (events["time"] >= pd.Timestamp(LATE)).all()


# --------------------------------------------------------------------------- a tiny plan

#: One hall of 4 GB200 racks: shell on 1 January, energised on 11 January, cooling on
#: 21 January; one rack a day supplied and shipped daily, one installed a day, 2-day burn-in.
TINY_BUILDOUT = {
    "phases": [
        {
            "name": "p1",
            "halls": ["h1"],
            "shell_ready": "2027-01-01",
            "energised": "2027-01-11",
            "cooling_commissioned": "2027-01-21",
        }
    ],
    "supply": [{"system": "gb200-nvl72", "racks_per_month": 365 / 12, "shipment_every_s": "1d"}],
    "installation": {"racks_per_week": 7},
    "burn_in": {"duration_s": "2d"},
}


def _tiny(start: str, horizon: str):
    sc = Scenario.model_validate(
        {
            "name": "tiny",
            "start": start,
            "horizon_s": horizon,
            "tick_s": "1min",
            "record_every_s": "1h",
            "workloads": [
                {
                    "name": "batch",
                    "model": "llama-3.1-70b",
                    "precision": "fp8",
                    "input_tok": 1000,
                    "output_tok": 500,
                    "demand": {"base_capacity_frac": 0.5, "daily_profile_frac": "flat"},
                }
            ],
            "sites": [
                {
                    "name": "s",
                    "location": {"latitude_deg": 40.0, "longitude_deg": -100.0},
                    "import_limit_mw": 100,
                    "buildings": [
                        {
                            "name": "b",
                            "halls": [
                                {
                                    "name": "h1",
                                    "feed_mw": 0.6,
                                    "rack_groups": [
                                        {
                                            "name": "g",
                                            "system": "gb200-nvl72",
                                            "count": 4,
                                            "workload": "batch",
                                        }
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ],
        }
    )
    catalog = load_catalog()
    plant = build_plant(sc, catalog)
    plan = build_capacity_plan(sc, catalog, plant, buildout=Buildout.model_validate(TINY_BUILDOUT))
    return simulate_capacity(plant, plan, seed=1)


def test_tiny_plan_started_late_is_already_in_service():
    # By hand (one step a day from 1 January): racks ship on days 1-4 (production accrues
    # one rack a day once racks wait), are installed on days 2-5 (one a day), wait for
    # cooling (day 20), burn in on days 20-22 and serve from day 22 (23 January). A run
    # started on 25 January (day 24) finds all four in service and the hall ready.
    late = _tiny("2027-01-25", "2d")
    first = late.capacity_snapshots[0]
    assert first["t_s"] == 0.0
    assert first["racks_in_service_count"] == 4
    assert first["halls_energised_count"] == 1
    assert late.cell_state[:, L.C_SERVING].sum() == 4.0
    assert late.recorder.events == []  # nothing happens after the start
    early = _tiny("2027-01-01", "30d")
    at_day_24 = early.capacity_snapshots[24]
    assert at_day_24["t_s"] == 24 * DAY_S
    assert {k: first[k] for k in first if k != "t_s"} == {
        k: at_day_24[k] for k in at_day_24 if k != "t_s"
    }
    served_from_s = min(t for t, kind, *_ in early.recorder.events if kind == "racks_in_service")
    assert served_from_s == 22 * DAY_S


def test_tiny_plan_started_mid_burn_in_finishes_it():
    # Started on 22 January (day 21): the burn-in began on day 20 and ends on day 22,
    # one day after the start, when all four racks enter service.
    late = _tiny("2027-01-22", "3d")
    assert late.capacity_snapshots[0]["racks_burn_in_count"] == 4
    kinds = [(t, kind, v) for t, kind, _, _, v in late.recorder.events]
    assert kinds == [(DAY_S, "racks_in_service", 4.0)]
