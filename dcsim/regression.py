"""Regression checks: run scenarios with their fixed seeds and compare KPIs with baselines.

A baseline is one YAML file per scenario, ``<baseline dir>/<scenario file stem>.yaml``::

    format_version: 2                  # layout of this file; another number -> exit 2
    dcsim_version: 0.1.0               # made by; another major (0.x: minor) -> exit 2
    scenario: ../../scenarios/small-hall.yaml   # relative to this file's folder
    overrides: {horizon_s: 2d}         # as `--set`, applied to the scenario
    seed: 7
    scenario_hash: b7260e00...         # resolved scenario text the baseline was made from
    kpis_count: 75                     # metrics in `kpis`
    checksum: sha256:5f1c...           # of seed, scenario_hash, overrides, kpis, capacity
    tolerances:                        # optional, kept by --update; KPI name or glob
      pue: {rel: 1.0e-3}
      "*.served_tok": {rel: 1.0e-4, abs: 0}
    kpis: {served_tok: 2.4485e+11, ...}
    capacity: {columns: [...], rows: [[...], ...]}   # when the run has a capacity table

A value passes when ``|current - baseline| <= abs + rel * |baseline|``. Tolerances come from
the file's ``tolerances`` (exact name first, then globs in file order), else from
:data:`DEFAULT_TOLERANCES` by metric family (the unit suffix). Capacity-table columns are
looked up as ``capacity.<column>``, then as ``<column>``.

``dcsim check --update`` (without scenarios: every baseline in the folder) re-runs and
rewrites the baselines, keeping their scenario, overrides and tolerances, and shows what
changed and what it removed; it is the one command that regenerates them after a
deliberate model change.

A CI gate must not be weakened by accident, so a damaged baseline is an error (exit 2),
never a pass: ``kpis_count`` and ``checksum`` catch a file truncated at a line boundary or a
value edited by hand (only ``tolerances`` is meant to be edited); a run whose resolved
scenario differs from ``scenario_hash`` is checked against a baseline of another scenario
(unless ``--set`` asked for that on purpose); a metric without a value, a text value where
the run has a number, and a tolerance that is negative, infinite or not a number are bad
input.

Examples
--------
>>> import dcsim
>>> report = dcsim.check(["scenarios/small-hall.yaml"], "results/baselines")  # doctest: +SKIP
>>> report.passed, [m.name for m in report.drifted]  # doctest: +SKIP
(True, [])
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import io
import json
import math
import numbers
import os
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from dcsim.errors import ConfigError
from dcsim.fileio import check_output_dir, check_output_file, write_text_atomic
from dcsim.results.compare import (
    CAPACITY_TABLE,
    _is_number,
    abs_rel_diff,
    fmt_diff,
    fmt_pct,
    fmt_value,
    markdown_table,
)
from dcsim.results.meta import dcsim_version, git_sha
from dcsim.results.run_result import RunResult
from dcsim.results.tolerance import (  # noqa: F401 - re-exported: part of this module's API
    DEFAULT_TOLERANCES,
    Tolerance,
    default_tolerance,
)

#: Layout version of baseline files; a file with another number is refused.
#: 2: ``kpis_count`` and ``checksum`` added; ``scenario_hash`` binding.
BASELINE_FORMAT_VERSION = 2

#: Prefix of the ``checksum`` field: the algorithm.
CHECKSUM_PREFIX = "sha256:"

#: Default folder of committed baselines.
DEFAULT_BASELINE_DIR = Path("results") / "baselines"

_HEADER = (
    "dcsim KPI baseline for `dcsim check`. Regenerate (after a deliberate model change) with:\n"
    "  dcsim check --baseline <this folder> --update\n"
    "`tolerances` is yours to edit (KPI name or glob -> {rel, abs}); --update keeps it."
)

Status = Literal["pass", "drift", "missing", "new"]


@dataclass
class MetricCheck:
    """One metric compared with its baseline.

    Parameters
    ----------
    name
        KPI name, ``seed``, or ``capacity.<column>[<row>]`` (the worst cell of a column).
    baseline
        Baseline value; None when new.
    current
        Value of this run; None when missing.
    tolerance
        The tolerance applied.
    status
        ``"pass"``, ``"drift"`` (beyond tolerance), ``"missing"`` (in the baseline, not in
        the run: counts as drift) or ``"new"`` (in the run only: reported, passes).
    """

    name: str
    baseline: Any
    current: Any
    tolerance: Tolerance
    status: Status

    @property
    def abs_diff(self) -> float:
        """``current - baseline`` [unit of the metric]; NaN for text or missing values."""
        return abs_rel_diff(self.current, self.baseline)[0]

    @property
    def rel_diff_frac(self) -> float:
        """``(current - baseline) / |baseline|`` [-]; NaN when undefined."""
        return abs_rel_diff(self.current, self.baseline)[1]

    @property
    def failed(self) -> bool:
        """True for drift and missing metrics."""
        return self.status in ("drift", "missing")

    @property
    def changed(self) -> bool:
        """True when the value is not identical to the baseline (NaN equals NaN)."""
        return not Tolerance().allows(self.current, self.baseline)

    def describe(self) -> str:
        """One line: ``pue: 1.188 -> 1.201 (+0.013, +1.09 %; tolerance rel 1e-06)``."""
        if self.status == "missing":
            return f"{self.name}: {fmt_value(self.baseline)} -> missing"
        if self.status == "new":
            return f"{self.name}: new, {fmt_value(self.current)}"
        return (
            f"{self.name}: {fmt_value(self.baseline)} -> {fmt_value(self.current)} "
            f"({fmt_diff(self.abs_diff)}, {fmt_pct(self.rel_diff_frac)}; "
            f"tolerance {self.tolerance})"
        )


@dataclass
class ScenarioCheck:
    """The check of one scenario against its baseline.

    Attributes
    ----------
    name : str
        Baseline name (the scenario file's stem).
    baseline_path : pathlib.Path
        The baseline file.
    scenario : pathlib.Path
        The scenario file run.
    overrides : dict
        Overrides applied (recorded ones, then ``--set``).
    metrics : list of MetricCheck
        Every metric compared (empty for a baseline just created).
    notes : list of str
        Information that is not drift (scenario text changed, baseline replaced, ...).
    wall_time_s : float
        Time to run the scenario [s].
    updated : bool
        The baseline file was (re)written.
    created : bool
        There was no baseline before.
    unchanged : bool
        An update found the baseline identical to the run and left the file alone.
    """

    name: str
    baseline_path: Path
    scenario: Path
    overrides: dict[str, Any]
    metrics: list[MetricCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    wall_time_s: float = 0.0
    updated: bool = False
    created: bool = False
    unchanged: bool = False

    @property
    def drifted(self) -> list[MetricCheck]:
        """Metrics beyond tolerance or missing."""
        return [m for m in self.metrics if m.failed]

    @property
    def passed(self) -> bool:
        """True when no metric drifted (always True after an update)."""
        return self.updated or self.unchanged or not self.drifted

    @property
    def changed(self) -> list[MetricCheck]:
        """Metrics whose value is not identical to the baseline (within tolerance or not)."""
        return [m for m in self.metrics if m.changed]

    @property
    def compared(self) -> list[MetricCheck]:
        """Metrics the baseline holds (pass, drift or missing)."""
        return [m for m in self.metrics if m.status != "new"]

    @property
    def new(self) -> list[MetricCheck]:
        """Metrics of the run that the baseline does not hold (reported, never drift)."""
        return [m for m in self.metrics if m.status == "new"]

    @property
    def removed(self) -> list[MetricCheck]:
        """Metrics of the baseline that the run no longer has (an update drops them)."""
        return [m for m in self.metrics if m.status == "missing"]


@dataclass
class CheckReport:
    """The result of :func:`check`: one :class:`ScenarioCheck` per baseline."""

    checks: list[ScenarioCheck]
    update: bool = False

    @property
    def passed(self) -> bool:
        """True when every scenario passed."""
        return all(c.passed for c in self.checks)

    @property
    def drifted(self) -> list[MetricCheck]:
        """Every drifted metric, over all scenarios."""
        return [m for c in self.checks for m in c.drifted]

    def to_junit(self, path: str | Path | None = None) -> str:
        """JUnit XML: one test case per scenario, a ``<failure>`` listing its drift.

        Parameters
        ----------
        path
            Also write the XML to this file.

        Returns
        -------
        str
            The XML text.
        """
        failures = sum(not c.passed for c in self.checks)
        total_s = sum(c.wall_time_s for c in self.checks)
        suites = ET.Element(
            "testsuites",
            name="dcsim check",
            tests=str(len(self.checks)),
            failures=str(failures),
            errors="0",
            time=f"{total_s:.3f}",
        )
        suite = ET.SubElement(
            suites,
            "testsuite",
            name="dcsim check",
            tests=str(len(self.checks)),
            failures=str(failures),
            errors="0",
            skipped="0",
            time=f"{total_s:.3f}",
            timestamp=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        )
        for c in self.checks:
            case = ET.SubElement(
                suite,
                "testcase",
                classname="dcsim.check",
                name=c.name,
                file=str(c.scenario),
                time=f"{c.wall_time_s:.3f}",
            )
            if not c.passed:
                names = ", ".join(m.name for m in c.drifted)
                failure = ET.SubElement(
                    case,
                    "failure",
                    type="drift",
                    message=f"{len(c.drifted)} metric(s) drifted: {names}",
                )
                failure.text = "\n".join(m.describe() for m in c.drifted)
            out = [f"baseline: {c.baseline_path}", *c.notes]
            out += [m.describe() for m in c.metrics if m.changed or m.status == "new"]
            ET.SubElement(case, "system-out").text = "\n".join(out)
        ET.indent(suites)
        text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"
        if path is not None:
            write_text_atomic(text, Path(path))
        return text

    def to_markdown(self, path: str | Path | None = None) -> str:
        """A markdown summary (fits ``$GITHUB_STEP_SUMMARY``).

        Parameters
        ----------
        path
            Also write the text to this file.

        Returns
        -------
        str
            A status table of the scenarios, then a table of each scenario's drifted (or,
            after an update, changed) metrics.
        """
        n_bad = sum(not c.passed for c in self.checks)
        if self.update:
            title = f"## dcsim check --update: {len(self.checks)} baseline(s) written"
        elif n_bad:
            title = f"## dcsim check: {n_bad} of {len(self.checks)} scenario(s) drifted"
        else:
            title = f"## dcsim check: all {len(self.checks)} scenario(s) within tolerance"
        lines = [title, ""]
        rows = []
        for c in self.checks:
            if c.updated:
                status = "created" if c.created else "updated"
            elif c.unchanged:
                status = "unchanged"
            else:
                status = "pass" if c.passed else "**DRIFT**"
            rows.append(
                [
                    c.name,
                    status,
                    str(len(c.compared)),
                    str(len(c.drifted)),
                    f"{c.wall_time_s:.1f}",
                ]
            )
        lines.append(markdown_table(["scenario", "status", "metrics", "drifted", "time [s]"], rows))
        for c in self.checks:
            shown = c.changed if c.updated else c.drifted
            if not shown and not c.notes:
                continue
            lines += ["", f"### {c.name}", ""]
            lines += [f"- {n}" for n in c.notes]
            if shown:
                if c.notes:
                    lines.append("")
                lines.append(markdown_table(*metric_rows(shown)))
        text = "\n".join(lines) + "\n"
        if path is not None:
            write_text_atomic(text, Path(path))
        return text


def metric_rows(metrics: Sequence[MetricCheck]) -> tuple[list[str], list[list[str]]]:
    """Header and formatted rows of a metric table (terminal and markdown).

    Parameters
    ----------
    metrics
        The metrics to list.

    Returns
    -------
    header : list of str
        ``metric, baseline, current, diff, diff %, tolerance, status``.
    rows : list of list of str
        One row per metric.
    """
    header = ["metric", "baseline", "current", "diff", "diff %", "tolerance", "status"]
    rows = [
        [
            m.name,
            fmt_value(m.baseline),
            fmt_value(m.current),
            fmt_diff(m.abs_diff),
            fmt_pct(m.rel_diff_frac),
            str(m.tolerance),
            m.status,
        ]
        for m in metrics
    ]
    return header, rows


# -- baseline files ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Plain Python from ruamel scalars and containers (ScalarFloat -> float, ...)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return str(value)


def _version_key(version: str) -> tuple[int, ...] | None:
    """``(major,)`` for 1.x and later, ``(0, minor)`` for 0.x; None when unparseable."""
    m = re.match(r"(\d+)\.(\d+)", str(version))
    if not m:
        return None
    major, minor = int(m.group(1)), int(m.group(2))
    return (major,) if major > 0 else (0, minor)


def compatible_version(made_by: str, running: str | None = None) -> bool:
    """Whether a baseline made by one dcsim version may be checked by another.

    Same major version (for 0.x versions: same minor version, as semantic versioning allows
    0.x minors to change anything).

    Parameters
    ----------
    made_by
        ``dcsim_version`` of the baseline.
    running
        The running version; default :func:`dcsim.results.meta.dcsim_version`.

    Returns
    -------
    bool
        True when compatible.

    Examples
    --------
    >>> compatible_version("0.1.0", "0.1.7"), compatible_version("0.1.0", "0.2.0")
    (True, False)
    """
    a = _version_key(made_by)
    b = _version_key(running if running is not None else dcsim_version())
    return a is not None and a == b


@dataclass
class Baseline:
    """The content of a baseline file (see the module docstring).

    Attributes
    ----------
    path : pathlib.Path
        The file.
    scenario : pathlib.Path
        The scenario file, resolved against the baseline's folder.
    overrides : dict
        Field path -> value, applied as ``--set``.
    seed : int or None
        Seed of the baseline run.
    kpis : dict
        KPI name -> value.
    capacity : dict or None
        ``{"columns": [...], "rows": [[...], ...]}``.
    tolerances : dict
        Name or glob -> Tolerance, in file order.
    dcsim_version : str
        Version that wrote the file.
    scenario_hash : str or None
        SHA-256 of the resolved scenario text of the baseline run.
    document : ruamel CommentedMap
        The parsed file, kept so that an update preserves comments.
    """

    path: Path
    scenario: Path
    overrides: dict[str, Any]
    seed: int | None
    kpis: dict[str, Any]
    capacity: dict[str, Any] | None
    tolerances: dict[str, Tolerance]
    dcsim_version: str
    scenario_hash: str | None
    document: Any = None

    def tolerance(self, name: str, column: str | None = None) -> Tolerance:
        """The tolerance of a metric: the file's entries (exact, then globs), else default.

        Parameters
        ----------
        name
            Metric name (``"pue"``, ``"capacity.served_tok_per_s"``).
        column
            For a capacity column, its bare name, tried after ``name``.

        Returns
        -------
        Tolerance
            The tolerance that applies.
        """
        names = [name] if column is None else [name, column]
        for n in names:
            if n in self.tolerances:
                return self.tolerances[n]
        for n in names:
            for pattern, tol in self.tolerances.items():
                if fnmatch.fnmatchcase(n, pattern):
                    return tol
        return default_tolerance(names[-1])


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _tolerances(raw: Any, where: str) -> dict[str, Tolerance]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError("tolerances: expected a mapping of name -> {rel, abs}", where)
    out = {}
    for name, entry in raw.items():
        if not isinstance(entry, Mapping) or not set(entry) <= {"rel", "abs"} or not entry:
            raise ConfigError(
                f"tolerances.{name}: expected {{rel: <number>, abs: <number>}}, got {entry!r}",
                where,
            )
        values = {}
        for k in ("rel", "abs"):
            v = entry.get(k, 0.0)
            if (
                isinstance(v, bool)
                or not isinstance(v, numbers.Real)
                or not math.isfinite(v)
                or not v >= 0
            ):
                raise ConfigError(
                    f"tolerances.{name}.{k}: {_plain(v)!r} must be a finite number >= 0", where
                )
            values[k] = float(v)
        out[str(name)] = Tolerance(**values)
    return out


def read_baseline(path: str | Path, check_version: bool = True) -> Baseline:
    """Read a baseline file.

    Parameters
    ----------
    path
        The YAML file.
    check_version
        Refuse a file of another ``format_version`` or an incompatible ``dcsim_version``
        (False when it is about to be replaced).

    Returns
    -------
    Baseline
        Its content.

    Raises
    ------
    ConfigError
        Unreadable or malformed file; ``"x.yaml: baseline format_version 2 is not supported
        by dcsim 0.1.0 (reads 1); regenerate it with: dcsim check --baseline <dir>
        --update"``; likewise for a baseline made by an incompatible dcsim version.
    """
    p = Path(path)
    where = str(p)
    try:
        doc = _yaml().load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("no such baseline file", where) from None
    except (OSError, UnicodeDecodeError, YAMLError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"not a readable YAML file ({first})", where) from None
    if not isinstance(doc, Mapping):
        raise ConfigError("not a dcsim baseline (expected a mapping)", where)
    regen = f"regenerate it with: dcsim check --baseline {p.parent} --update"
    fmt = doc.get("format_version")
    made_by = str(doc.get("dcsim_version", "unknown"))
    if check_version:
        if fmt != BASELINE_FORMAT_VERSION:
            raise ConfigError(
                f"baseline format_version {fmt!r} is not supported by dcsim {dcsim_version()} "
                f"(reads {BASELINE_FORMAT_VERSION}); {regen}",
                where,
            )
        if not compatible_version(made_by):
            raise ConfigError(
                f"baseline made by dcsim {made_by} is incompatible with dcsim "
                f"{dcsim_version()}; {regen}",
                where,
            )
    for key in ("scenario", "kpis"):
        if key not in doc:
            raise ConfigError(f"not a dcsim baseline (missing {key!r})", where)
    kpis = doc["kpis"]
    if not isinstance(kpis, Mapping):
        raise ConfigError("kpis: expected a mapping of KPI name -> value", where)
    overrides = doc.get("overrides") or {}
    if not isinstance(overrides, Mapping):
        raise ConfigError("overrides: expected a mapping of field path -> value", where)
    if check_version:
        _check_integrity(doc, where, regen)
    scenario = Path(str(doc["scenario"]))
    if not scenario.is_absolute():
        scenario = p.parent / scenario
    capacity = doc.get("capacity")
    seed = doc.get("seed")
    return Baseline(
        path=p,
        scenario=Path(os.path.normpath(scenario)),
        overrides=_plain(overrides),
        seed=int(seed) if isinstance(seed, numbers.Integral) else None,
        kpis=_plain(kpis),
        capacity=_plain(capacity) if isinstance(capacity, Mapping) else None,
        tolerances=_tolerances(doc.get("tolerances"), where),
        dcsim_version=made_by,
        scenario_hash=str(doc["scenario_hash"]) if doc.get("scenario_hash") else None,
        document=doc,
    )


def content_checksum(doc: Mapping[str, Any]) -> str:
    """The checksum of a baseline's generated content (everything but tolerances and notes).

    SHA-256 of a canonical JSON text (sorted keys, no spaces, floats by ``repr``) of
    ``seed``, ``scenario_hash``, ``overrides``, ``kpis`` and ``capacity``, as plain values.

    Parameters
    ----------
    doc
        The baseline document (as parsed, or as about to be written).

    Returns
    -------
    str
        ``"sha256:<64 hex digits>"``.
    """
    content = {key: _plain(doc.get(key)) for key in ("seed", "scenario_hash", "overrides")}
    content["kpis"] = _plain(doc.get("kpis"))
    content["capacity"] = _plain(doc.get("capacity"))
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return CHECKSUM_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_integrity(doc: Mapping[str, Any], where: str, regen: str) -> None:
    """Refuse a baseline that is truncated, edited, or holds values that are not values."""
    kpis = doc.get("kpis")
    if not isinstance(kpis, Mapping):
        return  # reported by the caller
    for name, value in kpis.items():
        if value is None:
            raise ConfigError(
                f"kpis.{name}: no value (a baseline stores every metric's value; "
                f"an undefined value is .nan); {regen}",
                where,
            )
        if isinstance(value, Mapping | list):
            raise ConfigError(f"kpis.{name}: {_plain(value)!r} is not a number", where)
    count = doc.get("kpis_count")
    if isinstance(count, bool) or not isinstance(count, int):
        raise ConfigError(f"kpis_count: {count!r} must be the number of metrics; {regen}", where)
    if count != len(kpis):
        raise ConfigError(
            f"holds {len(kpis)} metrics but kpis_count says {count}: the file was truncated "
            f"or edited; restore it from version control or {regen}",
            where,
        )
    digest = re.fullmatch(r"[0-9a-f]{64}", str(doc.get("scenario_hash") or ""))
    if digest is None:
        raise ConfigError(
            f"scenario_hash: {doc.get('scenario_hash')!r} must be the 64-hex-digit hash of "
            f"the resolved scenario; {regen}",
            where,
        )
    if doc.get("checksum") != content_checksum(doc):
        raise ConfigError(
            "the metrics, seed, overrides or scenario_hash do not match the file's checksum "
            "(edited by hand or damaged; only `tolerances` may be edited); restore it from "
            f"version control or {regen}",
            where,
        )


def table_record(table: pd.DataFrame) -> dict[str, Any]:
    """A table as ``{"columns": [...], "rows": [[...], ...]}`` of plain values.

    A meaningful index (anything but a ``RangeIndex``) becomes the first column(s);
    timestamps become ISO text, numpy scalars Python numbers.

    Parameters
    ----------
    table
        E.g. the monthly capacity table.

    Returns
    -------
    dict
        The record stored in a baseline.
    """
    frame = table if isinstance(table.index, pd.RangeIndex) else table.reset_index()
    columns = [str(c) for c in frame.columns]

    def plain(v: Any) -> Any:
        if isinstance(v, pd.Timestamp | dt.datetime | dt.date):
            return v.isoformat()
        if isinstance(v, pd.Period):
            return str(v)
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, bool | int | float | str) or v is None:
            return v
        return str(v)

    rows = [[plain(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    return {"columns": columns, "rows": rows}


def _relpath(target: Path, start: Path) -> str:
    try:
        return Path(os.path.relpath(target.resolve(), start.resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return target.resolve().as_posix()


def write_baseline(
    path: str | Path,
    result: RunResult,
    scenario: str | Path,
    overrides: Mapping[str, Any],
    previous: Baseline | None = None,
) -> Path:
    """Write (or rewrite) a baseline from a run, keeping a previous file's tolerances.

    Parameters
    ----------
    path
        The baseline file (``<dir>/<scenario stem>.yaml``).
    result
        The run.
    scenario
        The scenario file (stored relative to the baseline's folder).
    overrides
        Field path -> value applied to the scenario.
    previous
        The baseline being replaced: its comments and ``tolerances`` are kept.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    p = Path(path)
    doc = previous.document if previous is not None and previous.document is not None else None
    if not isinstance(doc, CommentedMap):
        doc = CommentedMap()
        doc.yaml_set_start_comment(_HEADER)
    fresh = CommentedMap()
    fresh["format_version"] = BASELINE_FORMAT_VERSION
    fresh["dcsim_version"] = dcsim_version()
    fresh["scenario"] = _relpath(Path(scenario), p.parent)
    fresh["overrides"] = CommentedMap((str(k), v) for k, v in overrides.items())
    fresh["seed"] = int(result.meta.get("seed", 0))
    fresh["scenario_hash"] = str(result.meta.get("scenario_hash", ""))
    fresh["kpis_count"] = 0  # filled in below, once the metrics are in
    fresh["checksum"] = ""
    fresh["git_sha"] = result.meta.get("git_sha") or git_sha()
    fresh["created_utc"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    fresh["tolerances"] = doc.get("tolerances") or CommentedMap()
    fresh["kpis"] = CommentedMap(
        (k, _kpi_value(result.kpis[k])) for k in sorted(result.kpis, key=str)
    )
    if CAPACITY_TABLE in result.extra_tables:
        record = table_record(result.extra_tables[CAPACITY_TABLE])
        # One line per month, so that a diff of the baseline reads month by month.
        columns = CommentedSeq(record["columns"])
        columns.fa.set_flow_style()
        rows = CommentedSeq()
        for row in record["rows"]:
            line = CommentedSeq(row)
            line.fa.set_flow_style()
            rows.append(line)
        fresh["capacity"] = CommentedMap([("columns", columns), ("rows", rows)])
    fresh["kpis_count"] = len(fresh["kpis"])
    fresh["checksum"] = content_checksum(fresh)
    # Rebuild in the fixed order, reusing the document so its header comment survives.
    for key in list(doc):
        del doc[key]
    for key, value in fresh.items():
        doc[key] = value
    out = io.StringIO()
    _yaml().dump(doc, out)
    write_text_atomic(out.getvalue(), p)
    return p


def _kpi_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | str | int):
        return value
    if isinstance(value, numbers.Real):
        return float(value)
    return str(value)


# -- comparing -----------------------------------------------------------------------------------


def compare_to_baseline(result: RunResult, baseline: Baseline) -> list[MetricCheck]:
    """Compare a run's KPIs (and capacity table) with a baseline.

    Parameters
    ----------
    result
        The fresh run.
    baseline
        Its baseline.

    Returns
    -------
    list of MetricCheck
        ``seed`` first, then every KPI of the baseline (pass, drift or missing), KPIs new
        in the run, then the capacity table (one entry per column: its worst cell; a
        changed shape or a table that appeared or vanished).
    """
    out: list[MetricCheck] = []
    seed = result.meta.get("seed")
    if baseline.seed is not None and seed is not None:
        tol = baseline.tolerance("seed")
        out.append(
            MetricCheck(
                "seed",
                baseline.seed,
                seed,
                tol,
                "pass" if tol.allows(seed, baseline.seed) else "drift",
            )
        )
    for name, base in baseline.kpis.items():
        tol = baseline.tolerance(name)
        if name not in result.kpis:
            out.append(MetricCheck(name, base, None, tol, "missing"))
            continue
        cur = _kpi_value(result.kpis[name])
        base_v = math.nan if base is None else base
        if isinstance(base_v, str) and _is_number(cur):
            raise ConfigError(
                f"kpis.{name}: {base_v!r} is text, but the metric is a number "
                f"({fmt_value(cur)} in this run); a baseline value must be a number",
                str(baseline.path),
            )
        out.append(
            MetricCheck(name, base_v, cur, tol, "pass" if tol.allows(cur, base_v) else "drift")
        )
    for name in sorted(set(result.kpis) - set(baseline.kpis), key=str):
        out.append(
            MetricCheck(name, None, _kpi_value(result.kpis[name]), baseline.tolerance(name), "new")
        )
    out += _compare_capacity(result, baseline)
    return out


def _compare_capacity(result: RunResult, baseline: Baseline) -> list[MetricCheck]:
    table = result.extra_tables.get(CAPACITY_TABLE)
    base = baseline.capacity
    if table is None and base is None:
        return []
    exact = Tolerance()
    if table is None:
        return [MetricCheck(CAPACITY_TABLE, f"{len(base['rows'])} rows", None, exact, "missing")]
    cur = table_record(table)
    if base is None:
        return [MetricCheck(CAPACITY_TABLE, None, f"{len(cur['rows'])} rows", exact, "new")]
    if cur["columns"] != list(base.get("columns", [])):
        return [
            MetricCheck(
                f"{CAPACITY_TABLE}.columns",
                ", ".join(map(str, base.get("columns", []))),
                ", ".join(cur["columns"]),
                exact,
                "drift",
            )
        ]
    base_rows = base.get("rows", [])
    if len(cur["rows"]) != len(base_rows):
        return [
            MetricCheck(f"{CAPACITY_TABLE}.rows", len(base_rows), len(cur["rows"]), exact, "drift")
        ]
    out = []
    for j, column in enumerate(cur["columns"]):
        name = f"{CAPACITY_TABLE}.{column}"
        tol = baseline.tolerance(name, column)
        fails: list[tuple[float, int]] = []
        worst_size, worst_i = -1.0, 0
        for i, (row_c, row_b) in enumerate(zip(cur["rows"], base_rows, strict=True)):
            c, b = row_c[j], row_b[j]
            ok = tol.allows(c, math.nan if b is None else b)
            d_abs = abs_rel_diff(c, b)[0]
            size = abs(d_abs) if not math.isnan(d_abs) else (0.0 if ok else math.inf)
            if not ok:
                fails.append((size, i))
            if size > worst_size:
                worst_size, worst_i = size, i
        # Report the worst failing cell, or the largest change when all pass.
        i = max(fails)[1] if fails else worst_i
        label = cur["rows"][i][0] if j != 0 else i
        c, b = cur["rows"][i][j], base_rows[i][j]
        out.append(
            MetricCheck(
                f"{name}[{label}]",
                math.nan if b is None else b,
                c,
                tol,
                "drift" if fails else "pass",
            )
        )
    return out


# -- the check -----------------------------------------------------------------------------------


def _override_mapping(overrides: Sequence[str] | Mapping[str, Any] | None) -> dict[str, Any]:
    from dcsim.scenario.load import _override_items

    if not overrides:
        return {}
    if isinstance(overrides, Mapping):
        return {str(k).strip(): v for k, v in overrides.items()}
    return dict(_override_items(overrides, "--set"))


def _same_baseline(
    previous: Baseline | None,
    scenario: Path,
    overrides: Mapping[str, Any],
    metrics: Sequence[MetricCheck],
    scenario_hash: str,
) -> bool:
    """True when rewriting ``previous`` would change nothing but its time stamp.

    The scenario hash counts: identical metrics from an edited scenario still need the new
    hash written, or the next check refuses the baseline as made from another scenario.
    """
    if previous is None or not metrics:
        return False
    doc = previous.document
    return (
        isinstance(doc, Mapping)
        and doc.get("format_version") == BASELINE_FORMAT_VERSION
        and previous.dcsim_version == dcsim_version()
        and previous.scenario.resolve() == Path(scenario).resolve()
        and previous.overrides == dict(overrides)
        and previous.scenario_hash == scenario_hash
        and not any(m.changed or m.status in ("new", "missing") for m in metrics)
    )


def baseline_path(baseline_dir: str | Path, scenario: str | Path) -> Path:
    """The baseline file of a scenario: ``<baseline_dir>/<scenario file stem>.yaml``."""
    return Path(baseline_dir) / f"{Path(scenario).stem}.yaml"


def check(
    scenarios: Sequence[str | Path] | None = None,
    baseline_dir: str | Path = DEFAULT_BASELINE_DIR,
    *,
    update: bool = False,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
    junit: str | Path | None = None,
    markdown: str | Path | None = None,
    on_start: Callable[[str], None] | None = None,
) -> CheckReport:
    """Run scenarios with their fixed seeds and compare them with committed baselines.

    Parameters
    ----------
    scenarios
        Scenario files; their baselines are ``<baseline_dir>/<file stem>.yaml``. None or
        empty: every baseline in ``baseline_dir``, each run with the scenario and overrides
        it records.
    baseline_dir
        Folder of baseline files.
    update
        Write the baselines from these runs (creating missing ones) instead of failing on
        drift; the report lists what changed. A baseline identical to its run is left
        untouched (no churn in version control).
    overrides
        ``--set`` overrides applied after the ones a baseline records (with ``update`` they
        become part of the baseline).
    junit
        Write JUnit XML here.
    markdown
        Write a markdown summary here.
    on_start
        Callback ``on_start(name)`` before each scenario runs (progress display).

    Returns
    -------
    CheckReport
        ``report.passed`` is False when a metric drifted beyond its tolerance.

    Raises
    ------
    ConfigError
        No baselines in the folder; a scenario without a baseline (and not ``update``); a
        baseline of another format or an incompatible dcsim version, truncated or edited
        (count or checksum), or made from another resolved scenario (and neither
        ``update`` nor ``overrides``); a text value where the run has a number; bad
        scenarios or overrides; an output location that cannot be written (checked before
        any run).

    Examples
    --------
    >>> import dcsim
    >>> report = dcsim.check(baseline_dir="results/baselines")  # doctest: +SKIP
    >>> report.passed  # doctest: +SKIP
    True
    >>> report = dcsim.check(["scenarios/my-campus.yaml"], "ci/baselines", update=True)
    ... # doctest: +SKIP
    """
    from dcsim.runner import run as run_api

    folder = Path(baseline_dir)
    # Every output location first: a report that cannot be written fails before any run.
    if junit is not None:
        check_output_file(junit, "--junit")
    if markdown is not None:
        check_output_file(markdown, "--markdown")
    if update:
        check_output_dir(folder, "--baseline")
    extra = _override_mapping(overrides)
    jobs: list[tuple[Path, Path, Baseline | None]] = []
    if scenarios:
        for sc in scenarios:
            path = baseline_path(folder, sc)
            previous = read_baseline(path, check_version=not update) if path.is_file() else None
            if previous is None and not update:
                raise ConfigError(
                    f"no baseline for {sc}; create it with: dcsim check {sc} --baseline "
                    f"{folder} --update",
                    str(path),
                )
            jobs.append((Path(sc), path, previous))
    else:
        # Hidden files are not baselines: ".tmp-*" are interrupted atomic writes.
        files = (
            sorted(p for p in folder.glob("*.yaml") if not p.name.startswith("."))
            if folder.is_dir()
            else []
        )
        if not files:
            raise ConfigError(
                "no baselines here; create one with: dcsim check SCENARIO --baseline "
                f"{folder} --update",
                str(folder),
            )
        for path in files:
            previous = read_baseline(path, check_version=not update)
            jobs.append((previous.scenario, path, previous))

    checks = []
    for scenario, path, previous in jobs:
        ovr = {**(previous.overrides if previous else {}), **extra}
        if on_start is not None:
            on_start(path.stem)
        t0 = time.perf_counter()
        result = run_api(scenario, overrides=ovr or None)
        sc_check = ScenarioCheck(
            name=path.stem,
            baseline_path=path,
            scenario=scenario,
            overrides=ovr,
            wall_time_s=time.perf_counter() - t0,
        )
        if previous is not None:
            try:
                sc_check.metrics = compare_to_baseline(result, previous)
            except ConfigError as err:
                if not update:
                    raise
                sc_check.notes.append(f"the old baseline was not comparable: {err}")
            now_hash = str(result.meta.get("scenario_hash"))
            if previous.scenario_hash and previous.scenario_hash != now_hash:
                change = f"hash {previous.scenario_hash[:8]} -> {now_hash[:8]}"
                if not update and not extra:
                    # Comparing with a baseline of another scenario proves nothing either way.
                    raise ConfigError(
                        "the scenario (file and recorded overrides) no longer resolves to the "
                        f"one this baseline was made from ({change}); restore the scenario, "
                        f"or regenerate with: dcsim check --baseline {folder} --update",
                        str(path),
                    )
                sc_check.notes.append(
                    f"the resolved scenario differs from the baseline's ({change})"
                )
        now_hash = str(result.meta.get("scenario_hash"))
        if update and _same_baseline(previous, scenario, ovr, sc_check.metrics, now_hash):
            sc_check.unchanged = True
        elif update:
            if previous is not None and previous.dcsim_version != dcsim_version():
                sc_check.notes.append(
                    f"baseline of dcsim {previous.dcsim_version} replaced by dcsim "
                    f"{dcsim_version()}"
                )
            write_baseline(path, result, scenario, ovr, previous)
            sc_check.updated = True
            sc_check.created = previous is None
        checks.append(sc_check)
    report = CheckReport(checks=checks, update=update)
    if junit is not None:
        report.to_junit(junit)
    if markdown is not None:
        report.to_markdown(markdown)
    return report
