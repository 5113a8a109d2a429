"""Run folders: write a :class:`RunResult` atomically, read it back, find runs.

Layout of one run (``<root>/<scenario_name>/<run_id>/``)::

    timeseries.parquet   campus time series, DatetimeIndex "time" (UTC), unit-suffixed columns
    events.parquet       flat event log (time in UTC, kind, asset, detail, value)
    kpis.json            headline numbers, sorted keys; NaN and +-inf stored as null
    scenario.yaml        the resolved scenario text, byte for byte
    metadata.json        provenance (seed, scenario hash, versions, git sha, ...)
    <name>.parquet       one per extra table (e.g. hall_timeseries.parquet)
    requests.parquet     requests of the request-level windows, if any (read lazily)

A run is written into a hidden sibling ``.tmp-<run_id>-<random>`` and renamed into place
only once every file is complete, so a reader never sees half a run and a crash leaves no
folder that :func:`is_run_dir` or :func:`read_run` accepts. While it writes, the writer holds
a lock on ``.tmp-<run_id>-<random>.lock``; the next write into the same folder removes the
temporaries whose lock is free (left by a killed run).
"""

from __future__ import annotations

import contextlib
import json
import math
import numbers
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from dcsim.errors import ConfigError
from dcsim.fileio import TMP_PREFIX, check_output_dir, fsync_path, os_error_text
from dcsim.results.local_time import site_utc_offsets_h, to_utc
from dcsim.results.run_result import RunResult

TIMESERIES_FILE = "timeseries.parquet"
EVENTS_FILE = "events.parquet"
KPIS_FILE = "kpis.json"
SCENARIO_FILE = "scenario.yaml"
METADATA_FILE = "metadata.json"
#: The requests of the request-level windows (optional; read lazily, docs/windows.md).
REQUESTS_FILE = "requests.parquet"

#: Files every run folder holds; a folder missing any of them is not a (complete) run.
REQUIRED_FILES: tuple[str, ...] = (
    TIMESERIES_FILE,
    EVENTS_FILE,
    KPIS_FILE,
    SCENARIO_FILE,
    METADATA_FILE,
)

_TMP_PREFIX = TMP_PREFIX
#: Suffix of the lock file a writer holds beside its temporary folder while it writes.
_LOCK_SUFFIX = ".lock"
#: Most run folders of one scenario started in one second (suffixes -2, -3, ...).
_MAX_SAME_SECOND = 1000
_RESERVED_TABLES = {Path(TIMESERIES_FILE).stem, Path(EVENTS_FILE).stem, Path(REQUESTS_FILE).stem}
# Folder and file names we create: no separators, no leading dot (hidden = temporary).
_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+=-]*")
_TABLE_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
#: Extra tables stamped in UTC (the monthly capacity table keeps its month labels).
_UTC_TABLES = {"hall_timeseries", "site_timeseries", "region_timeseries"}


# -- writers: one per file kind, so a test can make any of them fail half-way ----------------


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write one table with pyarrow, keeping its index (the DatetimeIndex of time series)."""
    frame.to_parquet(path, engine="pyarrow")
    fsync_path(path)


def _write_json(data: dict[str, Any], path: Path) -> None:
    """Write strict JSON (no NaN/Infinity literals), sorted keys, trailing newline."""
    text = json.dumps(data, sort_keys=True, indent=2, allow_nan=False, ensure_ascii=False)
    _write_text(text + "\n", path)


def _write_text(text: str, path: Path) -> None:
    """Write text as UTF-8 with the newlines given (no platform translation)."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


# -- JSON conversion ------------------------------------------------------------------------


def _kpi_to_json(name: str, value: object) -> float | int | str | bool | None:
    """Map one KPI to a JSON value: numbers stay numbers, non-finite floats become null."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        as_float = float(value)
        # Strict JSON has no NaN or Infinity; null reads back as NaN ("not defined").
        return as_float if math.isfinite(as_float) else None
    raise TypeError(f"kpis[{name!r}]: {value!r} must be a float, int or str")


def _json_default(value: object) -> object:
    """Make numpy scalars, paths and timestamps in metadata JSON-serialisable."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        as_float = float(value)
        return as_float if math.isfinite(as_float) else None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"metadata: {value!r} ({type(value).__name__}) is not JSON-serialisable")


def _meta_to_json(meta: dict[str, Any]) -> dict[str, Any]:
    """Round-trip metadata through JSON types, turning non-finite floats into null."""

    def clean(value: object) -> object:
        if isinstance(value, dict):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if value is None or isinstance(value, bool | int | float | str):
            return value
        return clean(_json_default(value))

    return clean(meta)  # type: ignore[return-value]


# -- names ----------------------------------------------------------------------------------


def _check_name(value: str, field: str) -> str:
    """Refuse names that would leave ``root/<scenario>/`` or collide with temporaries."""
    if not isinstance(value, str) or not _NAME_RE.fullmatch(value) or value in {".", ".."}:
        raise ConfigError(
            f"{value!r} must be a plain folder name (letters, digits, '_', '-', '.', '+', '='; "
            "not starting with '.')",
            where=field,
        )
    return value


def _check_tables(extra_tables: dict[str, pd.DataFrame]) -> None:
    """Extra tables become ``<name>.parquet``; their names must be safe, distinct stems."""
    for name, table in extra_tables.items():
        if not isinstance(name, str) or not _TABLE_RE.fullmatch(name) or name in _RESERVED_TABLES:
            raise ConfigError(
                f"{name!r} must be a file stem of letters, digits, '_' and '-', other than "
                f"{sorted(_RESERVED_TABLES)}",
                where="extra_tables",
            )
        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"extra_tables[{name!r}]: expected a DataFrame, got {table!r}")


@contextlib.contextmanager
def _held_tmp_dir(scenario_dir: Path, run_id: str) -> Iterator[Path]:
    """Create the hidden sibling a run is written into, locked for as long as we write.

    The lock is a file ``<tmp>.lock`` beside the folder, created before it and held with
    ``flock`` (released by the kernel when the writer dies, however it dies), so that
    :func:`remove_stale_temporaries` can tell a folder being written from one left by a
    killed run. ``os.mkdir`` (not ``tempfile.mkdtemp``) so the folder gets the user's umask:
    after the rename it *is* the run folder, and mkdtemp's mode 0700 would hide it.
    """
    while True:
        tmp = scenario_dir / f"{_TMP_PREFIX}{run_id}-{secrets.token_hex(4)}"
        lock = tmp.with_name(tmp.name + _LOCK_SUFFIX)
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        break
    try:
        _lock(fd, blocking=True)
        tmp.mkdir()
        yield tmp
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        os.close(fd)


def _lock(fd: int, blocking: bool) -> bool:
    """Take an exclusive ``flock`` on ``fd``; False when another process holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no liveness test, keep everything
        return not blocking
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Remove temporary run folders left in ``folder`` by writers that died.

    A temporary folder (``.tmp-*``) whose lock file is held belongs to a live writer and is
    kept; one whose lock is free or gone was left by a killed run. Readers never look at
    temporaries (:func:`is_run_dir`, :func:`list_runs`, :func:`read_run`); this only frees
    the space, and runs before every write into the folder.

    Parameters
    ----------
    folder
        A scenario folder (``<root>/<scenario>``) or a sweep's ``runs/`` folder.

    Returns
    -------
    list of pathlib.Path
        The temporaries removed.
    """
    base = Path(folder)
    removed: list[Path] = []
    if not base.is_dir():
        return removed
    for tmp in sorted(base.glob(f"{_TMP_PREFIX}*")):
        if tmp.name.endswith(_LOCK_SUFFIX) or not tmp.is_dir() or tmp.is_symlink():
            continue
        lock = tmp.with_name(tmp.name + _LOCK_SUFFIX)
        try:
            fd = os.open(lock, os.O_RDWR)
        except FileNotFoundError:
            fd = None  # writers create the lock first: without one, nobody writes here
        except OSError:
            continue
        try:
            if fd is not None and not _lock(fd, blocking=False):
                continue
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.unlink(lock)
        finally:
            if fd is not None:
                os.close(fd)
    return removed


def _publish(tmp: Path, scenario_dir: Path, run_id: str, unique: bool) -> Path:
    """Rename the finished temporary folder to its run folder; never replace a folder.

    With ``unique``, a name taken (a run of the same scenario, seed and text started in the
    same second) gets the suffix ``-2``, ``-3``, ...; ids still sort by start time.
    """
    names = [run_id] + ([f"{run_id}-{n}" for n in range(2, _MAX_SAME_SECOND)] if unique else [])
    for name in names:
        final = scenario_dir / name
        # POSIX rename would silently replace an *empty* folder: skip every existing name.
        if final.exists():
            continue
        try:
            os.rename(tmp, final)
        except OSError as error:
            if final.exists():
                continue
            raise ConfigError(f"cannot write ({os_error_text(error)})", str(final)) from None
        return final
    raise ConfigError(
        "run folder already exists; choose another run id", str(scenario_dir / run_id)
    )


# -- public API -----------------------------------------------------------------------------


def check_run_location(root: str | Path, scenario_name: str) -> Path:
    """Check, before a run starts, that its run folder can be written.

    Parameters
    ----------
    root
        Results root folder (``--out``).
    scenario_name
        The scenario's name: the folder grouping its runs.

    Returns
    -------
    pathlib.Path
        ``<root>/<scenario_name>``.

    Raises
    ------
    ConfigError
        A name that is not a plain folder name or too long for the file system; a file
        where a folder is needed; a read-only location.
    """
    _check_name(scenario_name, "scenario name")
    check_output_dir(root, "--out")
    return check_output_dir(Path(root) / scenario_name, "--out")


def write_run(
    result: RunResult,
    root: str | Path = "results",
    *,
    resolved_scenario_yaml: str,
    run_id: str,
    scenario_name: str,
    unique: bool = True,
) -> Path:
    """Write a run folder atomically and return its path.

    Everything is first written to ``<root>/<scenario_name>/.tmp-<run_id>-<random>/`` and
    that folder is then renamed to ``<root>/<scenario_name>/<run_id>/``. On any error the
    temporary folder is removed and the error re-raised; other runs are never touched.
    Temporaries left in the scenario folder by killed writers are removed first
    (:func:`remove_stale_temporaries`).

    Parameters
    ----------
    result
        The run to store.
    root
        Results root folder; created if needed.
    resolved_scenario_yaml
        The resolved scenario text, written as ``scenario.yaml`` unchanged (its SHA-256 is
        the ``scenario_hash`` of the metadata).
    run_id
        Folder name of the run, normally from :func:`dcsim.results.meta.run_id`.
    scenario_name
        Folder grouping the runs of one scenario.
    unique
        When ``<run_id>`` is taken (two runs of one scenario text and seed started in the
        same second), write ``<run_id>-2`` (then ``-3``, ...). False: refuse a taken name
        (a sweep's run folders are named by their content, so a taken name is the same run).

    Returns
    -------
    pathlib.Path
        The final run folder.

    Raises
    ------
    ConfigError
        If the run folder already exists (``unique=False``); ``run_id``, ``scenario_name``
        or an extra table name is not a plain name; the folder cannot be written (a file in
        the way, read-only, disk full: one line naming the path).
    TypeError
        If a KPI is not a float, int or str, or metadata is not JSON-serialisable.
    """
    _check_name(scenario_name, "scenario_name")
    _check_name(run_id, "run_id")
    _check_tables(result.extra_tables)
    # Convert before creating anything, so bad values fail without leaving folders behind.
    kpis_json = {str(k): _kpi_to_json(str(k), v) for k, v in result.kpis.items()}
    meta_json = _meta_to_json(dict(result.meta))

    scenario_dir = Path(root) / scenario_name
    final = scenario_dir / run_id
    if not unique and final.exists():
        raise ConfigError("run folder already exists; choose another run id", where=str(final))
    check_output_dir(scenario_dir, "run folder")
    # Folders this call creates, deepest first: removed again if the write fails.
    created_dirs = []
    for folder in (scenario_dir, *scenario_dir.parents):
        if folder.exists():
            break
        created_dirs.append(folder)
    try:
        scenario_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"cannot create ({os_error_text(error)})", str(scenario_dir)) from None
    remove_stale_temporaries(scenario_dir)
    try:
        with _held_tmp_dir(scenario_dir, run_id) as tmp:
            try:
                _write_parquet(result.timeseries, tmp / TIMESERIES_FILE)
                _write_parquet(result.events, tmp / EVENTS_FILE)
                for name, table in result.extra_tables.items():
                    _write_parquet(table, tmp / f"{name}.parquet")
                if result.requests is not None:
                    _write_parquet(result.requests, tmp / REQUESTS_FILE)
                _write_text(resolved_scenario_yaml, tmp / SCENARIO_FILE)
                _write_json(kpis_json, tmp / KPIS_FILE)
                # metadata.json last: its presence marks a finished folder to a naive reader.
                _write_json(meta_json, tmp / METADATA_FILE)
                fsync_path(tmp)
                final = _publish(tmp, scenario_dir, run_id, unique)
                fsync_path(scenario_dir)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
    except OSError as error:
        _remove_if_empty(created_dirs)
        raise ConfigError(f"cannot write the run ({os_error_text(error)})", str(final)) from None
    except BaseException:
        _remove_if_empty(created_dirs)
        raise
    return final


def _remove_if_empty(created: list[Path]) -> None:
    """Remove the folders a write created (deepest first), if no other writer used them."""
    for folder in created:
        try:
            folder.rmdir()
        except OSError:
            return


def _missing_files(path: Path) -> list[str]:
    """List the required run files absent from ``path``, in :data:`REQUIRED_FILES` order."""
    return [name for name in REQUIRED_FILES if not (path / name).is_file()]


def is_run_dir(path: str | Path) -> bool:
    """Return whether ``path`` is a complete run folder.

    Parameters
    ----------
    path
        Folder to test.

    Returns
    -------
    bool
        True if ``path`` is a directory, not a temporary (hidden) one, holding every file of
        :data:`REQUIRED_FILES`.
    """
    folder = Path(path)
    return folder.is_dir() and not folder.name.startswith(".") and not _missing_files(folder)


def list_runs(root: str | Path = "results", scenario_name: str | None = None) -> list[Path]:
    """Return the run folders under ``root``, sorted by path.

    Within one scenario the run ids start with the UTC start time, so the order is
    chronological; across scenarios runs are grouped by scenario name.

    Parameters
    ----------
    root
        Results root folder; a missing root gives an empty list.
    scenario_name
        Only runs of this scenario; default every scenario folder under ``root``.

    Returns
    -------
    list of pathlib.Path
        Complete run folders (:func:`is_run_dir`); temporaries and stray folders are skipped.
    """
    base = Path(root)
    if scenario_name is not None:
        scenario_dirs = [base / scenario_name]
    elif base.is_dir():
        scenario_dirs = [d for d in base.iterdir() if d.is_dir() and not d.name.startswith(".")]
    else:
        scenario_dirs = []
    runs = [
        run
        for scenario_dir in scenario_dirs
        if scenario_dir.is_dir()
        for run in scenario_dir.iterdir()
        if is_run_dir(run)
    ]
    return sorted(runs)


def _read_json(path: Path) -> dict[str, Any]:
    """Load a JSON object, naming the file in the error."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"not valid JSON ({error})", where=str(path)) from error
    if not isinstance(data, dict):
        raise ConfigError(f"expected a JSON object, got {type(data).__name__}", where=str(path))
    return data


def _read_parquet(path: Path) -> pd.DataFrame:
    """Load a Parquet table, naming the file in the error."""
    try:
        return pd.read_parquet(path, engine="pyarrow")
    except (OSError, ValueError) as error:
        # pyarrow's ArrowInvalid derives from ValueError.
        raise ConfigError(f"not a readable Parquet file ({error})", where=str(path)) from error


def read_run(path: str | Path) -> RunResult:
    """Load a run folder back into a :class:`RunResult`.

    The time-series index comes back without ``freq`` (Parquet does not store it). KPIs
    stored as null come back as NaN. ``scenario`` is the plain dict parsed from
    ``scenario.yaml``; validate it with ``dcsim.scenario`` if a ``Scenario`` is needed.

    Parameters
    ----------
    path
        A run folder, as returned by :func:`write_run` or :func:`list_runs`.

    Returns
    -------
    RunResult
        The stored run, with every extra ``<name>.parquet`` in ``extra_tables``.

    Raises
    ------
    ConfigError
        ``"<path>: not a dcsim run folder (missing kpis.json, ...)"`` if the folder does not
        exist or lacks a required file; a message naming the file if one cannot be parsed.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ConfigError("not a dcsim run folder (no such directory)", where=str(folder))
    if folder.resolve().name.startswith(_TMP_PREFIX):
        raise ConfigError(
            "not a dcsim run folder (the temporary folder of an unfinished or killed run)",
            where=str(folder),
        )
    missing = _missing_files(folder)
    if missing:
        raise ConfigError(
            f"not a dcsim run folder (missing {', '.join(missing)})", where=str(folder)
        )

    kpis = {k: math.nan if v is None else v for k, v in _read_json(folder / KPIS_FILE).items()}
    meta = _read_json(folder / METADATA_FILE)
    scenario_path = folder / SCENARIO_FILE
    try:
        scenario = YAML(typ="safe", pure=True).load(scenario_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError) as error:
        raise ConfigError(f"not valid YAML ({error})", where=str(scenario_path)) from error

    # Runs written before the stamps were UTC hold the naive campus clock (the first
    # site's local standard time): read them as that, so every run reads back in UTC.
    offsets = site_utc_offsets_h(scenario) if isinstance(scenario, dict) else {}
    clock_h = next(iter(offsets.values()), 0.0)
    timeseries = to_utc(_read_parquet(folder / TIMESERIES_FILE), clock_h)
    events = to_utc(_read_parquet(folder / EVENTS_FILE), clock_h)
    extra_tables = {
        table_path.stem: _read_parquet(table_path)
        for table_path in sorted(folder.glob("*.parquet"))
        if table_path.stem not in _RESERVED_TABLES
    }
    requests = folder / REQUESTS_FILE
    for name in _UTC_TABLES & set(extra_tables):
        extra_tables[name] = to_utc(extra_tables[name], clock_h)
    try:
        return RunResult(
            timeseries=timeseries,
            events=events,
            kpis=kpis,
            scenario=scenario,
            meta=meta,
            extra_tables=extra_tables,
            requests_source=requests if requests.is_file() else None,
        )
    except (TypeError, ValueError) as error:
        raise ConfigError(f"not a dcsim run folder ({error})", where=str(folder)) from error
