"""build_plant wires small-hall.yaml into the right arrays (CONVENTIONS.md point 5, layer 2).

small-hall: one site "main" (3.2 MW import), one hall h1 (2.4 MW feed, 2N UPS of 1.25 MW
modules, fixed COP 12) with 12 GB200 NVL72 racks for chat (priority 3) and 4 for batch
(priority 1, deferrable, 24 h deadline); 7 days at a 1-minute tick, 15-min and 1-h records.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from dcsim import units
from dcsim.catalog.equipment import load_power_equipment
from dcsim.kernels import layout as L
from dcsim.model.checks import load_scenario
from dcsim.model.plant import IN_SERVICE, PLANNED, build_plant
from dcsim.scenario import scenario_catalog


def plant_of(path, overrides=None):
    sc = load_scenario(path, overrides)
    return build_plant(sc, scenario_catalog(sc))


@pytest.fixture(scope="module")
def plant(small_hall):
    return plant_of(small_hall)


def test_racks_pools_and_cells(plant):
    assert plant.rack_cell.shape == (16,)  # 12 chat + 4 batch racks
    # One pool per (system, workload, stack, replica size): chat and batch on GB200 NVL72.
    assert plant.pool_names == ["chat@gb200-nvl72", "batch@gb200-nvl72"]
    # One cell per (hall, pool): the single hall holds both pools.
    assert plant.n_cells == 2
    assert list(plant.cell_pool) == [0, 1]
    assert list(plant.cell_hall) == [0, 0]
    # Racks of the first group (12) sit in cell 0, the next 4 in cell 1.
    assert list(plant.rack_cell) == [0] * 12 + [1] * 4
    assert list(plant.cell_state[:, L.C_SERVING]) == [12.0, 4.0]
    # Nothing in burn-in or idle at the start (the small hall has no build-out).
    assert list(plant.cell_state[:, L.C_BURNIN]) == [0.0, 0.0]
    assert list(plant.cell_state[:, L.C_IDLE]) == [0.0, 0.0]
    assert np.all(plant.rack_status == IN_SERVICE)
    assert plant.rack_group_label == ["main/b1/h1/chat", "main/b1/h1/batch"]
    assert plant.hall_names == ["main/b1/h1"]
    assert plant.site_names == ["main"]


def test_classes_and_priorities(plant):
    assert plant.class_names == ["chat", "batch"]
    assert list(plant.class_priority) == [3, 1]
    # Ranks order the distinct priorities ascending: batch (1) is capped first (rank 0).
    assert list(plant.pool_rank) == [1, 0]
    assert plant.n_ranks == 2
    assert list(plant.pool_class) == [0, 1]
    assert list(plant.pool_gpus_per_rack) == [72.0, 72.0]  # NVL72
    chat, batch = plant.class_par
    assert chat[L.K_INTERACTIVE] == 1.0 and chat[L.K_DEFERRABLE] == 0.0
    assert batch[L.K_INTERACTIVE] == 0.0 and batch[L.K_DEFERRABLE] == 1.0
    # 24 h deadline in buckets of one hour = 60 ticks of 1 min: 24 buckets.
    assert batch[L.K_BUCKET_TICKS] == 60.0
    assert batch[L.K_BUCKETS] == 24.0
    assert plant.n_backlog_buckets == 24


def test_time_grid(plant):
    assert plant.tick_s == 60.0
    assert plant.n_ticks == 7 * 24 * 60  # 7 days of 1-minute ticks = 10,080
    assert plant.ticks_per_rec == 15  # 15 min / 1 min
    assert plant.ticks_per_hall_rec == 60  # 1 h / 1 min
    assert plant.horizon_s == 7 * units.D_S
    assert plant.start == dt.datetime(2027, 1, 4)


def test_hall_and_site_parameters_in_si(plant):
    h = plant.hall_par[0]
    assert h[L.H_FEED_LIMIT_W] == 2.4e6  # 2.4 MW
    assert h[L.H_UPS_MODULE_W] == 1.25e6  # 1.25 MW modules
    # 2N: N = ceil(2.4 / 1.25) = 2 modules carry the design load; both sides share it.
    assert h[L.H_UPS_MODULES_ACTIVE] == 2 * math.ceil(2.4 / 1.25) == 4
    assert h[L.H_COOL_COP] == 12.0
    assert h[L.H_SITE] == 0
    eq = load_power_equipment()
    assert h[L.H_PDU_EFF] == eq["pdu_busway"].efficiency_frac.value
    ups = eq["ups_double_conversion"]
    assert (h[L.H_UPS_A0], h[L.H_UPS_A1], h[L.H_UPS_A2]) == (
        ups.a0_frac.value,
        ups.a1_frac.value,
        ups.a2_frac.value,
    )
    s = plant.site_par[0]
    assert s[L.S_IMPORT_LIMIT_W] == 3.2e6
    # No transformer_mva given: the rating defaults to the import limit.
    assert s[L.S_XFMR_RATED_W] == 3.2e6
    xfmr = eq["transformer_mv_lv"]
    assert s[L.S_XFMR_NO_LOAD] == xfmr.no_load_frac.value
    assert s[L.S_XFMR_LOAD_LOSS] == xfmr.load_loss_frac.value
    assert list(plant.site_utc_offset_h) == [-5.0]


def test_n_plus_1_topology(small_hall):
    p = plant_of(small_hall, {"sites.main.buildings.b1.halls.h1.ups_topology": "N+1"})
    # N+1: the 2 modules needed plus one spare, all online, share the load.
    assert p.hall_par[0, L.H_UPS_MODULES_ACTIVE] == 3


def test_base_capacity_frac_sets_the_demand_level(plant):
    # base_tok_per_s = frac x (racks of the class) x X* (rack capacity uncapped).
    x_star = plant.x_star
    assert x_star[0] == plant.pool_tables[0].x_star_tok_per_s > 0
    chat, batch = plant.class_demand
    assert chat.base_tok_per_s == pytest.approx(0.55 * 12 * x_star[0], rel=1e-12)
    assert batch.base_tok_per_s == pytest.approx(0.6 * 4 * x_star[1], rel=1e-12)
    assert chat.noise_sigma_frac == 0.05
    assert chat.noise_corr_s == 3600.0  # 1h
    assert batch.noise_sigma_frac == 0.0
    assert chat.daily_profile_frac.shape == (24,)
    assert chat.weekly_profile_frac.shape == (7,)
    assert np.all(batch.daily_profile_frac == 1.0)  # "flat"
    assert chat.bursts.shape == (0, 3)


def test_base_tok_per_s_is_taken_as_given(small_hall):
    p = plant_of(small_hall, {"workloads.chat.demand": {"base_tok_per_s": 1.5e6}})
    assert p.class_demand[0].base_tok_per_s == 1.5e6


def test_base_capacity_frac_counts_racks_not_yet_in_service(small_hall):
    # The batch racks enter service on day 2; the level is still relative to all 4 of them.
    group = "sites.main.buildings.b1.halls.h1.rack_groups.batch.in_service"
    p = plant_of(small_hall, {group: "2027-01-05T06:00"})
    assert p.class_demand[1].base_tok_per_s == pytest.approx(0.6 * 4 * p.x_star[1], rel=1e-12)
    # Those racks start PLANNED, with their entry time in seconds since the start.
    assert list(p.rack_status) == [IN_SERVICE] * 12 + [PLANNED] * 4
    assert list(p.rack_in_service_s[12:]) == [30 * units.H_S] * 4  # 1 day + 6 h
    assert list(p.cell_state[:, L.C_SERVING]) == [12.0, 0.0]


def test_tables_are_stacked_per_pool(plant):
    assert plant.tab_xcap.shape[0] == 2
    assert plant.tab_p.shape[0] == 2
    assert plant.tab_slo.shape[0] == 2
    # The last cap column of the capacity table is the uncapped rack capacity X*.
    assert plant.tab_xcap[0, -1] == plant.x_star[0]
    assert plant.tab_xcap[1, -1] == plant.x_star[1]


def test_plant_is_not_changed_by_a_run(small_hall):
    from dcsim.sim.engine import simulate

    p = plant_of(small_hall, {"horizon_s": "1h"})
    before = p.cell_state.copy(), p.rack_status.copy()
    simulate(p, seed=0)
    assert np.array_equal(p.cell_state, before[0])
    assert np.array_equal(p.rack_status, before[1])
