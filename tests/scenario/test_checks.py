"""The named cross-field checks: each passes on the shipped scenarios and fails, with its own
message and field, on a minimal broken case.

Broken cases start from small-hall.yaml as plain data and change one thing, so that every
other check still passes; the check under test is called directly (its ``where`` is the
dotted field path it blames) and once through :func:`dcsim.load_scenario` (which turns the
path into ``file:line``).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from dcsim.catalog.load import load_catalog
from dcsim.errors import ConfigError
from dcsim.model.checks import (
    CHECKS,
    check_models_fit_replicas,
    check_run_fits_in_memory,
    load_scenario,
    run_checks,
)
from dcsim.scenario import scenario_catalog
from dcsim.scenario.checks import (
    check_hall_feed_covers_racks,
    check_horizon_in_calendar,
    check_rack_groups_known,
    check_site_can_serve,
    check_time_grid,
    check_unique_names,
    check_workload_models_known,
    check_workloads_served,
)
from dcsim.scenario.load import load_yaml_with_lines
from dcsim.scenario.schema import Scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SHIPPED = sorted(SCENARIOS.glob("*.yaml"))
HALL = "sites.0.buildings.0.halls.0"


@pytest.fixture(scope="module")
def base() -> dict:
    """small-hall.yaml as plain data (not validated)."""
    data, _ = load_yaml_with_lines(SCENARIOS / "small-hall.yaml")
    return data


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def hall(data: dict) -> dict:
    return data["sites"][0]["buildings"][0]["halls"][0]


def broken(base: dict, change) -> Scenario:
    """A validated scenario from small-hall data changed by ``change(data)``."""
    data = copy.deepcopy(base)
    change(data)
    return Scenario.model_validate(data)


def fails(check, scenario: Scenario, catalog) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        check(scenario, catalog)
    return info.value


# --------------------------------------------------------------------------- shipped


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_check_passes_on_the_shipped_scenarios(path):
    sc = load_scenario(path)
    passed = run_checks(sc, scenario_catalog(sc))
    assert passed == [c.__name__ for c in CHECKS]


def test_each_check_is_tested_here():
    # A check added to CHECKS without a broken case below (or, for a block's own checks, in
    # that block's schema tests, which list what they test) fails this test.
    # Blocks test their own checks: test_grid_schema.py, test_buildout_schema.py,
    # test_cooling_schema.py and test_training_checks.py.
    from dcsim.model.cooling_checks import COOLING_CHECKS
    from dcsim.scenario.buildout_checks import BUILDOUT_CHECKS
    from dcsim.scenario.grid_checks import GRID_CHECKS
    from dcsim.scenario.regions_checks import REGION_CHECKS  # tests/fleet/test_fleet_inputs.py
    from dcsim.scenario.training_checks import TRAINING_CHECKS
    from dcsim.scenario.windows_checks import WINDOW_CHECKS  # tests/windows/test_schema.py

    tested = (
        set(GRID_CHECKS)
        | set(REGION_CHECKS)
        | set(WINDOW_CHECKS)
        | set(BUILDOUT_CHECKS)
        | set(TRAINING_CHECKS)
        | set(COOLING_CHECKS)
        | {
            check_horizon_in_calendar,
            check_run_fits_in_memory,
            check_site_can_serve,
            check_unique_names,
            check_time_grid,
            check_rack_groups_known,
            check_workload_models_known,
            check_workloads_served,
            check_hall_feed_covers_racks,
            check_models_fit_replicas,
        }
    )
    assert set(CHECKS) == tested
    assert len(CHECKS) == len(tested)


# --------------------------------------------------------------------------- unique names


def test_duplicate_hall_names(base, catalog):
    def two_halls_named_h1(d):
        b = d["sites"][0]["buildings"]
        b.append({"name": "b2", "halls": [copy.deepcopy(b[0]["halls"][0])]})

    sc = broken(base, two_halls_named_h1)
    err = fails(check_unique_names, sc, catalog)
    assert err.where == "sites.0.buildings.1.halls.0.name"
    assert err.message == "hall name 'h1' is used twice"


def test_duplicate_workload_names(base, catalog):
    sc = broken(base, lambda d: d["workloads"][1].update(name="chat"))
    err = fails(check_unique_names, sc, catalog)
    assert (err.where, err.message) == ("workloads.1.name", "workload name 'chat' is used twice")


def test_duplicate_hall_names_in_a_file_point_at_the_second_name(tmp_path):
    text = (SCENARIOS / "small-hall.yaml").read_text()
    hall_block = text[text.index("          - name: h1") :]
    text = text.replace(
        "      - name: b1\n",
        "      - name: b0\n        halls:\n" + hall_block + "      - name: b1\n",
    )
    path = tmp_path / "two-halls.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    second = [i + 1 for i, s in enumerate(text.splitlines()) if s.strip() == "- name: h1"][1]
    assert str(info.value) == (
        f"{path}:{second}: sites.main.buildings.b1.halls.h1.name: hall name 'h1' is used twice"
    )


# --------------------------------------------------------------------------- time grid


def test_record_interval_not_a_multiple_of_the_tick(base, catalog):
    # 90 s / 60 s = 1.5 ticks: rows would straddle ticks.
    sc = broken(base, lambda d: d.update(record_every_s="90s"))
    err = fails(check_time_grid, sc, catalog)
    assert err.where == "record_every_s"
    assert err.message == "90 s is not a whole number of ticks (60 s)"


def test_hall_record_interval_below_one_tick(base, catalog):
    sc = broken(base, lambda d: d.update(hall_record_every_s="30s"))
    err = fails(check_time_grid, sc, catalog)
    assert (err.where, err.message) == (
        "hall_record_every_s",
        "30 s is not a whole number of ticks (60 s)",
    )


def test_horizon_ending_after_the_last_date(base, catalog):
    # From 2150-01-01, 2200-01-01 is 50 years and 12 leap days away: 51y (365 d) passes it.
    sc = broken(base, lambda d: d.update(start="2150-01-01", horizon_s="51y"))
    err = fails(check_horizon_in_calendar, sc, catalog)
    assert err.where == "horizon_s"
    assert err.message == (
        "51y from 2150-01-01 ends after 2200-01-01; expected a horizon of at most 50y from "
        "this start"
    )
    check_horizon_in_calendar(broken(base, lambda d: d.update(start="2150-01-01")), catalog)


def test_run_that_cannot_fit_in_memory(base, catalog, monkeypatch):
    # 100 y at a 1 s tick, recorded every tick: 2 classes, 1 site, 1 hall. Per record row
    # 8 B x (35 campus + 2 classes x 11 + 16 site) = 584 B, per hourly hall row 8 B x 10 = 80 B;
    # recorded outputs count twice, a daily snapshot 4096 B. Inputs: per-call buffers
    # 3 x 8 B x 86,400 ticks x (2 + 8) = 20,736,000 B, the tally blocks 8 B x 16 x 2^17 =
    # 16,777,216 B, hourly 8 B x 21 x (876,000 + 3) h = 147,168,504 B.
    monkeypatch.setattr("dcsim.model.memory.machine_memory_bytes", lambda: 8 * 1024**3)
    sc = broken(base, lambda d: d.update(tick_s="1s", horizon_s="100y", record_every_s="1s"))
    err = fails(check_run_fits_in_memory, sc, catalog)
    n_ticks = 100 * 365 * 86400
    rows, hall_rows = n_ticks, 100 * 365 * 24
    recorded_b = 2 * (584 * rows + 80 * hall_rows) + 4096 * 100 * 365
    inputs_b = 20_736_000 + 16_777_216 + 147_168_504
    total_b = recorded_b + inputs_b
    assert err.where == "record_every_s"
    assert err.message.startswith(f"the run needs about 3.4 TiB ({total_b} bytes) for its ")
    assert f"recorded outputs ({rows} rows, 3.4 TiB) and inputs ({n_ticks} ticks, 176.1 MiB)" in (
        err.message
    )
    assert err.message.endswith(
        "more than the 8.0 GiB of memory of this machine; raise record_every_s or shorten horizon_s"
    )


def test_fine_ticks_and_long_horizons_fit_when_records_are_coarse(base, catalog, monkeypatch):
    # Inputs are produced per compiled call, so neither a 1 s tick over a year nor 100 years
    # at hourly records come near 8 GiB: both pass (a century at 1 min with hourly records
    # is about 2 x 876,000 x 648 B + 147 MB + 150 MB = 1.4 GB).
    monkeypatch.setattr("dcsim.model.memory.machine_memory_bytes", lambda: 8 * 1024**3)
    year_1s = broken(base, lambda d: d.update(tick_s="1s", horizon_s="365d"))
    check_run_fits_in_memory(year_1s, catalog)
    century = broken(base, lambda d: d.update(horizon_s="100y", record_every_s="1h"))
    check_run_fits_in_memory(century, catalog)
    # ... and a machine of 1 GiB refuses the century, naming the hourly records.
    monkeypatch.setattr("dcsim.model.memory.machine_memory_bytes", lambda: 1024**3)
    err = fails(check_run_fits_in_memory, century, catalog)
    assert err.where == "record_every_s"
    assert err.message.endswith("1.0 GiB of memory of this machine; raise record_every_s or "
                                "shorten horizon_s")  # fmt: skip


def test_horizon_below_one_tick(base, catalog):
    sc = broken(base, lambda d: d.update(horizon_s="30s"))
    err = fails(check_time_grid, sc, catalog)
    assert err.where == "horizon_s"
    assert err.message.startswith("30 s is shorter than one tick (60 s)")


def test_record_interval_through_the_loader_names_the_override():
    with pytest.raises(ConfigError) as info:
        load_scenario(SCENARIOS / "small-hall.yaml", ["record_every_s=90s"])
    assert str(info.value) == "--set record_every_s: 90 s is not a whole number of ticks (60 s)"


# --------------------------------------------------------------------------- catalog refs


def test_rack_group_with_unknown_workload(base, catalog):
    sc = broken(base, lambda d: hall(d)["rack_groups"][1].update(workload="bach"))
    err = fails(check_rack_groups_known, sc, catalog)
    assert err.where == f"{HALL}.rack_groups.1.workload"
    assert err.message == "unknown workload 'bach'; did you mean 'batch'?"


def test_rack_group_with_unknown_system(base, catalog):
    sc = broken(base, lambda d: hall(d)["rack_groups"][0].update(system="gb200-nvl73"))
    err = fails(check_rack_groups_known, sc, catalog)
    assert err.where == f"{HALL}.rack_groups.0.system"
    assert err.message == "unknown rack system 'gb200-nvl73'; did you mean 'gb200-nvl72'?"


def test_workload_with_unknown_model(base, catalog):
    sc = broken(base, lambda d: d["workloads"][0].update(model="lama-3.1-70b"))
    err = fails(check_workload_models_known, sc, catalog)
    assert err.where == "workloads.0.model"
    assert err.message == "unknown model 'lama-3.1-70b'; did you mean 'llama-3.1-70b'?"


# --------------------------------------------------------------------------- served


def test_workload_served_by_no_rack_group(base, catalog):
    def batch_racks_serve_chat(d):
        hall(d)["rack_groups"][1]["workload"] = "chat"

    sc = broken(base, batch_racks_serve_chat)
    err = fails(check_workloads_served, sc, catalog)
    assert err.where == "workloads.1.name"
    assert err.message.startswith("workload 'batch' is served by no rack group")


# --------------------------------------------------------------------------- dates


def test_rack_group_date_after_the_horizon_is_accepted(base, catalog):
    # No check rejects it (a short run of a phased campus ends before its later phases,
    # e.g. gw-campus for 6 h with building b4 due on 2027-04-01); the racks simply never
    # serve inside the horizon (tests/sim/test_engine.py checks that).
    # small-hall starts 2027-01-04 and lasts 7 days: it ends 2027-01-11T00:00.
    sc = broken(base, lambda d: hall(d)["rack_groups"][1].update(in_service="2027-01-12"))
    assert run_checks(sc, catalog) == [c.__name__ for c in CHECKS]


# --------------------------------------------------------------------------- feed


def test_hall_feed_below_rack_design_power(base, catalog):
    # 16 GB200 NVL72 racks x 132 kW design (catalog) = 2.112 MW > a 2.0 MW feed.
    design_kw = catalog.rack_systems["gb200-nvl72"].design_power_kw.value
    assert design_kw == 132.0
    sc = broken(base, lambda d: hall(d).update(feed_mw=2.0))
    err = fails(check_hall_feed_covers_racks, sc, catalog)
    assert err.where == f"{HALL}.feed_mw"
    assert err.message.startswith("2 MW is below the racks' design power 2.112 MW")


def test_a_hall_feed_the_site_can_never_power(base, catalog):
    # 200 MW of feed in 2.5 MW modules, 2N: 2 x 80 modules share the load and each loses
    # a0 = 1.17% of its rating at no load: 160 x 2.5 MW x 0.0117 = 4.68 MW. The transformers
    # (rated at the 3.2 MW import limit) add 3.2 MW x (0.002 + 0.01 x (4.68 / 3.2)^2).
    sc = broken(base, lambda d: hall(d).update(feed_mw=200))
    err = fails(check_site_can_serve, sc, catalog)
    xfmr_mw = 3.2 * (0.002 + 0.01 * (4.68 / 3.2) ** 2)
    assert err.where == f"{HALL}.feed_mw"
    assert err.message.startswith(
        f"the hall's UPS loses 4.68 MW with no load, {4.68 + xfmr_mw:.2f} MW at the meter "
        "with the transformers, not below the 3.2 MW site 'main' can supply (import limit): "
        "the hall can never serve"
    )


def test_no_load_losses_of_all_halls_above_the_import_limit(base, catalog):
    # Two 2.4 MW halls (one 2.5 MW module, 2N: 2 x 2.5 MW x 0.0117 = 58.5 kW each) behind
    # a 0.1 MW import limit: each alone fits, 117 kW together (plus the transformers) not.
    def two_halls(d):
        d["sites"][0]["import_limit_mw"] = 0.1
        second = copy.deepcopy(hall(d))
        second["name"] = "h2"
        d["sites"][0]["buildings"][0]["halls"].append(second)

    sc = broken(base, two_halls)
    err = fails(check_site_can_serve, sc, catalog)
    assert err.where == "sites.0.import_limit_mw"
    assert err.message.startswith("the UPS no-load losses of its 2 halls, 0.12 MW (")
    assert "not below the 0.1 MW the site can supply (import limit)" in err.message


def test_hall_feed_just_above_design_power_passes(base, catalog):
    check_hall_feed_covers_racks(broken(base, lambda d: hall(d).update(feed_mw=2.112)), catalog)


def test_oversubscription_allowed_explicitly(base, catalog):
    def oversubscribed(d):
        hall(d)["feed_mw"] = 2.0
        d["allow_oversubscription"] = True

    check_hall_feed_covers_racks(broken(base, oversubscribed), catalog)


# --------------------------------------------------------------------------- replicas


def test_model_that_does_not_fit_its_replica(base, catalog):
    # Llama-3.1-405B in bf16: ~811 GB of weights; one GB200 has < 200 GB of HBM.
    def big_model_one_gpu(d):
        d["workloads"][0].update(model="llama-3.1-405b", precision="bf16")
        hall(d)["rack_groups"][0]["replica_gpus_count"] = 1

    sc = broken(base, big_model_one_gpu)
    err = fails(check_models_fit_replicas, sc, catalog)
    assert "does not fit a replica of 1 x gb200" in err.message
    assert f"{HALL}.rack_groups.0" in str(err)


def test_models_fit_with_enough_gpus(base, catalog):
    # 8 GB200 (8 x ~180 GB usable) hold the 811 GB of Llama-3.1-405B bf16 with KV room.
    def big_model_eight_gpus(d):
        d["workloads"][0].update(model="llama-3.1-405b", precision="bf16")
        hall(d)["rack_groups"][0]["replica_gpus_count"] = 8

    check_models_fit_replicas(broken(base, big_model_eight_gpus), catalog)
