"""dcsim.plot.dashboard: the panels follow the data a run has; the PNG is a real image."""

from __future__ import annotations

from datetime import UTC, datetime

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

import dcsim
from dcsim.plot.dashboard import dashboard_panels, plot_dashboard, save_dashboard
from dcsim.plot.series import TITLE_CAPACITY, TITLE_POWER, TITLE_PUE, TITLE_PUE_TEMPS, TITLE_TOKENS
from dcsim.results.meta import build_metadata, scenario_hash
from dcsim.results.run_result import RunResult, empty_events

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def titles(fig):
    return [a.get_title() for a in fig.axes if a.get_title()]


def test_dashboard_of_a_real_run(small_hall_1d, tmp_path):
    # small-hall records power, tokens and PUE (its fixed-COP cooling has no loop
    # temperatures); the capacity panel comes with the run's monthly capacity table.
    has_capacity = "capacity" in small_hall_1d.extra_tables
    expected = ["power", "tokens", "pue_temperatures"] + ["capacity"] * has_capacity
    assert dashboard_panels(small_hall_1d) == expected
    fig = plot_dashboard(small_hall_1d, fig=Figure())
    assert titles(fig) == [TITLE_POWER, TITLE_TOKENS, TITLE_PUE] + [TITLE_CAPACITY] * has_capacity
    labels = ["power [MW]", "token rate [Mtok/s]", "PUE [-]"]
    assert [a.get_ylabel() for a in fig.axes][:3] == labels
    assert fig.get_suptitle().startswith("small-hall")
    # The time panels share x: zooming one zooms all.
    power, tokens = fig.axes[:2]
    assert power.get_shared_x_axes().joined(power, tokens)
    out = save_dashboard(small_hall_1d, tmp_path / "sub" / "dash.png")
    assert out == tmp_path / "sub" / "dash.png"
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert [p.name for p in out.parent.iterdir()] == ["dash.png"]  # no temporary left


def synthetic_full_run():
    n = 96
    index = pd.date_range("2027-07-01", periods=n, freq="15min", name="time")
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
        }
    )
    meta = build_metadata(3, scenario_hash("full"), 1.0, datetime(2026, 1, 1, tzinfo=UTC))
    meta["run_dir"] = "/results/full/20270101T000000Z-s3-abcdef12"
    return RunResult(ts, empty_events(), {}, {"name": "full"}, meta, {"capacity": capacity})


def test_dashboard_with_every_block():
    res = synthetic_full_run()
    assert dashboard_panels(res) == ["power", "tokens", "pue_temperatures", "capacity"]
    fig = plot_dashboard(res, fig=Figure())
    assert titles(fig) == [TITLE_POWER, TITLE_TOKENS, TITLE_PUE_TEMPS, TITLE_CAPACITY]
    # 4 panels plus the temperature twin of the PUE panel.
    assert len(fig.axes) == 5
    assert "temperature [°C]" in [a.get_ylabel() for a in fig.axes]
    power_legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert {"grid import", "solar"} <= set(power_legend)
    assert fig.get_suptitle() == "full | 20270101T000000Z-s3-abcdef12 | seed 3"


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
