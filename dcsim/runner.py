"""One run, end to end: scenario -> plant -> simulation -> RunResult (-> run folder)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dcsim.model.capacity import build_capacity_plan
from dcsim.model.checks import load_scenario
from dcsim.model.plant import build_plant
from dcsim.model.prices import token_prices
from dcsim.model.training import build_training
from dcsim.results.capacity import capacity_results, snapshots_frame
from dcsim.results.io import write_run
from dcsim.results.local_time import site_utc_offsets_h, to_utc
from dcsim.results.meta import build_metadata, run_id, scenario_hash
from dcsim.results.metrics import compute_kpis, grid_accounts_all, per_mtok_kpis
from dcsim.results.revenue import margin_results
from dcsim.results.run_result import RunResult
from dcsim.results.training_power import repurposing_table, training_power_kpis
from dcsim.scenario import (
    Scenario,
    base_dir,
    dump_resolved,
    scenario_catalog,
    set_base_dir,
)
from dcsim.scenario.load import apply_overrides, validate_model
from dcsim.sim.engine import ProgressFn, simulate
from dcsim.sim.training_record import training_columns


def resolve_scenario(
    scenario: Scenario | str | Path,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
) -> Scenario:
    """A validated scenario from a path or a Scenario, with overrides applied.

    Parameters
    ----------
    scenario
        Path of a scenario file, or a :class:`Scenario` already loaded.
    overrides
        ``["path.to.field=value"]`` or ``{"path.to.field": value}``.
    """
    if isinstance(scenario, Scenario):
        if not overrides:
            return scenario
        data, index = apply_overrides(scenario.model_dump(mode="json"), overrides, line_index={})
        out = validate_model(Scenario, data, f"<scenario {scenario.name}>", index)
        return set_base_dir(out, base_dir(scenario))
    return load_scenario(scenario, overrides)


def run(
    scenario: Scenario | str | Path,
    *,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
    seed: int | None = None,
    write: bool = False,
    root: str | Path = "results",
    progress: ProgressFn | None = None,
) -> RunResult:
    """Simulate a scenario and return its result.

    Parameters
    ----------
    scenario
        Scenario file path or a loaded :class:`Scenario`.
    overrides
        Field overrides, as for ``dcsim run --set``.
    seed
        Seed of the run; default: the scenario's ``seed``.
    write
        Write the run folder ``<root>/<scenario>/<run-id>/`` (atomically).
    root
        Results root folder.
    progress
        Optional callback ``progress(ticks_done, ticks_total)``.

    Returns
    -------
    RunResult
        Time series, events, KPIs, the resolved scenario and metadata; when written,
        ``meta["run_dir"]`` is the folder.

    Examples
    --------
    >>> import dcsim
    >>> res = dcsim.run("scenarios/small-hall.yaml", overrides={"horizon_s": "2d"})
    >>> res.kpis["pue"]  # doctest: +SKIP
    """
    sc = resolve_scenario(scenario, overrides)
    if seed is not None:
        # Through the schema, so that a bad seed is the same one-line error as in the file.
        sc = resolve_scenario(sc, {"seed": seed})
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    catalog = scenario_catalog(sc)
    plant = build_plant(sc, catalog)
    plan = build_capacity_plan(sc, catalog, plant)
    spans, rule_in = None, None
    if sc.windows:
        from dcsim.windows.resolve import needs_rule_inputs, rule_inputs, window_spans

        rule_in = rule_inputs(plant, sc.seed) if needs_rule_inputs(sc.windows) else None
        spans = window_spans(sc.windows, plant, rule_in)
    training = build_training(sc, catalog, plant)
    state = simulate(plant, sc.seed, progress, plan=plan, window_spans=spans, training=training)
    rec = state.recorder
    rec.check_finite()
    # The event table first: the list of tuples it is built from is the largest object a long
    # run holds (millions of failures and repairs), freed before the series tables are built.
    events = rec.events_frame()
    rec.events = []
    ts = rec.timeseries()
    kpis: dict[str, Any] = compute_kpis(
        ts, plant.class_names, plant.horizon_s, plant.ticks_per_rec * plant.tick_s
    )
    site_ts = rec.site_timeseries()
    if training is not None:
        tr_rec = state.training.rec
        site_ts = site_ts.assign(**training_columns(tr_rec, plant.n_ticks, plant.ticks_per_rec))
    if plant.grid is not None:
        ts, site_ts, grid_kpis = grid_accounts_all(
            ts, site_ts, plant.grid, plant.ticks_per_rec * plant.tick_s
        )
        kpis.update(grid_kpis)
    kpis.update(per_mtok_kpis(kpis))
    hall_ts = rec.hall_timeseries()
    extra_tables = {}
    if training is not None:
        row_s = plant.ticks_per_rec * plant.tick_s
        kpis.update(
            training_power_kpis(site_ts, training, plant.site_names, row_s, plant.horizon_s)
        )
        table = repurposing_table(ts, site_ts, hall_ts, training, plant)
        if len(table):
            extra_tables["repurposing"] = table
    rec.release_series()  # the tables above hold the recorded output from here on
    capacity, cap_kpis = capacity_results(state.capacity_snapshots, ts, events, kpis, plan)
    kpis.update(cap_kpis)
    requests = None
    window_wall_s: dict[str, float] = {}
    if sc.windows:
        from dcsim.windows.replay import run_windows

        requests, window_kpis, window_wall_s = run_windows(
            sc, state.plant, rec, rule_in, sc.seed, ts
        )
        kpis.update(window_kpis)
    ts, margin_kpis = margin_results(
        ts,
        snapshots_frame(state.capacity_snapshots, plan.start),
        kpis,
        plan,
        token_prices(sc.workloads, plant.class_names),
        plant.ticks_per_rec * plant.tick_s,
    )
    kpis.update(margin_kpis)
    kpis["energy_balance_residual_frac"] = float(rec.flow_check[0])
    kpis["max_power_to_limit_frac"] = float(rec.flow_check[1])
    resolved = dump_resolved(sc)
    s_hash = scenario_hash(resolved)
    wall_s = time.perf_counter() - t0
    meta = build_metadata(
        sc.seed,
        s_hash,
        wall_s,
        started,
        extra={
            "kernel_wall_s": state.wall_kernel_s,
            "n_ticks": plant.n_ticks,
            "n_racks": int(plant.rack_cell.shape[0]),
            "n_cells": plant.n_cells,
            "pools": plant.pool_names,
            **({"window_wall_s": window_wall_s} if window_wall_s else {}),
        },
    )
    # Stamps in UTC: the simulation clock is the first site's local standard time.
    clock_h = next(iter(site_utc_offsets_h(sc).values()), 0.0)
    result = RunResult(
        timeseries=to_utc(ts, clock_h),
        events=to_utc(events, clock_h),
        kpis=kpis,
        scenario=sc,
        meta=meta,
        extra_tables={
            "hall_timeseries": to_utc(hall_ts, clock_h),
            "site_timeseries": to_utc(site_ts, clock_h),
            "capacity": capacity,
            "pools": pool_table(plant),
            # The repurposing table's windows ("from", "to") on the same UTC stamps.
            **{k: to_utc(v, clock_h, columns=("from", "to")) for k, v in extra_tables.items()},
        },
        requests_source=(
            None
            if requests is None
            else to_utc(requests, clock_h, columns=("arrival", "first_token", "finish"))
        ),
    )
    region_ts = rec.region_timeseries()
    if region_ts is not None:
        result.extra_tables["region_timeseries"] = to_utc(region_ts, clock_h)
    if write:
        rid = run_id(sc.name, sc.seed, s_hash, started)
        result.meta["run_dir"] = str(
            write_run(
                result, root, resolved_scenario_yaml=resolved, run_id=rid, scenario_name=sc.name
            )
        )
    return result


def pool_table(plant: Any) -> Any:
    """One row per pool: its operating point at full load (what the tables were built from)."""
    import pandas as pd

    rows = []
    for name, spec, tab in zip(plant.pool_names, plant.pool_specs, plant.pool_tables, strict=True):
        rows.append(
            {
                "pool": name,
                "replica_gpus_count": spec.replica_gpus_count,
                "batch_count": tab.b_star,
                "rack_capacity_tok_per_s": tab.x_star_tok_per_s,
                "rack_power_full_w": float(tab.p_rack_w[-1, -1]),
                "rack_power_idle_w": float(tab.p_rack_w[0, -1]),
                "rack_tok_per_j": tab.x_star_tok_per_s / float(tab.p_rack_w[-1, -1]),
                "proxy": bool(spec.proxy),
                "proxy_of": spec.proxy_of or "",
            }
        )
    return pd.DataFrame(rows)
