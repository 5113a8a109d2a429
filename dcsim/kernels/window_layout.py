"""Columns of the per-cell window record (``Record.window_rec``, docs/windows.md).

For every tick inside a request-level window (and its warm-up) the kernel writes, per cell,
what the request-level replay needs: the load offered to one serving rack, the cell's served
rate, its GPU power cap, its racks serving, the rack capacity at that cap and its hall's
thermal state. One row per tick, not a mean: the replay steps at the tick.
"""

from __future__ import annotations

WR_OFFERED_RACK = 0  # load offered to one serving rack [tok/s]
WR_DELIVERED = 1  # served by the cell [tok/s]
WR_CAP = 2  # GPU power cap [frac of the board power limit]
WR_SERVING = 3  # racks serving (after a site shed) [racks]
WR_X_CAP = 4  # rack capacity at the cap [tok/s]
WR_T_FWS = 5  # facility water supply temperature of the hall [degC]; NaN for fixed-COP halls
WR_THERMAL_BOUND = 6  # 1 if the hall's heat limit was below its feed this tick [-]
WR_NCOLS = 7

#: Column names, unit-suffixed, in order.
WR_NAMES: tuple[str, ...] = (
    "offered_rack_tok_per_s",
    "served_tok_per_s",
    "cap_frac",
    "racks_serving_count",
    "rack_capacity_tok_per_s",
    "temp_fws_degc",
    "thermal_bound_frac",
)
