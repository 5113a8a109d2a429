"""dcsim.results.compare: KPI differences, aligned series, capacity tables side by side.

Synthetic runs carry hand-picked KPIs, so every difference is checked against arithmetic
done in the comment; the real runs (small-hall for a day, with and without a tight import
limit) check that the table is exactly the KPI dicts subtracted.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from dcsim.errors import ConfigError
from dcsim.results.compare import (
    Comparison,
    abs_rel_diff,
    compare,
    markdown_table,
    month_indexed,
)
from dcsim.results.io import write_run
from dcsim.results.meta import build_metadata, scenario_hash
from dcsim.results.run_result import RunResult, empty_events


def synthetic(kpis, start="2027-01-04", n=8, power_w=1e6, capacity=None, name="tiny"):
    index = pd.date_range(start, periods=n, freq="15min", name="time")
    ts = pd.DataFrame(
        {
            "it_power_w": np.full(n, power_w),
            "served_tok_per_s": np.arange(n, dtype=float),
        },
        index=index,
    )
    extra = {} if capacity is None else {"capacity": capacity}
    meta = build_metadata(1, scenario_hash(name), 0.1, datetime(2026, 1, 1, tzinfo=UTC))
    return RunResult(ts, empty_events(), dict(kpis), {"name": name}, meta, extra)


A = {"served_tok": 100e6, "pue": 1.2, "unserved_frac": 0.0, "binding": "grid", "a_only_j": 5.0}
B = {"served_tok": 110e6, "pue": 1.08, "unserved_frac": 0.5, "binding": "cooling", "b_only_w": 1.0}


def test_abs_rel_diff_by_hand():
    # 110 vs 100: +10, +10 %; 1.08 vs 1.2: -0.12, -10 %.
    assert abs_rel_diff(110.0, 100.0) == (10.0, 0.1)
    d_abs, d_rel = abs_rel_diff(1.08, 1.2)
    assert d_abs == pytest.approx(-0.12) and d_rel == pytest.approx(-0.1)
    # A zero reference: the relative difference is undefined unless the value is 0 too.
    assert abs_rel_diff(0.0, 0.0) == (0.0, 0.0)
    assert abs_rel_diff(0.5, 0.0)[0] == 0.5 and math.isnan(abs_rel_diff(0.5, 0.0)[1])
    # Text and NaN have no difference.
    assert all(math.isnan(x) for x in abs_rel_diff("a", "b"))
    assert all(math.isnan(x) for x in abs_rel_diff(math.nan, 1.0))
    # A negative reference: relative to its magnitude, so a rise is positive.
    assert abs_rel_diff(-90.0, -100.0) == (10.0, 0.1)


def test_kpi_table_values_and_differences():
    cmp = compare([synthetic(A), synthetic(B)], labels=["base", "alt"])
    t = cmp.table
    # Union of KPI names in first-seen order: A's, then B's extra one.
    assert list(t.index) == [
        "served_tok",
        "pue",
        "unserved_frac",
        "binding",
        "a_only_j",
        "b_only_w",
    ]
    assert list(t.columns) == ["base", "alt", "alt.abs_diff", "alt.rel_diff_frac"]
    assert t.loc["served_tok", "alt.abs_diff"] == 10e6
    assert t.loc["served_tok", "alt.rel_diff_frac"] == 0.1
    assert t.loc["pue", "alt.abs_diff"] == pytest.approx(-0.12)
    assert t.loc["pue", "alt.rel_diff_frac"] == pytest.approx(-0.1)
    assert t.loc["unserved_frac", "alt.abs_diff"] == 0.5
    assert math.isnan(t.loc["unserved_frac", "alt.rel_diff_frac"])
    # Missing on one side: NaN value, NaN differences.
    assert math.isnan(t.loc["a_only_j", "alt"]) and math.isnan(t.loc["b_only_w", "base"])
    assert math.isnan(t.loc["a_only_j", "alt.abs_diff"])
    # Text KPIs are shown, never subtracted.
    assert t.loc["binding", "alt"] == "cooling" and math.isnan(t.loc["binding", "alt.abs_diff"])
    assert cmp.changed() == list(t.index)  # every KPI differs here


def test_tidy_differences_match_the_wide_table():
    cmp = compare([synthetic(A), synthetic(B), synthetic({**B, "served_tok": 90e6})])
    d = cmp.differences
    # Two non-reference runs x 6 KPIs.
    assert len(d) == 12
    third = d[(d["run"] == cmp.labels[2]) & (d["kpi"] == "served_tok")].iloc[0]
    assert third["reference"] == 100e6 and third["value"] == 90e6
    assert third["abs_diff"] == -10e6 and third["rel_diff_frac"] == -0.1


def test_labels_must_be_distinct_and_runs_at_least_two():
    with pytest.raises(ConfigError, match="at least 2 runs"):
        compare([synthetic(A)])
    with pytest.raises(ConfigError, match="distinct"):
        compare([synthetic(A), synthetic(B)], labels=["x", "x"])
    with pytest.raises(ConfigError, match="2 labels for 3 runs"):
        compare([synthetic(A), synthetic(B), synthetic(B)], labels=["x", "y"])


def test_default_labels_are_unique_without_folders():
    cmp = compare([synthetic(A), synthetic(B)])
    assert cmp.labels == ["tiny#0", "tiny#1"]


def test_real_runs_differences_are_the_kpis_subtracted(small_hall_1d, small_hall_tight):
    cmp = compare([small_hall_1d, small_hall_tight], labels=["base", "tight"])
    t = cmp.table
    for key, ref in small_hall_1d.kpis.items():
        assert t.loc[key, "base"] == ref
        assert t.loc[key, "tight.abs_diff"] == small_hall_tight.kpis[key] - ref
    # A 1.1 MW limit under a ~1.3 MW average draw withholds tokens and caps peak power.
    assert t.loc["power_capped_tok", "tight.abs_diff"] > 0
    assert t.loc["peak_facility_power_w", "tight"] <= 1.1e6 * (1 + 1e-9)
    assert "power_capped_tok" in cmp.changed()
    # Same demand on both: demand_tok is identical and so not "changed".
    assert "demand_tok" not in cmp.changed()


def test_series_are_aligned_in_time(small_hall_1d, small_hall_tight):
    cmp = compare([small_hall_1d, small_hall_tight], labels=["base", "tight"])
    s = cmp.series(["facility_power_w", "served_tok_per_s"])
    assert list(s.columns) == [
        ("facility_power_w", "base"),
        ("facility_power_w", "tight"),
        ("served_tok_per_s", "base"),
        ("served_tok_per_s", "tight"),
    ]
    np.testing.assert_array_equal(
        s[("facility_power_w", "tight")].to_numpy(),
        small_hall_tight.timeseries["facility_power_w"].to_numpy(),
    )
    assert s.index.equals(small_hall_1d.timeseries.index)


def test_series_of_runs_with_different_starts_align_on_elapsed_days():
    a = synthetic(A, start="2027-01-04", power_w=1e6)
    b = synthetic(B, start="2027-07-05", power_w=2e6)
    s = compare([a, b], labels=["jan", "jul"]).series("it_power_w")
    # 8 rows of 15 min: elapsed 0, 1/96, ..., 7/96 days.
    assert s.index.name == "elapsed_d"
    np.testing.assert_allclose(s.index.to_numpy(), np.arange(8) / 96.0)
    assert (s[("it_power_w", "jul")] == 2e6).all()
    # "time" keeps the calendar: the two runs do not overlap, so 16 rows.
    assert len(compare([a, b], labels=["jan", "jul"]).series("it_power_w", align="time")) == 16


def test_series_unknown_column_suggests_a_name():
    cmp = compare([synthetic(A), synthetic(B)])
    with pytest.raises(ConfigError, match="did you mean 'it_power_w'"):
        cmp.series(["it_power_kw"])


def capacity_table(values):
    months = pd.date_range("2027-01-01", periods=len(values), freq="MS")
    return pd.DataFrame(
        {
            "month": months,
            "capacity_tok_per_s": np.asarray(values, float),
            "demand_tok_per_s": np.full(len(values), 5.0),
        }
    )


def test_capacity_tables_side_by_side():
    a = synthetic(A, capacity=capacity_table([10.0, 11.0, 12.0]))
    b = synthetic(B, capacity=capacity_table([10.0, 9.0, 12.5]))
    c = synthetic(B)  # no capacity table
    cap = compare([a, b, c], labels=["a", "b", "c"]).capacity
    # Indexed by month; each quantity's runs next to each other; the run without one is out.
    assert cap.index.name == "month"
    assert list(cap.columns) == [
        ("capacity_tok_per_s", "a"),
        ("capacity_tok_per_s", "b"),
        ("demand_tok_per_s", "a"),
        ("demand_tok_per_s", "b"),
    ]
    assert cap.loc[pd.Timestamp("2027-02-01"), ("capacity_tok_per_s", "b")] == 9.0
    assert compare([c, synthetic(A)]).capacity is None


def test_month_indexed_keeps_a_meaningful_index():
    table = capacity_table([1.0])
    assert month_indexed(table).index.name == "month"
    already = table.set_index("month")
    assert month_indexed(already) is already


def test_csv_and_markdown(tmp_path):
    a = synthetic(A, capacity=capacity_table([10.0, 11.0]))
    b = synthetic(B, capacity=capacity_table([10.0, 9.0]))
    cmp = compare([a, b], labels=["base", "alt"])
    written = cmp.to_csv(tmp_path / "out" / "kpis.csv")
    assert written == [tmp_path / "out" / "kpis.csv", tmp_path / "out" / "kpis-capacity.csv"]
    back = pd.read_csv(written[0], index_col="kpi")
    assert back.loc["served_tok", "alt.abs_diff"] == 10e6
    assert back.loc["pue", "alt.rel_diff_frac"] == pytest.approx(-0.1)
    cap = pd.read_csv(written[1], index_col=0)
    assert list(cap.columns)[:2] == ["capacity_tok_per_s[base]", "capacity_tok_per_s[alt]"]
    assert cap["capacity_tok_per_s[alt]"].tolist() == [10.0, 9.0]

    text = cmp.to_markdown(tmp_path / "c.md")
    assert (tmp_path / "c.md").read_text() == text
    assert "| KPI | base | alt | diff | diff % |" in text
    # 1.2 -> 1.08: -0.12 and -10 %, three significant digits.
    assert "| pue | 1.20 | 1.08 | -0.120 | -10.0 % |" in text
    assert "## Monthly capacity forecast" in text
    # One row per quantity and run, months across: alt's capacity 10 then 9 tok/s.
    assert "| quantity | run | 2027-01 | 2027-02 |" in text
    assert "| capacity_tok_per_s | alt | 10.0 tok/s | 9.00 tok/s |" in text
    only = cmp.to_markdown(only_changed=True)
    assert "| served_tok |" in only


def test_markdown_table_escapes_pipes():
    text = markdown_table(["a", "b"], [["x|y", "1"]])
    assert text.splitlines() == ["| a | b |", "|:--|--:|", "| x\\|y | 1 |"]


def test_compare_run_folders_and_default_labels(tmp_path, small_hall_1d, small_hall_tight):
    dirs = []
    for i, res in enumerate([small_hall_1d, small_hall_tight]):
        dirs.append(
            write_run(
                res,
                tmp_path,
                resolved_scenario_yaml=f"name: small-hall\nrun: {i}\n",
                run_id=f"run-{i}",
                scenario_name="small-hall",
            )
        )
    cmp = compare(dirs)
    assert isinstance(cmp, Comparison)
    assert cmp.labels == ["run-0", "run-1"]
    assert cmp.table.loc["served_tok", "run-1.abs_diff"] == (
        small_hall_tight.kpis["served_tok"] - small_hall_1d.kpis["served_tok"]
    )


def test_incomplete_run_folder_names_the_missing_file(tmp_path, small_hall_1d):
    good = write_run(
        small_hall_1d,
        tmp_path,
        resolved_scenario_yaml="name: small-hall\n",
        run_id="good",
        scenario_name="small-hall",
    )
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in good.iterdir():
        if f.name != "kpis.json":
            (bad / f.name).write_bytes(f.read_bytes())
    with pytest.raises(ConfigError) as err:
        compare([good, bad])
    assert str(err.value) == f"{bad}: not a dcsim run folder (missing kpis.json)"
    with pytest.raises(ConfigError, match="no such directory"):
        compare([good, tmp_path / "nowhere"])
