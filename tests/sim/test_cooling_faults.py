"""Cooling-unit failure and repair processes, scheduled outages, and their effect on racks."""

import copy
import functools
from pathlib import Path
from typing import Annotated

import numpy as np
import pytest
import simpy
from pydantic import Field
from ruamel.yaml import YAML

from dcsim.catalog.load import load_catalog
from dcsim.kernels import cooling_layout as CL
from dcsim.kernels.cooling import hall_cooling_step, hall_heat_limit_w
from dcsim.model.cooling import build_cooling
from dcsim.model.streams import rng_for
from dcsim.scenario.cooling_schema import CoolingFault, LiquidCooling
from dcsim.scenario.schema import Building, FixedCopCooling, Hall, Scenario, Site
from dcsim.sim.cooling_faults import EVENT_KIND, start_cooling_fault_processes

REPO = Path(__file__).resolve().parents[2]
SNIPPETS = REPO / "scenarios" / "snippets"
Y_S = 365 * 86400.0


class HallL(Hall):
    cooling: Annotated[FixedCopCooling | LiquidCooling, Field(discriminator="type")] = Field(
        default_factory=lambda: FixedCopCooling(cop=12.0)
    )


class BuildingL(Building):
    halls: list[HallL]


class SiteL(Site):
    buildings: list[BuildingL]


class ScenarioL(Scenario):
    sites: list[SiteL]
    cooling_faults: list[CoolingFault] = Field(default_factory=list)


def scenario(coolings, faults=()):
    y = YAML(typ="safe").load((REPO / "scenarios" / "small-hall.yaml").read_text())
    site = y["sites"][0]
    site["import_limit_mw"] = 70.0 * len(coolings)
    site["buildings"] = [
        {
            "name": "b1",
            "halls": [
                {
                    "name": f"h{i + 1}",
                    "feed_mw": 60,
                    "rack_groups": [{"system": "gb200-nvl72", "count": 400, "workload": "chat"}],
                    "cooling": copy.deepcopy(c),
                }
                for i, c in enumerate(coolings)
            ],
        }
    ]
    y["cooling_faults"] = list(faults)
    return ScenarioL.model_validate(y)


def dry(random_failures=True):
    c = YAML(typ="safe").load((SNIPPETS / "cooling-dlc-dry-adiabatic-trim.yaml").read_text())
    c = c["cooling"]
    c["random_failures"] = random_failures
    return c


class FakeState:
    """What the processes need from SimState: cool_state and log_event."""

    def __init__(self, plant):
        self.cool_state = plant.cool_state0.copy()
        self.events = []

    def log_event(self, t_s, kind, asset, detail, value):
        self.events.append((t_s, kind, asset, detail, value))


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


def run(plant, until_s, seed=5):
    env = simpy.Environment()
    state = FakeState(plant)
    n = start_cooling_fault_processes(env, state, plant, functools.partial(rng_for, seed))
    env.run(until=until_s)
    return state, n


def mean_down(events, asset_prefix, until_s):
    """Time-average number of units down, from the failed/repaired events of one kind."""
    down, last_t, area = 0, 0.0, 0.0
    for t, _, asset, detail, _ in events:
        if not asset.startswith(asset_prefix):
            continue
        area += down * (t - last_t)
        last_t = t
        down += 1 if detail == "failed" else -1
    return (area + down * (until_s - last_t)) / until_s


def test_random_failures_match_mtbf_and_mttr(cat):
    plant = build_cooling(scenario([dry()]), cat)
    until = 40 * Y_S
    state, n = run(plant, until)
    # One process per unit with a failure rate (the pads' water supply has none: it goes out
    # only in a scheduled outage): 148 installed less that one.
    rated = np.isfinite(plant.unit_mtbf_s)
    assert n == plant.unit_installed_count[rated].sum() == plant.unit_installed_count.sum() - 1
    # CDUs: 24 units, MTBF 17,380 h, MTTR 15.1 h -> on average 24 x 15.1 / 17,395 = 0.0208
    # down; failures over 40 years ~ 24 x 40 x 8760 / 17,395 = 483 (Poisson, sd 22).
    mtbf_h, mttr_h = 17_380.0, 15.1
    cdu_failed = [e for e in state.events if "/cdu#" in e[2] and e[3] == "failed"]
    expected = 24 * 40 * 8760 / (mtbf_h + mttr_h)
    assert abs(len(cdu_failed) - expected) < 5 * np.sqrt(expected)
    avg = mean_down(state.events, "main/b1/h1/cdu#", until)
    assert avg == pytest.approx(24 * mttr_h / (mtbf_h + mttr_h), rel=0.3)
    assert all(e[1] == EVENT_KIND for e in state.events)


def test_available_counts_stay_in_range_and_match_the_log(cat):
    plant = build_cooling(scenario([dry()]), cat)
    state, _ = run(plant, 20 * Y_S)
    for k, col in enumerate(plant.unit_state_cols):
        if not np.isfinite(plant.unit_mtbf_s[0, k]):
            continue  # no random failures (pad water)
        values = [e[4] for e in state.events if f"/{plant.unit_kinds[k]}#" in e[2]]
        assert values, plant.unit_kinds[k]
        assert min(values) >= 0 and max(values) <= plant.unit_installed_count[0, k]
        # The last logged value is what the state holds.
        assert state.cool_state[0, col] == values[-1]


def test_same_seed_same_events_other_seed_other_events(cat):
    plant = build_cooling(scenario([dry()]), cat)
    a, _ = run(plant, 5 * Y_S, seed=1)
    b, _ = run(plant, 5 * Y_S, seed=1)
    c, _ = run(plant, 5 * Y_S, seed=2)
    assert a.events == b.events and a.events != c.events


def test_random_failures_can_be_switched_off(cat):
    plant = build_cooling(scenario([dry(random_failures=False)]), cat)
    state, n = run(plant, 10 * Y_S)
    assert n == 0 and state.events == []


def test_scheduled_outage_takes_units_out_and_back(cat):
    fault = {"unit": "cdu", "hall": "h1", "start": "2027-01-05", "duration_s": "6h", "count": 3}
    plant = build_cooling(scenario([dry(False)], faults=[fault]), cat)
    env = simpy.Environment()
    state = FakeState(plant)
    start_cooling_fault_processes(env, state, plant, functools.partial(rng_for, 0))
    seen = []

    def probe():
        for t in (86400 - 1, 86400 + 1, 86400 + 6 * 3600 - 1, 86400 + 6 * 3600 + 1):
            yield env.timeout(t - env.now)
            seen.append(state.cool_state[0, CL.CS_CDU_AVAIL_COUNT])

    env.process(probe())
    env.run(until=2 * 86400)
    assert seen == [24, 21, 21, 24]
    assert [(e[0], e[3], e[4]) for e in state.events] == [
        (86400.0, "scheduled outage cdu x3", 21.0),
        (86400.0 + 6 * 3600, "end of outage cdu x3", 24.0),
    ]


def test_cdu_failure_derates_exactly_its_racks(cat):
    # Two identical GB200 halls at 50 MW of white-space heat (design 57.43 MW: 400 racks x
    # 132 kW + 4.05 MW of IT outside the racks, / 0.99 PDU). A scheduled outage of 5 of h1's
    # 24 CDUs leaves 19 x 2 MW = 38 MW of liquid capacity: h1's racks are capped at
    # 38 MW / 0.7815 = 48.62 MW for the 6 hours, h2's racks are untouched, and both run
    # uncapped before and after.
    fault = {"unit": "cdu", "hall": "h1", "start": "2027-01-04T02:00", "duration_s": "6h",
             "count": 5}  # fmt: skip
    plant = build_cooling(scenario([dry(False), dry(False)], faults=[fault]), cat)
    liquid_frac = plant.cool_par[0, CL.CP_LIQUID_FRAC]
    # Liquid 400 x 132 kW x 0.85 = 44.88 MW of the 57.43 MW design heat (the fabric, storage
    # and management outside the racks, 400 x 10,128.75 W, and the PDU loss go to air).
    assert liquid_frac == pytest.approx(44.88e6 / ((52.8e6 + 400 * 10128.75) / 0.99))
    env = simpy.Environment()
    state = FakeState(plant)
    start_cooling_fault_processes(env, state, plant, functools.partial(rng_for, 0))
    demand_w, dt_s = 50e6, 60.0
    heat = np.zeros((2, 12 * 60))
    out = np.zeros(CL.CO_NCOLS)

    def physics():
        # The integrator's rule in miniature: each hall's racks reduce heat to its limit.
        for i in range(heat.shape[1]):
            for h in range(2):
                lim = hall_heat_limit_w(h, 10.0, 5.0, plant.cool_par, state.cool_state, dt_s)
                heat[h, i] = min(demand_w, lim)
                hall_cooling_step(h, heat[h, i], heat[h, i] * liquid_frac, 10.0, 5.0,
                                  plant.cool_par, state.cool_state, dt_s, out)  # fmt: skip
            yield env.timeout(dt_s)

    env.process(physics())
    env.run(until=12 * 3600)
    during = slice(2 * 60, 8 * 60)  # ticks starting in [02:00, 08:00)
    np.testing.assert_allclose(heat[0, during], 19 * 2e6 / liquid_frac, rtol=1e-12)
    assert (heat[1] == demand_w).all()
    assert (heat[0, : 2 * 60] == demand_w).all() and (heat[0, 8 * 60 :] == demand_w).all()
