"""IT load outside the racks: fat-tree sizing by hand, catalog provenance, per-hall build."""

import pytest

from dcsim import load_scenario
from dcsim.catalog.facility_it import load_facility_it
from dcsim.model.fabric import build_facility_it
from dcsim.physics.fabric import fabric_tiers_count, fabric_w_per_endpoint, hall_outside_it_w
from dcsim.scenario import scenario_catalog


def test_fat_tree_tiers_by_hand():
    # Radix 64: one switch up to 64 endpoints, two tiers up to 2 x 32^2 = 2048, three tiers
    # up to 2 x 32^3 = 65,536 (Al-Fares et al. 2008).
    assert fabric_tiers_count(64, 64) == 1
    assert fabric_tiers_count(65, 64) == 2
    assert fabric_tiers_count(2048, 64) == 2
    assert fabric_tiers_count(2049, 64) == 3
    assert fabric_tiers_count(65536, 64) == 3


def test_power_per_endpoint_by_hand():
    # Two tiers: 3 switch ports per endpoint x (750 W / 64 + 16 W / 2) = 59.16 W.
    assert fabric_w_per_endpoint(2, 750.0, 64, 16.0, 2) == pytest.approx(3 * (750 / 64 + 8))
    assert hall_outside_it_w(10, 2, 900.0, 800.0) == 10 * 900.0 + 2 * 800.0


def test_catalog_numbers_are_sourced():
    data = load_facility_it()
    for f in data.fabrics.values():
        for name in ("switch_w", "transceiver_w", "switch_ports_count"):
            v = getattr(f, name)
            assert v.value > 0 and v.confidence in {"P", "S", "U"} and len(v.source) > 15


def test_legacy_hall_outside_racks_by_hand():
    sc = load_scenario("scenarios/hall-air-legacy.yaml")
    p = build_facility_it(sc, scenario_catalog(sc))
    # 192 DGX H100 nodes = 1536 GPUs -> two tiers; per node: 8 x 59.16 W fabric + 8 x 40 W
    # storage + 150 W management = 943.25 W serving; idle: 0.85 fabric, 0.8 storage.
    assert p.fabric_tiers_count[0] == 2
    assert p.w_per_serving_rack[0] == pytest.approx(8 * 3 * (750 / 64 + 8) + 320 + 150)
    assert p.w_per_idle_rack[0] == pytest.approx(0.85 * 8 * 3 * (750 / 64 + 8) + 0.8 * 320 + 150)
