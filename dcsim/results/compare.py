"""Compare runs: KPI differences against a reference run, series overlays, capacity tables.

The first run is the reference. Every KPI of every run is listed (the union of their keys,
so runs made by different versions or with different blocks enabled compare cleanly); a KPI
missing from a run is NaN there. Differences are ``value - reference`` in the KPI's own unit
and ``(value - reference) / |reference|`` as a fraction.

Examples
--------
>>> import dcsim
>>> cmp = dcsim.compare(["results/small-hall/run-a", "results/small-hall/run-b"])  # doctest: +SKIP
>>> cmp.table.loc["pue"]  # doctest: +SKIP
>>> cmp.to_markdown("comparison.md")  # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from dcsim import units
from dcsim.errors import ConfigError
from dcsim.fileio import atomic_path, check_output_file, write_text_atomic
from dcsim.report_format import format_percent, format_quantity
from dcsim.results.io import KPIS_FILE, read_run
from dcsim.results.run_result import RunResult
from dcsim.results.tolerance import default_tolerance

#: Name of the run-folder extra table that holds the monthly capacity forecast.
CAPACITY_TABLE = "capacity"

#: Columns that identify the rows of a capacity table whose index carries no meaning.
_KEY_COLUMNS = ("month", "time", "date", "period", "start")

#: Suffix of the absolute-difference and relative-difference columns of :attr:`Comparison.table`.
ABS_SUFFIX = ".abs_diff"
REL_SUFFIX = ".rel_diff_frac"

Align = Literal["auto", "time", "elapsed"]


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def abs_rel_diff(value: Any, reference: Any) -> tuple[float, float]:
    """Absolute and relative difference of a value from a reference.

    Parameters
    ----------
    value
        The value compared [unit of the quantity].
    reference
        The reference value [unit of the quantity].

    Returns
    -------
    abs_diff : float
        ``value - reference`` [unit of the quantity]; NaN if either is not a number.
    rel_diff_frac : float
        ``(value - reference) / |reference|`` [-]; 0 when both are 0, NaN when the reference
        is 0 and the value is not, or when either is NaN or not a number.

    Examples
    --------
    >>> abs_rel_diff(1.1, 1.0)
    (0.10000000000000009, 0.10000000000000009)
    >>> abs_rel_diff(0.0, 0.0)
    (0.0, 0.0)
    """
    if not (_is_number(value) and _is_number(reference)):
        return math.nan, math.nan
    v, r = float(value), float(reference)
    diff = v - r
    if math.isnan(diff):
        return math.nan, math.nan
    if r == 0.0:
        return diff, 0.0 if v == 0.0 else math.nan
    return diff, diff / abs(r)


#: KPIs without a unit suffix that are numbers all the same (dimensionless ratios).
NUMERIC_KPIS = frozenset({"pue", "seed"})


def is_quantity(name: str) -> bool:
    """Whether a KPI name denotes a number: a unit suffix (see :mod:`dcsim.units`) or a ratio.

    Names without one (e.g. ``binding``) may hold text: a category, not a quantity.
    """
    return name in NUMERIC_KPIS or any(name.endswith(s) for s in units.KNOWN_SUFFIXES)


def _check_kpi_values(run: RunResult, where: str) -> None:
    """Refuse text where a KPI's name says it is a quantity (a damaged or foreign file)."""
    for name, value in run.kpis.items():
        if isinstance(value, str | bool) and is_quantity(str(name)):
            raise ConfigError(
                f"{name}: {value!r} is not a number (the unit suffix makes it a quantity)",
                where,
            )


def _as_run(item: RunResult | str | Path) -> RunResult:
    if isinstance(item, RunResult):
        _check_kpi_values(item, f"<run {item.scenario_name or 'in memory'}> kpis")
        return item
    if isinstance(item, str | Path):
        run = read_run(item)
        _check_kpi_values(run, str(Path(item) / KPIS_FILE))
        return run
    raise TypeError(f"compare: expected a RunResult or a run folder path, got {item!r}")


def kpi_rel_diff(name: str, value: Any, reference: Any) -> float:
    """Relative difference of a KPI from its reference, NaN where it means nothing.

    As :func:`abs_rel_diff`, but undefined (NaN) when the reference is within the KPI's
    absolute noise floor (:func:`~dcsim.results.tolerance.default_tolerance`) of zero and
    the values differ: a share of 2e-17 (zero up to rounding) against 0.45 is not a change
    of +2e18 %.

    Parameters
    ----------
    name
        KPI name (picks the tolerance family).
    value, reference
        The values [unit of the KPI].

    Returns
    -------
    float
        ``(value - reference) / |reference|`` [-], or NaN.
    """
    d_abs, d_rel = abs_rel_diff(value, reference)
    floor = default_tolerance(name).abs
    if d_abs != 0.0 and _is_number(reference) and abs(float(reference)) <= floor:
        return math.nan
    return d_rel


def _default_labels(
    items: Sequence[RunResult | str | Path], runs: Sequence[RunResult]
) -> list[str]:
    """Run folder names; made unique with the scenario folder, then with ``#<position>``."""
    names: list[str] = []
    parents: list[str] = []
    for item, run in zip(items, runs, strict=True):
        folder = Path(item) if isinstance(item, str | Path) else None
        if folder is None and run.meta.get("run_dir"):
            folder = Path(str(run.meta["run_dir"]))
        if folder is not None:
            names.append(folder.resolve().name)
            parents.append(folder.resolve().parent.name)
        else:
            names.append(run.scenario_name or "run")
            parents.append("")
    if len(set(names)) < len(names):
        names = [f"{p}/{n}" if p else n for p, n in zip(parents, names, strict=True)]
    if len(set(names)) < len(names):
        names = [f"{n}#{i}" for i, n in enumerate(names)]
    return names


def _kpi_frame(runs: Sequence[RunResult], labels: Sequence[str]) -> pd.DataFrame:
    keys: list[str] = []
    seen: set[str] = set()
    for run in runs:
        for key in run.kpis:
            if key not in seen:
                seen.add(key)
                keys.append(key)
    columns = {}
    for run, label in zip(runs, labels, strict=True):
        values = [run.kpis.get(k, math.nan) for k in keys]
        if all(_is_number(v) for v in values):
            columns[label] = pd.Series([float(v) for v in values], index=keys, dtype="float64")
        else:
            columns[label] = pd.Series(values, index=keys, dtype="object")
    frame = pd.DataFrame(columns)
    frame.index.name = "kpi"
    return frame


def month_indexed(table: pd.DataFrame) -> pd.DataFrame:
    """Index a capacity table by its month when its index is only a row number.

    Parameters
    ----------
    table
        A monthly table.

    Returns
    -------
    pandas.DataFrame
        ``table`` itself when its index is not a ``RangeIndex``; else indexed by its
        ``month`` (or ``time``, ``date``, ``period``, ``start``) column, or by its first
        datetime column; else unchanged.
    """
    if not isinstance(table.index, pd.RangeIndex):
        return table
    for name in _KEY_COLUMNS:
        if name in table.columns:
            return table.set_index(name)
    for name in table.columns:
        if pd.api.types.is_datetime64_any_dtype(table[name]):
            return table.set_index(name)
    return table


@dataclass(eq=False, repr=False)
class Comparison:
    """Runs side by side: KPI differences, aligned series and capacity tables.

    Build it with :func:`compare`. The first run is the reference.

    Parameters
    ----------
    runs
        The runs compared, the reference first.
    labels
        One distinct label per run (column names of every table).

    Attributes
    ----------
    kpis : pandas.DataFrame
        One row per KPI (index ``"kpi"``, the union of the runs' KPI names in first-seen
        order), one column per run label; values in each KPI's own unit; NaN where a run
        lacks the KPI.

    Examples
    --------
    >>> cmp = compare([res_a, res_b], labels=["base", "tight grid"])  # doctest: +SKIP
    >>> cmp.table.loc["served_tok", "tight grid.rel_diff_frac"]  # doctest: +SKIP
    -0.031
    """

    runs: list[RunResult]
    labels: list[str]

    def __post_init__(self) -> None:
        if len(self.labels) != len(self.runs):
            raise ValueError(f"labels: {len(self.labels)} labels for {len(self.runs)} runs")
        if len(set(self.labels)) != len(self.labels):
            raise ConfigError(f"labels: {list(self.labels)} must be distinct", where="compare")
        self.kpis = _kpi_frame(self.runs, self.labels)

    @property
    def reference(self) -> str:
        """Label of the reference run (the first)."""
        return self.labels[0]

    @property
    def differences(self) -> pd.DataFrame:
        """Tidy KPI differences: one row per (KPI, non-reference run).

        Returns
        -------
        pandas.DataFrame
            Columns ``kpi``, ``run`` (label), ``reference`` and ``value`` [unit of the KPI],
            ``abs_diff`` [unit of the KPI] and ``rel_diff_frac`` [-] (see
            :func:`abs_rel_diff`).
        """
        rows = []
        ref = self.kpis[self.reference]
        for label in self.labels[1:]:
            for kpi, value in self.kpis[label].items():
                d_abs = abs_rel_diff(value, ref[kpi])[0]
                d_rel = kpi_rel_diff(str(kpi), value, ref[kpi])
                rows.append(
                    {
                        "kpi": kpi,
                        "run": label,
                        "reference": ref[kpi],
                        "value": value,
                        "abs_diff": d_abs,
                        "rel_diff_frac": d_rel,
                    }
                )
        return pd.DataFrame(
            rows, columns=["kpi", "run", "reference", "value", "abs_diff", "rel_diff_frac"]
        )

    @property
    def table(self) -> pd.DataFrame:
        """The KPI table: values of every run, then differences of each from the reference.

        Returns
        -------
        pandas.DataFrame
            Index ``"kpi"``; columns: one per run label (values), and for every run but the
            reference ``<label>.abs_diff`` [unit of the KPI] and ``<label>.rel_diff_frac`` [-].
        """
        out = self.kpis.copy()
        ref = self.kpis[self.reference]
        for label in self.labels[1:]:
            items = list(self.kpis[label].items())
            out[label + ABS_SUFFIX] = [abs_rel_diff(v, ref[k])[0] for k, v in items]
            out[label + REL_SUFFIX] = [kpi_rel_diff(str(k), v, ref[k]) for k, v in items]
        return out

    def changed(self) -> list[str]:
        """KPIs that differ between any run and the reference beyond their tolerance.

        The tolerance is the KPI family's default
        (:func:`~dcsim.results.tolerance.default_tolerance`, as ``dcsim check`` uses): a
        residue of 1e-16 in a share, or a last-digit difference of an energy, is rounding,
        not a change. NaN equals NaN; text compares equal or not.
        """
        ref = self.kpis[self.reference]
        out = []
        for kpi in self.kpis.index:
            tol = default_tolerance(str(kpi))
            r = ref[kpi]
            if any(not tol.allows(self.kpis.at[kpi, label], r) for label in self.labels[1:]):
                out.append(str(kpi))
        return out

    # -- capacity forecast -----------------------------------------------------------------

    @property
    def capacity(self) -> pd.DataFrame | None:
        """The runs' monthly capacity tables side by side, or None when no run has one.

        Returns
        -------
        pandas.DataFrame or None
            Rows aligned on the table's month (its index, or its ``month``/first datetime
            column); columns a MultiIndex ``(column, run label)``, each quantity's runs next
            to each other, in the reference table's column order. Runs without a
            ``capacity`` table are left out.
        """
        tables = {
            label: month_indexed(run.extra_tables[CAPACITY_TABLE])
            for run, label in zip(self.runs, self.labels, strict=True)
            if CAPACITY_TABLE in run.extra_tables
        }
        if not tables:
            return None
        joined = pd.concat(tables, axis=1, names=["run", "column"]).swaplevel(axis=1)
        order: list[str] = []
        for table in tables.values():
            order += [c for c in table.columns if c not in order]
        run_order = list(tables)
        pairs = [(c, r) for c in order for r in run_order if (c, r) in joined.columns]
        return joined.loc[:, pairs]

    # -- series ----------------------------------------------------------------------------

    def series(self, columns: str | Iterable[str], align: Align = "auto") -> pd.DataFrame:
        """Chosen time-series columns of every run, aligned for an overlay.

        Parameters
        ----------
        columns
            Time-series column names (e.g. ``"it_power_w"``), or one name.
        align
            ``"time"``: join on the timestamp; ``"elapsed"``: on days since each run's
            start (index ``elapsed_d`` [d]), for runs of different start dates; ``"auto"``:
            ``"time"`` when every run starts at the same timestamp, else ``"elapsed"``.

        Returns
        -------
        pandas.DataFrame
            Columns a MultiIndex ``(column, run label)``; a run lacking a column is left out
            for that column.

        Raises
        ------
        ConfigError
            If a column is in no run (with a did-you-mean), or ``align`` is unknown.
        """
        names = [columns] if isinstance(columns, str) else list(columns)
        if align not in ("auto", "time", "elapsed"):
            raise ConfigError(f"{align!r} is not one of 'auto', 'time', 'elapsed'", "align")
        available: list[str] = []
        for run in self.runs:
            available += [c for c in run.timeseries.columns if c not in available]
        for name in names:
            if name not in available:
                match = difflib.get_close_matches(name, available, n=1, cutoff=0.6)
                hint = f"; did you mean {match[0]!r}?" if match else ""
                raise ConfigError(f"no run has a time-series column {name!r}{hint}", "--series")
        starts = {run.timeseries.index[0] for run in self.runs if len(run.timeseries)}
        mode = align if align != "auto" else ("time" if len(starts) <= 1 else "elapsed")
        parts: dict[tuple[str, str], pd.Series] = {}
        for name in names:
            for run, label in zip(self.runs, self.labels, strict=True):
                if name not in run.timeseries.columns:
                    continue
                s = run.timeseries[name]
                if mode == "elapsed" and len(s):
                    elapsed = (s.index - s.index[0]) / pd.Timedelta(seconds=units.D_S)
                    s = pd.Series(s.to_numpy(), index=pd.Index(elapsed, name="elapsed_d"))
                parts[(name, label)] = s
        frame = pd.concat(parts, axis=1)
        frame.columns = pd.MultiIndex.from_tuples(list(parts), names=["column", "run"])
        return frame

    # -- output ----------------------------------------------------------------------------

    def to_csv(self, path: str | Path) -> list[Path]:
        """Write the KPI table as CSV, and the capacity tables beside it when present.

        Parameters
        ----------
        path
            CSV file of :attr:`table` (full precision). When the runs have capacity tables,
            they go to ``<stem>-capacity.csv`` in the same folder.

        Returns
        -------
        list of pathlib.Path
            The files written.
        """
        target = Path(path)
        cap = self.capacity
        cap_path = target.with_name(f"{target.stem}-capacity.csv")
        for p in [target] + ([cap_path] if cap is not None else []):
            check_output_file(p, "--csv")
        with atomic_path(target) as tmp:
            self.table.to_csv(tmp)
        written = [target]
        if cap is not None:
            flat = cap.copy()
            flat.columns = [f"{c}[{r}]" for c, r in cap.columns]
            with atomic_path(cap_path) as tmp:
                flat.to_csv(tmp)
            written.append(cap_path)
        return written

    def to_markdown(self, path: str | Path | None = None, only_changed: bool = False) -> str:
        """The comparison as a markdown document (KPI table, then capacity tables).

        Parameters
        ----------
        path
            Also write the text to this file.
        only_changed
            List only the KPIs that differ between runs.

        Returns
        -------
        str
            Markdown text.
        """
        lines = [f"# Comparison against `{self.reference}`", ""]
        lines.append(markdown_table(*self.rows(only_changed=only_changed)))
        cap_rows = self.capacity_rows()
        if cap_rows is not None:
            lines += ["", "## Monthly capacity forecast", ""]
            lines.append(markdown_table(*cap_rows))
        text = "\n".join(lines) + "\n"
        if path is not None:
            write_text_atomic(text, check_output_file(path, "--markdown"))
        return text

    def rows(self, only_changed: bool = False) -> tuple[list[str], list[list[str]]]:
        """Header and formatted rows of the KPI table, as shown in a terminal or markdown.

        Parameters
        ----------
        only_changed
            Keep only the KPIs listed by :meth:`changed`.

        Returns
        -------
        header : list of str
            ``KPI``, each run label, then ``<label> diff`` and ``<label> diff %`` per
            non-reference run (just ``diff`` and ``diff %`` when there are two runs).
        rows : list of list of str
            Values with 6 significant digits, differences signed.
        """
        header = ["KPI", *self.labels]
        for label in self.labels[1:]:
            # With one run against the reference, "diff" is unambiguous and keeps it narrow.
            name = "" if len(self.labels) == 2 else f"{label} "
            header += [f"{name}diff", f"{name}diff %"]
        changed = set(self.changed())
        table = self.table
        ref = self.kpis[self.reference]
        rows = []
        for kpi, row in table.iterrows():
            if only_changed and kpi not in changed:
                continue
            name = str(kpi)
            cells = [name] + [format_quantity(name, row[label]) for label in self.labels]
            tol = default_tolerance(name)
            for label in self.labels[1:]:
                if kpi not in changed or tol.allows(self.kpis.at[kpi, label], ref[kpi]):
                    # Within the KPI's tolerance: rounding, not a change.
                    cells += ["=", "="]
                    continue
                cells += [
                    format_quantity(name, row[label + ABS_SUFFIX], signed=True),
                    format_percent(row[label + REL_SUFFIX]),
                ]
            rows.append(cells)
        return header, rows

    def capacity_rows(self) -> tuple[list[str], list[list[str]]] | None:
        """The monthly capacity tables for people: one row per quantity and run, months across.

        Returns
        -------
        tuple or None
            Header (``quantity``, ``run``, one month per column as ``YYYY-MM``) and rows of
            values formatted by :func:`dcsim.report_format.format_quantity`; None when no run
            has a capacity table.
        """
        cap = self.capacity
        if cap is None:
            return None
        months = [_fmt_month(idx) for idx in cap.index]
        header = ["quantity", "run", *months]
        rows = []
        for column, run in cap.columns:
            values = cap[(column, run)].to_numpy()
            rows.append([str(column), str(run), *(format_quantity(str(column), v) for v in values)])
        return header, rows

    def __repr__(self) -> str:
        return (
            f"Comparison(reference={self.reference!r}, runs={self.labels}, "
            f"kpis={len(self.kpis)}, changed={len(self.changed())}, "
            f"capacity={'yes' if self.capacity is not None else 'no'})"
        )


def compare(
    runs: Sequence[RunResult | str | Path], labels: Sequence[str] | None = None
) -> Comparison:
    """Compare runs against the first one.

    Parameters
    ----------
    runs
        At least two runs: :class:`~dcsim.results.run_result.RunResult` objects or run folder
        paths (``results/<scenario>/<run-id>``), the reference first.
    labels
        A distinct name per run; default the run folder names (made unique with the
        scenario folder when needed).

    Returns
    -------
    Comparison
        KPI table with absolute and relative differences (:attr:`Comparison.table`),
        aligned series (:meth:`Comparison.series`) and capacity tables side by side
        (:attr:`Comparison.capacity`).

    Raises
    ------
    ConfigError
        ``"<folder>: not a dcsim run folder (missing kpis.json)"`` for a folder that is not a
        complete run; fewer than two runs; labels that are not distinct.

    Examples
    --------
    >>> import dcsim
    >>> a = dcsim.run("scenarios/small-hall.yaml", overrides={"horizon_s": "1d"})
    >>> b = dcsim.run(
    ...     "scenarios/small-hall.yaml",
    ...     overrides={"horizon_s": "1d", "sites.main.import_limit_mw": 1.1},
    ... )
    >>> cmp = dcsim.compare([a, b], labels=["base", "1.1 MW"])
    >>> cmp.table.loc["power_capped_tok", "1.1 MW.abs_diff"] > 0
    True
    """
    items = list(runs)
    if len(items) < 2:
        raise ConfigError(f"expected at least 2 runs to compare, got {len(items)}", "compare")
    loaded = [_as_run(item) for item in items]
    names = list(labels) if labels is not None else _default_labels(items, loaded)
    if len(names) != len(loaded):
        raise ConfigError(f"{len(names)} labels for {len(loaded)} runs", "compare: labels")
    return Comparison(runs=loaded, labels=names)


# -- text formatting shared by compare and check -----------------------------------------------


def fmt_value(value: Any) -> str:
    """A KPI value for people: 6 significant digits, ``-`` for missing."""
    if value is None:
        return "-"
    if _is_number(value):
        v = float(value)
        return "-" if math.isnan(v) else f"{v:.6g}"
    return str(value)


def fmt_diff(value: Any) -> str:
    """A signed difference with 4 significant digits, ``-`` for NaN."""
    if not _is_number(value) or math.isnan(float(value)):
        return "-"
    return f"{float(value):+.4g}"


def fmt_pct(value: Any) -> str:
    """A relative difference [-] as a signed percentage, ``-`` for NaN."""
    if not _is_number(value) or math.isnan(float(value)):
        return "-"
    return f"{100.0 * float(value):+.3g} %"


def _fmt_month(value: Any) -> str:
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).strftime("%Y-%m")
    return str(value)


def _fmt_key(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else str(value)
    if isinstance(value, np.datetime64):
        return _fmt_key(pd.Timestamp(value))
    return str(value)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured markdown table; columns after the first are right-aligned.

    Parameters
    ----------
    header
        Column titles.
    rows
        Cell texts, one list per row (``|`` is escaped).

    Returns
    -------
    str
        The table, one line per row, without a trailing newline.

    Examples
    --------
    >>> print(markdown_table(["KPI", "a"], [["pue", "1.2"]]))
    | KPI | a |
    |:--|--:|
    | pue | 1.2 |
    """

    def cell(text: Any) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(cell(h) for h in header) + " |"]
    out.append("|" + "|".join([":--"] + ["--:"] * (len(header) - 1)) + "|")
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(out)
