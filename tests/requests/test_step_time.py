"""Iteration time against the fluid compute core (replica_state) and its own chunking."""

from __future__ import annotations

import numpy as np
import pytest

from dcsim.catalog.load import load_catalog
from dcsim.model.pool import throughput_optimal_pool_spec
from dcsim.physics import compute as C
from dcsim.requests.step_time import prefill_chunk_compute_s, step_time_s


@pytest.fixture(scope="module")
def moe_params():
    # DeepSeek-R1 FP4 on GB200 NVL72 (gw-campus's reasoning pool): expert parallelism, MLA.
    spec = throughput_optimal_pool_spec(
        load_catalog(), "gb200-nvl72", "deepseek-r1", "fp4", "trtllm", 3000.0, 2000.0, 0.05, 3.0
    )
    return spec.to_params()


def _fluid_step_s(params, batch, clock):
    # replica_state gives ITL = t_step + B t_pf / L_out (continuous batching, MODEL.md 1), so
    # the decode step of the fluid core is ITL - B t_pf / L_out.
    _, itl_s, _ = C.replica_state(params, batch, clock)
    return itl_s - batch * C.replica_prefill_time_s(params, clock) / params[C.I_OUTPUT_TOK]


@pytest.mark.parametrize("pool", ["chat_params", "moe_params"])
@pytest.mark.parametrize("batch", [1, 37, 112])
@pytest.mark.parametrize("clock", [1.0, 0.6])
def test_steady_decode_iteration_is_the_fluid_step(request, pool, batch, clock):
    params = request.getfixturevalue(pool)
    # The fluid step's context is length-biased: L_in + L_out (1 + cv^2) / 2.
    cv = params[C.I_OUTPUT_CV]
    context_tok = params[C.I_INPUT_TOK] + 0.5 * params[C.I_OUTPUT_TOK] * (1.0 + cv * cv)
    got = step_time_s(params, batch, batch * context_tok, 0, clock)
    assert got == pytest.approx(_fluid_step_s(params, batch, clock), rel=1e-9)


def test_a_whole_prompt_alone_is_the_fluid_prefill_plus_the_fixed_step(chat_params):
    # One pass over the 2000-token prompt: compute-bound (its FLOPs take far longer than one
    # weight read), so t = t_pf,cmp / r + t_comm(L_in) + t_fixed = replica_prefill + t_fixed.
    p = chat_params
    for clock in (1.0, 0.7):
        weight_read_s = p[C.I_WEIGHT] / (p[C.I_REPLICA_GPUS] * p[C.I_HBM_BW] * p[C.I_ETA_BW])
        assert weight_read_s < C.replica_prefill_time_s(p, clock) / 5.0
        got = step_time_s(p, 0, 0.0, p[C.I_INPUT_TOK], clock)
        want = C.replica_prefill_time_s(p, clock) + p[C.I_T_FIXED]
        assert got == pytest.approx(want, rel=1e-12)


def test_chunks_of_a_prompt_add_up_to_its_whole_prefill_compute(chat_params):
    # The causal attention term is quadratic: chunks [s, s + c) telescope to L^2 exactly.
    p = chat_params
    edges = np.array([0, 512, 1024, 1536, 2000, 2048, 4097])
    parts = sum(
        prefill_chunk_compute_s(p, float(a), float(b - a))
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    )
    active = C.moe_effective_active_params(
        p[C.I_ACTIVE_PARAMS], p[C.I_ROUTED_ACTIVE], p[C.I_IMBALANCE], p[C.I_ETA_MOE]
    )
    whole = C.prefill_compute_time_s(
        4097.0, active, p[C.I_LAYERS], p[C.I_ATTN_PREFILL_W], p[C.I_REPLICA_GPUS],
        p[C.I_PEAK_FLOP], p[C.I_ETA_PF],
    )  # fmt: skip
    assert parts == pytest.approx(whole, rel=1e-12)
    # The quadratic term matters: the last chunk of 2049 tokens costs more than the first.
    assert prefill_chunk_compute_s(p, 2048.0, 2049.0) > prefill_chunk_compute_s(p, 0.0, 2049.0)


def test_a_chunk_rides_on_the_decode_weight_read(chat_params):
    # Fused pass: max(t_mem, (t_dec + t_chunk) / r) + t_comm(n_d + p) + t_fixed. A small chunk
    # hides under a memory-bound decode step (cost: only its collectives' bytes); a large one
    # costs its compute. Independent hand composition from the roofline terms:
    p = chat_params
    b, ctx = 112, 112 * 2200.0
    decode_only = step_time_s(p, b, ctx, 0, 1.0)
    mem_s = (p[C.I_WEIGHT] + ctx * p[C.I_KV]) / (
        p[C.I_REPLICA_GPUS] * p[C.I_HBM_BW] * p[C.I_ETA_BW]
    )
    dec_s = C.decode_compute_time_s(
        b, p[C.I_ACTIVE_PARAMS], p[C.I_LAYERS], p[C.I_ATTN_DECODE_W], ctx / b,
        p[C.I_REPLICA_GPUS], p[C.I_PEAK_FLOP], p[C.I_ETA_F],
    )  # fmt: skip
    assert dec_s < mem_s  # memory-bound decode
    for chunk in (16, 2048):
        chunk_s = prefill_chunk_compute_s(p, 0.0, float(chunk))
        comm_s = C.layer_collectives_time_s(
            b + chunk, p[C.I_LAYERS], 0.0, p[C.I_HIDDEN], p[C.I_ACT_ELEM], 0.0,
            p[C.I_REPLICA_GPUS], p[C.I_SCALEUP_BW], p[C.I_SCALEUP_LATENCY], 1.0,
        )  # fmt: skip
        want = max(mem_s, dec_s + chunk_s) + comm_s + p[C.I_T_FIXED]
        assert step_time_s(p, b, ctx, chunk, 1.0) == pytest.approx(want, rel=1e-12)
    assert step_time_s(p, b, ctx, 16, 1.0) < decode_only * 1.01
