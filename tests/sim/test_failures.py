"""Failure processes against the Llama 3 reference, Poisson bounds and hand timelines.

The headline check: a 16,384-GPU H100 cluster (2,048 DGX H100 nodes) run for 54 days with
the catalog's rates has a rate-implied mean of 419 unexpected interruptions (Llama 3
Table 5, by construction of the catalog), and the simulated count lies within the 99.9 %
Poisson interval of that mean.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dcsim import units
from dcsim.catalog.load import load_catalog
from dcsim.kernels import layout as L
from dcsim.model.capacity import build_capacity_plan
from dcsim.model.plant import FAILED, IN_SERVICE, build_plant
from dcsim.physics.reliability import expected_count, poisson_interval_count
from dcsim.scenario.buildout_schema import Reliability, Training
from dcsim.scenario.schema import Scenario
from dcsim.sim.capacity import simulate_capacity

H = units.H_S
D = units.D_S
CAUSES = [
    "gpu", "hbm", "sram", "gpu_system_processor", "silent_data_corruption",
    "thermal_interface", "software_bug", "nccl_watchdog", "dependency", "network",
    "host_maintenance", "nic", "ssd", "psu", "chassis", "io_board", "cpu", "system_memory",
    "nvlink_switch_tray",
]  # fmt: skip


def make_scenario(system, count, horizon, groups=None, start="2024-01-01"):
    groups = groups or [("g", count)]
    return Scenario.model_validate(
        {
            "name": "cluster",
            "start": start,
            "horizon_s": horizon,
            "tick_s": "1min",
            "record_every_s": "1h",
            "workloads": [
                {
                    "name": "job",
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
                                    "name": "h",
                                    "feed_mw": 40,
                                    "rack_groups": [
                                        {"name": g, "system": system, "count": n, "workload": "job"}
                                        for g, n in groups
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ],
        }
    )


def only(cause, rate_per_h, **extra):
    """A Reliability block where only ``cause`` fails."""
    rates = {c: 0.0 for c in CAUSES}
    rates[cause] = rate_per_h
    return Reliability.model_validate({"rate_overrides_per_h": rates, **extra})


def events(state):
    return pd.DataFrame(state.recorder.events, columns=["t_s", "kind", "asset", "detail", "value"])


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


# --------------------------------------------------------------------------- Llama 3


@pytest.fixture(scope="module")
def llama3(catalog):
    sc = make_scenario("dgx-h100", 2048, "54d")
    plant = build_plant(sc, catalog)
    training = {"job": Training(checkpoint_write_s=300.0, restart_s=600.0)}
    plan = build_capacity_plan(sc, catalog, plant, reliability=Reliability(), training=training)
    return plant, plan


def test_llama3_rate_implied_mean_is_419(llama3):
    plant, plan = llama3
    assert plant.pool_gpus_per_rack.sum() * 2048 == 16384
    racks_per_cell = np.bincount(plant.rack_cell, minlength=plant.n_cells)
    mean = expected_count(plan.reliability.rate_per_rack_s, racks_per_cell[:, None], 54 * D)
    # The catalog stores rates to 5 significant digits: 419 to within 1e-4.
    assert mean == pytest.approx(419.0, rel=1e-4)
    # The job's MTBF is one interruption every 54 x 24 / 419 = 3.093 h.
    assert plan.training.mtbf_s[0] / H == pytest.approx(54 * 24 / 419, rel=1e-4)


def test_llama3_interruptions_within_poisson_bounds(llama3):
    plant, plan = llama3
    lo, hi = poisson_interval_count(419.0, 0.999)  # (353, 488)
    counts = []
    for seed in range(5):
        state = simulate_capacity(plant, plan, seed=seed)
        ev = events(state)
        n = int((ev.kind == "training_interruption").sum())
        # Every failure touches the training job (all racks are reserved).
        assert n == state.failures.failures_count == int((ev.kind == "failure").sum())
        assert lo <= n <= hi
        counts.append(n)
    # Five independent runs: their sum is Poisson(5 x 419) (racks under repair cannot fail,
    # which lowers the rate by ~0.1 %, well inside the interval).
    lo5, hi5 = poisson_interval_count(5 * 419.0, 0.999)
    assert lo5 <= sum(counts) <= hi5


def test_llama3_causes_in_their_table_proportions(llama3):
    plant, plan = llama3
    state = simulate_capacity(plant, plan, seed=11)
    by_cause = state.failures.by_cause_count
    names = plan.reliability.cause_names
    # Faulty GPU is 148 of 419: each failure is that cause with p = 0.353; binomial
    # 99.9 % bounds for ~419 draws are about +-0.077.
    share = by_cause[names.index("gpu")] / by_cause.sum()
    assert abs(share - 148 / 419) < 0.08
    assert by_cause[names.index("nvlink_switch_tray")] == 0  # H100 nodes have no trays


# --------------------------------------------------------------------------- blast radius


def test_a_host_failure_on_nvl72_takes_out_one_tray_of_replicas(catalog):
    # GB200 NVL72: 18 trays of 4 GPUs; llama-3.1-70b fp8 replicas of 2 GPUs (plant):
    # a tray failure removes 2 replicas = 4 GPUs = 4/72 of a rack, unpowered, for 4 h.
    sc = make_scenario("gb200-nvl72", 20, "10d")
    plant = build_plant(sc, catalog)
    assert plant.pool_specs[0].replica_gpus_count in (1, 2, 4)
    plan = build_capacity_plan(sc, catalog, plant, reliability=only("gpu", 2e-4))
    state = simulate_capacity(plant, plan, seed=4)
    ev = events(state)
    fails, repairs = ev[ev.kind == "failure"], ev[ev.kind == "repair"]
    assert len(fails) > 10
    assert (fails.value == 4.0).all()
    # Repairs come 4 h after their failure (swap from catalog; on the 1-min tick grid).
    first = fails.groupby("asset").t_s.min()
    back = repairs.groupby("asset").t_s.min()
    lag = (back - first.loc[back.index]).dropna()
    assert (lag >= 4 * H - 1e-6).all() and (lag == 4 * H).any()
    fs = state.failures
    # The cells hold the healthy shares of the racks in service; the rest is out (no idle
    # power: a pulled tray draws nothing).
    up = state.plant.rack_status == IN_SERVICE
    assert state.cell_state[0, L.C_SERVING] == pytest.approx(fs.health_frac[up].sum(), abs=1e-9)
    assert state.cell_state[0, L.C_IDLE] == pytest.approx(0.0, abs=1e-9)


def test_a_replica_failure_idles_its_gpus_until_the_restart(catalog):
    sc = make_scenario("gb200-nvl72", 20, "10d")
    plant = build_plant(sc, catalog)
    replica = plant.pool_specs[0].replica_gpus_count
    plan = build_capacity_plan(sc, catalog, plant, reliability=only("software_bug", 2e-4))
    state = simulate_capacity(plant, plan, seed=4, until_s=2 * D)
    ev = events(state)
    assert (ev[ev.kind == "failure"].value == replica).all()
    fs = state.failures
    up = state.plant.rack_status == IN_SERVICE
    assert state.cell_state[0, L.C_SERVING] + state.cell_state[0, L.C_IDLE] == pytest.approx(
        up.sum(), abs=1e-9
    )
    assert state.cell_state[0, L.C_IDLE] == pytest.approx(fs.idle_frac.sum(), abs=1e-9)


def test_a_node_failure_fails_the_whole_node_and_repairs_restore_it(catalog):
    # DGX H100: a host failure is the whole node. After the last repair every node serves.
    sc = make_scenario("dgx-h100", 50, "20d")
    plant = build_plant(sc, catalog)
    plan = build_capacity_plan(sc, catalog, plant, reliability=only("network", 1e-3))
    state = simulate_capacity(plant, plan, seed=1)
    ev = events(state)
    fails = ev[ev.kind == "failure"]
    assert (fails.value == 8.0).all()
    # Expected 50 x 1e-3 x 480 h = 24 failures (99.9 % Poisson interval 10-42).
    assert 10 <= len(fails) <= 42
    down = state.plant.rack_status == FAILED
    assert state.cell_state[0, L.C_SERVING] == pytest.approx(50 - down.sum())


# --------------------------------------------------------------------------- spares


def repair_lags(state):
    ev = events(state)
    pairs = []
    for _asset, rows in ev[ev.kind.isin(["failure", "repair"])].groupby("asset"):
        kinds, times = rows.kind.to_list(), rows.t_s.to_list()
        pairs += [
            times[i + 1] - times[i]
            for i in range(len(kinds) - 1)
            if kinds[i] == "failure" and kinds[i + 1] == "repair"
        ]
    return np.array(pairs)


def test_spares_turn_rma_waits_into_hot_swaps(catalog):
    sc = make_scenario("dgx-h100", 50, "20d")
    plant = build_plant(sc, catalog)
    # NIC: swap 4 h, RMA 7 d (catalog). No spares: every repair waits 7 d + 4 h.
    none = build_capacity_plan(
        sc, catalog, plant, reliability=only("nic", 1e-3, spares={"per_hall_count": 0})
    )
    lags = repair_lags(simulate_capacity(plant, none, seed=2))
    assert lags.size > 3 and np.allclose(lags, 7 * D + 4 * H)
    # Plenty of spares: every repair is the 4-h swap.
    many = build_capacity_plan(
        sc, catalog, plant, reliability=only("nic", 1e-3, spares={"per_hall_count": 1000})
    )
    lags = repair_lags(simulate_capacity(plant, many, seed=2))
    assert lags.size > 3 and np.allclose(lags, 4 * H)
    # One spare, back after a 1-day RMA: the second failure inside a day waits.
    one = build_capacity_plan(
        sc,
        catalog,
        plant,
        reliability=only("nic", 1e-2, spares={"per_hall_count": 1, "rma_turnaround_s": "1d"}),
    )
    state = simulate_capacity(plant, one, seed=2)
    lags = repair_lags(state)
    assert set(np.round(lags / H, 6)) <= {4.0, 28.0}
    assert state.failures.no_spare_count > 0


# --------------------------------------------------------------------------- maintenance


def test_maintenance_windows_take_their_share_out(catalog):
    sc = make_scenario("dgx-h100", 40, "3d")
    plant = build_plant(sc, catalog)
    rel = only(
        "gpu",
        0.0,
        maintenance=[{"every_s": "1d", "duration_s": "2h", "racks_frac": 0.25, "offset_s": "6h"}],
    )
    plan = build_capacity_plan(sc, catalog, plant, reliability=rel)
    state = simulate_capacity(plant, plan, seed=0, until_s=7 * H)
    # At 7 h the first window (6 h - 8 h) holds 25 % of 40 nodes out.
    assert state.cell_state[0, L.C_SERVING] == 30
    state = simulate_capacity(plant, plan, seed=0)
    ev = events(state)
    starts = ev[ev.kind == "maintenance_start"]
    assert list(starts.t_s / H) == [6.0, 30.0, 54.0] and (starts.value == 10).all()
    assert list(ev[ev.kind == "maintenance_end"].t_s / H) == [8.0, 32.0, 56.0]
    assert state.cell_state[0, L.C_SERVING] == 40


# --------------------------------------------------------------------------- grid and jobs


def test_failures_land_on_the_event_grid(catalog):
    sc = make_scenario("gb200-nvl72", 20, "5d")
    plant = build_plant(sc, catalog)

    def run(quantum):
        rel = Reliability.model_validate({"rate_multiplier_frac": 50.0, "event_quantum_s": quantum})
        return simulate_capacity(plant, build_capacity_plan(sc, catalog, plant, reliability=rel), 3)

    coarse, fine = run("15min"), run("0s")
    ev = events(coarse)
    t = ev[ev.kind.isin(["failure", "repair"])].t_s.to_numpy()
    assert t.size > 100
    np.testing.assert_allclose(t / 900.0, np.round(t / 900.0), atol=1e-9)
    t_fine = events(fine).t_s.to_numpy()
    np.testing.assert_allclose(t_fine / 60.0, np.round(t_fine / 60.0), atol=1e-9)
    # The coarse grid gathers failures and repairs into fewer wake-ups (fewer splits of
    # the physics) for the same Poisson rate: ~1.8 failures/h, 0.46 per 15 minutes.
    a, b = coarse.failures, fine.failures
    assert a.wakes_count < 0.8 * b.wakes_count
    lo, hi = poisson_interval_count(float(b.failures_count), 0.999)
    assert lo <= a.failures_count <= hi


def test_only_failures_of_training_racks_interrupt_the_job(catalog):
    sc = make_scenario("dgx-h100", 0, "20d", groups=[("train", 100), ("serve", 100)])
    plant = build_plant(sc, catalog)
    training = {"job": Training(rack_groups=["h/train"], checkpoint_write_s=60.0, restart_s=300.0)}
    plan = build_capacity_plan(sc, catalog, plant, reliability=only("gpu", 1e-4), training=training)
    assert (plan.training.rack_job >= 0).sum() == 100
    state = simulate_capacity(plant, plan, seed=5)
    ev = events(state)
    fails = ev[ev.kind == "failure"]
    racks = fails.asset.str.extract(r"rack(\d+)$")[0].astype(int).to_numpy()
    on_training = (plan.training.rack_job[racks] >= 0).sum()
    assert (ev.kind == "training_interruption").sum() == on_training
    assert 0 < on_training < len(fails)
