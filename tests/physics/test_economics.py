"""Straight-line depreciation, maintenance, energy cost and cost per token by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dcsim import units
from dcsim.physics import economics as econ


def test_annualised_capex_is_straight_line():
    # A 3 MUSD rack over 5 years: 600 kUSD per year.
    assert econ.annualised_capex_usd_per_y(3e6, 5 * units.Y_S) == pytest.approx(6e5)


def test_depreciation_of_assets_held_for_part_of_the_window():
    # 3 MUSD held 30 days with a 5-year life: 3e6 x 30 / (5 x 365) = 49,315.07 USD.
    held = 3e6 * 30 * units.D_S
    assert econ.depreciation_usd(held, 5 * units.Y_S) == pytest.approx(49315.068, abs=1e-3)


def test_maintenance_is_a_yearly_share_of_capex_held():
    # 10 MUSD held a full year at 3 %/y: 300 kUSD; held half a year: 150 kUSD.
    assert econ.maintenance_usd(1e7 * units.Y_S, 0.03) == pytest.approx(3e5)
    assert econ.maintenance_usd(1e7 * units.Y_S / 2, 0.03) == pytest.approx(1.5e5)


def test_energy_cost_at_a_flat_price():
    # 1 MW for 24 h = 24 MWh at 80 USD/MWh = 1,920 USD.
    assert econ.energy_cost_usd(1e6 * 24 * 3600, 80.0) == pytest.approx(1920.0)


def test_cost_per_million_tokens():
    # 1,000 USD for 2e9 tokens: 0.5 USD per million.
    assert econ.cost_per_mtok_usd(1000.0, 2e9) == pytest.approx(0.5)
    assert math.isnan(float(econ.cost_per_mtok_usd(1.0, 0.0)))
    np.testing.assert_allclose(econ.cost_per_mtok_usd([1.0, 2.0], [1e6, 1e6]), [1.0, 2.0])


def test_token_revenue_bills_the_prompts_with_the_outputs():
    # 1e9 output tokens of requests with 2,000-token prompts and 400-token answers bring
    # 5e9 prompt tokens: at 0.88 USD/Mtok in and 0.88 out, 5,000 x 0.88 + 1,000 x 0.88 =
    # 5,280 USD; DeepSeek-R1's 0.55 in / 2.19 out: 5,000 x 0.55 + 1,000 x 2.19 = 4,940 USD.
    assert econ.token_revenue_usd(1e9, 5.0, 0.88e-6, 0.88e-6) == pytest.approx(5280.0)
    np.testing.assert_allclose(
        econ.token_revenue_usd([1e9, 0.0], 5.0, [0.55e-6, 1.0], [2.19e-6, 1.0]), [4940.0, 0.0]
    )
