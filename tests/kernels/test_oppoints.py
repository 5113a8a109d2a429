"""Tests of the compiled operating-point tables against the NumPy/SciPy reference."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.interpolate import RegularGridInterpolator

from dcsim.kernels import oppoints as K
from dcsim.physics import compute as C

_spec = importlib.util.spec_from_file_location(
    "compute_cases", Path(__file__).parents[1] / "physics" / "test_compute.py"
)
_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cases)
make_params = _cases.make_params

# Pools covering the branches: offline, Server SLO, Interactive SLO (slots and TTFT bound),
# TDP-bound compute (c_cmp > 1), MoE on one GPU, long-prompt Server, per-sequence host
# overhead (vLLM-like t_seq_s) under a Server SLO.
CASES = {
    "offline": make_params(),
    "server": make_params(tpot_slo_s=0.2, ttft_slo_s=2.0),
    "interactive": make_params(tpot_slo_s=0.04, ttft_slo_s=0.45),
    "tdp_bound": make_params(c_cmp_frac=1.6, c_mem_frac=0.5, max_batch_count=600.0),
    # A lowest settable limit of 200 W: caps 0.08 and 0.2 of 700 W run a share of the racks.
    "min_limit": make_params(tpot_slo_s=0.2, ttft_slo_s=2.0, min_power_limit_w=200.0),
    "moe_1gpu": make_params(
        weight_b=117e9 * 0.5625,
        weight_shared_b=1.55e9 * 0.5625,
        experts_count=128.0,
        active_experts_count=4.0,
        active_params=5.1e9,
        layers_count=36.0,
        hidden_count=2880.0,
        kv_b_per_tok=2 * 36 * 8 * 64.0,
        replica_gpus_count=1.0,
        replicas_per_rack_count=8.0,
        hbm_usable_b=141e9,
        hbm_bw_b_per_s=4.8e12,
    ),  # fmt: skip
    "long_prompt": make_params(
        input_tok=9400.0,
        output_tok=656.0,
        tpot_slo_s=0.175,
        ttft_slo_s=6.0,
        replica_gpus_count=4.0,
        replicas_per_rack_count=2.0,
        hbm_usable_b=180e9,
    ),  # fmt: skip
    "per_seq_overhead": make_params(t_seq_s=4e-5, tpot_slo_s=0.2, ttft_slo_s=2.0),
}
LOAD = np.linspace(0.0, 1.0, 5)
CAP = np.array([0.0, 0.08, 0.3, 0.55, 0.8, 1.0])


@pytest.mark.parametrize("name", list(CASES))
def test_compiled_matches_py_func_and_reference(name):
    params = CASES[name]
    x_ref, p_ref, xs_ref, bs_ref = C.operating_table_reference(params, LOAD, CAP)
    for builder in (K.build_operating_table, K.build_operating_table.py_func):
        x, p, xs, bs = builder(params, LOAD, CAP)
        assert_allclose(x, x_ref, rtol=1e-9, atol=1e-9)
        assert_allclose(p, p_ref, rtol=1e-9, atol=1e-9)
        assert_allclose(xs, xs_ref, rtol=1e-9)
        assert_allclose(bs, bs_ref, rtol=1e-9)
    assert bs_ref > 0


@pytest.mark.parametrize("name", list(CASES))
def test_slo_batch_compiled_matches_reference(name):
    params = CASES[name]
    assert_allclose(K.slo_batch_count(params), C.slo_batch_reference(params), rtol=1e-9)
    assert_allclose(K.slo_batch_count.py_func(params), C.slo_batch_reference(params), rtol=1e-9)


def test_operating_point_matches_table_corner():
    params = CASES["server"]
    b_star, x_rep, itl_s, clock, gpu_w, x_rack, p_rack = K.pool_operating_point(params)
    x, p, x_star, b = K.build_operating_table(params, LOAD, CAP)
    assert b_star == b and x_rack == pytest.approx(x_star) and x_rack == pytest.approx(x[-1, -1])
    assert p_rack == pytest.approx(p[-1, -1])
    assert x_rack == pytest.approx(4 * x_rep)  # 4 replicas of 2 GPUs
    assert itl_s <= 0.2 and clock == 1.0 and 70.0 < gpu_w <= 700.0


@pytest.mark.parametrize("name", list(CASES))
def test_table_is_monotone_on_a_fine_grid(name):
    params = CASES[name]
    load = np.linspace(0.0, 1.0, 41)
    cap = np.linspace(0.0, 1.0, 41)
    x, p, x_star, _ = K.build_operating_table(params, load, cap)
    assert np.all(np.diff(x, axis=0) >= -1e-9 * x_star)
    assert np.all(np.diff(x, axis=1) >= -1e-9 * x_star)
    assert np.all(np.diff(p, axis=0) >= -1e-9)
    assert np.all(np.diff(p, axis=1) >= -1e-9)
    # Served never exceeds offered, and equals it without a cap.
    assert np.all(x <= load[:, None] * x_star * (1 + 1e-9))
    assert_allclose(x[:, -1], load * x_star, rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    eta_bw=st.floats(0.3, 0.95),
    eta_f=st.floats(0.1, 0.95),
    t_fixed=st.floats(0.0, 0.02),
    c_cmp=st.floats(0.2, 2.0),
    c_mem=st.floats(0.0, 1.0),
    input_tok=st.floats(50.0, 8000.0),
    output_tok=st.floats(20.0, 2000.0),
    tpot=st.sampled_from([math.inf, 0.1, 0.3]),
)
def test_table_monotone_for_random_pools(eta_bw, eta_f, t_fixed, c_cmp, c_mem, input_tok,
                                         output_tok, tpot):  # fmt: skip
    params = make_params(
        eta_bw_frac=eta_bw, eta_f_frac=eta_f, eta_pf_frac=eta_f, t_fixed_s=t_fixed,
        c_cmp_frac=c_cmp, c_mem_frac=c_mem, input_tok=input_tok, output_tok=output_tok,
        tpot_slo_s=tpot, max_batch_count=256.0,
    )  # fmt: skip
    x, p, x_star, _ = K.build_operating_table(params, np.linspace(0, 1, 11), np.linspace(0, 1, 11))
    scale = max(x_star, 1.0)
    assert np.all(np.diff(x, axis=0) >= -1e-9 * scale)
    assert np.all(np.diff(x, axis=1) >= -1e-9 * scale)
    assert np.all(np.diff(p, axis=0) >= -1e-9)
    assert np.all(np.diff(p, axis=1) >= -1e-9)


def test_infeasible_slo_gives_an_idle_table():
    params = make_params(tpot_slo_s=1e-4)
    x, p, x_star, b_star = K.build_operating_table(params, LOAD, CAP)
    assert x_star == 0.0 and b_star == 0.0 and np.all(x == 0.0)
    rack_idle = C.rack_power_w(params, 70.0)
    assert_allclose(p[:, -1], rack_idle)
    assert_allclose(p[:, 0], 0.0)


# ------------------------------------------------------------------------------------ interp
def test_interp2_matches_scipy_regular_grid():
    rng = np.random.default_rng(7)
    table = rng.random((9, 6)) * 1e4
    grid = RegularGridInterpolator((np.linspace(0, 1, 9), np.linspace(0, 1, 6)), table)
    points = rng.random((200, 2))
    expected = grid(points)
    for f in (K.interp2_table, K.interp2_table.py_func):
        got = np.array([f(table, l_, c_) for l_, c_ in points])
        assert_allclose(got, expected, rtol=1e-12)


def test_interp2_hits_nodes_and_clamps():
    table = np.arange(12.0).reshape(4, 3)
    assert K.interp2_table(table, 1.0 / 3.0, 0.5) == pytest.approx(table[1, 1])
    assert K.interp2_table(table, 1.0, 1.0) == table[-1, -1]
    assert K.interp2_table(table, -0.5, 2.0) == table[0, -1]
    assert K.interp2_table(table, 0.0, 0.0) == table[0, 0]
