"""NaN-aware maxima for the tick's balance and limit checks.

``max(x, nan)`` in Python and numba returns ``x``: a check kept as a running maximum would
ignore a NaN residual and report a perfect balance. :func:`worst` keeps NaN instead, so a
check that met a NaN stays NaN and fails every comparison with a tolerance.
"""

from __future__ import annotations

import math

from dcsim.kernels.compiled import inline_fn


@inline_fn
def worst(a, b):
    """The larger of ``a`` and ``b``, NaN if either is NaN [unit of the inputs]."""
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return max(a, b)
