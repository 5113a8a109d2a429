"""Moist-air helpers around psychrolib (ASHRAE Handbook Fundamentals 2017, ch. 1), in SI.

psychrolib computes on scalars; these helpers apply it element-wise to arrays of hourly weather
and memoise repeated inputs (typical-year files repeat many (T, RH, p) combinations).

When numba is installed, psychrolib replaces its functions by numba ufuncs that compile on
first use (about 6 s per process, uncached), recompile on every ``SetUnitSystem`` call, and
crash on ``GetUnitSystem`` (a zero-argument ufunc). The helpers therefore run psychrolib's own
pure-Python functions, rebound to a private namespace fixed to SI: the same code and
numbers, without the compile and without touching the global state of the shared module.
"""

from __future__ import annotations

import functools
import inspect
import types
from typing import Any

import numpy as np
import psychrolib

__all__ = ["psychrolib_si", "rel_humidity_at_humidity_ratio", "wet_bulb_degc"]


@functools.cache
def psychrolib_si() -> types.SimpleNamespace:
    """Return psychrolib's pure-Python functions, bound to a private namespace in SI units.

    Returns
    -------
    types.SimpleNamespace
        Attribute access to every psychrolib function (``GetTWetBulbFromRelHum``, ...).
    """
    originals: dict[str, Any] = {
        name: fn
        for name, fn in vars(psychrolib).items()
        if inspect.isfunction(fn) and fn.__module__ == psychrolib.__name__
    }
    # Functions psychrolib vectorised keep their Python originals in `func_list`; `isIP` is
    # an njit dispatcher with the original in `py_func`.
    originals.update(dict(getattr(psychrolib, "func_list", [])))
    originals["isIP"] = getattr(psychrolib.isIP, "py_func", psychrolib.isIP)
    ns: dict[str, Any] = dict(vars(psychrolib))
    ns["has_numba"] = False
    for name, fn in originals.items():
        ns[name] = types.FunctionType(fn.__code__, ns, fn.__name__, fn.__defaults__, fn.__closure__)
    ns["SetUnitSystem"](psychrolib.SI)
    return types.SimpleNamespace(**{k: v for k, v in ns.items() if callable(v)})


def wet_bulb_degc(t_db_degc, rel_humidity_frac, pressure_pa) -> np.ndarray:
    """Thermodynamic wet-bulb temperature (psychrolib ``GetTWetBulbFromRelHum``) [degC].

    Parameters
    ----------
    t_db_degc
        Dry bulb [degC]; array or scalar.
    rel_humidity_frac
        Relative humidity [0..1]; broadcast with ``t_db_degc``.
    pressure_pa
        Atmospheric pressure [Pa]; broadcast likewise.

    Returns
    -------
    Wet bulb [degC], float64 array of the broadcast shape (psychrolib's bisection tolerance,
    0.001 K).
    """
    psy = psychrolib_si()
    t, rh, p = np.broadcast_arrays(
        np.asarray(t_db_degc, float), np.asarray(rel_humidity_frac, float),
        np.asarray(pressure_pa, float),
    )  # fmt: skip
    out = np.empty(t.shape)
    memo: dict[tuple[float, float, float], float] = {}
    keys = zip(t.ravel().tolist(), rh.ravel().tolist(), p.ravel().tolist(), strict=True)
    for i, key in enumerate(keys):
        value = memo.get(key)
        if value is None:
            value = psy.GetTWetBulbFromRelHum(*key)
            memo[key] = value
        out.flat[i] = value
    return out


def rel_humidity_at_humidity_ratio(
    t_db_old_degc, rel_humidity_old_frac, t_db_new_degc, pressure_pa
) -> np.ndarray:
    """Relative humidity after a dry-bulb change at constant humidity ratio [0..1].

    Moisture content is kept (no water added or removed); above saturation the air is
    capped at saturation (RH = 1).

    Parameters
    ----------
    t_db_old_degc, rel_humidity_old_frac
        Dry bulb [degC] and relative humidity [0..1] before.
    t_db_new_degc
        Dry bulb after [degC].
    pressure_pa
        Atmospheric pressure [Pa].

    Returns
    -------
    Relative humidity after [0..1].
    """
    psy = psychrolib_si()
    t0, rh0, t1, p = np.broadcast_arrays(
        np.asarray(t_db_old_degc, float), np.asarray(rel_humidity_old_frac, float),
        np.asarray(t_db_new_degc, float), np.asarray(pressure_pa, float),
    )  # fmt: skip
    out = np.empty(t0.shape)
    for i in range(t0.size):
        w = psy.GetHumRatioFromRelHum(t0.flat[i], rh0.flat[i], p.flat[i])
        if w >= psy.GetSatHumRatio(t1.flat[i], p.flat[i]):
            out.flat[i] = 1.0
        else:
            out.flat[i] = min(psy.GetRelHumFromHumRatio(t1.flat[i], w, p.flat[i]), 1.0)
    return out
