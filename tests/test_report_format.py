"""Numbers for people: engineering notation with the unit chosen by the name's suffix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dcsim.report_format import format_percent, format_quantity
from dcsim.results.unserved_causes import CAUSE_KEYS, unserved_by_cause


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        # 1,417,152.6 W = 1.417 MW, three significant digits.
        ("peak_facility_power_w", 1417152.6, "1.42 MW"),
        # 7.607e11 J / 3.6e3 J/Wh = 2.113e8 Wh = 211 MWh.
        ("facility_energy_j", 7.607e11, "211 MWh"),
        # 2.0e15 J = 5.56e11 Wh = 556 GWh.
        ("facility_energy_j", 2.0e15, "556 GWh"),
        ("mean_served_tok_per_s", 1378819.9, "1.38 Mtok/s"),
        ("served_tok", 8.3391e11, "834 Gtok"),
        # 3.2e8 kg = 3.2e5 t = 320 kt of CO2.
        ("carbon_location_kg", 3.2e8, "320 kt CO2"),
        ("carbon_location_kg", 77548.9, "77.5 t CO2"),
        ("carbon_location_kg", 0.4, "0.400 kg CO2"),
        ("water_l", 3.4e8, "340 million L"),
        ("cost_total_usd", 269345.8, "$269k"),
        ("cost_total_usd", 0.0, "$0"),
        ("cost_usd_per_mtok", 0.32299, "0.323 $/Mtok"),
        ("mean_gpus_in_service_count", 1151.9999999999998, "1,152"),
        ("pue", 1.18892, "1.19"),
        ("max_power_to_limit_frac", 0.50555, "50.6 %"),
        # Float noise: a residual of 8e-18 of demand, 6.7e-6 tokens.
        ("unserved_frac", 8.05e-18, "0 %"),
        ("power_capped_tok", 6.7e-6, "0 tok"),
        ("power_capped_tok", 0.0147, "0 tok"),
        ("power_capped_tok", 3.0, "3.00 tok"),
        # Rounding carries into the next prefix: 999.6 kW is 1.00 MW, not 1000 kW.
        ("it_power_w", 999.6e3, "1.00 MW"),
        ("it_power_w", float("nan"), "-"),
        ("name", "text", "text"),
    ],
)
def test_format_quantity_by_hand(name, value, text):
    assert format_quantity(name, value) == text


def test_signed_differences_and_percentages():
    assert format_quantity("it_power_w", 2.5e6, signed=True) == "+2.50 MW"
    assert format_quantity("it_power_w", -2.5e6, signed=True) == "-2.50 MW"
    assert format_percent(-0.0123) == "-1.23 %"
    assert format_percent(1e-19) == "0 %"
    # Beyond every prefix: an exponent, never 19 digits.
    assert format_percent(4.49e16) == "+4.49e+18 %"


def test_unserved_causes_sum_to_unserved_and_attribute_caps_first():
    # Four 900 s rows. Row 0: 10 tok/s unserved, 4 withheld by power, 3 by thermal:
    # power 4, thermal 3, capacity 3. Row 1: 5 unserved, power withheld 8 (more than the
    # shortfall): power 5. Row 2: caps but nothing unserved: no cause. Row 3: 2 unserved,
    # no caps: capacity 2.
    idx = pd.date_range("2027-01-01", periods=4, freq="900s", name="time")
    ts = pd.DataFrame(
        {
            "unserved_tok_per_s": [10.0, 5.0, 0.0, 2.0],
            "power_capped_tok_per_s": [4.0, 8.0, 6.0, 0.0],
            "thermal_capped_tok_per_s": [3.0, 0.0, 1.0, 0.0],
        },
        index=idx,
    )
    causes = unserved_by_cause(ts)
    assert causes["unserved_power_tok"] == pytest.approx((4 + 5) * 900.0)
    assert causes["unserved_thermal_tok"] == pytest.approx(3 * 900.0)
    assert causes["unserved_capacity_tok"] == pytest.approx((3 + 2) * 900.0)
    assert sum(causes[k] for k in CAUSE_KEYS) == pytest.approx(17 * 900.0)
    # With the KPI given (its last row shorter), the parts add up to it exactly.
    kpi = 17 * 900.0 - 2 * 450.0
    exact = unserved_by_cause(ts, kpi)
    assert sum(exact[k] for k in CAUSE_KEYS) == pytest.approx(kpi, rel=1e-15)
    assert all(np.isfinite(v) and v >= 0 for v in exact.values())
