"""Preallocated record buffers and the event log.

The kernel adds each tick's values, weighted by 1/ticks-per-row, into the row of its record
interval, so a row holds the time-weighted mean over that interval (exact for quantities that
are constant over a tick). Ratio columns are derived here from the recorded flows, never
averaged directly: PUE = facility energy / IT energy over the row, and so on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dcsim import units
from dcsim.errors import ConfigError
from dcsim.kernels import cooling_layout as CL
from dcsim.kernels import layout as L
from dcsim.kernels import window_layout as WL
from dcsim.model.events import EVENT_COLUMNS
from dcsim.model.plant import Plant
from dcsim.sim.regions import region_record_buffer, region_timeseries

#: Site columns summed into the campus time series (facility and import are there already).
CAMPUS_SITE_COLUMNS = (
    L.SR_SOLAR,
    L.SR_CLEAN,
    L.SR_TURBINE,
    L.SR_BATTERY,
    L.SR_SOC,
    L.SR_SPILL,
    L.SR_CURTAILED,
    L.SR_GRID_AVAIL,
    L.SR_SHED,
    L.SR_UNMET,
)


@dataclass
class Recorder:
    """Record buffers of one run, sized once from the plant."""

    plant: Plant
    rec: np.ndarray = field(init=False)
    class_rec: np.ndarray = field(init=False)
    hall_rec: np.ndarray = field(init=False)
    site_rec: np.ndarray = field(init=False)
    flow_check: np.ndarray = field(init=False)
    events: list[tuple[float, str, str, str, float]] = field(default_factory=list)
    #: Buffer of the events the compiled tick emits (rows ``layout.EV_*``) and its fill count.
    kernel_events: np.ndarray = field(init=False)
    n_kernel_events: np.ndarray = field(init=False)
    #: Row of ``window_rec`` of each tick (-1 outside the windows; empty: no windows) and the
    #: per-tick, per-cell window record (columns ``window_layout.WR_*``).
    window_row: np.ndarray = field(init=False)
    window_rec: np.ndarray = field(init=False)
    #: Per class and user region (``dcsim.sim.regions``); zero regions without them.
    region_rec: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        p = self.plant
        n_rows = -(-p.n_ticks // p.ticks_per_rec)
        n_hrows = -(-p.n_ticks // p.ticks_per_hall_rec)
        self.rec = np.zeros((n_rows, L.R_NCOLS))
        self.class_rec = np.zeros((n_rows, len(p.class_names), L.KR_NCOLS))
        self.hall_rec = np.zeros((n_hrows, len(p.hall_names), L.HR_NCOLS))
        self.site_rec = np.zeros((n_rows, len(p.site_names), L.SR_NCOLS))
        self.flow_check = np.zeros(2)
        self.reserve_kernel_events(1)
        self.reserve_windows([])
        self.region_rec = region_record_buffer(p)

    def reserve_windows(self, spans: list[tuple[int, int]]) -> None:
        """Record every cell at each tick of the given spans ``(first tick, ticks)``.

        Overlapping spans share rows; ticks outside every span cost nothing but one index
        lookup. No spans: zero-size buffers.
        """
        p = self.plant
        n_cell = int(p.cell_pool.shape[0])
        if not spans:
            self.window_row = np.zeros(0, dtype=np.int64)
            self.window_rec = np.zeros((0, n_cell, WL.WR_NCOLS))
            return
        inside = np.zeros(p.n_ticks, dtype=bool)
        for t0, n in spans:
            inside[max(t0, 0) : min(t0 + n, p.n_ticks)] = True
        self.window_row = np.where(inside, np.cumsum(inside) - 1, -1).astype(np.int64)
        self.window_rec = np.zeros((int(inside.sum()), n_cell, WL.WR_NCOLS))

    def release_series(self) -> None:
        """Drop the campus, class, site and hall buffers and the event list.

        For a caller that has built their tables (:meth:`timeseries`,
        :meth:`site_timeseries`, :meth:`hall_timeseries`, :meth:`events_frame`): the tables
        hold copies, and a ten-year run would otherwise hold its recorded output twice while
        the rest of its results are computed. The window and region records and the checks
        stay; the table methods above cannot be called afterwards.
        """
        self.rec = self.class_rec = self.hall_rec = self.site_rec = None
        self.events = []

    def window_cells(self, t0: int, n: int) -> np.ndarray:
        """The window record of ticks ``t0 .. t0 + n - 1``, shape (n, n_cell, WR_NCOLS).

        Raises
        ------
        ValueError
            If a tick of the span was not recorded (not reserved before the run).
        """
        rows = self.window_row[t0 : t0 + n] if self.window_row.size else np.zeros(0, np.int64)
        if rows.shape[0] != n or (rows < 0).any():
            raise ValueError(f"ticks {t0}..{t0 + n - 1} were not recorded for a window")
        return self.window_rec[rows]

    def reserve_kernel_events(self, ticks_per_call: int) -> None:
        """Size the kernel event buffer for calls of up to ``ticks_per_call`` ticks.

        A site emits at most one turbine and one battery event per tick, so the buffer never
        overflows between two drains.
        """
        n_site = len(self.plant.site_names)
        self.kernel_events = np.zeros((2 * n_site * max(ticks_per_call, 1), L.EV_NCOLS))
        self.n_kernel_events = np.zeros(1, dtype=np.int64)

    def drain_kernel_events(self) -> None:
        """Move the events of the last compiled call into the event log."""
        n = int(self.n_kernel_events[0])
        if n > self.kernel_events.shape[0]:
            raise RuntimeError(f"kernel event buffer overflow: {n} events")
        p = self.plant
        for row in self.kernel_events[:n]:
            kind = int(row[L.EV_KIND])
            # A turbine change takes effect from the next tick; a battery mode holds from the
            # tick in which it was dispatched.
            tick = int(row[L.EV_TICK])
            if kind in (L.EV_KIND_TURBINE_START, L.EV_KIND_TURBINE_STOP):
                tick += 1
            self.log(
                tick * p.tick_s,
                L.EV_KIND_NAMES[kind],
                p.site_names[int(row[L.EV_SITE])],
                "",
                float(row[L.EV_VALUE]),
            )
        self.n_kernel_events[0] = 0

    def log(self, t_s: float, kind: str, asset: str, detail: str, value: float) -> None:
        """Append one event record."""
        self.events.append((t_s, kind, asset, detail, float(value)))

    def check_finite(self) -> None:
        """Fail on a recorded series or check that is not a number.

        Every recorded flow must be finite; a NaN or infinity means a non-finite input (an
        infinite limit, a NaN in a data file) reached the physics. The balance check must be
        a number and the limit check a number or +inf (unmet demand).

        Raises
        ------
        ConfigError
            One line naming the series (and site, hall or class) and the first time.
        """
        p = self.plant
        buffers = (
            ("timeseries", self.rec, L.R_NAMES, None, p.ticks_per_rec),
            ("timeseries", self.class_rec, L.KR_NAMES, p.class_names, p.ticks_per_rec),
            ("site_timeseries", self.site_rec, L.SR_NAMES, p.site_names, p.ticks_per_rec),
            ("hall_timeseries", self.hall_rec, L.HR_NAMES, p.hall_names, p.ticks_per_hall_rec),
        )
        for table, buf, names, assets, ticks_per_row in buffers:
            bad = ~np.isfinite(buf)
            if not bad.any():
                continue
            # Row-major order: the first bad element is in the earliest bad row.
            idx = np.unravel_index(int(np.flatnonzero(bad.ravel())[0]), buf.shape)
            row = int(idx[0])
            col = names[int(idx[-1])]
            where = col if assets is None else f"{assets[int(idx[1])]}.{col}"
            when = self.plant.start + dt.timedelta(seconds=row * ticks_per_row * p.tick_s)
            raise ConfigError(
                f"{table} column {where} is {buf[idx]} from {when:%Y-%m-%d %H:%M} on: a "
                "non-finite input (an infinite limit or a NaN in a data file) reached the "
                "physics; give finite values"
            )
        if np.isnan(self.flow_check).any() or self.flow_check[0] == np.inf:
            which = "energy balance" if not np.isfinite(self.flow_check[0]) else "power limit"
            raise ConfigError(
                f"the {which} check is not a number: a non-finite input (an infinite limit or "
                "a NaN in a data file) reached the physics; give finite values"
            )

    def _index(self, ticks_per_row: int, n_rows: int) -> pd.DatetimeIndex:
        step = dt.timedelta(seconds=ticks_per_row * self.plant.tick_s)
        return pd.DatetimeIndex(
            [self.plant.start + i * step for i in range(n_rows)], name="time"
        ).as_unit("us")

    def _as_means(self, buf: np.ndarray, ticks_per_row: int) -> np.ndarray:
        """The buffer's rows as means over their ticks.

        The buffer itself when every row is whole (read, never written), else a copy with
        the short last row rescaled.
        """
        if self.plant.n_ticks % ticks_per_row == 0:
            return buf
        out = buf.copy()
        self._partial_last_row(out, ticks_per_row)
        return out

    def _partial_last_row(self, rec: np.ndarray, ticks_per_row: int) -> None:
        # A horizon that is not a whole number of rows leaves a short last row whose sums
        # were weighted by 1/ticks_per_row; rescale it to a mean over the ticks it holds.
        rem = self.plant.n_ticks % ticks_per_row
        if rem:
            rec[-1] *= ticks_per_row / rem

    def timeseries(self) -> pd.DataFrame:
        """Campus and per-class time series, unit-suffixed columns."""
        p = self.plant
        # No copies of a long run's buffers unless a short last row must be rescaled.
        rec = self._as_means(self.rec, p.ticks_per_rec)
        cls = self._as_means(self.class_rec, p.ticks_per_rec)
        df = pd.DataFrame(
            rec, columns=list(L.R_NAMES), index=self._index(p.ticks_per_rec, rec.shape[0])
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            df["slo_attainment_frac"] = np.where(
                rec[:, L.R_INTERACTIVE_DEMAND] > 0,
                rec[:, L.R_SLO_WEIGHTED] / rec[:, L.R_INTERACTIVE_DEMAND],
                np.nan,
            )
            df["pue"] = np.where(rec[:, L.R_IT] > 0, rec[:, L.R_FACILITY] / rec[:, L.R_IT], np.nan)
            df["tok_per_j"] = np.where(
                rec[:, L.R_FACILITY] > 0, rec[:, L.R_SERVED] / rec[:, L.R_FACILITY], np.nan
            )
        row_s = p.ticks_per_rec * p.tick_s
        liquid = p.cool_par[:, CL.CP_TYPE] != CL.COOLING_FIXED_COP
        if not liquid.any():  # no loop temperatures to report
            df = df.drop(columns=["temp_fws_degc", "temp_fws_max_degc", "temp_tcs_supply_max_degc"])
        with np.errstate(divide="ignore", invalid="ignore"):
            df["throttle_frac"] = np.where(
                rec[:, L.R_UNTHROTTLED_CAPACITY] > 0,
                rec[:, L.R_THROTTLED_CAPACITY] / rec[:, L.R_UNTHROTTLED_CAPACITY],
                0.0,
            )
            # Water per row and per kWh of IT energy (The Green Grid WUE).
            df["water_l"] = rec[:, L.R_WATER] * row_s
            df["wue_l_per_kwh"] = np.where(
                rec[:, L.R_IT] > 0, rec[:, L.R_WATER] / (rec[:, L.R_IT] / units.KWH_J), np.nan
            )
        if p.n_ticks % p.ticks_per_rec:
            df.iloc[-1, df.columns.get_loc("water_l")] *= (
                p.n_ticks % p.ticks_per_rec
            ) / p.ticks_per_rec
        site = self._as_means(self.site_rec, p.ticks_per_rec)
        campus = site.sum(axis=1)
        for j in CAMPUS_SITE_COLUMNS:
            df[L.SR_NAMES[j]] = campus[:, j]
        df["onsite_gen_w"] = campus[:, L.SR_SOLAR] + campus[:, L.SR_CLEAN] + campus[:, L.SR_TURBINE]
        for k, name in enumerate(p.class_names):
            for j, col in enumerate(L.KR_NAMES[: L.KR_PUBLIC]):
                df[f"{name}.{col}"] = cls[:, k, j]
            if p.class_par[k, L.K_INTERACTIVE] <= 0.0:
                continue  # no request queue, no latency
            # Served-token-weighted means over the class's cells (one output length per
            # class: the same as weighting by requests).
            w = cls[:, k, L.KR_LATENCY_SERVED]
            with np.errstate(divide="ignore", invalid="ignore"):
                for col, j in L.KR_LATENCY_NAMES:
                    df[f"{name}.{col}"] = np.where(w > 0, cls[:, k, j] / w, np.nan)
        return df

    def site_timeseries(self) -> pd.DataFrame:
        """Per-site supply detail at the campus record interval, long format (time, site, ...)."""
        p = self.plant
        site = self._as_means(self.site_rec, p.ticks_per_rec)
        idx = self._index(p.ticks_per_rec, site.shape[0])
        frames = []
        for s, name in enumerate(p.site_names):
            data = {col: site[:, s, j] for j, col in enumerate(L.SR_NAMES)}
            frames.append(pd.DataFrame({"site": name, **data}, index=idx))
        return pd.concat(frames).reset_index()

    def region_timeseries(self) -> pd.DataFrame | None:
        """Per region and class (``dcsim.sim.regions.region_timeseries``); None without."""
        p = self.plant
        if p.regions is None:
            return None
        index = self._index(p.ticks_per_rec, self.region_rec.shape[0])
        return region_timeseries(p, self.region_rec, index)

    def hall_timeseries(self) -> pd.DataFrame:
        """Per-hall detail at the coarser interval, long format (time, hall, columns)."""
        p = self.plant
        # Long format, hall by hall (every time of the first hall, then the next), built in
        # one block: the buffer copied once, hall-major, and edited through a (time, hall)
        # view (a table per hall and their concatenation held a long run's hall series
        # three times over).
        by_hall = np.ascontiguousarray(self.hall_rec.transpose(1, 0, 2))
        hrec = by_hall.transpose(1, 0, 2)
        self._partial_last_row(hrec, p.ticks_per_hall_rec)
        n_rows = hrec.shape[0]
        # HR_CAP holds sum(cap x serving racks): turn it into a rack-weighted mean cap.
        with np.errstate(divide="ignore", invalid="ignore"):
            hrec[:, :, L.HR_CAP] = np.where(
                hrec[:, :, L.HR_SERVING] > 0,
                hrec[:, :, L.HR_CAP] / hrec[:, :, L.HR_SERVING],
                np.nan,
            )
        liquid = p.cool_par[:, CL.CP_TYPE] != CL.COOLING_FIXED_COP
        hrec[:, ~liquid, L.HR_T_FWS] = np.nan
        hrec[:, ~liquid, L.HR_T_TCS_SUPPLY] = np.nan
        idx = self._index(p.ticks_per_hall_rec, n_rows)
        n_hall = len(p.hall_names)
        long = by_hall.reshape(n_hall * n_rows, L.HR_NCOLS)  # a view
        df = pd.DataFrame(long, columns=list(L.HR_NAMES), copy=False)
        df.insert(0, "hall", np.repeat(np.asarray(p.hall_names, dtype=object), n_rows))
        df.insert(0, "time", np.tile(idx.to_numpy(), n_hall))
        return df

    def events_frame(self) -> pd.DataFrame:
        """The event log as a table with absolute times."""
        p = self.plant
        if not self.events:
            return pd.DataFrame({c: pd.Series(dtype=t) for c, t in EVENT_COLUMNS.items()})
        # Column by column: ``zip(*events)`` builds a tuple per column from millions of
        # arguments, and its allocations set the garbage collector off (~5x slower).
        ev = self.events
        t_s = np.asarray([e[0] for e in ev])
        times = pd.to_datetime(p.start) + pd.to_timedelta(t_s, unit="s")
        return pd.DataFrame(
            {
                "time": times.as_unit("us"),
                "kind": [e[1] for e in ev],
                "asset": [e[2] for e in ev],
                "detail": [e[3] for e in ev],
                "value": np.array([e[4] for e in ev], dtype=float),
            }
        )
