"""Unserved tokens split by cause: too little capacity, power and grid caps, thermal caps.

The kernel records, per row, the tokens left unserved and the capacity withheld by power
caps (grid import limit, curtailment, UPS and feed limits) and by thermal caps (throttling
when the loop is at its limit). A token is unserved *because of* a cap only if the capped
capacity would have served it: the row's unserved rate is attributed first to power caps
(up to the capacity they withheld), then to thermal caps, and the remainder to capacity
(too few racks in service for the demand). The three parts sum to the row's unserved rate
by construction, so the causes sum to the ``unserved_tok`` KPI.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Names of the three causes, as KPI keys [tok].
CAUSE_KEYS = ("unserved_capacity_tok", "unserved_power_tok", "unserved_thermal_tok")


def row_durations_s(index: pd.Index) -> np.ndarray:
    """Seconds each time-series row stands for: the gap to the next row, the last as the one before.

    Parameters
    ----------
    index
        The run's time index (a DatetimeIndex).

    Returns
    -------
    numpy.ndarray
        Row durations [s]; a single row is given 1 s (only shares are used from it).
    """
    times = pd.DatetimeIndex(index)
    t_s = np.asarray((times - times[0]).total_seconds(), dtype=np.float64) if len(times) else []
    n = len(t_s)
    if n < 2:
        return np.ones(n)
    dur = np.diff(t_s)
    return np.append(dur, dur[-1])


def unserved_by_cause(ts: pd.DataFrame, unserved_tok: float | None = None) -> dict[str, float]:
    """Unserved tokens split into capacity, power-and-grid and thermal causes.

    Parameters
    ----------
    ts
        Campus time series with ``unserved_tok_per_s`` and, when recorded,
        ``power_capped_tok_per_s`` and ``thermal_capped_tok_per_s`` [tok/s].
    unserved_tok
        The run's ``unserved_tok`` KPI [tok]; when given, the capacity part is what remains
        of it after the two caps, so the three parts add up to it exactly (the last row's
        duration, a partial interval, is only known to the metrics module).

    Returns
    -------
    dict
        :data:`CAUSE_KEYS` [tok], each >= 0. Empty when the series has no unserved column.
    """
    if "unserved_tok_per_s" not in ts.columns or ts.empty:
        return {}
    dur = row_durations_s(ts.index)
    unserved = np.clip(ts["unserved_tok_per_s"].to_numpy(dtype=np.float64), 0.0, None)
    zero = np.zeros(len(ts))
    power = ts.get("power_capped_tok_per_s", pd.Series(zero, index=ts.index)).to_numpy()
    thermal = ts.get("thermal_capped_tok_per_s", pd.Series(zero, index=ts.index)).to_numpy()
    by_power = np.minimum(unserved, np.clip(power, 0.0, None))
    by_thermal = np.minimum(unserved - by_power, np.clip(thermal, 0.0, None))
    power_tok = float(np.sum(by_power * dur))
    thermal_tok = float(np.sum(by_thermal * dur))
    total = float(np.sum(unserved * dur)) if unserved_tok is None else float(unserved_tok)
    if total > 0.0 and power_tok + thermal_tok > total:
        # The KPI's partial last row is shorter than the series' estimate: scale the caps.
        scale = total / (power_tok + thermal_tok)
        power_tok, thermal_tok = power_tok * scale, thermal_tok * scale
    capacity_tok = max(total - power_tok - thermal_tok, 0.0)
    return dict(zip(CAUSE_KEYS, (capacity_tok, power_tok, thermal_tok), strict=True))
