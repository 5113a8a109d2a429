"""The memory estimate counts the arrays a run allocates: per-call inputs, hourly, recorded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dcsim.model.memory import (
    BUFFER_COPIES,
    HOURLY_ARRAYS_PER_SITE,
    SNAPSHOT_B,
    chunk_ticks_for,
    estimate_run_memory,
    format_bytes,
    machine_memory_bytes,
    scenario_sizes,
)
from dcsim.model.plant import build_plant
from dcsim.runner import resolve_scenario
from dcsim.scenario import scenario_catalog
from dcsim.sim.engine import run_bundles
from dcsim.sim.recorder import Recorder
from dcsim.sim.state import SimState

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
    sizes = scenario_sizes(sc)
    est = estimate_run_memory(**sizes)
    n_class = len(plant.class_names)
    # Per-call buffers: demand and the eight site series, a day of ticks.
    state = SimState(
        plant=plant,
        recorder=Recorder(plant),
        cell_state=plant.cell_state.copy(),
        backlog_tok=np.zeros((n_class, plant.n_backlog_buckets)),
        backlog_head=np.zeros(n_class, dtype=np.int64),
        site_state=plant.site_state.copy(),
        cool_state=plant.cool_state.copy(),
    )
    chunk = chunk_ticks_for(plant.tick_s)
    assert chunk == round(86400 / plant.tick_s)  # 1440 at 1 min, 288 at 5 min
    classes, *_, inputs, _ = run_bundles(state, chunk)
    buffers_b = classes.demand_tok_per_s.nbytes + sum(
        getattr(inputs, f).nbytes for f in inputs._fields if f != "first_tick"
    )
    assert buffers_b == 8 * chunk * (n_class + 8 * len(plant.site_names))
    assert est.parts_b["buffers"] == BUFFER_COPIES * buffers_b
    rec = Recorder(plant)
    campus = rec.rec.nbytes + rec.class_rec.nbytes + rec.site_rec.nbytes
    assert est.parts_b["campus_records"] == campus
    assert est.parts_b["hall_records"] == rec.hall_rec.nbytes
    assert est.n_rows == rec.rec.shape[0]
    # Hourly: the weather kept for the horizon (2887 min from midnight: 49 hours, plus the
    # two hours past the end load_weather keeps) is within the hours counted.
    hours = plant.site_inputs.weather[0].temp_air_degc.size
    assert hours == 51
    assert est.parts_b["hourly"] == 8 * HOURLY_ARRAYS_PER_SITE * len(plant.site_names) * (49 + 3)
    assert est.parts_b["snapshots"] == SNAPSHOT_B * 3  # 2 d 7 min: 3 daily snapshots
    assert est.total_b == est.inputs_b + est.recorded_b


def test_inputs_do_not_grow_with_the_horizon_or_the_tick():
    # One year at a 1-second tick and 100 years at a 1-minute tick with hourly records
    # (small-hall sizes: 2 classes, 1 site, 1 hall). The per-call buffers hold a day of
    # ticks, at most 86,400: 3 copies x 8 B x 86,400 x (2 + 8) = 20,736,000 B.
    year_1s = estimate_run_memory(365 * 86400, 900, 3600, 2, 1, 1, tick_s=1.0)
    assert year_1s.parts_b["buffers"] == 20_736_000
    century = estimate_run_memory(100 * 365 * 1440, 60, 60, 2, 1, 1, tick_s=60.0)
    assert century.parts_b["buffers"] == 3 * 8 * 1440 * 10
    # What grows with the horizon is hourly (21 values per site and hour) and recorded:
    # 876,000 hourly rows of 8 B x (35 + 2 x 11 + 16) = 584 B, hall rows 80 B, twice.
    hours = 100 * 365 * 24
    assert century.parts_b["hourly"] == 8 * 21 * (hours + 3)
    assert century.recorded_b == 2 * hours * (584 + 80) + 4096 * 100 * 365
    assert century.inputs_b < 0.2 * century.recorded_b


def test_format_bytes_and_machine_memory():
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(6 * 1024**4) == "6.0 TiB"
    mem = machine_memory_bytes()
    assert mem is None or mem > 2**26  # any machine that runs the suite has > 64 MiB


def test_regions_and_training_are_counted_as_allocated():
    # The shipped fleet over 2 days: its region record (rows x classes x regions x
    # (4 + sites)) and the per-call region demand buffer are what the run allocates.
    from dcsim.kernels.stages.route import RG_NCOLS
    from dcsim.model.streams import rng_for
    from dcsim.sim.demand import demand_stream
    from dcsim.sim.regions import regions_for_run

    sc = resolve_scenario(REPO / "scenarios" / "fleet-regions.yaml", {"horizon_s": "2d"})
    plant = build_plant(sc, scenario_catalog(sc))
    sizes = scenario_sizes(sc)
    n_class, n_site, n_region = len(plant.class_names), len(plant.site_names), 3
    assert sizes["n_region"] == n_region and sizes["n_training_job"] == 0
    est = estimate_run_memory(**sizes)
    base = estimate_run_memory(**{**sizes, "n_region": 0})
    rec = Recorder(plant)
    assert rec.region_rec.shape[1:] == (n_class, n_region, RG_NCOLS + n_site)
    assert est.parts_b["campus_records"] - base.parts_b["campus_records"] == rec.region_rec.nbytes
    chunk = chunk_ticks_for(plant.tick_s)
    stream = demand_stream(plant, sc.seed, rng_for)
    bundle = regions_for_run(plant, stream, chunk, np.zeros(1, dtype=np.int64), rec.region_rec)
    extra_buffers_b = est.parts_b["buffers"] - base.parts_b["buffers"]
    assert extra_buffers_b == BUFFER_COPIES * bundle.demand_tok_per_s.nbytes
    # Training: 6 statistics per job and tick of the horizon, 8 B each (a 1-minute year:
    # 6 x 8 x 525,600 = 25,228,800 B per job).
    year = estimate_run_memory(525_600, 15, 60, 2, 1, 1, n_training_job=2)
    assert year.parts_b["training"] == 2 * 25_228_800
