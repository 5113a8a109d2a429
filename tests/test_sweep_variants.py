"""A sweep reads a variant file as `dcsim run` does: data paths, error lines and names."""

from __future__ import annotations

import pytest

from dcsim.errors import ConfigError
from dcsim.model.checks import load_scenario
from dcsim.results.meta import scenario_hash
from dcsim.scenario import dump_resolved
from dcsim.sweep import plan_sweep


def test_a_variant_elsewhere_finds_its_bases_data_files(gw_campus, tmp_path):
    # gw-campus declares its price and carbon CSVs relative to scenarios/; a variant saved in
    # another folder must still read them from there, in a sweep as in a run.
    variant = tmp_path / "elsewhere" / "firm-500.yaml"
    variant.parent.mkdir()
    variant.write_text(
        f"extends: {gw_campus}\nname: gw-firm-500\nset:\n  sites.campus.grid.firm_mw: 500\n"
    )
    (run,) = plan_sweep(variant, None, overrides=["horizon_s=1d"])
    loaded = load_scenario(variant, ["horizon_s=1d"])
    assert run.scenario_hash == scenario_hash(dump_resolved(loaded))
    price = loaded.sites[0].tariff.energy.path
    assert (gw_campus.parent / "data" / "ercot_north_price_2023.csv").samefile(
        variant.parent / price
    )


def test_a_failed_check_names_the_variant_line_and_the_items_by_name(small_hall, tmp_path):
    # 0.01 MW cannot feed the hall's UPS no-load losses (0.06 MW): check_site_can_serve.
    variant = tmp_path / "starved.yaml"
    variant.write_text(
        f"extends: {small_hall}\nname: starved\nset:\n  sites.main.import_limit_mw: 0.01\n"
    )
    with pytest.raises(ConfigError) as err:
        plan_sweep(variant, ["horizon_s=1d,2d"])
    assert str(err.value).startswith(
        f"{variant}:4: sites.main.buildings.b1.halls.h1.feed_mw: the hall's UPS loses 0.06 MW"
    )
