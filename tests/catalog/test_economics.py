"""The economics catalog covers every rack system with a graded source."""

from __future__ import annotations

import pytest

from dcsim.catalog.economics import ECONOMICS_PATH, load_economics
from dcsim.catalog.load import load_catalog
from dcsim.errors import ConfigError


def test_every_rack_system_has_a_capex():
    econ = load_economics()
    assert set(load_catalog().rack_systems) <= set(econ.rack_capex_usd)
    for price in econ.rack_capex_usd.values():
        assert price.confidence in ("S", "U") and price.source


def test_figures_are_in_their_published_ranges():
    econ = load_economics()
    # GB200 NVL72 press estimates 2-3.9 MUSD; facility 10-12 MUSD/MW; lives 5-6 y and 20 y.
    assert 2e6 <= econ.rack_capex_usd["gb200-nvl72"].value <= 3.9e6
    assert 10e6 <= econ.facility_capex_usd_per_mw.value <= 12e6
    assert 5 <= econ.it_depreciation_y.value <= 6
    assert econ.facility_depreciation_y.value == 20


def test_a_zero_life_is_a_one_line_error(tmp_path):
    bad = tmp_path / "e.yaml"
    raw = ECONOMICS_PATH.read_text(encoding="utf-8")
    bad.write_text(raw.replace("value: 5.0", "value: 0.0", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"it_depreciation_y: .* must be > 0"):
        load_economics(bad)
