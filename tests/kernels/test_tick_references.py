"""The tick loop is compiled without reference counting: it must neither leak nor free.

``dcsim.kernels.step._ticks`` and the functions it calls run with ``_nrt=False`` (no
reference counts on the bundles' arrays); :func:`~dcsim.kernels.step.advance` allocates the
call's scratch and owns it. Numba's allocation counters (numba's own leak check,
``numba.tests.support.MemoryLeak``) give an independent account: every block the call
allocates is freed when it returns, on the short path and on the cap solve's.
"""

import gc
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from numba.core.runtime import _nrt_python as nrt
from numba.core.runtime import rtsys

# pytest imports test modules with --import-mode=importlib: load the hand-built campus by path.
_spec = importlib.util.spec_from_file_location(
    "kernel_step_cases", Path(__file__).with_name("test_step.py")
)
_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cases)
campus, run = _cases.campus, _cases.run


@pytest.fixture
def nrt_stats():
    nrt.memsys_enable_stats()
    yield
    nrt.memsys_disable_stats()


@pytest.mark.parametrize(
    "kw, demand",
    [
        ({}, [[30000.0], [10000.0]]),  # no limit binds: limits_hold is the whole solve
        ({"import_w": 8.0e6}, [[40000.0], [20000.0]]),  # site limit: solve_caps and bisection
    ],
)
def test_a_call_frees_all_it_allocates(nrt_stats, kw, demand):
    c = campus(**kw)
    demand = np.array(demand)
    run(c, demand)  # compile or load the cache outside the count
    gc.collect()
    before = rtsys.get_allocation_stats()
    rec, *_ = run(c, demand)
    gc.collect()
    after = rtsys.get_allocation_stats()
    allocated = after.mi_alloc - before.mi_alloc
    # advance allocates its scratch (Work: ~60 arrays, the live racks, the empty Regions)
    # and the Python side boxes nothing it keeps: all of it freed, nothing freed twice.
    assert allocated > 60
    assert after.mi_free - before.mi_free == allocated
    assert after.alloc - before.alloc == after.free - before.free
    assert np.all(np.isfinite(rec))
