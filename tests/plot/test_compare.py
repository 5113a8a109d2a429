"""dcsim.plot.compare: overlays carry one line per run with its data; KPI bars show % change."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

import dcsim
from dcsim.errors import ConfigError
from dcsim.plot.compare import plot_kpi_changes, plot_overlay, plot_overlays


@pytest.fixture(scope="module")
def cmp(small_hall_1d, small_hall_tight):
    return dcsim.compare([small_hall_1d, small_hall_tight], labels=["base", "tight"])


def test_overlay_one_line_per_run(cmp, small_hall_tight):
    a = plot_overlay(cmp, "facility_power_w", ax=Figure().subplots())
    assert a.get_title() == "facility_power_w"
    assert a.get_ylabel() == "power [MW]"
    got = {line.get_label(): line for line in a.get_lines()}
    assert set(got) == {"base", "tight"}
    np.testing.assert_allclose(
        got["tight"].get_ydata(), small_hall_tight.timeseries["facility_power_w"] / 1e6
    )
    # The tight run never exceeds its 1.1 MW limit.
    assert got["tight"].get_ydata().max() <= 1.1 + 1e-9


def test_overlay_from_runs_and_from_series(small_hall_1d, small_hall_tight, cmp):
    a = plot_overlay([small_hall_1d, small_hall_tight], "pue", ax=Figure().subplots())
    assert len(a.get_lines()) == 2 and a.get_ylabel() == "pue"
    b = plot_overlay(cmp.series(["served_tok_per_s"]), "served_tok_per_s", ax=Figure().subplots())
    assert b.get_ylabel() == "token rate [Mtok/s]"
    with pytest.raises(ConfigError, match="no column 'x_w'"):
        plot_overlay(cmp.series(["pue"]), "x_w", ax=Figure().subplots())


def test_overlays_one_panel_per_column(cmp):
    fig = plot_overlays(cmp, ["facility_power_w", "served_tok_per_s"], fig=Figure())
    assert [a.get_title() for a in fig.axes] == ["facility_power_w", "served_tok_per_s"]
    with pytest.raises(ConfigError, match="expected at least one column"):
        plot_overlays(cmp, [], fig=Figure())


def test_kpi_change_bars(cmp):
    a = plot_kpi_changes(cmp, kpis=["served_tok", "pue"], ax=Figure().subplots())
    assert a.get_title() == "KPI change vs base"
    assert a.get_xlabel() == "difference [%]"
    widths = [p.get_width() for p in a.patches]
    d = cmp.table
    expected = [100 * d.loc[k, "tight.rel_diff_frac"] for k in ("served_tok", "pue")]
    np.testing.assert_allclose(widths, expected)
    assert [t.get_text() for t in a.get_yticklabels()] == ["served_tok", "pue"]
    default = plot_kpi_changes(cmp, ax=Figure().subplots())
    assert 0 < len(default.patches) <= 15
