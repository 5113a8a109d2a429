"""The in-memory result of one simulation run.

A :class:`RunResult` is what ``dcsim.run`` returns and what :func:`dcsim.results.io.read_run`
loads back from a run folder. It is a plain container: the tables are computed by the
recorder and the metrics module, the folder layout lives in :mod:`dcsim.results.io`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dcsim.model.events import EVENT_COLUMNS

__all__ = ["EVENT_COLUMNS", "RunResult", "empty_events"]

#: How many KPIs ``repr`` shows before eliding the rest.
_REPR_KPIS = 4


def empty_events(tz: str | None = None) -> pd.DataFrame:
    """Return an events table with no rows and the documented columns and dtypes.

    Parameters
    ----------
    tz
        Time zone of the ``time`` column (``None`` for naive timestamps, ``"UTC"``, ...);
        use the same as the time-series index.

    Returns
    -------
    pandas.DataFrame
        Columns ``time, kind, asset, detail, value`` (see :class:`RunResult`), zero rows.
    """
    columns: dict[str, pd.Series] = {}
    for name, dtype in EVENT_COLUMNS.items():
        if name == "time" and tz is not None:
            dtype = pd.DatetimeTZDtype(unit="us", tz=tz)
        columns[name] = pd.Series([], dtype=dtype)
    return pd.DataFrame(columns)


@dataclass(eq=False, repr=False)
class RunResult:
    """Everything one simulation run produced, plus what is needed to reproduce it.

    Parameters
    ----------
    timeseries
        Campus-level time series: a ``pandas.DatetimeIndex`` named ``"time"`` (one row per
        recorded tick; the index carries no ``freq`` after a round trip through Parquet)
        and float columns whose names end in a unit suffix from :mod:`dcsim.units`, e.g.
        ``it_power_w`` [W], ``served_tok_per_s`` [tok/s], ``outdoor_temp_degc`` [degC].
        Piecewise-constant quantities are time-weighted averages over the tick.
    events
        Flat event log, one row per discrete event, in time order, with columns

        ``time`` : datetime64
            When the event happened (same time zone as the time-series index).
        ``kind`` : str
            What happened, a short snake_case tag (``"delivery"``, ``"rack_failure"``,
            ``"repair"``, ``"curtailment_start"``, ``"cdu_fault"``, ...).
        ``asset`` : str
            Which asset it concerns (``"hall-3/rack-0042"``, ``"feed-a"``); ``""`` for
            campus-wide events.
        ``detail`` : str
            Free text for people reading the log; ``""`` when there is nothing to add.
        ``value`` : float
            The event's quantity in SI, its unit named by ``kind`` or ``detail`` (e.g. the
            curtailed power [W] or the number of racks delivered); NaN when not applicable.

        :func:`empty_events` builds a table with these columns and no rows.
    kpis
        Headline numbers of the run, keyed by unit-suffixed names
        (``"served_tok"`` [tok], ``"energy_j"`` [J], ``"pue"`` [-], ...); values are
        ``float``, ``int`` or ``str``. NaN means "not defined for this run".
    scenario
        The validated scenario (a pydantic ``Scenario``) for a fresh run, or the plain dict
        parsed from ``scenario.yaml`` for a run read back from disk (re-validation belongs to
        ``dcsim.scenario``). Typed as ``Any`` to keep ``results`` free of import cycles.
    meta
        Provenance: seed, scenario hash, dcsim and library versions, git sha, platform,
        start time and wall time [s]; see :func:`dcsim.results.meta.build_metadata`.
    extra_tables
        Further tables by name, each written as ``<name>.parquet`` in the run folder, e.g.
        ``"hall_timeseries"`` (per-hall series) or ``"capacity"``. Names are file stems:
        letters, digits, ``_`` and ``-``, not ``"timeseries"`` or ``"events"``.

    Raises
    ------
    TypeError
        If ``timeseries`` or ``events`` is not a DataFrame, or the time-series index is not
        a ``DatetimeIndex``.
    ValueError
        If the time-series index is not named ``"time"`` or ``events`` lacks a column.
    """

    timeseries: pd.DataFrame
    events: pd.DataFrame
    kpis: dict[str, float | int | str]
    scenario: Any
    meta: dict[str, Any]
    extra_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    requests_source: Any = None

    def __post_init__(self) -> None:
        # The run folder and every consumer rely on this shape; failing here points at the
        # producer instead of at a plot three modules later.
        if not isinstance(self.timeseries, pd.DataFrame):
            raise TypeError(f"RunResult.timeseries: expected a DataFrame, got {self.timeseries!r}")
        if not isinstance(self.timeseries.index, pd.DatetimeIndex):
            raise TypeError(
                "RunResult.timeseries: index must be a DatetimeIndex, got "
                f"{type(self.timeseries.index).__name__}"
            )
        if self.timeseries.index.name != "time":
            raise ValueError(
                "RunResult.timeseries: index must be named 'time', got "
                f"{self.timeseries.index.name!r}"
            )
        if not isinstance(self.events, pd.DataFrame):
            raise TypeError(f"RunResult.events: expected a DataFrame, got {self.events!r}")
        missing = [c for c in EVENT_COLUMNS if c not in self.events.columns]
        if missing:
            raise ValueError(f"RunResult.events: missing columns {missing}")

    @property
    def requests(self) -> pd.DataFrame | None:
        """Requests of the windows (``requests.parquet``), loaded on first use; None if none."""
        if self.requests_source is None or isinstance(self.requests_source, pd.DataFrame):
            return self.requests_source
        self.requests_source = pd.read_parquet(self.requests_source, engine="pyarrow")
        return self.requests_source

    @property
    def scenario_name(self) -> str | None:
        """Name of the scenario, from the scenario object, its dict, or ``meta``."""
        name = getattr(self.scenario, "name", None)
        if name is None and isinstance(self.scenario, dict):
            name = self.scenario.get("name")
        if name is None:
            name = self.meta.get("scenario_name")
        return None if name is None else str(name)

    def local_time(self, table: str = "timeseries", site: str | None = None) -> pd.Series:
        """Local standard time of each row of a table, at one site.

        Every table of a run is stamped in UTC; this gives a site's wall clock back, e.g.
        ``res.local_time().dt.hour`` for an hour-of-day profile.

        Parameters
        ----------
        table
            ``"timeseries"``, ``"events"`` or an extra table with a ``time`` column
            (``"site_timeseries"``, ``"hall_timeseries"``).
        site
            Site name; default the first site (the campus clock that ``start`` and the
            demand profiles follow).

        Returns
        -------
        pandas.Series
            ``local_time`` stamps in the site's fixed zone (``UTC-05:00``, ...), indexed
            like the table.

        Raises
        ------
        KeyError
            An unknown table or site, or a table without time stamps.
        """
        from dcsim.results.local_time import local_time, site_utc_offsets_h

        offsets = site_utc_offsets_h(self.scenario)
        if site is None:
            offset_h = next(iter(offsets.values()), 0.0)
        elif site in offsets:
            offset_h = offsets[site]
        else:
            raise KeyError(f"site {site!r}: expected one of {sorted(offsets)}")
        frames = {"timeseries": self.timeseries, "events": self.events, **self.extra_tables}
        if table not in frames:
            raise KeyError(f"table {table!r}: expected one of {sorted(frames)}")
        frame = frames[table]
        if "time" in frame.columns:
            return local_time(frame["time"], offset_h)
        if isinstance(frame.index, pd.DatetimeIndex):
            return pd.Series(local_time(frame.index, offset_h), index=frame.index)
        raise KeyError(f"table {table!r} has no time stamps")

    def __repr__(self) -> str:
        index = self.timeseries.index
        if len(index):
            horizon = f"{index[0]} .. {index[-1]}"
        else:
            horizon = "empty"
        shown = list(self.kpis.items())[:_REPR_KPIS]
        kpi_text = ", ".join(f"{k}={_short(v)}" for k, v in shown)
        if len(self.kpis) > _REPR_KPIS:
            kpi_text += f", ... ({len(self.kpis)} total)"
        extras = f", extra_tables={sorted(self.extra_tables)}" if self.extra_tables else ""
        return (
            f"RunResult(scenario={self.scenario_name!r}, horizon={horizon}, "
            f"timeseries={len(self.timeseries)} rows x {self.timeseries.shape[1]} cols, "
            f"events={len(self.events)}, kpis={{{kpi_text}}}{extras})"
        )


def _short(value: object) -> str:
    """Format one KPI value compactly for ``repr``."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return repr(value)
