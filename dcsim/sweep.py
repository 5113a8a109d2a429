"""Scenario grids and Monte Carlo on dask.distributed.

A sweep runs the cartesian product of varied scenario fields times a list of seeds. Every
run is written to its own run folder as soon as it finishes, so an interrupted sweep (a
dead worker, a killed client, Ctrl-C) keeps everything that finished, and running the same
sweep again skips those runs. Layout of a sweep folder::

    <out>/
      sweep.json          the plan: scenario, overrides, varied values, seeds, one entry per run
      runs/<run>/         one complete run folder per (point, seed), see dcsim.results.io
      results.parquet     one row per run: point, varied values, seed, run, every KPI
      summary.parquet     one row per (point, KPI): runs_count, mean, p10, p50, p90

The run folder name is ``s<seed>-<hash>``, where the hash is the SHA-256 of the resolved
scenario text with every override and the seed applied: the same point of the same
scenario always lands in the same folder, whichever sweep asked for it.

Runs go to a dask.distributed ``LocalCluster`` of worker processes (one thread each) by
default, or to an existing cluster given by its scheduler address. Workers write the run
folders themselves, so they must see the scenario, its data files and the output folder at
the same paths as the client (true for a local cluster; use a shared file system for a
remote one). Numba kernels are compiled with ``cache=True``: workers load them from the
on-disk cache, so only the first run after a code change compiles.

Examples
--------
>>> import dcsim
>>> sw = dcsim.sweep(
...     "scenarios/small-hall.yaml",
...     vary={"sites.main.import_limit_mw": [1.1, 1.3, 3.2]},
...     seeds=4,
...     overrides=["horizon_s=2d"],
...     workers=2,
... )  # doctest: +SKIP
>>> sw.summary.query("kpi == 'served_tok'")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import math
import numbers
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dcsim.errors import ConfigError
from dcsim.fileio import atomic_path, check_output_dir, write_text_atomic
from dcsim.model.checks import run_checks
from dcsim.results.io import (
    KPIS_FILE,
    METADATA_FILE,
    is_run_dir,
    remove_stale_temporaries,
    write_run,
)
from dcsim.results.meta import dcsim_version, scenario_hash
from dcsim.scenario import Scenario, dump_resolved, scenario_catalog, set_base_dir
from dcsim.scenario import _at_line as _check_error_at_line
from dcsim.scenario.load import (
    _override_items,
    _parse_override_value,
    apply_overrides,
    load_with_extends,
    validate_model,
)

#: Version of the sweep-folder layout (``sweep.json``, ``results.parquet``, ...).
SWEEP_FORMAT_VERSION = 1
RUNS_DIR = "runs"
MANIFEST_FILE = "sweep.json"
RESULTS_FILE = "results.parquet"
SUMMARY_FILE = "summary.parquet"

#: How long to wait for a dask scheduler (and for its first worker) before giving up [s].
DEFAULT_SCHEDULER_TIMEOUT_S = 10.0

#: Quantiles of the summary table, with their column names.
QUANTILES: tuple[tuple[float, str], ...] = ((0.1, "p10"), (0.5, "p50"), (0.9, "p90"))

#: Hex digits of the resolved-scenario hash kept in a run folder name.
KEY_HASH_CHARS = 16

#: ``progress(runs_done, runs_total)``; skipped (already finished) runs count as done.
SweepProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep: a point of the grid with one seed.

    Parameters
    ----------
    point
        Index of the combination of varied values [-] (same for every seed).
    values
        Varied field path -> value of this point.
    seed
        Seed of the run [-].
    key
        Run folder name, ``s<seed>-<hash>``.
    scenario_hash
        SHA-256 of the resolved scenario text (every override and the seed applied).
    overrides
        Every override of the run, in order: ``--set`` values, varied values, the seed.
    """

    point: int
    values: dict[str, Any]
    seed: int
    key: str
    scenario_hash: str
    overrides: dict[str, Any]


@dataclass(eq=False)
class SweepResult:
    """What a sweep produced.

    Attributes
    ----------
    out_dir : pathlib.Path
        The sweep folder.
    results : pandas.DataFrame
        One row per finished run: ``point``, one column per varied path, ``seed``, ``run``
        (folder name under ``runs/``), then every KPI in name order (unit-suffixed, SI).
    summary : pandas.DataFrame
        One row per (point, numeric KPI): ``point``, the varied paths, ``kpi``,
        ``runs_count`` (runs with a finite value), ``mean``, ``p10``, ``p50``, ``p90`` (in the
        KPI's unit; linear interpolation between runs).
    runs : list of SweepRun
        The plan, in point then seed order.
    n_run : int
        Runs simulated by this call.
    n_skipped : int
        Runs found finished in the sweep folder and not simulated again.
    failed : dict
        Run folder name -> one-line error, for runs that raised.
    wall_time_s : float
        Wall-clock time of the call [s].
    """

    out_dir: Path
    results: pd.DataFrame
    summary: pd.DataFrame
    runs: list[SweepRun]
    n_run: int = 0
    n_skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    wall_time_s: float = math.nan

    def run_dir(self, key: str) -> Path:
        """The run folder of a run (by its ``run`` column value)."""
        return self.out_dir / RUNS_DIR / key

    def __repr__(self) -> str:
        return (
            f"SweepResult(out_dir={str(self.out_dir)!r}, runs={len(self.runs)}, "
            f"simulated={self.n_run}, skipped={self.n_skipped}, failed={len(self.failed)})"
        )


# -- the plan ----------------------------------------------------------------------------------


def parse_vary(specs: Sequence[str] | Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    """Read ``--vary path=v1,v2,...`` options into a mapping of path -> values.

    Values are read as a YAML flow sequence, so ``1.1,1.3``, ``2d,7d``, ``true,false``,
    quoted text with commas (``"a,b"``) and lists (``[1,2],[3,4]``) all work.

    Parameters
    ----------
    specs
        Strings ``"path=v1,v2"``, or a mapping ``{path: [v1, v2]}`` (checked, copied).

    Returns
    -------
    dict
        Field path -> list of values, in the order given.

    Raises
    ------
    ConfigError
        ``"--vary x: expected path=v1,v2,..."``, an empty value list, a path given twice,
        or ``seed`` (seeds come from ``seeds``).

    Examples
    --------
    >>> parse_vary(["sites.main.import_limit_mw=1.1,1.3", "horizon_s=1d,2d"])
    {'sites.main.import_limit_mw': [1.1, 1.3], 'horizon_s': ['1d', '2d']}
    """
    out: dict[str, list[Any]] = {}
    if isinstance(specs, Mapping):
        items = [(str(k).strip(), v) for k, v in specs.items()]
        for path, values in items:
            if isinstance(values, str) or not isinstance(values, Sequence):
                raise ConfigError(f"expected a list of values, got {values!r}", f"--vary {path}")
    else:
        items = []
        for text in specs:
            path, sep, rest = str(text).partition("=")
            path = path.strip()
            if not sep or not path:
                raise ConfigError(
                    f"expected path=v1,v2,..., got {text!r}", f"--vary {path}".rstrip()
                )
            items.append((path, _parse_override_value(f"[{rest}]", f"--vary {path}")))
    for path, values in items:
        if path in out:
            raise ConfigError("given twice; list every value in one --vary", f"--vary {path}")
        if path == "seed":
            raise ConfigError("vary the seed with --seeds N", "--vary seed")
        if not list(values):
            raise ConfigError("expected at least one value", f"--vary {path}")
        out[path] = list(values)
    return out


def _seed_list(seeds: int | Sequence[int], base_seed: int) -> list[int]:
    if isinstance(seeds, bool):
        raise ConfigError(f"{seeds!r} must be a count or a list of integers", "--seeds")
    if isinstance(seeds, numbers.Integral):
        if seeds < 1:
            raise ConfigError(f"{seeds} must be >= 1", "--seeds")
        return [base_seed + i for i in range(int(seeds))]
    out = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):
            raise ConfigError(f"{s!r} is not an integer seed", "seeds")
        out.append(int(s))
    if not out or len(set(out)) != len(out):
        raise ConfigError(f"{list(seeds)!r} must be distinct integers, at least one", "seeds")
    return out


def _set_mapping(overrides: Sequence[str] | Mapping[str, Any] | None) -> dict[str, Any]:
    if not overrides:
        return {}
    if isinstance(overrides, Mapping):
        return {str(k).strip(): v for k, v in overrides.items()}
    return dict(_override_items(overrides, "--set"))


def _validated(data: dict[str, Any], index: Any, source: str, folder: Path | None) -> Scenario:
    """Schema validation plus the named cross-field checks, errors pointing at the origin.

    ``folder`` is the scenario file's folder (relative data files resolve from it), None
    for a Scenario given as an object (validated by the schema only, as the runner does).
    """
    sc = validate_model(Scenario, data, source, index)
    if folder is not None:
        set_base_dir(sc, folder)
        try:
            run_checks(sc, scenario_catalog(sc))
        except ConfigError as err:
            # With the scenario, list items are named as the user wrote them.
            raise _check_error_at_line(err, source, index, sc) from None
    return sc


def plan_sweep(
    scenario: Scenario | str | Path,
    vary: Sequence[str] | Mapping[str, Sequence[Any]] | None = None,
    seeds: int | Sequence[int] = 1,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
) -> list[SweepRun]:
    """Validate a sweep and list its runs, without running anything.

    Every combination of varied values is applied to the scenario and validated (schema and
    named checks) before any run starts, so a typo in a path or a value of the wrong type
    fails at once, naming the path and the value.

    Parameters
    ----------
    scenario
        Scenario file, or a loaded :class:`~dcsim.scenario.Scenario`.
    vary
        ``["path=v1,v2", ...]`` or ``{"path": [v1, v2]}``; paths as for ``--set`` (list
        items by index or ``name``).
    seeds
        Number of seeds (the scenario's seed, +1, +2, ...) or an explicit list.
    overrides
        Fixed overrides applied before the varied values, as for ``dcsim run --set``.

    Returns
    -------
    list of SweepRun
        Points in cartesian-product order (the first varied path slowest), seeds innermost.

    Raises
    ------
    ConfigError
        ``"--vary sites.0.import_limt_mw: unknown field 'import_limt_mw'; did you mean
        'import_limit_mw'?"``, ``"--vary horizon_s: expected a duration ..., got '2x'"``,
        a ``--set`` error, or a failed named check.

    Examples
    --------
    >>> runs = plan_sweep("scenarios/small-hall.yaml", ["horizon_s=1d,2d"], seeds=2)
    >>> [(r.point, r.values["horizon_s"], r.seed) for r in runs]
    [(0, '1d', 7), (0, '1d', 8), (1, '2d', 7), (1, '2d', 8)]
    """
    return _plan(scenario, vary, seeds, overrides)[1]


def _plan(
    scenario: Scenario | str | Path,
    vary: Sequence[str] | Mapping[str, Sequence[Any]] | None,
    seeds: int | Sequence[int],
    overrides: Sequence[str] | Mapping[str, Any] | None,
) -> tuple[Scenario, list[SweepRun]]:
    """The validated base scenario (``--set`` applied) and the runs of a sweep."""
    grid = parse_vary(vary or [])
    fixed = _set_mapping(overrides)
    folder: Path | None
    if isinstance(scenario, Scenario):
        data, index = scenario.model_dump(mode="json"), {}
        source, folder = f"<scenario {scenario.name}>", None
    else:
        # As load_scenario reads it: a variant file is composed with its `extends:` base.
        # model_cls: data paths a base file declares resolve from the base's folder.
        data, index = load_with_extends(scenario, model_cls=Scenario)
        source, folder = str(scenario), Path(scenario).resolve().parent
    if fixed:
        data, index = apply_overrides(data, fixed, where="--set", line_index=index)
    base = _validated(data, index, source, folder)
    seed_list = _seed_list(seeds, base.seed)
    paths = list(grid)
    runs: list[SweepRun] = []
    for point, combo in enumerate(itertools.product(*(grid[p] for p in paths))):
        values = dict(zip(paths, combo, strict=True))
        pdata, pindex = apply_overrides(data, values, where="--vary", line_index=index)
        sc = _validated(pdata, pindex, source, folder) if values else base
        for seed in seed_list:
            text = dump_resolved(sc.model_copy(update={"seed": seed}))
            digest = scenario_hash(text)
            runs.append(
                SweepRun(
                    point=point,
                    values=values,
                    seed=seed,
                    key=f"s{seed}-{digest[:KEY_HASH_CHARS]}",
                    scenario_hash=digest,
                    overrides={**fixed, **values, "seed": seed},
                )
            )
    return base, runs


# -- running one point (on a worker) -------------------------------------------------------------


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def finished_kpis(folder: Path, run_hash: str) -> dict[str, Any] | None:
    """The KPIs of a complete run folder made for this resolved scenario, else None.

    Parameters
    ----------
    folder
        ``<sweep>/runs/<key>``.
    run_hash
        Expected :attr:`SweepRun.scenario_hash` (stored in the folder's metadata).

    Returns
    -------
    dict or None
        KPIs (null -> NaN), or None when the folder is missing, incomplete or made for
        another scenario.
    """
    if not is_run_dir(folder):
        return None
    meta = _read_json(folder / METADATA_FILE) or {}
    sweep_meta = meta.get("sweep")
    if not isinstance(sweep_meta, dict) or sweep_meta.get("scenario_hash") != run_hash:
        return None
    kpis = _read_json(folder / KPIS_FILE)
    if kpis is None:
        return None
    return {k: math.nan if v is None else v for k, v in kpis.items()}


def run_one(scenario: Scenario | str, run: SweepRun, out_dir: str) -> dict[str, Any]:
    """Simulate one sweep run and write its run folder; what a worker executes.

    Idempotent: when the folder is already complete (a retried task whose first attempt
    finished), its KPIs are returned without simulating again.

    Parameters
    ----------
    scenario
        Absolute path of the scenario file, or a Scenario.
    run
        The run (overrides, seed, folder name).
    out_dir
        Absolute path of the sweep folder.

    Returns
    -------
    dict
        ``{"key": run folder name, "kpis": {...}, "wall_time_s": float [s]}``.
    """
    from dcsim.runner import run as run_api

    final = Path(out_dir) / RUNS_DIR / run.key
    done = finished_kpis(final, run.scenario_hash)
    if done is not None:
        return {"key": run.key, "kpis": done, "wall_time_s": 0.0}
    if final.exists():
        # Incomplete or foreign folder under our own key: it can only be debris.
        shutil.rmtree(final)
    result = run_api(scenario, overrides=run.overrides)
    result.meta["sweep"] = {
        "key": run.key,
        "scenario_hash": run.scenario_hash,
        "point": run.point,
        "values": run.values,
        "seed": run.seed,
    }
    try:
        write_run(
            result,
            out_dir,
            resolved_scenario_yaml=dump_resolved(result.scenario),
            run_id=run.key,
            scenario_name=RUNS_DIR,
            unique=False,
        )
    except ConfigError:
        # Another attempt of the same task finished first: its folder is as good as ours.
        if finished_kpis(final, run.scenario_hash) is None:
            raise
    return {"key": run.key, "kpis": result.kpis, "wall_time_s": result.meta["wall_time_s"]}


# -- tables --------------------------------------------------------------------------------------


def _column(values: list[Any]) -> list[Any]:
    """Varied values as one Parquet-friendly column: numbers, booleans, or text."""
    if all(isinstance(v, bool) for v in values):
        return values
    if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        if all(isinstance(v, numbers.Integral) for v in values):
            return [int(v) for v in values]
        return [float(v) for v in values]
    return [v if isinstance(v, str) else json.dumps(v, sort_keys=True) for v in values]


def results_table(runs: Sequence[SweepRun], kpis: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per run that has KPIs: point, varied values, seed, run folder, every KPI.

    Parameters
    ----------
    runs
        The plan.
    kpis
        Run folder name -> KPIs; runs without an entry (failed) are left out.

    Returns
    -------
    pandas.DataFrame
        See :attr:`SweepResult.results`.
    """
    done = [r for r in runs if r.key in kpis]
    paths = list(runs[0].values) if runs else []
    frame = pd.DataFrame({"point": pd.Series([r.point for r in done], dtype="int64")})
    for path in paths:
        frame[path] = _column([r.values[path] for r in done]) if done else []
    frame["seed"] = pd.Series([r.seed for r in done], dtype="int64")
    frame["run"] = pd.Series([r.key for r in done], dtype="str")
    # Sorted, as in kpis.json: the column order must not depend on which runs were resumed.
    names = sorted({str(k) for r in done for k in kpis[r.key]})
    columns = {}
    for name in names:
        col = [kpis[r.key].get(name, math.nan) for r in done]
        if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in col):
            columns[name] = pd.Series(col, dtype="float64")
        else:
            columns[name] = pd.Series([str(v) for v in col], dtype="str")
    return pd.concat([frame, pd.DataFrame(columns, index=frame.index)], axis=1)


def summary_table(results: pd.DataFrame, paths: Sequence[str]) -> pd.DataFrame:
    """P10/P50/P90 and mean of every numeric KPI per point, over its seeds.

    Parameters
    ----------
    results
        The results table.
    paths
        The varied paths (columns of ``results``).

    Returns
    -------
    pandas.DataFrame
        See :attr:`SweepResult.summary`. NaN values are left out of the statistics; a point
        without a finite value of a KPI gets NaN statistics and ``runs_count`` 0.
    """
    fixed = {"point", "seed", "run", *paths}
    kpi_cols = [
        c for c in results.columns if c not in fixed and pd.api.types.is_float_dtype(results[c])
    ]
    rows = []
    for point, group in results.groupby("point", sort=True):
        first = group.iloc[0]
        for kpi in kpi_cols:
            vals = group[kpi].to_numpy(float)
            vals = vals[~np.isnan(vals)]
            row: dict[str, Any] = {"point": int(point)}  # type: ignore[call-overload]
            row.update({p: first[p] for p in paths})
            row["kpi"] = kpi
            row["runs_count"] = int(vals.size)
            row["mean"] = float(np.mean(vals)) if vals.size else math.nan
            qs = np.quantile(vals, [q for q, _ in QUANTILES]) if vals.size else [math.nan] * 3
            row.update({name: float(v) for (_, name), v in zip(QUANTILES, qs, strict=True)})
            rows.append(row)
    columns = ["point", *paths, "kpi", "runs_count", "mean", *(n for _, n in QUANTILES)]
    out = pd.DataFrame(rows, columns=columns)
    for p in paths:
        if p in results.columns:
            out[p] = out[p].astype(results[p].dtype) if len(out) else results[p].iloc[:0]
    return out


def _write_parquet_atomic(frame: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, engine="pyarrow", index=False)


def _write_json_atomic(data: dict[str, Any], path: Path) -> None:
    write_text_atomic(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n", path)


def _manifest(
    scenario: Scenario | str | Path,
    grid: dict[str, list[Any]],
    overrides: dict[str, Any],
    runs: list[SweepRun],
) -> dict[str, Any]:
    return {
        "format_version": SWEEP_FORMAT_VERSION,
        "dcsim_version": dcsim_version(),
        "created_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "scenario": scenario.name if isinstance(scenario, Scenario) else str(scenario),
        "overrides": overrides,
        "vary": grid,
        "seeds": sorted({r.seed for r in runs}),
        "runs": [
            {"point": r.point, "values": r.values, "seed": r.seed, "run": r.key} for r in runs
        ],
    }


# -- execution -----------------------------------------------------------------------------------


@contextlib.contextmanager
def dask_client(
    workers: int, scheduler: str | None, timeout_s: float = DEFAULT_SCHEDULER_TIMEOUT_S
) -> Iterator[Any]:
    """A dask.distributed Client: a new LocalCluster, or an existing scheduler.

    Parameters
    ----------
    workers
        Worker processes of the local cluster (one thread each); ignored with ``scheduler``.
    scheduler
        Address of a running scheduler, e.g. ``"tcp://10.0.0.5:8786"``.
    timeout_s
        Time for the whole handshake with the scheduler (see :func:`probe_scheduler`), and
        then again for its first worker [s].

    Yields
    ------
    distributed.Client
        Closed (with its local cluster) on exit.

    Raises
    ------
    ConfigError
        ``"--scheduler tcp://...: no dask scheduler answered within 10 s"``, a refused
        connection (at once), a server that is not a dask scheduler, or a scheduler without
        workers.
    """
    from distributed import Client, LocalCluster

    if scheduler is None:
        # Every server on the loopback interface and no dashboard: a sweep must not open an
        # unauthenticated HTTP or scheduler port to the network (dask's default dashboard
        # listens on all interfaces). The scheduler always runs a small HTTP server (health
        # and metrics routes): bind it to loopback too, on a port the OS chooses.
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host=LOOPBACK_HOST,
                scheduler_port=0,
                dashboard_address=None,
                worker_dashboard_address=None,
                scheduler_kwargs={"dashboard_address": f"{LOOPBACK_HOST}:0"},
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    where = f"--scheduler {scheduler}"
    deadline = time.monotonic() + timeout_s
    probe_scheduler(scheduler, timeout_s)
    remaining_s = max(deadline - time.monotonic(), MIN_CONNECT_S)
    try:
        client = Client(scheduler, timeout=remaining_s)
    except (OSError, TimeoutError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, ValueError):
            raise ConfigError(f"not a scheduler address ({reason})", where) from None
        raise ConfigError(f"no dask scheduler answered within {timeout_s:g} s", where) from None
    try:
        try:
            client.wait_for_workers(1, timeout=timeout_s)
        except (OSError, TimeoutError):
            raise ConfigError(
                f"the scheduler has no workers (waited {timeout_s:g} s)", where
            ) from None
        yield client
    finally:
        client.close()


#: Longest wait for a scheduler that --scheduler-timeout accepts [s] (one day).
MAX_SCHEDULER_TIMEOUT_S = 86_400.0


def check_workers(workers: Any) -> None:
    """Refuse a worker count that is not an integer >= 0 (``--workers``)."""
    if workers is None:
        return
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral) or workers < 0:
        raise ConfigError(f"{workers!r} must be an integer >= 0", "--workers")


def check_scheduler_timeout(timeout_s: Any) -> None:
    """Refuse a scheduler timeout that is not a finite number of seconds in (0, 1 day]."""
    ok = isinstance(timeout_s, numbers.Real) and not isinstance(timeout_s, bool)
    if not ok or not math.isfinite(timeout_s) or not 0 < timeout_s <= MAX_SCHEDULER_TIMEOUT_S:
        raise ConfigError(
            f"{timeout_s!r} must be a finite number of seconds > 0 and <= "
            f"{MAX_SCHEDULER_TIMEOUT_S:g}",
            "--scheduler-timeout",
        )


#: The interface every server of a local cluster listens on.
LOOPBACK_HOST = "127.0.0.1"

#: Largest first message accepted from a scheduler [byte]. A dask handshake is a small
#: msgpack map (compression, python and pickle versions), well under 1 kB; HTTP or other
#: protocols read as a dask frame announce absurd sizes (b"HTTP/1.1" is 3.6e18 bytes).
MAX_HANDSHAKE_BYTES = 1 << 20

#: Least time left to dask's own connection after the probe [s].
MIN_CONNECT_S = 0.5


def _recv_exact(sock: Any, n_bytes: int, deadline: float) -> bytes:
    """Read exactly ``n_bytes`` before ``deadline`` (time.monotonic) or raise TimeoutError."""
    chunks = []
    left = n_bytes
    while left > 0:
        wait_s = deadline - time.monotonic()
        if wait_s <= 0:
            raise TimeoutError
        sock.settimeout(wait_s)
        chunk = sock.recv(min(left, 65536))
        if not chunk:
            raise ConnectionResetError("the connection was closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def probe_scheduler(address: str, timeout_s: float) -> None:
    """Check that a dask scheduler answers at ``address``, within ``timeout_s`` in total.

    dask's own connection bounds only the TCP connect: a listener that accepts and stays
    silent makes its handshake wait forever, and a server speaking another protocol (HTTP)
    makes it read the first 8 bytes as a frame length and try to allocate exabytes. This
    probe does the first half of that handshake by hand: connect, then read the length
    prefix of the message a dask server sends first (``struct "Q"`` of
    ``distributed.comm.tcp``) and that message, all before one deadline. For ``tls://``
    only the connect is probed (the rest is dask's TLS handshake).

    Parameters
    ----------
    address
        ``tcp://host:port``, ``tls://host:port`` or ``host:port`` (the port is required);
        other schemes are left to dask.
    timeout_s
        Time for the whole probe [s].

    Raises
    ------
    ConfigError
        ``"--scheduler tcp://...: connection refused"`` (at once), ``"... no dask scheduler
        answered within 10 s"``, ``"... is not a dask scheduler (...)"``, or a malformed
        address.
    """
    import socket
    import struct

    where = f"--scheduler {address}"
    scheme, _, loc = address.rpartition("://")
    scheme = scheme or "tcp"
    if scheme not in ("tcp", "tls"):
        return
    host, _, port_text = loc.rpartition(":")
    host = host.strip("[]")
    try:
        port = int(port_text)
        if not host or not 0 < port < 65536:
            raise ValueError
    except ValueError:
        raise ConfigError("not a scheduler address (expected tcp://host:port)", where) from None
    deadline = time.monotonic() + timeout_s
    try:
        sock = socket.create_connection((host, port), timeout=timeout_s)
    except ConnectionRefusedError:
        raise ConfigError("connection refused (no dask scheduler listens there)", where) from None
    except TimeoutError:
        raise ConfigError(f"no dask scheduler answered within {timeout_s:g} s", where) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"cannot connect ({reason})", where) from None
    with sock:
        if scheme == "tls":
            return
        try:
            (n_bytes,) = struct.unpack("Q", _recv_exact(sock, 8, deadline))
            if not 0 < n_bytes <= MAX_HANDSHAKE_BYTES:
                raise ConfigError(
                    f"is not a dask scheduler (its first message announces {n_bytes} bytes; "
                    f"a dask handshake is under {MAX_HANDSHAKE_BYTES} bytes)",
                    where,
                )
            _recv_exact(sock, n_bytes, deadline)
        except TimeoutError:
            raise ConfigError(
                f"no dask scheduler answered within {timeout_s:g} s (connected, no handshake)",
                where,
            ) from None
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise ConfigError(f"is not a dask scheduler ({reason})", where) from None


def _error_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def sweep(
    scenario: Scenario | str | Path,
    vary: Sequence[str] | Mapping[str, Sequence[Any]] | None = None,
    *,
    seeds: int | Sequence[int] = 1,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
    out: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    scheduler_timeout_s: float = DEFAULT_SCHEDULER_TIMEOUT_S,
    resume: bool = True,
    progress: SweepProgressFn | None = None,
) -> SweepResult:
    """Run a grid of scenario variants times seeds, in parallel, resumably.

    Parameters
    ----------
    scenario
        Scenario file (workers read it, so it must be at the same path for them), or a
        loaded :class:`~dcsim.scenario.Scenario`.
    vary
        Fields to vary: ``["sites.main.import_limit_mw=1.1,1.3"]`` or
        ``{"sites.main.import_limit_mw": [1.1, 1.3]}``; the runs are the cartesian product.
        None: one point (a Monte Carlo over seeds only).
    seeds
        Number of seeds per point (the scenario's seed, then +1, +2, ...) or a list of seeds.
    overrides
        Fixed overrides for every run, as for ``dcsim run --set``.
    out
        Sweep folder; default ``results/sweeps/<scenario name>``.
    workers
        Worker processes of the local cluster; default the CPU count (at most one per run to
        do). ``0`` runs in this process, one run after the other (no dask).
    scheduler
        Address of an existing dask scheduler (``"tcp://host:8786"``) to run on instead of a
        local cluster.
    scheduler_timeout_s
        Time for the whole handshake with that scheduler (connect, its first message, the
        client registration), and then again for its first worker [s]; finite, in
        (0, 86400].
    resume
        Skip runs whose folder in ``<out>/runs/`` is complete (default). False: simulate
        every run again (its old folder is replaced).
    progress
        Callback ``progress(runs_done, runs_total)``, called once before the first run and
        after each.

    Returns
    -------
    SweepResult
        Results and summary tables (also written to ``results.parquet`` and
        ``summary.parquet`` in ``out``), counts of runs simulated, skipped and failed.

    Raises
    ------
    ConfigError
        Any bad input (see :func:`plan_sweep`), a scheduler that does not answer within
        ``scheduler_timeout_s``. Runs that fail while simulating do not raise: they are
        listed in :attr:`SweepResult.failed`.

    Examples
    --------
    >>> import dcsim
    >>> sw = dcsim.sweep(
    ...     "scenarios/small-hall.yaml",
    ...     vary=["sites.main.import_limit_mw=1.1,3.2"],
    ...     seeds=2,
    ...     overrides=["horizon_s=1d"],
    ...     out="results/sweeps/import-limit",
    ...     workers=2,
    ... )  # doctest: +SKIP
    >>> sw.results[["sites.main.import_limit_mw", "seed", "served_tok"]]  # doctest: +SKIP
    >>> sw.summary.query("kpi == 'power_capped_tok'")[["p10", "p50", "p90"]]  # doctest: +SKIP
    """
    started = time.perf_counter()
    check_workers(workers)
    check_scheduler_timeout(scheduler_timeout_s)
    base, runs = _plan(scenario, vary, seeds, overrides)
    grid = parse_vary(vary or [])
    target: Scenario | str
    target = scenario if isinstance(scenario, Scenario) else str(Path(scenario).resolve())
    out_dir = Path(out) if out is not None else Path("results") / "sweeps" / base.name
    out_dir = out_dir.resolve()
    # Before any cluster starts or any run is simulated: a sweep folder under a file, or in
    # a read-only place, fails now in one line.
    check_output_dir(out_dir, "--out")

    kpis: dict[str, dict[str, Any]] = {}
    unique: dict[str, SweepRun] = {}
    for r in runs:
        unique.setdefault(r.key, r)
    if resume:
        for key, r in unique.items():
            found = finished_kpis(out_dir / RUNS_DIR / key, r.scenario_hash)
            if found is not None:
                kpis[key] = found
    pending = [r for key, r in unique.items() if key not in kpis]
    n_skipped = len(unique) - len(pending)
    total = len(unique)
    done = n_skipped
    failed: dict[str, str] = {}

    def finished(key: str, value: dict[str, Any] | None, error: BaseException | None) -> None:
        nonlocal done
        done += 1
        if error is not None:
            failed[key] = _error_line(error)
        elif value is not None:
            kpis[key] = value["kpis"]
        if progress is not None:
            progress(done, total)

    n_workers = workers if workers is not None else min(os.cpu_count() or 1, len(pending))
    use_dask = bool(pending) and (n_workers > 0 or scheduler is not None)
    with contextlib.ExitStack() as stack:
        # Connect first: a scheduler that does not answer must not leave a half-made folder.
        client = (
            stack.enter_context(dask_client(max(n_workers, 1), scheduler, scheduler_timeout_s))
            if use_dask
            else None
        )
        (out_dir / RUNS_DIR).mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(out_dir / RUNS_DIR)
        if not resume:
            for key in unique:
                shutil.rmtree(out_dir / RUNS_DIR / key, ignore_errors=True)
        _write_json_atomic(
            _manifest(scenario, grid, _set_mapping(overrides), runs), out_dir / MANIFEST_FILE
        )
        if progress is not None:
            progress(done, total)
        if client is not None:
            _run_on_dask(client, target, pending, out_dir, finished)
        else:
            for r in pending:
                try:
                    value = run_one(target, r, str(out_dir))
                except Exception as exc:  # noqa: BLE001 - one failed run must not stop the rest
                    finished(r.key, None, exc)
                else:
                    finished(r.key, value, None)

    results = results_table(runs, kpis)
    summary = summary_table(results, list(grid))
    _write_parquet_atomic(results, out_dir / RESULTS_FILE)
    _write_parquet_atomic(summary, out_dir / SUMMARY_FILE)
    return SweepResult(
        out_dir=out_dir,
        results=results,
        summary=summary,
        runs=runs,
        n_run=len(pending) - len(failed),
        n_skipped=n_skipped,
        failed=failed,
        wall_time_s=time.perf_counter() - started,
    )


def _run_on_dask(
    client: Any,
    target: Scenario | str,
    pending: list[SweepRun],
    out_dir: Path,
    finished: Callable[[str, dict[str, Any] | None, BaseException | None], None],
) -> None:
    from distributed import as_completed

    futures = {}
    for r in pending:
        key = f"dcsim-sweep-{r.key}"
        futures[client.submit(run_one, target, r, str(out_dir), key=key, pure=False)] = r.key
    try:
        for future in as_completed(futures):
            key = futures[future]
            try:
                value = future.result()
            except Exception as exc:  # noqa: BLE001 - a failed run must not stop the rest
                finished(key, None, exc)
            else:
                finished(key, value, None)
    finally:
        # Ctrl-C or an error in a callback: stop what has not started; finished runs are
        # already in their folders.
        client.cancel(list(futures))


def read_sweep(out_dir: str | Path) -> SweepResult:
    """Load a finished sweep folder.

    Parameters
    ----------
    out_dir
        The sweep folder (holds ``sweep.json``, ``results.parquet``, ``summary.parquet``).

    Returns
    -------
    SweepResult
        Tables as written; ``runs`` rebuilt from ``sweep.json`` (without overrides), counts 0.

    Raises
    ------
    ConfigError
        ``"<folder>: not a dcsim sweep folder (missing results.parquet)"``.
    """
    folder = Path(out_dir)
    missing = [f for f in (MANIFEST_FILE, RESULTS_FILE, SUMMARY_FILE) if not (folder / f).is_file()]
    if missing:
        raise ConfigError(
            f"not a dcsim sweep folder (missing {', '.join(missing)})", where=str(folder)
        )
    manifest = _read_json(folder / MANIFEST_FILE)
    if manifest is None:
        raise ConfigError("not valid JSON", where=str(folder / MANIFEST_FILE))
    runs = [
        SweepRun(
            point=int(e["point"]),
            values=dict(e["values"]),
            seed=int(e["seed"]),
            key=str(e["run"]),
            scenario_hash="",
            overrides={},
        )
        for e in manifest.get("runs", [])
    ]
    return SweepResult(
        out_dir=folder.resolve(),
        results=pd.read_parquet(folder / RESULTS_FILE),
        summary=pd.read_parquet(folder / SUMMARY_FILE),
        runs=runs,
    )
