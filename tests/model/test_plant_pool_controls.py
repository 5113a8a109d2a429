"""A rack group's GPU power limit and batch limit reach its pool (plant wiring)."""

from __future__ import annotations

from typer.testing import CliRunner

from dcsim.cli import app
from dcsim.model.checks import load_scenario
from dcsim.model.plant import build_plant
from dcsim.model.pool import pool_spec
from dcsim.scenario import scenario_catalog

CHAT = "sites.main.buildings.0.halls.0.rack_groups.chat"


def _plant(path, overrides):
    sc = load_scenario(path, overrides)
    return sc, build_plant(sc, scenario_catalog(sc))


def test_power_and_batch_limits_make_their_own_pool(small_hall):
    sc, base = _plant(small_hall, [])
    _, limited = _plant(small_hall, [f"{CHAT}.gpu_power_limit_w=800", f"{CHAT}.max_batch_count=16"])
    chat = base.pool_names.index(next(n for n in base.pool_names if n.startswith("chat@")))
    spec0, spec1 = base.pool_specs[chat], limited.pool_specs[chat]
    # GB200's catalog TDP is 1,200 W: the default pool runs at it, the limited one at 800 W.
    assert spec0.power_limit_w == 1200.0 and spec1.power_limit_w == 800.0
    assert spec1.max_batch_count == 16.0
    # The plant's pool is the one pool_spec builds from the same inputs (independent path).
    wl = next(w for w in sc.workloads if w.name == "chat")
    group = sc.sites[0].buildings[0].halls[0].rack_groups[0]
    direct = pool_spec(
        scenario_catalog(sc), group.system, wl.model, wl.precision, group.stack, wl.input_tok,
        wl.output_tok, wl.tpot_s, wl.ttft_s, replica_gpus=spec1.replica_gpus_count,
        kv_precision=wl.kv_precision, gpu_power_limit_w=800.0, max_batch_count=16,
    )  # fmt: skip
    assert direct.to_params().tolist() == spec1.to_params().tolist()
    # A lower limit and a batch bound can only lower the rack's rate and its power at full load.
    t0, t1 = base.pool_tables[chat], limited.pool_tables[chat]
    assert t1.x_star_tok_per_s < t0.x_star_tok_per_s
    assert t1.p_rack_w[-1, -1] < t0.p_rack_w[-1, -1]
    assert t1.b_star <= 16.0


def test_a_power_limit_below_the_settable_minimum_is_one_line_naming_the_rack_group(small_hall):
    # GB200's lowest settable limit is 200 W (catalog, the B200's as a declared proxy).
    args = ["run", str(small_hall), "-q", "--set", "horizon_s=1h"]
    result = CliRunner().invoke(app, [*args, "--set", f"{CHAT}.gpu_power_limit_w=100"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "sites.main.buildings.b1.halls.h1.rack_groups.chat: gpu_power_limit_w: 100 W" in lines[0]
    assert "expected >= its minimum (200 W)" in lines[0]
