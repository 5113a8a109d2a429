"""Shared helpers of the plot modules: input coercion, new axes, display units."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from dcsim import units
from dcsim.errors import ConfigError

#: Decimal SI prefixes for display, largest first: (factor [-], prefix).
_SI_PREFIXES: tuple[tuple[float, str], ...] = (
    (units.MW_W * units.KW_W, "G"),
    (units.MW_W, "M"),
    (units.KW_W, "k"),
    (1.0, ""),
)

#: Column suffix -> (display scales, largest first: (SI per display unit, label)).
_DISPLAY: dict[str, tuple[tuple[float, str], ...]] = {
    "_tok_per_s": tuple((f, f"{p}tok/s") for f, p in _SI_PREFIXES),
    "_tok_per_j": ((1.0, "tok/J"),),
    "_tok": tuple((f, f"{p}tok") for f, p in _SI_PREFIXES),
    "_w": tuple((f, f"{p}W") for f, p in _SI_PREFIXES),
    # Energy reads best in watt-hours for planners: GWh, MWh, kWh.
    "_j": (
        (units.MWH_J * units.KW_W, "GWh"),
        (units.MWH_J, "MWh"),
        (units.KWH_J, "kWh"),
        (1.0, "J"),
    ),
    "_degc": ((1.0, "°C"),),
    "_delta_k": ((1.0, "K"),),
    # A share reads as a percentage: one display unit is 1/100 of the SI value 1.
    "_frac": ((1.0 / 100.0, "%"),),
    "_count": ((1.0, "count"),),
    "_usd": tuple((f, f"{p}USD") for f, p in _SI_PREFIXES),
    "_kg": ((units.KW_W, "t"), (1.0, "kg")),
    "_l": ((units.KW_W, "m³"), (1.0, "L")),
    "_s": ((units.D_S, "d"), (units.H_S, "h"), (1.0, "s")),
    "_h": ((1.0, "h"),),
}
# Longest suffix first: "_tok_per_s" must win over "_s".
_SUFFIXES = sorted(_DISPLAY, key=len, reverse=True)


def unit_suffix(column: str) -> str | None:
    """The unit suffix of a column name that the plots know how to scale, or None.

    Parameters
    ----------
    column
        A unit-suffixed name, e.g. ``"chat.served_tok_per_s"``.

    Returns
    -------
    str or None
        E.g. ``"_tok_per_s"``; ``"pue"`` and unknown suffixes give None.
    """
    for suffix in _SUFFIXES:
        if column.endswith(suffix):
            return suffix
    return None


def display_scale(suffix: str | None, values: Iterable[float] | np.ndarray) -> tuple[float, str]:
    """Pick a display unit so the largest value reads between 1 and 1000.

    Parameters
    ----------
    suffix
        Unit suffix of the data (from :func:`unit_suffix`); None for dimensionless data.
    values
        The data [SI unit of ``suffix``].

    Returns
    -------
    divisor : float
        Divide the SI values by it [SI unit per display unit].
    label : str
        The display unit, e.g. ``"MW"``; ``""`` for dimensionless data.

    Examples
    --------
    >>> display_scale("_w", [2.4e6])
    (1000000.0, 'MW')
    """
    if suffix is None or suffix not in _DISPLAY:
        return 1.0, ""
    arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, float)
    finite = np.abs(arr[np.isfinite(arr)])
    peak = float(finite.max()) if finite.size else 0.0
    scales = _DISPLAY[suffix]
    for factor, label in scales:
        if peak >= factor:
            return factor, label
    return scales[-1]


def timeseries_of(data: Any) -> pd.DataFrame:
    """The time-series DataFrame of a RunResult, or the DataFrame itself.

    Parameters
    ----------
    data
        A :class:`~dcsim.results.run_result.RunResult` or a DataFrame.

    Returns
    -------
    pandas.DataFrame
        The campus time series.

    Raises
    ------
    TypeError
        For anything else.
    """
    if isinstance(data, pd.DataFrame):
        return data
    ts = getattr(data, "timeseries", None)
    if isinstance(ts, pd.DataFrame):
        return ts
    raise TypeError(f"expected a RunResult or a DataFrame, got {type(data).__name__}")


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise a one-line ConfigError naming the first column ``frame`` lacks."""
    for name in columns:
        if name not in frame.columns:
            listed = ", ".join(map(str, list(frame.columns)[:12]))
            raise ConfigError(f"needs column {name!r} (has: {listed})", where=what)


def new_ax(ax: Any) -> Any:
    """The given Axes, or the Axes of a new pyplot figure."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=(10, 4), layout="constrained")
    return new


def campus_columns(frame: pd.DataFrame, suffix: str) -> list[str]:
    """Campus-level columns (no ``<group>.`` prefix) with a unit suffix, in frame order."""
    return [c for c in frame.columns if "." not in str(c) and unit_suffix(str(c)) == suffix]


def finite_any(series: pd.Series) -> bool:
    """True when a series holds at least one finite, non-zero value."""
    arr = np.asarray(series, dtype=float)
    return bool(np.any(np.isfinite(arr) & (arr != 0.0)))


def nice_name(column: str) -> str:
    """Legend text for a column: without the unit suffix, underscores as spaces."""
    suffix = unit_suffix(column)
    stem = column[: -len(suffix)] if suffix else column
    return stem.replace("_", " ").strip() or column


def label_with_unit(quantity: str, unit: str) -> str:
    """``"power [MW]"``; no brackets for a dimensionless quantity."""
    return f"{quantity} [{unit}]" if unit else quantity


def isnan(value: Any) -> bool:
    """True for float NaN; False for anything else."""
    return isinstance(value, float) and math.isnan(value)


#: File suffix -> matplotlib format of the figures dcsim writes (``--out``, ``--plot``).
FIGURE_FORMATS: dict[str, str] = {".png": "png", ".pdf": "pdf", ".svg": "svg"}

#: Resolution range accepted for written figures [dot/inch]: below 20 dpi the text of a
#: 12-inch dashboard is illegible; 600 dpi is print quality, and the 12 x 12.8 inch
#: dashboard at 600 dpi is already a 55-megapixel (220 MB) raster.
MIN_DPI = 20
MAX_DPI = 600


def check_dpi(dpi: Any) -> int:
    """Refuse a resolution that is not an integer in [:data:`MIN_DPI`, :data:`MAX_DPI`].

    Parameters
    ----------
    dpi
        Resolution [dot/inch].

    Returns
    -------
    int
        ``dpi``.

    Raises
    ------
    ConfigError
        ``"--dpi: 0 must be an integer from 20 to 600"``.
    """
    if (
        isinstance(dpi, bool)
        or not isinstance(dpi, int | np.integer)
        or not (MIN_DPI <= dpi <= MAX_DPI)
    ):
        raise ConfigError(f"{dpi!r} must be an integer from {MIN_DPI} to {MAX_DPI}", "--dpi")
    return int(dpi)


def save_figure(fig: Any, path: Any, dpi: int) -> Any:
    """Write a figure atomically in the format its file suffix names (PNG, PDF or SVG).

    Parameters
    ----------
    fig
        A matplotlib Figure.
    path
        The file; its suffix picks the format (see :data:`FIGURE_FORMATS`).
    dpi
        Resolution [dot/inch] (of the raster, and of raster parts of PDF and SVG).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ConfigError
        An unknown suffix, a bad ``dpi``, or a write that fails (one line naming the file).
    """
    from pathlib import Path

    from dcsim.fileio import atomic_path

    target = Path(path)
    fmt = FIGURE_FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise ConfigError(
            f"unknown figure type {target.suffix or '(none)'!r}; expected one of "
            f"{', '.join(FIGURE_FORMATS)}",
            str(target),
        )
    check_dpi(dpi)
    with atomic_path(target) as tmp:
        fig.savefig(tmp, dpi=dpi, format=fmt)
    return target
