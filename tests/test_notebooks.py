"""The what-if notebooks run end to end, are stored without outputs, and say what they show.

Each notebook's markdown reads its results ("neither hall throttles", "the battery stays
idle"). ``CLAIMS`` restates those sentences as assertions that run in the notebook's kernel
after its last cell, so text that the numbers stop supporting fails here. A claim that holds
only over the notebook's own horizon (a slip from March needs the year) is checked by the
slow test, which runs the notebooks as written.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: Horizon the tests give each notebook (the notebook's own default is longer).
SHORT_HORIZON = {
    "heat-wave-vs-cooling-design.ipynb": "10d",
    # Already six hours around its curtailment: the runs' time is the 9,600-rack plant build
    # and the window replay, not the horizon.
    "power-policy-margin.ipynb": "6h",
}

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
    "power-policy-margin.ipynb": (
        """
b, pc, ul, pk = (table[n] for n in ("backup", "priority_caps", "uniform_limit", "park"))
ref = runs["backup"]
sc = ref.scenario
lat = [f"{w.name}.{m}_p99_s" for w in INTERACTIVE for m in ("ttft", "tpot")]
# "the 350 MW non-firm block curtailed in full"; the window is its deepest hour, 14:00-15:00
assert (window_rows(ref)["curtailed_w"] == 350e6).all()
assert ref.kpis["window.worst-hour.start_s"] == 2 * 3600  # the run starts at 12:00
# "4 replicas per pool" (GB200 and GB300 pools of each class)
assert ref.kpis["window.worst-hour.chat.replicas_count"] == 8
# "the campus draws about 910 MW; the firm block is 700 MW"; the backup carries it: "the
# racks never see it"
assert 880e6 < b["facility_power_w"] < 940e6 and b["policy_acted_frac"] == 0
# SLOs "chat 2 s and 50 ms, reasoning 3 s and 50 ms"
assert (b["chat.ttft_slo_s"], b["chat.tpot_slo_s"]) == (2.0, 0.05)
assert (b["reasoning.ttft_slo_s"], b["reasoning.tpot_slo_s"]) == (3.0, 0.05)
# "imports its 700 MW under every policy, so the energy cost is the same"; "all-in cost of
# about 1 MUSD ... mostly the depreciation and maintenance of the capital"
for p in (pc, ul, pk):
    assert abs(p["facility_power_w"] / 700e6 - 1.0) < 1e-5 and p["policy_acted_frac"] > 1 - 1e-9
    assert abs(p["energy_fuel_cost_usd"] / pc["energy_fuel_cost_usd"] - 1.0) < 1e-3
    assert 0.9e6 < p["cost_total_usd"] < 1.1e6
    assert p["energy_fuel_cost_usd"] < 0.05 * p["cost_total_usd"]
for r in runs.values():  # the rest of the all-in cost: capital, and water (none to speak of)
    assert r.kpis["cost_water_usd"] < 0.01 * r.kpis["cost_total_usd"]
# priority_caps: batch "serve[s] nothing", chat and reasoning "exactly" as in the reference,
# "earns the least"
assert pc["batch.served_tok"] == 0
for k in ("chat.served_tok", "reasoning.served_tok"):
    assert abs(pc[k] / b[k] - 1.0) < 1e-9 and abs(pk[k] / b[k] - 1.0) < 1e-9
assert margin_usd.idxmin() == "priority_caps"
# park: "about 1,650 of the 1,920 batch racks", "plus some batch, so a higher margin"
n_batch = sum(
    g.count
    for bd in sc.sites[0].buildings
    for h in bd.halls
    for g in h.rack_groups
    if g.workload == "batch"
)
assert n_batch == 1920 and 1600 < pk["parked_racks_count"] < 1700
assert pk["batch.served_tok"] > 0 and pk["gross_margin_usd"] > pc["gross_margin_usd"]
# uniform_limit: chat "loses about a tenth", batch "keeps most of its own"; "earns the most
# of the three policies, about a fifth more than park"; prompt tokens per output token
assert 0.85 < ul["chat.served_tok"] / b["chat.served_tok"] < 0.95
assert ul["batch.served_tok"] > 0.5 * b["batch.served_tok"]
assert margin_usd.idxmax() == "uniform_limit"
assert 1.15 < ul["gross_margin_usd"] / pk["gross_margin_usd"] < 1.25
chat, _, batch = sc.workloads
assert chat.input_tok / chat.output_tok == 5 and round(batch.input_tok / batch.output_tok) == 6
# "5.28 USD per million output tokens served" (0.88 x (1 + 5)), batch "about 25"
rev_usd_per_mtok = {
    w.name: ref.kpis[f"{w.name}.revenue_usd"] / ref.kpis[f"{w.name}.served_tok"] * 1e6
    for w in sc.workloads
}
assert abs(rev_usd_per_mtok["chat"] - 5.28) < 1e-6 and round(rev_usd_per_mtok["batch"]) == 25
# the prices: reasoning "0.55 USD in and 2.19 USD out", 3,000 prompt tokens per 2,000 out;
# batch 3.50 x (1 + 4,000 / 656)
assert abs(rev_usd_per_mtok["reasoning"] - (2.19 + 1.5 * 0.55)) < 1e-6
assert abs(rev_usd_per_mtok["batch"] - 3.5 * (1 + 4000 / 656)) < 1e-6
# "The shipped battery (350 MW) and turbines (10 x 35 MW)"
onsite = sc.sites[0].onsite
assert onsite.battery.power_mw == 350
assert (onsite.turbines.units_count, onsite.turbines.unit_mw) == (10, 35)
# "the only one that worsens latency": TTFT "0.71 s to 1.20 s", TPOT "56 ms to 67 ms"
for p in (pc, pk):
    assert all(p[k] == b[k] for k in lat)
assert all(ul[k] > b[k] for k in lat)
assert round(b["chat.ttft_p99_s"], 2) == 0.71 and round(ul["chat.ttft_p99_s"], 2) == 1.20
assert round(b["chat.tpot_p99_s"] * 1e3) == 56 and round(ul["chat.tpot_p99_s"] * 1e3) == 67
# "No policy keeps every p99 SLO": chat's TPOT p99 above 50 ms "in all four runs" (the
# whole interval); "Reasoning keeps both bounds under every policy"
assert slo_kept == [] and not table.loc["chat.p99_slo_kept"].any()
assert all(r.kpis["window.worst-hour.chat.tpot_p99_lo_s"] > 0.05 for r in runs.values())
assert table.loc["reasoning.p99_slo_kept"].all()
# "Chat demand exceeds the chat racks' rated capacity all afternoon"
ts = ref.timeseries
assert (ts["chat.demand_tok_per_s"] > ts["chat.capacity_tok_per_s"]).all()
# "park ... of the two policies that leave ... latency exactly as in the reference, ...
# the higher margin"
assert pk["gross_margin_usd"] > pc["gross_margin_usd"]
# Caveats: "the margin is large against the cost"; batch demand exceeds the batch racks
# all afternoon and "its backlog grows in every run"; after the curtailment every run
# serves batch at the reference's rate, so nothing given up is served later
assert (table.loc["gross_margin_frac"].astype(float) > 0.9).all()
after = ref.timeseries["batch.served_tok_per_s"].iloc[-4:]
for r in runs.values():
    t = r.timeseries
    assert (t["batch.demand_tok_per_s"] > t["batch.capacity_tok_per_s"]).all()
    assert (t["batch.backlog_tok"].diff().iloc[1:] > 0).all()
    assert ((t["batch.served_tok_per_s"].iloc[-4:] / after - 1.0).abs() < 1e-3).all()
""",
        True,
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
    # The kernel imports dcsim from this checkout, not from wherever the installed package
    # points (an editable install of another worktree would test other code).
    check = (
        "import pathlib\nimport dcsim\n"
        f"assert pathlib.Path(dcsim.__file__).resolve().parents[1] == pathlib.Path({str(ROOT)!r})"
    )
    nb.cells.insert(1, nbformat.v4.new_code_cell(check))
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    # Notebooks only import dcsim; they read ../scenarios relative to the notebooks folder.
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    # Raises CellExecutionError naming the failed claim.
    client.execute(env={**os.environ, "PYTHONPATH": pythonpath})
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(o.output_type == "execute_result" for o in outputs)  # the KPI tables


#: Notebooks whose own horizon is already the short one and whose run takes a minute (four
#: gw-campus runs at full build-out): the slow test at their own horizon runs the same cells.
SLOW_ONLY = {"power-policy-margin.ipynb"}


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, marks=pytest.mark.slow) if p.name in SLOW_ONLY else p for p in NOTEBOOKS],
    ids=[p.name for p in NOTEBOOKS],
)
def test_notebook_runs(path):
    assert_notebook_runs(path, short=True)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_claims_at_its_own_horizon(path):
    assert_notebook_runs(path, short=False)
