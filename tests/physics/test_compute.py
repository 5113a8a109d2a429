"""Tests of dcsim.physics.compute against hand calculations, limits and invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from dcsim.physics import compute as C

# A pool built by hand (not from the catalog, so these tests do not move with the fit):
# Llama-2-70B FP8 on a 2-GPU H100 replica, 4 replicas in an 8-GPU node.
BASE = {
    "hbm_bw_b_per_s": 3.35e12,
    "peak_flop_per_s": 1979e12,
    "hbm_usable_b": 80e9,
    "hbm_reserve_frac": 0.1,
    "weight_b": 70e9,
    "weight_shared_b": 70e9,
    "experts_count": 0.0,
    "active_experts_count": 0.0,
    "active_params": 70e9,
    "layers_count": 80.0,
    "hidden_count": 8192.0,
    "kv_b_per_tok": 2 * 80 * 8 * 128 * 1.0,
    "act_elem_b": 2.0,
    "input_tok": 295.0,
    "output_tok": 294.0,
    "replica_gpus_count": 2.0,
    "replicas_per_rack_count": 4.0,
    "gpus_per_rack_count": 8.0,
    "scaleup_bw_b_per_s": 450e9,
    "scaleup_latency_s": 5e-6,
    "idle_w": 70.0,
    "tdp_w": 700.0,
    "c_cmp_frac": 0.9,
    "c_mem_frac": 0.4,
    "eta_bw_frac": 0.8,
    "eta_f_frac": 0.55,
    "eta_pf_frac": 0.75,
    "t_fixed_s": 0.002,
    "host_idle_w": 1000.0,
    "host_max_w": 2400.0,
    "psu_efficiency_frac": 0.95,
    "tpot_slo_s": math.inf,
    "ttft_slo_s": math.inf,
    "max_batch_count": math.inf,
    "ttft_quantile_frac": 0.99,
    "t_seq_s": 0.0,
    "power_limit_w": 700.0,
    # knee 0 and floor voltage 0 make v = r everywhere: the pure f^3 law (C V^2 f with V ~ f),
    # which the hand calculations below use; the DVFS knee has its own tests.
    "knee_clock_frac": 0.0,
    "v_min_frac": 0.0,
    "c_leak_frac": 0.0,
    # Dense model: no routed experts, attention as wide as the hidden state.
    "moe_layers_count": 0.0,
    "routed_active_params": 0.0,
    "expert_imbalance_frac": 1.0,
    "attn_decode_width_count": 8192.0,
    "attn_prefill_width_count": 8192.0,
    "eta_moe_frac": 1.0,
    # Exponential output and prompt lengths: the M/M/c special case of the request queue.
    "output_tok_cv_frac": 1.0,
    "input_tok_cv_frac": 1.0,
    # No published lowest limit: the chip's idle power (the catalog's default).
    "min_power_limit_w": 70.0,
    # Attention at the weights' precision (FP8 KV cache with FP8 weights).
    "attn_peak_flop_per_s": 1979e12,
}


def make_params(**overrides: float) -> np.ndarray:
    values = {**BASE, **overrides}
    assert set(values) == set(C.PARAM_NAMES)
    return np.array([values[name] for name in C.PARAM_NAMES], dtype=np.float64)


# ------------------------------------------------------------------------------------ sizes
def test_kv_bytes_gqa_and_mla_by_hand():
    # Llama-2-70B, FP8 KV: 2 (K,V) x 80 layers x 8 heads x 128 dims x 1 B = 163,840 B/token.
    assert C.kv_bytes_per_token_b(80, 8, 128, 0, 1.0) == 163_840.0
    # DeepSeek-V3 MLA, BF16 latent: 61 layers x 576 x 2 B = 70,272 B/token.
    assert C.kv_bytes_per_token_b(61, 0, 0, 576, 2.0) == 70_272.0


def test_moe_touch_limits():
    w, shared, experts, k = 671e9, 16.2e9, 256.0, 8.0
    routed = w - shared
    # B = 1: one token touches k of E experts.
    assert_allclose(C.moe_weight_read_b(1.0, w, shared, experts, k), shared + routed * k / experts)
    # B -> large: every expert is touched, all weights read.
    assert_allclose(C.moe_weight_read_b(10_000.0, w, shared, experts, k), w, rtol=1e-12)
    # B = 0: only the shared part.
    assert C.moe_weight_read_b(0.0, w, shared, experts, k) == shared
    # Dense model: all weights whatever the batch.
    assert C.moe_weight_read_b(3.0, 70e9, 70e9, 0.0, 0.0) == 70e9


def test_kv_capacity_by_hand():
    # 2 x 80 GB x 0.9 - 70 GB = 74 GB free; one sequence holds (295 + 294) x 163,840 B
    # = 96,501,760 B; 74e9 / 96,501,760 = 766.8 -> 766 sequences.
    b_kv = C.kv_capacity_batch_count(80e9, 0.1, 2, 70e9, 163_840.0, 589.0)
    assert b_kv == 766
    # One H100 cannot hold 70 GB of weights and any useful cache: 72 - 70 = 2 GB -> 20.
    assert C.kv_capacity_batch_count(80e9, 0.1, 1, 70e9, 163_840.0, 589.0) == 20
    # A model larger than the free HBM gives a non-positive capacity.
    assert C.kv_capacity_batch_count(80e9, 0.1, 1, 90e9, 163_840.0, 589.0) <= 0


# ------------------------------------------------------------------------------------ times
def test_roofline_llama31_70b_fp8_8xh100_batch1_by_hand():
    # Weights only (empty context): 70e9 B / (8 x 3.35e12 B/s x 0.8) = 3.2649 ms;
    # at eta_bw = 1: 70e9 / 26.8e12 = 2.6119 ms.
    t_mem = C.decode_memory_time_s(1.0, 70e9, 163_840.0, 0.0, 8, 3.35e12, 0.8)
    assert_allclose(t_mem, 3.2649e-3, rtol=1e-4)
    assert_allclose(C.decode_memory_time_s(1.0, 70e9, 163_840.0, 0.0, 8, 3.35e12, 1.0),
                    2.6119e-3, rtol=1e-4)  # fmt: skip
    # Compute: 2 x 70e9 FLOP / (8 x 1979e12 x 0.5) = 17.69 us: decode at B=1 is memory-bound.
    t_cmp = C.decode_compute_time_s(1.0, 70e9, 80, 8192, 0.0, 8, 1979e12, 0.5)
    assert_allclose(t_cmp, 1.7686e-5, rtol=1e-4)
    assert t_mem / t_cmp > 100


def test_allreduce_cost_by_hand():
    assert C.allreduce_time_s(1e6, 1, 450e9, 5e-6) == 0.0
    # N = 8: 2 x 7/8 x 1e6 B / 450e9 B/s = 3.889 us, plus 2 x log2(8) = 6 steps x 5 us.
    assert_allclose(C.allreduce_time_s(1e6, 8, 450e9, 5e-6), 3.8889e-6 + 30e-6, rtol=1e-4)
    # Decode: 2 all-reduces per layer; 80 layers, B = 100, hidden 8192, 2 B, N = 2:
    # message 1.6384 MB -> 2 x 1/2 x 1.6384e6 / 450e9 = 3.641 us + 2 x 1 x 5 us = 13.641 us;
    # x 160 = 2.1825 ms.
    assert_allclose(C.decode_comm_time_s(100, 80, 8192, 2.0, 2, 450e9, 5e-6), 2.1825e-3,
                    rtol=1e-4)  # fmt: skip


def test_prefill_includes_causal_attention():
    # 2 A L_in + 2 layers L_in^2 hidden, at N = 1, F eta = 1e15 FLOP/s:
    # Llama-3.1-405B, 9,400-token prompt: 7.614e15 + 3.6477e14 = 7.9788e15 FLOP -> 7.9788 s.
    t_pf = C.prefill_compute_time_s(9400, 405e9, 126, 16384, 1, 1e15, 1.0)
    assert_allclose(t_pf, 2 * 405e9 * 9400 / 1e15 + 2 * 126 * 9400**2 * 16384 / 1e15)
    assert_allclose(t_pf, 7.9788, rtol=1e-4)


def test_throughput_and_latency_identity():
    # Little's law for the batch: X(B) = B / ITL(B).
    for batch in (1.0, 17.0, 512.0):
        x = C.output_throughput_tok_per_s(batch, 300.0, 0.03, 0.02)
        itl = C.inter_token_latency_s(batch, 300.0, 0.03, 0.02)
        assert_allclose(x * itl, batch)


def test_step_time_scales_compute_only():
    assert C.decode_step_time_s(0.010, 0.004, 0.001, 0.002, 0.0, 8.0, 1.0) == pytest.approx(0.013)
    # At half clock compute takes 8 ms, still below the 10 ms of HBM time: no change.
    assert C.decode_step_time_s(0.010, 0.004, 0.001, 0.002, 0.0, 8.0, 0.5) == pytest.approx(0.013)
    # At a quarter clock compute (16 ms) binds.
    assert C.decode_step_time_s(0.010, 0.004, 0.001, 0.002, 0.0, 8.0, 0.25) == pytest.approx(0.019)


def test_step_time_grows_by_batch_times_per_sequence_overhead():
    # Hand calculation: 10 ms HBM + 1 ms comm + 2 ms fixed = 13 ms; 64 sequences at 50 us
    # each add 3.2 ms, so 16.2 ms.
    assert C.decode_step_time_s(0.010, 0.004, 0.001, 0.002, 50e-6, 64.0, 1.0) == pytest.approx(
        0.0162
    )
    # Through the full replica state: at batch B the step, and so the ITL (= t_step +
    # B t_pf / L_out, prefill unchanged), grows by exactly B * t_seq.
    t_seq_s = 30e-6
    for batch in (1.0, 17.0, 256.0):
        itl0 = C.replica_state(make_params(), batch, 1.0)[1]
        itl1 = C.replica_state(make_params(t_seq_s=t_seq_s), batch, 1.0)[1]
        assert itl1 - itl0 == pytest.approx(batch * t_seq_s, rel=1e-9)


# ------------------------------------------------------------------------------------ power
@settings(max_examples=60, deadline=None)
@given(
    batch=st.floats(0.5, 2000.0),
    c_cmp=st.floats(0.1, 2.0),
    c_mem=st.floats(0.0, 1.0),
    lo=st.floats(0.05, 0.95),
)
def test_gpu_power_rises_with_clock(batch, c_cmp, c_mem, lo):
    params = make_params(c_cmp_frac=c_cmp, c_mem_frac=c_mem)
    p_lo = C.replica_state(params, batch, lo)[2]
    p_hi = C.replica_state(params, batch, min(lo + 0.05, 1.0))[2]
    assert p_hi >= p_lo - 1e-9


def test_clock_for_cap_hits_the_cap():
    params = make_params(input_tok=8000.0, output_tok=50.0)
    p_full = C.replica_state(params, 64.0, 1.0)[2]
    cap_w = 0.7 * 700.0
    assert p_full > cap_w
    clock = C.clock_frac_for_cap(params, 64.0, cap_w)
    assert 0.0 < clock < 1.0
    assert_allclose(C.replica_state(params, 64.0, clock)[2], cap_w, rtol=1e-10)
    # No cap below TDP and power under TDP: full clock. A cap at idle cannot be held: 0.
    assert C.clock_frac_for_cap(params, 1.0, 700.0) == 1.0
    assert C.clock_frac_for_cap(params, 64.0, 70.0) == 0.0


def test_cap_hurts_prefill_bound_work_more_than_memory_bound_decode():
    cap_w = 0.7 * 700.0
    # Memory-bound decode (short prompts, batch 96 on 2 GPUs: HBM time 15 ms > compute 6 ms).
    # The cap binds (570 W > 490 W) and the clock falls to ~0.8, but only compute power is
    # shed while HBM time is unchanged: under 1% of throughput is lost.
    decode = make_params(input_tok=100.0, output_tok=1000.0, c_cmp_frac=1.0, c_mem_frac=0.6)
    assert C.replica_state(decode, 96.0, 1.0)[2] > cap_w
    clock = C.clock_frac_for_cap(decode, 96.0, cap_w)
    decode_ratio = C.replica_state(decode, 96.0, clock)[0] / C.replica_state(decode, 96.0, 1.0)[0]
    assert clock < 0.85 and decode_ratio > 0.99
    # Prefill-bound (8,000-token prompts, 50 output tokens): compute is the whole step, so
    # throughput falls in proportion to the clock (f^3 power law: 30% less power ~ 6% clock).
    prefill = make_params(input_tok=8000.0, output_tok=50.0)
    clock = C.clock_frac_for_cap(prefill, 64.0, cap_w)
    ratio = C.replica_state(prefill, 64.0, clock)[0] / C.replica_state(prefill, 64.0, 1.0)[0]
    assert clock < 0.97
    assert_allclose(ratio, clock, rtol=0.02)
    assert 1 - ratio > 5 * (1 - decode_ratio)


def test_fractional_batch_is_a_time_share_of_batch_one():
    params = make_params()
    x1, itl1, p1 = C.replica_state(params, 1.0, 1.0)
    x, itl, p = C.replica_state(params, 0.25, 1.0)
    assert_allclose(x, 0.25 * x1)
    assert_allclose(p - 70.0, 0.25 * (p1 - 70.0))
    assert itl == itl1
    assert C.replica_state(params, 0.0, 1.0)[2] == 70.0


def test_rack_power_by_hand():
    params = make_params()
    # All 8 GPUs at 500 W, host activity (500-70)/(700-70) = 0.6825 -> 1000 + 1400 x 0.6825
    # = 1955.6 W; (4000 + 1955.6) / 0.95 = 6269.0 W.
    assert_allclose(C.rack_power_w(params, 500.0), (4000 + 1000 + 1400 * 430 / 630) / 0.95)
    # Idle rack: (8 x 70 + 1000) / 0.95 = 1642.1 W.
    assert_allclose(C.rack_power_w(params, 70.0), 1560 / 0.95)


# ------------------------------------------------------------------------------------ SLO batch
def test_offline_batch_is_kv_capacity_or_stack_limit():
    assert C.slo_batch_reference(make_params()) == 766
    assert C.slo_batch_reference(make_params(max_batch_count=512.0)) == 512


def test_tpot_bound_gives_largest_whole_batch():
    params = make_params(tpot_slo_s=0.05)
    b = C.slo_batch_reference(params)
    assert b == math.floor(b) and 1 <= b < 766

    def itl(batch):
        clock = C.clock_frac_for_cap(params, batch, 700.0)
        return C.replica_state(params, batch, clock)[1]

    assert itl(b) <= 0.05 < itl(b + 1)


def test_ttft_bound_lowers_the_batch_and_infeasible_slo_gives_zero():
    slots_only = C.slo_batch_reference(make_params(tpot_slo_s=0.2))
    with_ttft = C.slo_batch_reference(make_params(tpot_slo_s=0.2, ttft_slo_s=0.5))
    assert 0 < with_ttft < slots_only
    # TPOT below the batch-1 latency, or TTFT below one prefill: no batch meets the SLO.
    assert C.slo_batch_reference(make_params(tpot_slo_s=1e-4)) == 0.0
    assert C.slo_batch_reference(make_params(tpot_slo_s=0.2, ttft_slo_s=1e-3)) == 0.0


def test_reference_table_semantics():
    params = make_params(tpot_slo_s=0.2, ttft_slo_s=2.0)
    load = np.linspace(0, 1, 5)
    cap = np.array([0.0, 0.05, 0.5, 0.75, 1.0])
    x, p, x_star, b_star = C.operating_table_reference(params, load, cap)
    assert b_star > 0 and x_star > 0
    # Uncapped (c = 1): served = offered load.
    assert_allclose(x[:, -1], load * x_star, rtol=1e-9)
    # No load: idle rack; cap 0: parked, 0 W; cap below idle (35 W < 70 W): half parked.
    rack_idle = C.rack_power_w(params, 70.0)
    assert_allclose(p[0, -1], rack_idle)
    assert np.all(p[:, 0] == 0.0) and np.all(x[:, :2] == 0.0)
    assert_allclose(p[:, 1], 0.5 * rack_idle)
    # Monotone in load and cap.
    assert np.all(np.diff(x, axis=0) >= 0) and np.all(np.diff(x, axis=1) >= -1e-9)
    assert np.all(np.diff(p, axis=0) >= 0) and np.all(np.diff(p, axis=1) >= -1e-9)


def test_cap_below_the_lowest_settable_limit_runs_a_share_of_racks_at_it():
    # A chip that cannot be limited below 200 W (NVIDIA's AllowableMin): a cap of 140 W
    # (0.2 x 700) runs 140 / 200 = 0.7 of the racks at 200 W and parks 0.3 (0 W). At offered
    # load l those 0.7 carry l / 0.7 each, so x(l, 140 W) = 0.7 x(l / 0.7, 200 W) and the same
    # for the wall power; at c = 0 all are parked.
    params = make_params(tpot_slo_s=0.2, ttft_slo_s=2.0, min_power_limit_w=200.0)
    load = np.array([0.0, 0.1, 0.2, 0.35])
    x, p, _, _ = C.operating_table_reference(params, load, np.array([0.0, 0.2]))
    x_on, p_on, _, _ = C.operating_table_reference(params, load / 0.7, np.array([200.0 / 700.0]))
    assert np.all(x[:, 0] == 0.0) and np.all(p[:, 0] == 0.0)
    assert_allclose(x[:, 1], 0.7 * x_on[:, 0], rtol=1e-12)
    assert_allclose(p[:, 1], 0.7 * p_on[:, 0], rtol=1e-12)
    # The racks that run serve: capacity at 140 W is 0.7 of the capacity at 200 W, not zero
    # as it would be for GPUs held below their idle-clock power.
    cap_x, _, _, _ = C.operating_table_reference(params, np.ones(1), np.array([0.2, 200 / 700]))
    assert cap_x[0, 0] > 0.0
    assert_allclose(cap_x[0, 0], 0.7 * cap_x[0, 1], rtol=1e-12)


# ------------------------------------------------------------------------------------ DVFS
def test_core_voltage_is_flat_below_the_knee_and_linear_above():
    # knee 0.6, floor 0.73: v(0.3) = 0.73; v(0.8) = 0.73 + 0.27 x 0.2 / 0.4 = 0.865; v(1) = 1.
    assert C.core_voltage_frac(0.3, 0.6, 0.73) == 0.73
    assert_allclose(C.core_voltage_frac(0.8, 0.6, 0.73), 0.865)
    assert_allclose(C.core_voltage_frac(1.0, 0.6, 0.73), 1.0)


def test_dvfs_power_by_hand():
    # idle 70, TDP 700 (scale 630 W), c_cmp 1, c_mem 0.4, c_leak 0.1, u_cmp 0.5, u_mem 0.5,
    # r = 0.8, knee 0.6, floor 0.73 -> v = 0.865, v^2 = 0.748225, floor^2 = 0.5329:
    # leak 0.1 x (0.748225 - 0.5329) / 0.4671 = 0.046098; compute 1 x 0.5 x 0.8 x 0.748225 =
    # 0.29929; memory 0.4 x 0.5 = 0.2; P = 70 + 630 x 0.545388 = 413.59 W.
    p = C.gpu_power_w(70.0, 700.0, 1.0, 0.4, 0.5, 0.5, 0.8, 0.6, 0.73, 0.1)
    assert_allclose(p, 70.0 + 630.0 * (0.1 * (0.748225 - 0.5329) / 0.4671 + 0.29929 + 0.2))
    # Below the knee power is linear in the clock (voltage at its floor), leakage gone.
    p1 = C.gpu_power_w(70.0, 700.0, 1.0, 0.0, 1.0, 0.0, 0.5, 0.6, 0.73, 0.1)
    p2 = C.gpu_power_w(70.0, 700.0, 1.0, 0.0, 1.0, 0.0, 0.25, 0.6, 0.73, 0.1)
    assert_allclose(p1 - 70.0, 2.0 * (p2 - 70.0))


def test_power_limit_not_tdp_bounds_the_clock_and_moves_throughput():
    # Prefill-heavy pool whose full-clock power exceeds 500 W: a 500 W limit lowers the clock
    # and the throughput; with the DVFS knee the clock falls less than the f^3 law would need
    # for the same watts at high clocks, and tok/J rises.
    dvfs = {"knee_clock_frac": 0.6, "v_min_frac": 0.73, "c_leak_frac": 0.1}
    full = make_params(input_tok=8000.0, output_tok=50.0, **dvfs)
    limited = make_params(input_tok=8000.0, output_tok=50.0, power_limit_w=500.0, **dvfs)
    x_full, _, p_full = C.replica_state(full, 64.0, C.clock_frac_for_cap(full, 64.0, 1e9))
    clock = C.clock_frac_for_cap(limited, 64.0, 1e9)  # no site cap: the limit alone binds
    x_lim, _, p_lim = C.replica_state(limited, 64.0, clock)
    assert_allclose(p_lim, 500.0, rtol=1e-10)
    assert x_lim < x_full and x_lim / p_lim > x_full / min(p_full, 700.0)
    # Operating table: the cap grid is a share of the limit, so cap 1.0 is 500 W of GPU.
    x_tab, p_tab, x_star, b_star = C.operating_table_reference(limited, [1.0], [0.5, 1.0])
    clock_star = C.clock_frac_for_cap(limited, b_star, 1e9)
    assert_allclose(x_star, 4.0 * C.replica_state(limited, b_star, clock_star)[0], rtol=1e-9)
    assert x_tab[0, 0] < x_tab[0, 1]


# ------------------------------------------------------------------------------------ MoE
def test_moe_collectives_by_hand():
    # DeepSeek-R1-like replica of 8 GPUs, decode step of B = 64 tokens: hidden 7168, 16-bit
    # activations, k = 8, 61 layers of which 58 MoE, 450 GB/s per GPU, 5 us per step,
    # imbalance 1.3.
    # message = 64 x 7168 x 2 = 917,504 B.
    # all-reduce: 2 x 7/8 x 917,504 / 450e9 + 2 x log2(8) x 5e-6 = 3.568071e-6 + 3e-5 s.
    # all-to-all: 917,504 x 8 = 7,340,032 B in all, 7/64 of it per GPU = 802,816 B;
    #   1.3 x 802,816 / 450e9 + 5e-6 = 2.319246e-6 + 5e-6 s.
    # per step: (61 + 3 dense) all-reduces + 2 x 58 all-to-alls
    #   = 64 x 3.3568071e-5 + 116 x 7.319246e-6 = 2.1483566e-3 + 8.490325e-4 = 2.9973891e-3 s.
    allreduce_s = 2 * 7 / 8 * 917_504 / 450e9 + 3e-5
    a2a_s = 1.3 * 802_816 / 450e9 + 5e-6
    expected_s = 64 * allreduce_s + 116 * a2a_s
    assert_allclose(expected_s, 2.9973891e-3, rtol=1e-7)
    got = C.layer_collectives_time_s(64.0, 61.0, 58.0, 7168.0, 2.0, 8.0, 8.0, 450e9, 5e-6, 1.3)
    assert_allclose(got, expected_s, rtol=1e-12)
    # A dense model pays two all-reduces per layer (122 here): more than the MoE's mix.
    dense = C.decode_comm_time_s(64.0, 61.0, 7168.0, 2.0, 8.0, 450e9, 5e-6)
    assert_allclose(dense, 122 * allreduce_s, rtol=1e-12)
    # One GPU: nothing crosses a link.
    assert (
        C.layer_collectives_time_s(64.0, 61.0, 58.0, 7168.0, 2.0, 8.0, 1.0, 450e9, 5e-6, 1.3) == 0
    )


def test_moe_decode_step_by_hand():
    # Same replica, FP8 weights: A = 37e9 of which routed 20.8e9 (37 - 16.2), imbalance 1.3,
    # grouped-GEMM efficiency 0.8: A_eff = 37e9 + 20.8e9 x (1.3 / 0.8 - 1) = 50e9.
    assert_allclose(C.moe_effective_active_params(37e9, 20.8e9, 1.3, 0.8), 50e9)
    # Latent attention: w = 128 x (2 x 512 + 64) / 2 = 69,632. Context 1000 tokens, B = 64:
    # FLOP per token 2 x 50e9 + 4 x 61 x 69,632 x 1000 = 1.16990208e11; x 64 / (8 x 1979e12
    # x 0.5) = 7.48737e12 / 7.916e15 = 9.45853e-4 s.
    params = make_params(
        weight_b=671e9, weight_shared_b=16.2e9, experts_count=256.0, active_experts_count=8.0,
        active_params=37e9, layers_count=61.0, hidden_count=7168.0, kv_b_per_tok=61 * 576.0,
        input_tok=600.0, output_tok=800.0, replica_gpus_count=8.0, replicas_per_rack_count=1.0,
        moe_layers_count=58.0, routed_active_params=20.8e9, expert_imbalance_frac=1.3,
        attn_decode_width_count=69_632.0, attn_prefill_width_count=20_480.0, eta_moe_frac=0.8,
        eta_f_frac=0.5, t_fixed_s=0.0, output_tok_cv_frac=0.0,
    )  # fmt: skip
    # (Equal output lengths, cv 0: the step-averaged context is 600 + 800 / 2 = 1000.)
    cmp_s = 64 * (2 * 50e9 + 4 * 61 * 69_632 * 1000) / (8 * 1979e12 * 0.5)
    assert_allclose(cmp_s, 9.45853e-4, rtol=1e-5)
    # Memory: touched experts 1 - (1 - 8/256)^64 = 0.86944 of the 654.8 GB routed weights,
    # plus 16.2 GB shared, plus 64 x 1000 x 35,136 B of latent cache; over 8 x 3.35 TB/s x 0.8.
    touched = 1 - (1 - 8 / 256) ** 64
    mem_s = (16.2e9 + 654.8e9 * touched + 64 * 1000 * 61 * 576) / (8 * 3.35e12 * 0.8)
    comm_s = 2.9973891e-3
    step_s = max(mem_s, cmp_s) + comm_s
    # Prefill of 600 tokens: (2 x 50e9 x 600 + 2 x 61 x 600^2 x 20,480) / (8 x 1979e12 x 0.75)
    # plus the collectives of 600 tokens.
    pf_s = (2 * 50e9 * 600 + 2 * 61 * 600**2 * 20_480) / (8 * 1979e12 * 0.75)
    pf_s += C.layer_collectives_time_s(600.0, 61.0, 58.0, 7168.0, 2.0, 8.0, 8.0, 450e9, 5e-6, 1.3)
    x, itl, _ = C.replica_state(params, 64.0, 1.0)
    assert_allclose(itl, step_s + 64 * pf_s / 800, rtol=1e-9)
    assert_allclose(x, 64 * 800 / (800 * step_s + 64 * pf_s), rtol=1e-9)


# ------------------------------------------------------- decode context and attention rate
def test_decode_context_is_length_biased_by_hand_and_by_sampling():
    # Hand: MLPerf DeepSeek-R1, L_in 800, L_out 3,744, cv 1.1: 800 + 3,744 x 2.21 / 2 = 4,937.1.
    assert_allclose(C.decode_context_tok(800.0, 3744.0, 1.1), 4937.12)
    # Equal lengths (cv 0): the familiar L_in + L_out / 2.
    assert C.decode_context_tok(800.0, 3744.0, 0.0) == 800.0 + 1872.0
    # Independent check by sampling: gamma output lengths with cv 0.8; each sequence spends
    # one step per output token l = 1..L at context L_in + l - 1/2 (mid-step), so the
    # step-weighted mean context is what a batch slot sees over many sequences.
    rng = np.random.default_rng(11)
    cv, mean = 0.8, 2000.0
    lengths = rng.gamma(1.0 / cv**2, mean * cv**2, size=200_000)
    ctx = 3000.0 + 0.5 * (lengths**2).sum() / lengths.sum()
    sample_cv = lengths.std() / lengths.mean()
    assert_allclose(C.decode_context_tok(3000.0, lengths.mean(), sample_cv), ctx, rtol=1e-9)
    assert_allclose(C.decode_context_tok(3000.0, mean, cv), ctx, rtol=0.01)


def test_attention_runs_at_the_kv_precision_rate_by_hand():
    # DeepSeek-R1-like replica, FP4 weights (F = 9e15) with FP8 attention (4.5e15), B = 512,
    # context 4,000, A_eff = 50e9 (as above), eta_f 0.5, N = 8:
    # weights 512 x 2 x 50e9 / (8 x 9e15 x 0.5) = 1.42222 ms;
    # attention 512 x 4 x 61 x 69,632 x 4000 / (8 x 4.5e15 x 0.5) = 1.93311 ms.
    moe = dict(
        active_params=37e9, routed_active_params=20.8e9, expert_imbalance_frac=1.3,
        eta_moe_frac=0.8, layers_count=61.0, attn_decode_width_count=69_632.0,
        replica_gpus_count=8.0, eta_f_frac=0.5, peak_flop_per_s=9e15,
    )  # fmt: skip
    params = make_params(**moe, attn_peak_flop_per_s=4.5e15)
    want = 512 * 2 * 50e9 / (8 * 9e15 * 0.5) + 512 * 4 * 61 * 69_632 * 4000 / (8 * 4.5e15 * 0.5)
    assert_allclose(want, 1.42222e-3 + 1.93311e-3, rtol=1e-5)
    assert_allclose(C.replica_decode_compute_s(params, 512.0, 4000.0), want, rtol=1e-12)
    # At equal precisions it is the one-rate roofline of decode_compute_time_s.
    same = make_params(**moe, attn_peak_flop_per_s=9e15)
    assert_allclose(
        C.replica_decode_compute_s(same, 512.0, 4000.0),
        C.decode_compute_time_s(512.0, 50e9, 61.0, 69_632.0, 4000.0, 8.0, 9e15, 0.5),
        rtol=1e-12,
    )
    # Prefill: the quadratic attention term moves to the attention rate too.
    pf = C.replica_prefill_compute_s(params, 800.0)
    assert_allclose(
        pf,
        (2 * 50e9 * 800 / 9e15 + 2 * 61 * 800**2 * 8192 / 4.5e15) / (8 * 0.75),
        rtol=1e-12,
    )
