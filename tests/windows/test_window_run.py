"""A window on a short small-hall run: recording, requests.parquet, KPIs, determinism, errors.

The run is one day of small-hall with a 30-minute window on the peak chat hour and 4 sampled
replicas (module fixture ``window_run``), replayed with the request-level engine.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import dcsim
import dcsim.cli as cli
from dcsim.kernels import layout as L
from dcsim.kernels import window_layout as WL
from dcsim.model.capacity import build_capacity_plan
from dcsim.model.checks import load_scenario
from dcsim.model.plant import build_plant
from dcsim.results.io import read_run
from dcsim.scenario import scenario_catalog
from dcsim.sim.engine import simulate
from dcsim.windows.replay import LATENCY_KPIS, REQUEST_COLUMNS
from dcsim.windows.resolve import resolve_window, rule_inputs, window_spans


def _state(small_hall, overrides):
    sc = load_scenario(small_hall, overrides)
    catalog = scenario_catalog(sc)
    plant = build_plant(sc, catalog)
    plan = build_capacity_plan(sc, catalog, plant)
    spans = window_spans(sc.windows, plant, rule_inputs(plant, sc.seed)) if sc.windows else None
    return sc, simulate(plant, sc.seed, plan=plan, window_spans=spans)


def test_recording_equals_the_fluid_series(small_hall, window_overrides):
    window_overrides["windows"][0]["duration_s"] = "1h"  # one hall row (1 h) and 4 rows
    sc, state = _state(small_hall, window_overrides)
    p, rec = state.plant, state.recorder
    t0, n = resolve_window(sc.windows[0], 0, p, rule_inputs(p, sc.seed))
    cells = rec.window_cells(t0, n)  # (60, n_cell, WR_NCOLS)
    chat = p.class_names.index("chat")
    chat_cells = np.flatnonzero(np.asarray(p.pool_class)[p.cell_pool] == chat)
    served_tick = cells[:, chat_cells, WL.WR_DELIVERED].sum(axis=1)
    # 15-tick means of the per-tick record = the class's recorded rows over the window.
    rows = slice(t0 // p.ticks_per_rec, (t0 + n) // p.ticks_per_rec)
    np.testing.assert_allclose(
        served_tick.reshape(-1, p.ticks_per_rec).mean(axis=1),
        rec.class_rec[rows, chat, L.KR_SERVED],
        rtol=1e-12,
    )
    capacity_tick = (cells[:, :, WL.WR_SERVING] * cells[:, :, WL.WR_X_CAP]).sum(axis=1)
    np.testing.assert_allclose(
        capacity_tick.reshape(-1, p.ticks_per_rec).mean(axis=1),
        rec.rec[rows, L.R_CAPACITY],
        rtol=1e-12,
    )
    # Racks serving and the rack-weighted cap of the hall's one-hour row.
    hrow = t0 // p.ticks_per_hall_rec
    np.testing.assert_allclose(
        cells[:, :, WL.WR_SERVING].sum(axis=1).mean(), rec.hall_rec[hrow, 0, L.HR_SERVING]
    )
    np.testing.assert_allclose(
        (cells[:, :, WL.WR_CAP] * cells[:, :, WL.WR_SERVING]).sum(axis=1).mean(),
        rec.hall_rec[hrow, 0, L.HR_CAP],
    )
    assert np.isnan(cells[:, :, WL.WR_T_FWS]).all()  # fixed-COP hall: no loop temperature
    with pytest.raises(ValueError, match="were not recorded for a window"):
        rec.window_cells(0, 10)


def test_recording_does_not_change_the_run(small_hall, window_overrides):
    _, with_window = _state(small_hall, window_overrides)
    _, without = _state(small_hall, {"horizon_s": "1d"})
    pd.testing.assert_frame_equal(with_window.recorder.timeseries(), without.recorder.timeseries())
    assert without.recorder.window_rec.shape[0] == 0  # zero-size when no window is asked


def test_requests_parquet_columns_and_round_trip(window_run):
    req = window_run.requests
    assert tuple(req.columns) == REQUEST_COLUMNS
    assert len(req) == window_run.kpis["window.pk.chat.requests_count"] > 1000
    assert set(req["window"]) == {"pk"} and set(req["class"]) == {"chat"}
    assert set(req["pool"]) == {"chat@gb200-nvl72"} and set(req["replica"]) == {0, 1, 2, 3}
    # Arrivals lie in the window (the warm-up's requests are not reported).
    start = window_run.timeseries.index[0] + pd.Timedelta(
        seconds=window_run.kpis["window.pk.start_s"]
    )
    assert req["arrival"].min() >= start
    assert req["arrival"].max() < start + pd.Timedelta(minutes=30)
    assert (req["first_token"] >= req["arrival"]).all()
    assert (req["finish"] >= req["first_token"]).all()
    ttft = (req["first_token"] - req["arrival"]).dt.total_seconds()
    np.testing.assert_allclose(ttft, req["ttft_s"], atol=2e-6)  # us timestamps
    back = read_run(window_run.meta["run_dir"])
    assert back.requests_source is not None and not isinstance(back.requests_source, pd.DataFrame)
    assert "requests" not in back.extra_tables  # read lazily, on first use
    pd.testing.assert_frame_equal(back.requests, req)


def test_window_kpis_present_and_consistent(window_run):
    k = window_run.kpis
    prefix = "window.pk.chat"
    for _, _, stem in LATENCY_KPIS:
        v, lo, hi = (k[f"{prefix}.{stem}{s}_s"] for s in ("", "_lo", "_hi"))
        assert lo <= v <= hi, stem
    assert k[f"{prefix}.ttft_p50_s"] <= k[f"{prefix}.ttft_p90_s"] <= k[f"{prefix}.ttft_p99_s"]
    # The p99 is that of the requests written (the whole sample is written here): the
    # inverse of their empirical distribution, x_(ceil(0.99 n)).
    x = np.sort(window_run.requests["ttft_s"].to_numpy())
    assert k[f"{prefix}.ttft_p99_s"] == x[math.ceil(0.99 * x.size) - 1]
    assert k[f"{prefix}.replicas_count"] == 4
    assert 0.0 <= k[f"{prefix}.slo_attainment_frac"] <= 1.0
    assert 0.0 <= k[f"{prefix}.fluid_slo_attainment_frac"] <= 1.0
    assert window_run.meta["window_wall_s"]["pk"] >= 0.0  # not a KPI: not reproducible
    assert not [key for key in k if "wall" in key]
    # The peak chat hour of the day: the window starts on the hour of highest demand.
    hourly = window_run.timeseries["chat.demand_tok_per_s"].resample("1h").mean()
    assert (hourly.idxmax() - hourly.index[0]).total_seconds() == k["window.pk.start_s"]


def test_kpi_table_shows_the_window(window_run):
    from rich.console import Console

    console = Console(width=140, record=True)
    console.print(cli.kpi_table(window_run.kpis))
    text = console.export_text()
    assert "window pk, chat: TTFT p99" in text and "requests / replicas" in text


def test_same_seed_same_requests(small_hall, window_overrides, window_run):
    again = dcsim.run(small_hall, overrides=window_overrides)
    pd.testing.assert_frame_equal(again.requests, window_run.requests)
    other = dcsim.run(small_hall, overrides=window_overrides, seed=8)
    assert not other.requests["arrival"].equals(window_run.requests["arrival"])


def test_auto_replicas_reach_the_p99_sample(small_hall, window_overrides):
    window_overrides["windows"][0].update(replicas_count="auto", p99_rel_halfwidth_frac=0.5)
    res = dcsim.run(small_hall, overrides=window_overrides)
    # 1.96^2 * 0.99 / (0.01 * 0.5^2) = 1,522 requests needed; one replica brings ~4,000 in
    # 30 minutes at the peak, so one replica suffices and is what 'auto' picks.
    assert res.kpis["window.pk.chat.replicas_count"] >= 1
    assert res.kpis["window.pk.chat.requests_count"] >= 1522


def _cli(*args):
    return CliRunner().invoke(cli.app, list(args))


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (
            "{name: w, start: '2027-02-01T00:00'}",
            "window 2027-02-01 to 2027-02-01T01:00 is outside the horizon",
        ),
        ("{name: w, start: 'curtailment:deepest'}", "no curtailment in the run"),
        ("{name: w, start: 'peak:chat', replicas_count: 0}", "0 sampled replicas; expected"),
        (
            "{name: w, start: 'peak:chat', lengths: {chat: {output: {mean_tok: -1}}}}",
            "windows.w.lengths.chat.output.mean_tok: -1 must be > 0",
        ),
        ("{name: w, start: 'peak:chat', classes: [chatt]}", "unknown workload class 'chatt'"),
    ],
)
def test_cli_bad_window_exit_2(small_hall, tmp_path, window, message):
    out = _cli(
        "run", str(small_hall), "--set", "horizon_s=1d", "--set", f"windows=[{window}]",
        "--out", str(tmp_path), "-q",
    )  # fmt: skip
    assert out.exit_code == 2, out.output
    # One error line (small-hall's weather file draws a warning line of its own).
    lines = [line for line in out.output.splitlines() if not line.startswith("dcsim: warning")]
    assert len(lines) == 1 and lines[0].startswith("dcsim: error: ") and message in lines[0]
    assert "Traceback" not in out.output


def test_class_without_racks_in_the_window(small_hall):
    overrides = {
        "horizon_s": "1d",
        "sites.main.buildings.b1.halls.h1.rack_groups.chat.in_service": "2027-01-04T12:00",
        "windows": [{"name": "w", "start": "2027-01-04T06:00", "classes": ["chat"]}],
    }
    with pytest.raises(dcsim.ConfigError) as err:
        dcsim.run(small_hall, overrides=overrides)
    assert str(err.value) == (
        "windows.0: class 'chat' has no racks serving from 2027-01-04 06:00 to 2027-01-04 "
        "07:00: zero replicas to sample; choose another window"
    )


def test_plot_windows(window_run, tmp_path):
    from dcsim.plot.windows import save_windows_figure

    path = save_windows_figure(window_run, tmp_path / "w.png", dpi=40)
    assert path.stat().st_size > 1000
    out = _cli("plot", window_run.meta["run_dir"], "--out", str(tmp_path / "d.png"), "--dpi", "40")
    assert out.exit_code == 0, out.output
    assert (tmp_path / "d-windows.png").is_file()
    assert not math.isnan(window_run.kpis["window.pk.chat.ttft_p99_s"])
