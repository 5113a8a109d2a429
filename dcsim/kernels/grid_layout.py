"""Columns of the site on-site-energy parameter table ``site_grid_par[s, :]``.

Built by :func:`dcsim.model.grid.build_grid` from the scenario; read by the fused step's
supply balance. Module-level integers are compile-time constants for numba.
"""

from __future__ import annotations

G_BATT_POWER_W = 0  # battery inverter rating, charge and discharge [W]
G_BATT_ENERGY_J = 1  # usable battery energy [J]
G_BATT_ETA_CHARGE_FRAC = 2  # charge efficiency (sqrt of round trip) [frac]
G_BATT_ETA_DISCHARGE_FRAC = 3  # discharge efficiency (sqrt of round trip) [frac]
G_BATT_RESERVE_J = 4  # energy kept for ride-through; other policies stay above it [J]
G_BATT_SOC0_J = 5  # state of charge at the start [J]
G_BATT_POLICY = 6  # 0 none, 1 ride_through, 2 peak_shaving, 3 arbitrage
G_PEAK_THRESHOLD_W = 7  # peak-shaving import threshold [W]
G_TURB_UNITS = 8  # number of turbine units [count]
G_TURB_UNIT_W = 9  # rating of one unit [W]
G_TURB_START_S = 10  # time from start order to synchronised [s]
G_TURB_MIN_LOAD_FRAC = 11  # minimum stable load of a running unit [frac of rating]
G_TURB_MIN_RUN_S = 12  # minimum run time before a surplus unit is stopped [s]
G_NCOLS = 13

#: Battery policy codes.
POLICY_NONE = 0
POLICY_RIDE_THROUGH = 1
POLICY_PEAK_SHAVING = 2
POLICY_ARBITRAGE = 3
