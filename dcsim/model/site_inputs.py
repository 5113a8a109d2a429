"""Per-tick site inputs produced a chunk of ticks at a time (MODEL.md sections 4 and 5).

The compiled tick reads, per site and tick, the contract, the import available, solar, the
clean block, the arbitrage signal, the coincident-peak flag and the dry and wet bulb
(:class:`dcsim.kernels.bundles.Inputs`). A run does not hold them for the horizon:
:meth:`SiteInputs.fill` writes ticks ``[t0, t1)`` into the kernel's per-call buffers from
what is kept at hourly or coarser resolution (the hourly weather, the grid schedules of
:class:`~dcsim.model.grid.SiteSchedule`). Every value is a function of its own tick's time,
so any chunking gives the values of the whole horizon, bit for bit; nothing here is random
after the build (random curtailments and clean-block outages are drawn once, as intervals).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dcsim.kernels import layout as L
from dcsim.model.grid import SERIES, GridPlant
from dcsim.model.weather import WeatherHourly, weather_ticks

#: Site series filled per chunk: the grid's, then the weather's (names of ``bundles.Inputs``).
FIELDS = (*SERIES, "t_db_degc", "t_wb_degc")
#: Column of each field in the horizon-long site table (``layout.ST_*``).
COLUMNS = {
    "contract_w": L.ST_CONTRACT_W,
    "grid_avail_w": L.ST_GRID_AVAIL_W,
    "solar_w": L.ST_SOLAR_W,
    "clean_w": L.ST_CLEAN_W,
    "batt_cmd": L.ST_BATT_CMD,
    "cp_shed": L.ST_CP_SHED,
    "t_db_degc": L.ST_T_DB_DEGC,
    "t_wb_degc": L.ST_T_WB_DEGC,
}


@dataclass(frozen=True)
class SiteInputs:
    """The per-tick site inputs of a plant, evaluated for a range of ticks on demand.

    Attributes
    ----------
    grid
        Grid and on-site schedules of every site.
    weather
        Hourly weather of every site.
    tick_s
        Tick length [s].
    n_ticks
        Ticks in the horizon [count].
    """

    grid: GridPlant
    weather: list[WeatherHourly]
    tick_s: float
    n_ticks: int

    @property
    def n_site(self) -> int:
        """Sites [count]."""
        return len(self.weather)

    def fill(self, t0: int, t1: int, out) -> None:
        """Write ticks ``[t0, t1)`` into the first ``t1 - t0`` columns of ``out``'s arrays.

        Parameters
        ----------
        t0, t1
            Tick range [count].
        out
            An object with one (n_site, >= t1 - t0) float64 array per name of
            :data:`FIELDS` (a :class:`dcsim.kernels.bundles.Inputs`).
        """
        n = t1 - t0
        if n <= 0:
            return
        window = self.grid.window(t0, t1)
        for name in SERIES:
            getattr(out, name)[:, :n] = window[name]
        for s, w in enumerate(self.weather):
            ticks = weather_ticks(w, self.tick_s, n, t0)
            out.t_db_degc[s, :n] = ticks["t_db_degc"]
            out.t_wb_degc[s, :n] = ticks["t_wb_degc"]

    def table(self, t0: int = 0, t1: int | None = None) -> np.ndarray:
        """Ticks ``[t0, t1)`` as a (n_site, n, ``layout.ST_NCOLS``) table (tests, studies).

        Parameters
        ----------
        t0, t1
            Tick range; default the whole horizon [count].
        """
        t1 = self.n_ticks if t1 is None else t1
        buf = _Buffers(self.n_site, t1 - t0)
        self.fill(t0, t1, buf)
        out = np.zeros((self.n_site, t1 - t0, L.ST_NCOLS))
        for name, col in COLUMNS.items():
            out[:, :, col] = getattr(buf, name)
        return out


class _Buffers:
    """Plain arrays named as in :data:`FIELDS` (the target of :meth:`SiteInputs.table`)."""

    def __init__(self, n_site: int, n: int) -> None:
        for name in FIELDS:
            setattr(self, name, np.zeros((n_site, n)))
