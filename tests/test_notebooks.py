"""The what-if notebooks run end to end, are stored without outputs, and say what they show.

Each notebook's markdown reads its results ("neither hall throttles", "the battery stays
idle"). ``CLAIMS`` restates those sentences as assertions that run in the notebook's kernel
after its last cell, so text that the numbers stop supporting fails here. A claim that holds
only over the notebook's own horizon (a slip from March needs the year) is checked by the
slow test, which runs the notebooks as written.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
#: Horizon the tests give each notebook (the notebook's own default is longer).
SHORT_HORIZON = {"heat-wave-vs-cooling-design.ipynb": "10d"}

#: The markdown's claims, as code run after the notebook: (code, holds at the short horizon).
CLAIMS = {
    "heat-wave-vs-cooling-design.ipynb": (
        """
d, t = runs["hall-dry-adiabatic"].kpis, runs["hall-towers"].kpis
# "the dry plant throttles at the peak of the wave while the towers stay just under the limit"
assert d["thermal_capped_tok"] > 0 and d["throttled_h"] > 0
assert t["thermal_capped_tok"] == 0 and t["throttled_h"] == 0
assert 39.0 < t["peak_temp_tcs_supply_degc"] < 40.0
# "higher peak cooling power and PUE" for the dry plant; "TCS supply reaches the 40 degC limit"
assert d["peak_cooling_power_w"] > t["peak_cooling_power_w"] and d["pue"] > t["pue"]
assert 39.9 < d["peak_temp_tcs_supply_degc"] <= 40.0 + 1e-9
# the towers use "several times the water"
assert t["water_l"] > 2.0 * d["water_l"] and t["wue_l_per_kwh"] > 2.0 * d["wue_l_per_kwh"]
""",
        True,
    ),
    "firm-vs-nonfirm-battery.ipynb": (
        """
g, f = runs["gw-campus"].kpis, runs["gw-campus-firm-only"].kpis
ts = runs["gw-campus"].timeseries
# "the campus's peak stays below the firm block" (700 MW, in the markdown)
assert g["peak_demand_w"] < 700e6
# "both contracts serve the same tokens, the battery and the turbines stay idle"
assert g["served_tok"] == f["served_tok"] and g["fuel_cost_usd"] == 0
assert float(ts["turbine_w"].abs().max()) == 0 and float(ts["battery_w"].abs().max()) == 0
# "the difference in cost comes ... mostly [from] the minimum-take charge"
assert f["min_take_charge_usd"] == 0
extra = g["total_power_cost_usd"] - f["total_power_cost_usd"]
assert extra > 0 and g["min_take_charge_usd"] > 0.5 * extra
""",
        True,
    ),
    "fleet-routing.ipynb": (
        """
n, c = runs["nearest"].kpis, runs["carbon"].kpis
lat = {policy: user_latency(res) for policy, res in runs.items()}
# "both policies serve the same tokens"
assert abs(c["served_tok"] / n["served_tok"] - 1.0) < 1e-9
# carbon-aware routing "cuts the fleet's location-based carbon by more than a fifth"
assert c["carbon_location_kg"] < 0.8 * n["carbon_location_kg"]
# "the power cost falls too", "the water falls by more than half"
assert c["total_power_cost_usd"] < n["total_power_cost_usd"]
assert c["water_l"] < 0.5 * n["water_l"]
# "the mean round trip of chat from New York and from Frankfurt is several times longer"
for region in ("na-east", "europe"):
    before, after = (lat[p].loc[region, "chat_rtt_mean_s"] for p in ("nearest", "carbon"))
    assert after > 3 * before
# "the p99 time to first token at the sites rises as well"
assert c["chat.ttft_p99_s"] > n["chat.ttft_p99_s"]
""",
        True,
    ),
    "delivery-slip-capacity.ipynb": (
        """
g, s = runs["gw-campus"].kpis, runs["gw-campus-hbm-slip"].kpis
# "by December both build-outs reach the full 6,400 racks" (a failed rack or two aside)
assert min(g["racks_in_service_end_count"], s["racks_in_service_end_count"]) >= 6390
# "the slip raises the unserved share but changes the tokens served by well under 1%"
assert s["unserved_frac"] > g["unserved_frac"]
assert abs(s["served_tok"] / g["served_tok"] - 1.0) < 0.01
# "the energised power waiting for the late racks stands stranded"
assert s["stranded_power_mean_w"] > g["stranded_power_mean_w"]
""",
        False,
    ),
}


def test_there_are_three_what_if_notebooks():
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_every_notebook_has_claims():
    assert {p.name for p in NOTEBOOKS} == set(CLAIMS)


def assert_notebook_runs(path, short: bool):
    """Run a notebook (at the test horizon when ``short``) with its claims appended."""
    nb = nbformat.read(path, as_version=4)
    src = nb.cells[1].source
    assert re.search(r'^HORIZON = "', src, flags=re.M), "first code cell sets HORIZON"
    if short:
        horizon = SHORT_HORIZON.get(path.name, "2d")
        nb.cells[1].source = re.sub(
            r'^HORIZON = "[^"]*"', f'HORIZON = "{horizon}"', src, flags=re.M
        )
    code, holds_short = CLAIMS[path.name]
    if holds_short or not short:
        nb.cells.append(nbformat.v4.new_code_cell(code))
    # Notebooks only import dcsim; they read ../scenarios relative to the notebooks folder.
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # raises CellExecutionError naming the failed claim
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(o.output_type == "execute_result" for o in outputs)  # the KPI tables


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path):
    assert_notebook_runs(path, short=True)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_claims_at_its_own_horizon(path):
    assert_notebook_runs(path, short=False)
