"""dcsim.plot.series: each panel draws the right columns, scaled, with titles and units.

Synthetic series make the expected line data exact (values / 1e6 for MW); the figures are
plain ``matplotlib.figure.Figure`` objects, so no pyplot state leaks between tests.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from dcsim.errors import ConfigError
from dcsim.plot._util import display_scale, unit_suffix
from dcsim.plot.series import (
    TITLE_CAPACITY,
    TITLE_POWER,
    TITLE_PUE,
    TITLE_PUE_TEMPS,
    TITLE_TEMPS,
    TITLE_TOKENS,
    plot_capacity,
    plot_power_stack,
    plot_pue_temperatures,
    plot_series,
    plot_tokens,
    supply_columns,
)
from dcsim.results.run_result import RunResult, empty_events

N = 24


def frame(**extra):
    index = pd.date_range("2027-07-01", periods=N, freq="1h", name="time")
    it = np.linspace(1.0e6, 2.0e6, N)
    cooling, losses = 0.15 * it, 0.05 * it
    data = {
        "it_power_w": it,
        "cooling_power_w": cooling,
        "losses_power_w": losses,
        "facility_power_w": it + cooling + losses,
        "demand_tok_per_s": np.full(N, 3.0e6),
        "served_tok_per_s": np.full(N, 2.5e6),
        "capacity_tok_per_s": np.full(N, 4.0e6),
        "pue": (it + cooling + losses) / it,
    }
    data.update(extra)
    return pd.DataFrame(data, index=index)


def ax():
    return Figure().subplots()


def lines(a):
    return {line.get_label(): line for line in a.get_lines()}


def test_unit_suffix_and_display_scale():
    assert unit_suffix("chat.served_tok_per_s") == "_tok_per_s"
    assert unit_suffix("it_power_w") == "_w"
    assert unit_suffix("pue") is None
    assert display_scale("_w", [2.4e6]) == (1e6, "MW")
    assert display_scale("_w", [9.5e8, 1.2e9]) == (1e9, "GW")
    assert display_scale("_w", [500.0]) == (1.0, "W")
    assert display_scale("_tok_per_s", [3e6]) == (1e6, "Mtok/s")
    assert display_scale("_j", [7.2e12]) == (3.6e12, "GWh")  # 2 GWh
    assert display_scale("_frac", [0.3]) == (0.01, "%")
    assert display_scale(None, [5.0]) == (1.0, "")


def test_power_stack_without_onsite_supply():
    df = frame(grid_import_w=frame()["facility_power_w"])
    a = plot_power_stack(df, ax=ax())
    assert a.get_title() == TITLE_POWER
    assert a.get_ylabel() == "power [MW]"
    legend = [t.get_text() for t in a.get_legend().get_texts()]
    # Grid import equals facility power here: it is not drawn twice.
    assert legend == ["IT", "cooling", "losses", "facility"]
    # Three stacked areas; the facility line is the top of the stack, in MW.
    assert len(a.collections) == 3
    np.testing.assert_allclose(lines(a)["facility"].get_ydata(), df["facility_power_w"] / 1e6)


def test_power_stack_with_grid_and_onsite_supply():
    fac = frame()["facility_power_w"].to_numpy()
    solar = np.r_[np.zeros(N // 2), np.full(N // 2, 4e5)]
    battery = np.r_[np.full(N // 2, -1e5), np.full(N // 2, 1e5)]  # charge, then discharge
    df = frame(solar_w=solar, battery_w=battery, grid_import_w=fac - solar - battery, wind_w=0.0)
    assert supply_columns(df) == ["solar_w", "battery_w"]  # all-zero wind is left out
    a = plot_power_stack(df, ax=ax())
    got = lines(a)
    assert set(got) == {"facility", "grid import", "solar", "battery"}
    np.testing.assert_allclose(got["grid import"].get_ydata(), (fac - solar - battery) / 1e6)
    np.testing.assert_allclose(got["battery"].get_ydata(), battery / 1e6)


def test_power_stack_needs_it_power():
    with pytest.raises(ConfigError, match="plot_power_stack: needs column 'it_power_w'"):
        plot_power_stack(frame().drop(columns="it_power_w"), ax=ax())


def test_tokens_panel():
    df = frame()
    a = plot_tokens(df, ax=ax())
    assert a.get_title() == TITLE_TOKENS
    assert a.get_ylabel() == "token rate [Mtok/s]"
    got = lines(a)
    np.testing.assert_allclose(got["demand"].get_ydata(), 3.0)
    np.testing.assert_allclose(got["capacity"].get_ydata(), 4.0)
    # Demand 3.0 above served 2.5 Mtok/s: the gap is filled and named.
    legend = [t.get_text() for t in a.get_legend().get_texts()]
    assert legend == ["served", "unserved or queued", "demand", "capacity"]
    assert a.get_ylim()[0] == 0.0


def test_pue_and_temperatures_share_a_panel():
    df = frame(temp_fws_degc=np.full(N, 32.0), outdoor_temp_degc=np.linspace(20, 35, N))
    a = plot_pue_temperatures(df, ax=ax())
    assert a.get_title() == TITLE_PUE_TEMPS
    assert a.get_ylabel() == "PUE [-]"
    twins = [o for o in a.figure.axes if o is not a]
    assert len(twins) == 1 and twins[0].get_ylabel() == "temperature [°C]"
    assert {line.get_label() for line in twins[0].get_lines()} == {"temp fws", "outdoor temp"}
    # PUE = 1.2 exactly with these components (0.15 + 0.05 of IT).
    np.testing.assert_allclose(lines(a)["PUE"].get_ydata(), 1.2)
    legend = [t.get_text() for t in a.get_legend().get_texts()]
    assert legend == ["PUE", "temp fws", "outdoor temp"]


def test_pue_alone_and_temperatures_alone():
    assert plot_pue_temperatures(frame(), ax=ax()).get_title() == TITLE_PUE
    temps_only = frame(temp_fws_degc=np.full(N, 30.0)).drop(columns="pue")
    a = plot_pue_temperatures(temps_only, ax=ax())
    assert a.get_title() == TITLE_TEMPS and a.get_ylabel() == "temperature [°C]"
    with pytest.raises(ConfigError, match="needs a 'pue' or a '\\*_degc' column"):
        plot_pue_temperatures(frame().drop(columns="pue"), ax=ax())


def capacity():
    return pd.DataFrame(
        {
            "month": pd.date_range("2027-01-01", periods=6, freq="MS"),
            "capacity_tok_per_s": np.linspace(4e8, 6e8, 6),
            "demand_tok_per_s": np.linspace(3e8, 7e8, 6),
            "racks_count": np.arange(6.0),
        }
    )


def test_capacity_forecast():
    a = plot_capacity(capacity(), ax=ax())
    assert a.get_title() == TITLE_CAPACITY
    assert a.get_ylabel() == "token rate [Mtok/s]"
    assert a.get_xlabel() == "month"
    got = lines(a)
    # Rates only (racks_count has another unit); 4e8 tok/s is 400 Mtok/s.
    assert set(got) == {"capacity", "demand"}
    np.testing.assert_allclose(got["capacity"].get_ydata(), np.linspace(400, 600, 6))
    assert len(got["capacity"].get_xdata()) == 6


def test_capacity_with_text_months_and_chosen_columns():
    table = capacity().assign(month=[f"2027-0{i}" for i in range(1, 7)]).set_index("month")
    a = plot_capacity(table, ax=ax(), columns=["racks_count"])
    assert a.get_ylabel() == "count [count]"
    assert [t.get_text() for t in a.get_xticklabels()][:2] == ["2027-01", "2027-02"]


def test_capacity_missing_is_one_line(small_hall_1d):
    without = RunResult(
        small_hall_1d.timeseries, empty_events(), {}, {"name": "x"}, {}, extra_tables={}
    )
    with pytest.raises(ConfigError, match="plot_capacity: the run has no capacity table"):
        plot_capacity(without, ax=ax())


def test_generic_series():
    df = frame()
    a = plot_series(df, ["it_power_w", "cooling_power_w"], ax=ax())
    assert a.get_ylabel() == "power [MW]" and a.get_title() == "it_power_w, cooling_power_w"
    mixed = plot_series(df, ["it_power_w", "pue"], ax=ax(), title="mixed")
    assert mixed.get_ylabel() == "value" and mixed.get_title() == "mixed"
    with pytest.raises(ConfigError, match="needs column 'nope_w'"):
        plot_series(df, "nope_w", ax=ax())


def test_without_ax_a_pyplot_figure_is_made(small_hall_1d):
    try:
        a = plot_tokens(small_hall_1d)
        assert a.figure in [plt.figure(n) for n in plt.get_fignums()]
    finally:
        plt.close("all")
    with pytest.raises(TypeError, match="expected a RunResult or a DataFrame"):
        plot_tokens([1, 2, 3], ax=ax())
