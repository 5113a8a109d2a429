"""The training record of a run as ``site_timeseries`` columns (``kernels/training_layout.py``)."""

from __future__ import annotations

import numpy as np

from dcsim.kernels import training_layout as TL

__all__ = ["training_columns"]


def training_columns(rec: np.ndarray, n_ticks: int, ticks_per_rec: int) -> dict[str, np.ndarray]:
    """The training record as ``site_timeseries`` columns (site-major rows, like that table).

    Parameters
    ----------
    rec
        ``TrainingLoad.rec`` (n_row, n_site, TR_NCOLS).
    n_ticks, ticks_per_rec
        Run length and ticks per record row [count].

    Returns
    -------
    dict
        Column name -> values of length n_site x n_row.
    """
    out = rec.copy()
    rem = n_ticks % ticks_per_rec
    if rem:  # a short last row: its means were weighted by 1/ticks_per_rec
        for j in TL.TR_MEAN_COLS:
            out[-1, :, j] *= ticks_per_rec / rem
    return {
        name: np.concatenate([out[:, s, j] for s in range(out.shape[1])])
        for j, name in enumerate(TL.TR_NAMES)
    }
