"""How the tick's functions are compiled: each on its own, called from compiled code only.

Each stage of the tick and each helper of a stage is a function of its own, compiled once per
signature and cached on disk by itself (``cache=True``), rather than inlined into the tick
loop at numba's IR level (``inline="always"``), which compiled every stage again for every
function that inlined it and for every signature of the loop: most of the cold compile time.

They are called only from other compiled functions, so they are compiled without a Python
entry point (numba's ``no_cpython_wrapper`` and ``no_cfunc_wrapper``): a wrapper converts
every array of every bundle an argument holds between Python and native form, and for
functions taking :class:`~dcsim.kernels.stages.work.Work` (sixty arrays) generating and
optimising it cost more than the function itself (measured: the cold compile of the tick
halved without them, ``docs/core.md``). Called from Python, such a function would jump to a
missing entry point; :class:`CompiledOnly` runs its plain-Python form (``.py_func``) instead,
so that ``advance.py_func`` is the whole tick in Python (tests, debugging).
"""

from __future__ import annotations

from collections.abc import Callable

from numba import njit
from numba.core import config
from numba.core.registry import CPUDispatcher


class CompiledOnly(CPUDispatcher):
    """A numba dispatcher compiled without a Python entry point.

    Compiled code calls the compiled function; a call from Python runs the plain-Python
    function (there is no compiled entry point to call).
    """

    def __call__(self, *args, **kwargs):
        """Run the plain-Python form (``.py_func``)."""
        return self.py_func(*args, **kwargs)


def _compiled_only(fn: Callable, nrt: bool) -> Callable:
    if config.DISABLE_JIT:
        return fn
    options = {"no_cpython_wrapper": True, "no_cfunc_wrapper": True}
    if not nrt:
        options["_nrt"] = False
    disp = CompiledOnly(py_func=fn, locals={}, targetoptions=options)
    disp.enable_caching()
    return disp


def loop_fn(fn: Callable) -> Callable:
    """Decorator: a function reached from the tick loop (:func:`dcsim.kernels.step._ticks`).

    Compiled without reference counting (``_nrt=False``, like the loop), so it must not
    allocate nor return an array (``docs/core.md``); cached; no Python entry point.
    """
    return _compiled_only(fn, nrt=False)


def setup_fn(fn: Callable) -> Callable:
    """Decorator: a function called only from compiled code that may allocate.

    Such as those :func:`dcsim.kernels.step.advance` calls to set a call up, or the steps of
    the request-level engine (:mod:`dcsim.requests.batching`). Compiled with reference
    counting (it may allocate and return arrays); cached; no Python entry point.
    """
    return _compiled_only(fn, nrt=True)


def inline_fn(fn: Callable) -> Callable:
    """Decorator: a small helper inlined into each caller at numba's IR level.

    For per-cell and per-hall helpers of the hot path: a call passes every array of each
    bundle argument by value (a named tuple is passed as its flattened fields), which cost
    more than the helper's work (measured, ``docs/core.md``). Inlined code is compiled again
    in each caller, so only small functions with few callers take this form.
    """
    return njit(inline="always")(fn)
