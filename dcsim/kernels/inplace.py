"""Array copies for code compiled without reference counting (the tick loop).

``dst[:] = src`` between two arrays compiles, in numba, to a copy that first checks whether
the two overlap and, if so, copies ``src`` to a temporary: an allocation, which code compiled
with ``_nrt=False`` (:func:`dcsim.kernels.step._ticks` and everything it calls) may not make.
The arrays copied in the tick never overlap, so an element loop gives the same values.
"""

from __future__ import annotations

from dcsim.kernels.compiled import inline_fn


@inline_fn
def copy_into(dst, src):
    """``dst[:] = src`` for two 1-D arrays of one length that do not overlap."""
    for i in range(src.shape[0]):
        dst[i] = src[i]


@inline_fn
def copy_row(dst, i, src, j):
    """``dst[i, :] = src[j, :]`` for two 2-D arrays of one width that do not overlap."""
    for k in range(src.shape[1]):
        dst[i, k] = src[j, k]
