"""The memory estimate counts exactly the horizon-long arrays a run allocates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dcsim.model.memory import (
    estimate_run_memory,
    format_bytes,
    machine_memory_bytes,
    scenario_sizes,
)
from dcsim.model.plant import build_plant
from dcsim.model.streams import rng_for
from dcsim.runner import resolve_scenario
from dcsim.scenario import scenario_catalog
from dcsim.sim.demand import demand_matrix_tok_per_s
from dcsim.sim.recorder import Recorder

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["small-hall.yaml", "hall-towers.yaml"])
def built(request):
    # A partial last record row (2 d + 7 min at 15-minute rows) exercises the rounding up.
    sc = resolve_scenario(REPO / "scenarios" / request.param, {"horizon_s": "2887min"})
    plant = build_plant(sc, scenario_catalog(sc))
    return sc, plant


def test_sizes_are_the_plant_sizes(built):
    sc, plant = built
    sizes = scenario_sizes(sc)
    assert sizes["n_ticks"] == plant.n_ticks
    assert sizes["ticks_per_rec"] == plant.ticks_per_rec
    assert sizes["ticks_per_hall_rec"] == plant.ticks_per_hall_rec
    assert sizes["n_class"] == len(plant.class_names)
    assert sizes["n_site"] == len(plant.site_names)
    assert sizes["n_hall"] == len(plant.hall_names)


def test_parts_match_the_arrays_a_run_allocates(built):
    sc, plant = built
    est = estimate_run_memory(**scenario_sizes(sc))
    assert est.parts_b["site_series"] == plant.site_series.nbytes
    demand = demand_matrix_tok_per_s(plant, [rng_for(1, "demand", k) for k in range(3)])
    assert est.parts_b["demand"] == demand.nbytes
    if plant.grid is not None:
        grid = plant.grid
        arrays = (grid.contract_w, grid.grid_avail_w, grid.solar_w, grid.clean_w)
        arrays += (grid.batt_cmd, grid.cp_shed)
        assert est.parts_b["grid"] == sum(a.nbytes for a in arrays)
    rec = Recorder(plant)
    campus = rec.rec.nbytes + rec.class_rec.nbytes + rec.site_rec.nbytes
    assert est.parts_b["campus_records"] == campus
    assert est.parts_b["hall_records"] == rec.hall_rec.nbytes
    assert est.n_rows == rec.rec.shape[0]
    # The weather at tick resolution: dry and wet bulb, float64, per site and tick.
    assert est.parts_b["weather"] == 2 * np.dtype(float).itemsize * plant.n_ticks * len(
        plant.site_names
    )
    assert est.total_b == est.inputs_b + est.recorded_b


def test_format_bytes_and_machine_memory():
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(6 * 1024**4) == "6.0 TiB"
    mem = machine_memory_bytes()
    assert mem is None or mem > 2**26  # any machine that runs the suite has > 64 MiB
