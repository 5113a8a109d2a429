"""Discrete changes inside the compiled call: same results as a call ended at each change.

The engine runs the failure, repair and maintenance processes ahead over a day and hands
the kernel their changes as a list applied at their tick. The reference is the same engine
with every change ending a compiled call (the state is changed between two calls); both must
give bit-identical record buffers, checks and events, with one call per simulated day
instead of one per event time.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dcsim.catalog.load import load_catalog
from dcsim.model.capacity import build_capacity_plan
from dcsim.model.plant import build_plant
from dcsim.scenario.buildout_schema import Reliability
from dcsim.scenario.schema import Scenario
from dcsim.sim.engine import simulate

HORIZON_S = 2 * 86400.0


def scenario() -> Scenario:
    """20 NVL72 racks in one hall, served by one flat workload, over two days."""
    rack_groups = [{"name": "g", "system": "gb200-nvl72", "count": 20, "workload": "job"}]
    hall = {"name": "h", "feed_mw": 40, "rack_groups": rack_groups}
    site = {
        "name": "s",
        "location": {"latitude_deg": 40.0, "longitude_deg": -100.0},
        "import_limit_mw": 100,
        "buildings": [{"name": "b", "halls": [hall]}],
    }
    workload = {
        "name": "job",
        "model": "llama-3.1-70b",
        "precision": "fp8",
        "input_tok": 1000,
        "output_tok": 500,
        "demand": {"base_capacity_frac": 0.9, "daily_profile_frac": "flat"},
    }
    return Scenario.model_validate(
        {
            "name": "many-failures",
            "start": "2024-01-01",
            "horizon_s": HORIZON_S,
            "tick_s": "1min",
            "record_every_s": "1h",
            "workloads": [workload],
            "sites": [site],
        }
    )


@pytest.fixture(scope="module")
def runs():
    sc = scenario()
    catalog = load_catalog()
    plant = build_plant(sc, catalog)
    # 50x the catalog rates on a 1-minute event grid: failures and repairs at ~100 distinct
    # times a day, plus a maintenance window every 6 h taking a tenth of the racks out.
    rel = Reliability.model_validate(
        {
            "rate_multiplier_frac": 50.0,
            "event_quantum_s": "0s",
            "maintenance": [
                {"every_s": "6h", "duration_s": "1h", "racks_frac": 0.1, "offset_s": "1h"}
            ],
        }
    )
    plan = build_capacity_plan(sc, catalog, plant, reliability=rel)
    inside = simulate(plant, 3, plan=plan, changes_in_call=True)
    split = simulate(plant, 3, plan=plan, changes_in_call=False)
    return plant, inside, split


def test_many_changes_happen(runs):
    _, inside, _ = runs
    kinds = [e[1] for e in inside.recorder.events]
    assert kinds.count("failure") > 50 and kinds.count("repair") > 20


def test_changes_in_the_call_equal_a_call_ended_at_each_change(runs):
    _, inside, split = runs
    for name in ("rec", "class_rec", "hall_rec", "site_rec", "flow_check"):
        np.testing.assert_array_equal(
            getattr(inside.recorder, name), getattr(split.recorder, name), err_msg=name
        )
    assert inside.recorder.events == split.recorder.events
    np.testing.assert_array_equal(inside.cell_state, split.cell_state)


def test_one_compiled_call_per_day(runs):
    plant, inside, split = runs
    # A call covers at most a day (memory.MAX_CHUNK_S): 2 days -> 2 calls whatever the
    # failure rate; ended at each change, there is one call per distinct event tick.
    assert inside.n_kernel_calls == math.ceil(HORIZON_S / 86400.0) == 2
    event_ticks = {math.ceil(e[0] / plant.tick_s - 1e-9) for e in split.recorder.events}
    assert split.n_kernel_calls >= len(event_ticks & set(range(1, plant.n_ticks))) > 50
