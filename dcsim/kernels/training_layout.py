"""Columns of the per-site training record ``TrainingLoad.rec[row, s, :]``.

Means are time-weighted over the record row; ``TR_MIN_W`` is the row's minimum and
``TR_MAX_W``, ``TR_RAMP``, ``TR_GRID_RAMP`` its maxima. Module-level integers are
compile-time constants for numba.
"""

from __future__ import annotations

TR_MEAN_W = 0  # training IT power drawn (burn included) [W], mean
TR_MIN_W = 1  # lowest power within any tick of the row [W]
TR_MAX_W = 2  # highest power within any tick of the row [W]
TR_RAMP = 3  # largest slope of the drawn power [W/s]
TR_BURN_W = 4  # power burnt by a power floor [W], mean
TR_CYCLED_W = 5  # energy the battery cycles to take the swings, per second [W], mean
TR_BATT_LOSS_W = 6  # round-trip loss of that cycling [W], mean
TR_GRID_RAMP = 7  # largest ramp of the training power the grid sees [W/s]
TR_EXCEEDED = 8  # share of ticks whose grid ramp exceeded the site's limit [frac], mean
TR_RACKS = 9  # racks running training [count], mean
TR_NCOLS = 10
#: Column names in ``site_timeseries.parquet`` (unit-suffixed).
TR_NAMES = (
    "training_power_w",
    "training_power_min_w",
    "training_power_max_w",
    "training_ramp_w_per_s",
    "smoothing_burn_w",
    "smoothing_battery_cycled_w",
    "smoothing_battery_loss_w",
    "training_grid_ramp_w_per_s",
    "ramp_limit_exceeded_frac",
    "training_racks_count",
)
#: Columns that are time-weighted means (the others are row extremes).
TR_MEAN_COLS = (TR_MEAN_W, TR_BURN_W, TR_CYCLED_W, TR_BATT_LOSS_W, TR_EXCEEDED, TR_RACKS)
