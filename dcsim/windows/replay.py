"""Replay the windows request by request on sampled replicas, from the recorded cells.

For each window, class and pool serving it, the per-tick record of the pool's cells
(:mod:`dcsim.kernels.window_layout`) gives the request rate of one replica and its clock:

- rate: the load offered to the pool's serving racks (rack-weighted over its cells) per
  replica, ``offered_rack / output_tok / replicas_per_rack`` [req/s], times the replicas
  sampled: the sample sees the pool's mean replica;
- clock: the rack-weighted mean GPU power cap of the pool's cells, as watts of the board
  limit, turned into a clock ratio by :func:`dcsim.physics.compute.clock_frac_for_cap` at the
  pool's SLO batch ``B*`` (the batch a loaded replica runs at; a lighter batch draws less and
  could clock higher, so the replay is conservative under a cap);
- batch limit: the ``c`` batch slots of the fluid queue (the SLO batch without the TTFT bound,
  ``docs/queueing.md``), so both models give a replica the same concurrency.

The engine (:func:`dcsim.requests.window.simulate_window`) steps at the tick. Requests that
arrive in the warm-up are simulated but not reported.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any

import numpy as np
import pandas as pd

from dcsim.kernels import window_layout as WL
from dcsim.kernels.oppoints import slo_batch_count
from dcsim.model.streams import rng_for
from dcsim.physics.compute import (
    I_INPUT_CV,
    I_OUTPUT_CV,
    I_POWER_LIMIT_W,
    I_REPLICAS_PER_RACK,
    I_TTFT_SLO,
    clock_frac_for_cap,
    on_cap_frac,
)
from dcsim.scenario.windows_schema import LengthDist as LengthSpec
from dcsim.scenario.windows_schema import Window
from dcsim.windows.resolve import resolve_window, warmup_ticks

__all__ = ["LATENCY_KPIS", "REQUEST_COLUMNS", "pool_series", "run_windows"]

#: Latency KPIs per window and class: (metric, quantile, KPI stem).
LATENCY_KPIS: tuple[tuple[str, float, str], ...] = (
    ("ttft", 0.5, "ttft_p50"),
    ("ttft", 0.9, "ttft_p90"),
    ("ttft", 0.99, "ttft_p99"),
    ("tpot", 0.5, "tpot_p50"),
    ("tpot", 0.99, "tpot_p99"),
    ("e2e", 0.99, "e2e_p99"),
)

#: Columns of requests.parquet, in order.
REQUEST_COLUMNS: tuple[str, ...] = (
    "window",
    "class",
    "pool",
    "replica",
    "arrival",
    "first_token",
    "finish",
    "ttft_s",
    "tpot_s",
    "e2e_s",
    "prompt_tok",
    "output_tok",
    "preemptions_count",
)


def pool_series(
    cells_rec: np.ndarray, cells: np.ndarray, params: np.ndarray, output_tok: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-tick request rate of one replica, mean cap and racks serving of a pool.

    Parameters
    ----------
    cells_rec
        Window record, shape (n_ticks, n_cell, WR_NCOLS).
    cells
        Indices of the pool's cells.
    params
        The pool's parameter vector.
    output_tok
        Mean output length [tok].

    Returns
    -------
    (rate of one replica [req/s], rack-weighted mean cap [frac of the board limit],
    racks serving [racks]), each shape (n_ticks,); under a cap below the chip's lowest
    settable limit, only the racks that run count, at that limit
    """
    rec = cells_rec[:, cells, :]
    serving = rec[:, :, WL.WR_SERVING]
    offered = (rec[:, :, WL.WR_OFFERED_RACK] * serving).sum(axis=1)
    # A cap below the lowest settable limit runs a share of the racks at that limit and parks
    # the rest (dcsim.physics.compute.operating_table_reference): the requests go to those.
    min_frac = on_cap_frac(params)
    on_racks = serving * np.minimum(rec[:, :, WL.WR_CAP] / min_frac, 1.0)
    racks = on_racks.sum(axis=1)
    capw = (np.maximum(rec[:, :, WL.WR_CAP], min_frac) * on_racks).sum(axis=1)
    on = racks > 0.0
    safe = np.where(on, racks, 1.0)
    per_replica = np.where(on, offered / output_tok / (safe * params[I_REPLICAS_PER_RACK]), 0.0)
    cap = np.where(on, capw / safe, 1.0)
    return per_replica, cap, racks


def _clock(params: np.ndarray, batch: float, cap_frac: np.ndarray) -> np.ndarray:
    """Clock ratio per tick under the cap at the batch [-] (one bisection per distinct cap)."""
    memo: dict[float, float] = {}
    out = np.empty(cap_frac.shape[0])
    for i, c in enumerate(cap_frac):
        key = float(c)
        if key not in memo:
            memo[key] = float(clock_frac_for_cap(params, batch, key * params[I_POWER_LIMIT_W]))
        out[i] = memo[key]
    return out


def _length(spec: LengthSpec, mean_tok: float, cv_frac: float):
    from dcsim.requests.lengths import LengthDist

    table = None if spec.table_tok is None else np.asarray(spec.table_tok, dtype=float)
    return LengthDist(
        spec.mean_tok if spec.mean_tok is not None else mean_tok,
        spec.cv_frac if spec.cv_frac is not None else cv_frac,
        table,
    )


def _replicas(win: Window, pool: str, per_replica: np.ndarray, dt_s: float) -> int:
    """Replicas to sample: the window's count, or 'auto' from the p99 confidence."""
    from dcsim.requests.stats import replicas_for_quantile

    n = win.pool_replicas_count.get(pool, win.replicas_count)
    if n != "auto":
        return int(n)
    duration_s = per_replica.shape[0] * dt_s
    rate = float(per_replica.mean()) if per_replica.size else 0.0
    if not rate > 0.0:
        return 1  # no load in the window: one replica shows the empty-queue latency
    n = replicas_for_quantile(
        0.99, rate, duration_s, win.p99_confidence_frac, win.p99_rel_halfwidth_frac
    )
    return int(min(n, win.max_auto_replicas_count))


def _seed(seed: int, *key: str) -> int:
    """Engine seed of one (window, class, pool): a stream of the run seed."""
    return int(rng_for(seed, "window:" + ":".join(key)).integers(2**31 - 1))


def _class_kpis(prefix: str, res: dict[str, np.ndarray], win: Window, workload) -> dict:
    from dcsim.requests.stats import quantile_ci

    kpis: dict[str, Any] = {}
    for metric, q, stem in LATENCY_KPIS:
        v, lo, hi = quantile_ci(res[metric], q, win.p99_confidence_frac)
        kpis[f"{prefix}.{stem}_s"] = v
        kpis[f"{prefix}.{stem}_lo_s"] = lo
        kpis[f"{prefix}.{stem}_hi_s"] = hi
    n = int(res["ttft"].shape[0])
    kpis[f"{prefix}.requests_count"] = n
    kpis[f"{prefix}.mean_wait_s"] = float(res["wait"][0]) if n else math.nan
    if workload.ttft_s is not None:
        ok = res["ttft"] <= workload.ttft_s
        kpis[f"{prefix}.slo_attainment_frac"] = float(ok.mean()) if n else math.nan
    return kpis


def _fluid_kpis(prefix: str, ts: pd.DataFrame, name: str, t0: dt.datetime, t1: dt.datetime):
    """The fluid model's figures over the same window (served-weighted rows of the series)."""
    rows = ts.loc[(ts.index >= t0) & (ts.index < t1)]
    out: dict[str, float] = {}
    w = rows.get(f"{name}.served_tok_per_s")
    for col in ("slo_attainment_frac", "ttft_p99_s"):
        series = rows.get(f"{name}.{col}")
        if series is None or w is None:
            continue
        ok = np.isfinite(series.to_numpy()) & (w.to_numpy() > 0)
        wt = w.to_numpy()[ok]
        value = float((series.to_numpy()[ok] * wt).sum() / wt.sum()) if wt.sum() > 0 else math.nan
        out[f"{prefix}.fluid_{col}"] = value
    return out


def run_windows(
    scenario, plant, recorder, inputs, seed: int, timeseries: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, float]]:
    """Replay every window of the scenario; return the requests sample, KPIs and wall times.

    Parameters
    ----------
    scenario
        The validated scenario (its ``windows`` and workloads).
    plant
        The run's plant.
    recorder
        The run's recorder, its window record filled by the fluid run.
    inputs
        The run's :func:`~dcsim.windows.resolve.rule_inputs` (to resolve the rules as before
        the run), or None when every window is dated.
    seed
        Run seed.
    timeseries
        The fluid run's campus time series (for the fluid figures of the window).

    Returns
    -------
    (requests, kpis, wall_s): the sampled requests (columns :data:`REQUEST_COLUMNS`); the
    KPIs ``window.<window>.<class>.<metric>`` with ``_lo``/``_hi`` bounds, requests and
    replicas sampled, mean wait, SLO attainment and the fluid model's figures over the
    window; the replay's wall time per window [s] (metadata, not a KPI: it is not
    reproducible).

    Raises
    ------
    ConfigError
        A window whose class has no racks serving in it.
    """
    from dcsim.errors import ConfigError
    from dcsim.requests.window import simulate_window

    dt_s = plant.tick_s
    frames: list[pd.DataFrame] = []
    kpis: dict[str, Any] = {}
    wall_s: dict[str, float] = {}
    for i, win in enumerate(scenario.windows):
        t0, n = resolve_window(win, i, plant, inputs)
        w = warmup_ticks(win, t0, dt_s)
        cells_rec = recorder.window_cells(t0 - w, n + w)
        origin = plant.start + dt.timedelta(seconds=(t0 - w) * dt_s)
        start = plant.start + dt.timedelta(seconds=t0 * dt_s)
        end = start + dt.timedelta(seconds=n * dt_s)
        kpis[f"window.{win.name}.start_s"] = t0 * dt_s
        classes = win.classes or [wl.name for wl in scenario.workloads if wl.ttft_s is not None]
        wall0 = time.perf_counter()
        for name in classes:
            k = plant.class_names.index(name)
            workload = scenario.workloads[k]
            lengths = win.lengths.get(name)
            prefix = f"window.{win.name}.{name}"
            parts: dict[str, list[Any]] = {m: [] for m in ("ttft", "tpot", "e2e", "wait")}
            sampled = 0
            for p, pool in enumerate(plant.pool_names):
                if plant.pool_class[p] != k:
                    continue
                params = plant.pool_specs[p].to_params()
                cells = np.flatnonzero(plant.cell_pool == p)
                per_replica, cap, racks = pool_series(cells_rec, cells, params, workload.output_tok)
                if not (racks[w:] > 0).any():
                    continue
                n_rep = _replicas(win, pool, per_replica[w:], dt_s)
                b_star = plant.pool_tables[p].b_star
                slots_params = params.copy()
                slots_params[I_TTFT_SLO] = math.inf
                slots = float(math.floor(slo_batch_count(slots_params))) or math.inf
                spec_in = lengths.input if lengths else LengthSpec()
                spec_out = lengths.output if lengths else LengthSpec()
                res = simulate_window(
                    params,
                    n_rep,
                    per_replica * n_rep,
                    _clock(params, max(b_star, 1.0), cap),
                    dt_s,
                    _length(spec_in, workload.input_tok, params[I_INPUT_CV]),
                    _length(spec_out, workload.output_tok, params[I_OUTPUT_CV]),
                    arrival_cv_frac=win.arrival_cv_frac,
                    router=win.router,
                    max_batch_count=slots,
                    chunk_tok=win.chunk_tok,
                    seed=_seed(seed, win.name, name, pool),
                    warmup_s=w * dt_s,
                )
                keep = np.asarray(res.arrival_s) >= w * dt_s
                # As WindowResult.quantile: a request never served counts as an infinite
                # latency, and TPOT is that of requests with more than one output token.
                for m in ("ttft", "e2e"):
                    parts[m].append(_served(getattr(res, f"{m}_s"), keep))
                multi = keep & (np.asarray(res.output_tok) > 1)
                parts["tpot"].append(_served(res.tpot_s, multi))
                parts["wait"].append((float(res.mean_wait_s), int(keep.sum())))
                frames.append(_requests_frame(res, keep, win.name, name, pool, origin, sampled))
                sampled += n_rep
                kpis[f"window.{win.name}.{name}.{pool}.replicas_count"] = n_rep
            if sampled == 0:
                raise ConfigError(
                    f"class '{name}' has no racks serving from {start:%Y-%m-%d %H:%M} to "
                    f"{end:%Y-%m-%d %H:%M}: zero replicas to sample; choose another window",
                    f"windows.{i}",
                )
            res_all = {m: np.concatenate(v) for m, v in parts.items() if m != "wait"}
            # The engine's mean wait per call, weighted by the requests each reported.
            waits = np.array([wt for wt, _ in parts["wait"]])
            counts = np.array([c for _, c in parts["wait"]], dtype=float)
            res_all["wait"] = np.array(
                [(waits * counts).sum() / counts.sum() if counts.sum() > 0 else math.nan]
            )
            kpis.update(_class_kpis(prefix, res_all, win, workload))
            kpis[f"{prefix}.replicas_count"] = sampled
            kpis.update(_fluid_kpis(prefix, timeseries, name, start, end))
        wall_s[win.name] = time.perf_counter() - wall0
    requests = _sample(frames, scenario.windows, seed)
    return requests, kpis, wall_s


def _served(values, keep: np.ndarray) -> np.ndarray:
    """The kept values with NaN (never served) as +inf [s]."""
    x = np.asarray(values, dtype=float)[keep]
    return np.where(np.isnan(x), np.inf, x)


def _requests_frame(res, keep, window: str, klass: str, pool: str, origin, replica0: int):
    """The kept requests of one engine call as rows of requests.parquet."""
    base = pd.Timestamp(origin)

    def stamp(seconds) -> pd.Series:
        s = np.asarray(seconds, dtype=float)[keep]
        return base + pd.to_timedelta(s, unit="s")

    n = int(keep.sum())
    return pd.DataFrame(
        {
            "window": pd.Series([window] * n, dtype=str),
            "class": pd.Series([klass] * n, dtype=str),
            "pool": pd.Series([pool] * n, dtype=str),
            "replica": np.asarray(res.replica, dtype=np.int64)[keep] + replica0,
            "arrival": stamp(res.arrival_s),
            "first_token": stamp(res.first_token_s),
            "finish": stamp(res.finish_s),
            "ttft_s": np.asarray(res.ttft_s, dtype=float)[keep],
            "tpot_s": np.asarray(res.tpot_s, dtype=float)[keep],
            "e2e_s": np.asarray(res.e2e_s, dtype=float)[keep],
            "prompt_tok": np.asarray(res.prompt_tok, dtype=np.int64)[keep],
            "output_tok": np.asarray(res.output_tok, dtype=np.int64)[keep],
            "preemptions_count": np.asarray(res.preemptions, dtype=np.int64)[keep],
        }
    )


def _sample(frames: list[pd.DataFrame], windows: list[Window], seed: int) -> pd.DataFrame:
    """At most ``requests_sample_count`` requests per window and class, in arrival order."""
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in REQUEST_COLUMNS})
    df = pd.concat(frames, ignore_index=True)
    limits = {w.name: w.requests_sample_count for w in windows}
    rng = rng_for(seed, "window:requests-sample")
    keep = np.zeros(len(df), dtype=bool)
    for (win, _), idx in df.groupby(["window", "class"], sort=True).indices.items():
        m = limits[win]
        chosen = idx if len(idx) <= m else np.sort(rng.choice(idx, size=m, replace=False))
        keep[chosen] = True
    out = df.loc[keep].sort_values(["window", "class", "arrival"], kind="stable")
    for col in ("arrival", "first_token", "finish"):
        out[col] = out[col].astype("datetime64[us]")
    return out.reset_index(drop=True)[list(REQUEST_COLUMNS)]
