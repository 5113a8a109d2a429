"""dcsim.plot.dashboard: the panels follow the data a run has; the PNG is a real image."""

from __future__ import annotations

from datetime import UTC, datetime

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

import dcsim
from dcsim.plot.dashboard import dashboard_panels, plot_dashboard, save_dashboard
from dcsim.plot.limits import partial_months
from dcsim.plot.panels import TITLE_BUILDOUT
from dcsim.plot.series import TITLE_POWER, TITLE_PUE, TITLE_PUE_TEMPS, TITLE_TOKENS
from dcsim.results.meta import build_metadata, scenario_hash
from dcsim.results.run_result import RunResult, empty_events

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def titles(fig):
    return [a.get_title() for a in fig.axes if a.get_title()]


def test_dashboard_of_a_real_run(small_hall_1d, tmp_path):
    # small-hall records power, tokens and PUE (its fixed-COP cooling has no loop
    # temperatures); one day is too short for a monthly build-out panel.
    assert dashboard_panels(small_hall_1d) == ["kpis", "power", "tokens", "pue_temperatures"]
    fig = plot_dashboard(small_hall_1d, fig=Figure())
    assert titles(fig) == [TITLE_POWER, TITLE_TOKENS, TITLE_PUE]
    labels = ["power [MW]", "token rate [Mtok/s]", "PUE [-]"]
    assert [a.get_ylabel() for a in fig.axes][1:4] == labels
    # The power panel shows its ceilings: small-hall's 3.2 MW import limit (no grid
    # contract, so no firm block) and the energised MW of its capacity table.
    power = fig.axes[1]
    lines = {line.get_label(): line for line in power.get_lines()}
    assert {"facility", "import limit"} <= set(lines)
    assert "firm block" not in lines
    assert max(lines["import limit"].get_ydata()) == 3.2  # MW
    # The KPI box: served, unserved, PUE, WUE, cost and CO2 per Mtok, formatted.
    box = fig.axes[0].texts[0].get_text()
    for word in ("served ", "unserved ", "PUE ", "WUE ", "$/Mtok", "kg CO2/Mtok"):
        assert word in box
    assert fig.get_suptitle().startswith("small-hall")
    # The time panels share x: zooming one zooms all.
    power, tokens = fig.axes[1:3]
    assert power.get_shared_x_axes().joined(power, tokens)
    out = save_dashboard(small_hall_1d, tmp_path / "sub" / "dash.png")
    assert out == tmp_path / "sub" / "dash.png"
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert [p.name for p in out.parent.iterdir()] == ["dash.png"]  # no temporary left


def synthetic_full_run():
    # 96 records 4 days apart: 380 days, long enough for the monthly build-out panel.
    n = 96
    index = pd.date_range("2027-07-01", periods=n, freq="4D", name="time")
    it = np.full(n, 1.0e8)
    ts = pd.DataFrame(
        {
            "it_power_w": it,
            "cooling_power_w": 0.1 * it,
            "losses_power_w": 0.05 * it,
            "facility_power_w": 1.15 * it,
            "grid_import_w": 1.15 * it - 2e7,
            "solar_w": np.full(n, 2e7),
            "battery_soc_j": np.full(n, 3.6e11),
            "served_tok_per_s": np.full(n, 1e8),
            "demand_tok_per_s": np.full(n, 1.1e8),
            "capacity_tok_per_s": np.full(n, 1.5e8),
            "pue": np.full(n, 1.15),
            "temp_fws_degc": np.full(n, 30.0),
            "temp_rws_degc": np.full(n, 40.0),
            "throttle_frac": np.zeros(n),
        },
        index=index,
    )
    capacity = pd.DataFrame(
        {
            "month": pd.date_range("2027-07-01", periods=12, freq="MS"),
            "capacity_tok_per_s": np.linspace(1.5e8, 3e8, 12),
            "demand_tok_per_s": np.linspace(1.1e8, 2.5e8, 12),
            "racks_in_service_count": np.arange(12) * 10.0,
            "stranded_racks_count": np.zeros(12),
            "energised_w": np.full(12, 2e8),
        }
    )
    meta = build_metadata(3, scenario_hash("full"), 1.0, datetime(2026, 1, 1, tzinfo=UTC))
    meta["run_dir"] = "/results/full/20270101T000000Z-s3-abcdef12"
    return RunResult(ts, empty_events(), {}, {"name": "full"}, meta, {"capacity": capacity})


def test_dashboard_with_every_block():
    res = synthetic_full_run()
    # No KPIs in this synthetic run: no KPI box.
    assert dashboard_panels(res) == ["power", "tokens", "pue_temperatures", "capacity"]
    fig = plot_dashboard(res, fig=Figure())
    assert titles(fig) == [TITLE_POWER, TITLE_TOKENS, TITLE_PUE_TEMPS, TITLE_BUILDOUT]
    # 4 panels plus the temperature twin of the PUE panel and the MW twin of the build-out.
    assert len(fig.axes) == 6
    assert "temperature [°C]" in [a.get_ylabel() for a in fig.axes]
    power_legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert {"grid import", "solar", "energised"} <= set(power_legend)
    # Legends sit right of the data (anchored beyond the axes' right edge).
    assert fig.axes[0].get_legend().get_bbox_to_anchor().x0 > fig.axes[0].bbox.x1 - 1
    # A year at 4-day records is drawn as daily means.
    token_labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert "served (daily mean)" in token_labels and "unserved or queued" in token_labels
    # The run (2027-07-01 to 2028-07-19) covers every month of the table in full.
    (buildout,) = [a for a in fig.axes if a.get_title() == TITLE_BUILDOUT]
    ticks = [t.get_text() for t in buildout.get_xticklabels()]
    assert ticks[0] == "2027-07" and ticks[-1] == "2028-06"
    assert not any("partial" in t for t in ticks)
    assert fig.get_suptitle() == "full | 20270101T000000Z-s3-abcdef12 | seed 3"


def test_partial_months_by_hand():
    # 15-min records from 2027-01-04 00:00 to 2027-03-01 00:00 (the last record covers up to
    # 00:15): January starts late, February is full, March has 15 minutes.
    index = pd.date_range("2027-01-04", "2027-03-01", freq="15min")
    months = pd.DatetimeIndex(["2027-01-01", "2027-02-01", "2027-03-01"])
    assert partial_months(index, months) == [True, False, True]


def test_dashboard_of_a_read_back_run_and_a_dataframe(small_hall_1d, tmp_path):
    res = synthetic_full_run()
    res.meta.pop("run_dir")
    folder = dcsim.results.io.write_run(
        res, tmp_path, resolved_scenario_yaml="name: full\n", run_id="r1", scenario_name="full"
    )
    back = dcsim.read_run(folder)
    assert dashboard_panels(back)[-1] == "capacity"
    # A bare DataFrame has no capacity table.
    assert dashboard_panels(small_hall_1d.timeseries) == ["power", "tokens", "pue_temperatures"]
    # A short run with a capacity table still has no build-out panel (under 45 days).
    assert "capacity" not in dashboard_panels(small_hall_1d)


def test_pyplot_figure_when_none_given(small_hall_1d):
    try:
        fig = plot_dashboard(small_hall_1d)
        assert fig.number in plt.get_fignums()
    finally:
        plt.close("all")


def test_lazy_top_level_export(small_hall_1d, tmp_path):
    out = dcsim.save_dashboard(small_hall_1d, tmp_path / "d.png")
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert dcsim.plot_dashboard is plot_dashboard
