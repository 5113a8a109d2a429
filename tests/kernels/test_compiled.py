"""The tick's functions are compiled one by one, each cached by itself (dcsim.kernels.compiled)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from numba import njit

import dcsim.kernels as kernels
from dcsim.kernels.compiled import CompiledOnly, loop_fn, setup_fn
from dcsim.kernels.stages import demand, dispatch, record
from dcsim.kernels.step import _ticks

_spec = importlib.util.spec_from_file_location(
    "kernel_step_cases", Path(__file__).with_name("test_step.py")
)
_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cases)


@loop_fn
def _scale_into(a, k, out):
    for i in range(a.shape[0]):
        out[i] = k * a[i]


@setup_fn
def _ramp(n):
    return np.arange(n) * 1.0


@njit
def _caller(n):
    a = _ramp(n)
    out = np.empty(n)
    _scale_into(a, 3.0, out)
    return out


def test_compiled_code_calls_them_and_python_runs_their_python_form():
    # 3 x [0, 1, 2, 3] by hand, through the compiled entry points only.
    np.testing.assert_array_equal(_caller(4), [0.0, 3.0, 6.0, 9.0])
    assert isinstance(_scale_into, CompiledOnly)
    # From Python there is no compiled entry point: the plain function runs and compiles nothing.
    compiled = list(_scale_into.signatures)
    out = np.zeros(2)
    assert _scale_into(np.array([1.0, 2.0], dtype=np.float32), 0.5, out) is None
    np.testing.assert_array_equal(out, [0.5, 1.0])
    assert _scale_into.signatures == compiled


def test_the_stages_are_compiled_one_by_one_not_inlined():
    assert isinstance(_ticks, CompiledOnly)
    for stage in (demand.offer_demand, dispatch.limits_hold, dispatch.solve_caps,
                  dispatch.operating_point, record.record_tick):  # fmt: skip
        assert isinstance(stage, CompiledOnly), stage
        assert stage.targetoptions.get("_nrt") is False, stage


def test_each_stage_has_a_cache_entry_of_its_own():
    c = _cases.campus(import_w=8.0e6)
    _cases.run(c, np.array([[40000.0], [20000.0]]))  # a site limit: through solve_caps
    cached = {p.name.split("-")[0] for p in kernels.kernel_cache_dir().rglob("*.nbi")}
    for name in ("step._ticks", "step.advance", "dispatch.limits_hold", "dispatch.solve_caps",
                 "dispatch.cap_to_limit", "limits.set_limits", "record.record_tick"):  # fmt: skip
        assert name in cached, name
