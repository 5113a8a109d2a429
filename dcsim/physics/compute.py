"""Token-per-watt compute core: roofline decode, prefill, KV capacity, SLO batch, GPU power.

Reference implementation of MODEL.md section 1. A *pool* is (rack system, model, precision,
SLO class); one *replica* of the model spans ``N`` GPUs (tensor/expert parallel inside the
scale-up domain). Everything is SI: bytes [B], seconds [s], watts [W], FLOP.

Scalar functions are written as plain float arithmetic and marked
:func:`numba.extending.register_jitable`: called from Python they run as ordinary Python,
called from a ``numba.njit`` kernel (``dcsim.kernels.oppoints``) they are compiled inline. So
the compiled operating-point table and this reference share one statement of the physics;
the root-finding strategies differ (bisection in the kernel, :func:`scipy.optimize.brentq`
here) so that the tests compare two independent solvers.

Model summary (replica of ``N`` GPUs, batch ``B`` sequences, clock ratio ``r = f/f_max``):

- bytes read per decode step ``R(B) = W_read(B) + B * ctx * kv`` with the step-averaged,
  length-biased context ``ctx = L_in + L_out (1 + cv^2) / 2`` (:func:`decode_context_tok`),
  ``W_read = W`` (dense) or ``W_shared + W_experts * (1 - (1 - k/E)^B)`` (MoE);
- ``t_mem = R / (N bw eta_bw)``; ``t_cmp = B (2 A + 4 layers w ctx) / (N F eta_f)``
  (weights at the weights' peak ``F``, decode attention at the KV-cache precision's peak:
  :func:`replica_decode_compute_s`);
- ``t_comm``: per layer a tensor-parallel all-reduce of ``B hidden b_act`` after attention
  (``2 (N-1)/N bytes/bw + 2 log2(N) latency``) and, for a dense MLP, a second one; a
  mixture-of-experts layer instead dispatches each token to its ``k`` experts and combines
  them back: two all-to-alls of ``B k hidden b_act`` bytes, the busiest GPU receiving
  ``imbalance`` times the mean (:func:`layer_collectives_time_s`); zero for ``N = 1``;
- MoE compute waits for the busiest expert GPU, whose grouped expert GEMMs reach a share
  ``eta_moe`` of the dense rate: ``A_eff = A - A_routed + A_routed imbalance / eta_moe``;
  attention FLOPs use the attention width ``w`` (hidden for GQA; larger for latent
  attention, whose decode runs on the compressed cache with ``heads (2 kv_lora + rope)/2``);
- ``t_step = max(t_mem, t_cmp / r) + t_comm + t_fixed + B t_seq`` (compute time scales
  with 1/f, HBM, link and host time do not; ``t_seq`` is host work per sequence per step,
  e.g. a Python scheduler and sampler, so it grows with the batch);
- prefill per request ``t_pf = (2 A L_in + 2 layers L_in^2 w_pf) / (N F eta_pf) / r +
  t_comm(L_in tokens)`` (the quadratic term is causal self-attention:
  ``QK^T`` and ``AV`` each ``L_in^2 w_pf`` FLOP per layer);
- continuous batching: ``X(B) = B L_out / (L_out t_step + B t_pf)`` and
  ``ITL(B) = t_step + B t_pf / L_out`` (each of the ``B`` sequences brings one prefill per
  ``L_out`` decode steps); a fractional batch ``B < 1`` is a time share of batch 1;
- activity over one decode/prefill cycle ``T = L_out t_step + B t_pf``:
  ``u_cmp = (L_out t_cmp + B t_pf,cmp) / (r T)`` and ``u_mem = L_out t_mem / T``;
- GPU power (DVFS law, :func:`gpu_power_w`) ``P = P_idle + (TDP - P_idle) [c_leak
  (v^2 - v_min^2)/(1 - v_min^2) + c_cmp u_cmp r v^2 + c_mem u_mem]`` with the core voltage
  ``v(r)`` flat at ``v_min`` up to a knee clock and linear above it; held under the operator's
  board power limit ``P_lim`` (<= the chip maximum) by lowering the clock (``P`` rises
  monotonically with ``r``; solved by bisection).
"""

from __future__ import annotations

import math

import numpy as np
from numba.extending import register_jitable
from scipy.optimize import brentq

from dcsim.physics.queueing import replica_ttft_miss_frac

__all__ = [
    "PARAM_NAMES",
    "PARAMS_COUNT",
    "allreduce_time_s",
    "alltoall_time_s",
    "clock_frac_for_cap",
    "core_voltage_frac",
    "decode_comm_time_s",
    "decode_compute_time_s",
    "decode_context_tok",
    "decode_memory_time_s",
    "decode_step_time_s",
    "gpu_power_w",
    "inter_token_latency_s",
    "kv_bytes_per_token_b",
    "kv_capacity_batch_count",
    "layer_collectives_time_s",
    "moe_effective_active_params",
    "moe_weight_read_b",
    "lowest_limit_w",
    "on_cap_frac",
    "operating_table_reference",
    "output_throughput_tok_per_s",
    "prefill_comm_time_s",
    "prefill_compute_time_s",
    "rack_power_w",
    "replica_decode_compute_s",
    "replica_prefill_compute_s",
    "replica_prefill_time_s",
    "replica_state",
    "running_share_frac",
    "slo_batch_reference",
]

# --------------------------------------------------------------------------------------------
# Pool parameter vector. The compiled kernels take one float64 array so that the cached
# signature never changes when a field is added; ``dcsim.model.pool.PoolSpec.to_params``
# fills it. "No bound" (offline class, no stack batch limit) is +inf.
# --------------------------------------------------------------------------------------------
PARAM_NAMES: tuple[str, ...] = (
    "hbm_bw_b_per_s",  # 0  peak HBM bandwidth per GPU [B/s]
    "peak_flop_per_s",  # 1  dense peak FLOP/s per GPU at the pool precision [FLOP/s]
    "hbm_usable_b",  # 2  usable HBM per GPU [B]
    "hbm_reserve_frac",  # 3  HBM kept for activations/workspace [0..1]
    "weight_b",  # 4  weight bytes of one replica (whole model) [B]
    "weight_shared_b",  # 5  bytes every token reads (= weight_b for dense models) [B]
    "experts_count",  # 6  routed experts E (0 for dense)
    "active_experts_count",  # 7  routed experts per token k (0 for dense)
    "active_params",  # 8  parameters used per token A
    "layers_count",  # 9  transformer layers
    "hidden_count",  # 10 hidden width
    "kv_b_per_tok",  # 11 KV-cache bytes per token per sequence [B]
    "act_elem_b",  # 12 bytes per activation element in collectives [B]
    "input_tok",  # 13 mean prompt length L_in [tok]
    "output_tok",  # 14 mean output length L_out [tok]
    "replica_gpus_count",  # 15 GPUs per replica N
    "replicas_per_rack_count",  # 16 replicas per rack
    "gpus_per_rack_count",  # 17 GPUs per rack
    "scaleup_bw_b_per_s",  # 18 scale-up link bandwidth per GPU, one direction [B/s]
    "scaleup_latency_s",  # 19 latency of one collective step [s]
    "idle_w",  # 20 GPU idle power [W]
    "tdp_w",  # 21 GPU board power limit [W]
    "c_cmp_frac",  # 22 dynamic compute power at full clock / (TDP - idle)
    "c_mem_frac",  # 23 dynamic memory power / (TDP - idle)
    "eta_bw_frac",  # 24 achieved share of peak HBM bandwidth
    "eta_f_frac",  # 25 achieved share of peak FLOP/s in decode
    "eta_pf_frac",  # 26 achieved share of peak FLOP/s in prefill
    "t_fixed_s",  # 27 fixed per-step overhead [s]
    "host_idle_w",  # 28 rack host/switch/fan power at idle [W]
    "host_max_w",  # 29 the same at full activity [W]
    "psu_efficiency_frac",  # 30 rack AC->DC efficiency
    "tpot_slo_s",  # 31 time-per-output-token bound [s] (inf: offline)
    "ttft_slo_s",  # 32 time-to-first-token bound [s] (inf: offline)
    "max_batch_count",  # 33 stack's batch limit per replica (inf: none)
    "ttft_quantile_frac",  # 34 quantile at which TTFT is bounded (0.99 for MLPerf p99)
    "t_seq_s",  # 35 per-sequence decode-step overhead [s per sequence per step]
    "power_limit_w",  # 36 GPU board power limit set by the operator (<= chip maximum) [W]
    "knee_clock_frac",  # 37 clock ratio below which the core voltage stays at its minimum
    "v_min_frac",  # 38 minimum core voltage / core voltage at f_max [-]
    "c_leak_frac",  # 39 leakage power at f_max voltage above idle / (TDP - idle)
    "moe_layers_count",  # 40 layers with routed experts (0 for dense)
    "routed_active_params",  # 41 routed-expert parameters used per token (0 for dense)
    "expert_imbalance_frac",  # 42 tokens at the busiest expert GPU / mean (>= 1)
    "attn_decode_width_count",  # 43 attention width per token in decode (hidden for GQA)
    "attn_prefill_width_count",  # 44 attention width per token in prefill (hidden for GQA)
    "eta_moe_frac",  # 45 achieved share of the dense GEMM rate in routed-expert GEMMs
    "output_tok_cv_frac",  # 46 coefficient of variation of the output length [-]
    "input_tok_cv_frac",  # 47 coefficient of variation of the prompt length [-]
    "min_power_limit_w",  # 48 lowest GPU power limit an operator may set [W]
    "attn_peak_flop_per_s",  # 49 dense peak FLOP/s per GPU at the attention (KV-cache)
    # precision; attention runs there, the weight GEMMs at peak_flop_per_s (0: that rate)
)
PARAMS_COUNT = len(PARAM_NAMES)

I_HBM_BW = 0
I_PEAK_FLOP = 1
I_HBM_USABLE = 2
I_HBM_RESERVE = 3
I_WEIGHT = 4
I_WEIGHT_SHARED = 5
I_EXPERTS = 6
I_ACTIVE_EXPERTS = 7
I_ACTIVE_PARAMS = 8
I_LAYERS = 9
I_HIDDEN = 10
I_KV = 11
I_ACT_ELEM = 12
I_INPUT_TOK = 13
I_OUTPUT_TOK = 14
I_REPLICA_GPUS = 15
I_REPLICAS_PER_RACK = 16
I_GPUS_PER_RACK = 17
I_SCALEUP_BW = 18
I_SCALEUP_LATENCY = 19
I_IDLE_W = 20
I_TDP_W = 21
I_C_CMP = 22
I_C_MEM = 23
I_ETA_BW = 24
I_ETA_F = 25
I_ETA_PF = 26
I_T_FIXED = 27
I_HOST_IDLE_W = 28
I_HOST_MAX_W = 29
I_PSU_EFF = 30
I_TPOT_SLO = 31
I_TTFT_SLO = 32
I_MAX_BATCH = 33
I_TTFT_QUANTILE = 34
I_T_SEQ = 35
I_POWER_LIMIT_W = 36
I_KNEE_CLOCK = 37
I_V_MIN = 38
I_C_LEAK = 39
I_MOE_LAYERS = 40
I_ROUTED_ACTIVE = 41
I_IMBALANCE = 42
I_ATTN_DECODE_W = 43
I_ATTN_PREFILL_W = 44
I_ETA_MOE = 45
I_OUTPUT_CV = 46
I_INPUT_CV = 47
I_MIN_POWER_LIMIT_W = 48
I_ATTN_PEAK_FLOP = 49

# Bisection stopping rule shared by the solvers below: 200 halvings bound the loop, the
# relative width 1e-14 stops it (about 47 halvings on [0, 1]).
_BISECT_MAX_ITER = 200
_BISECT_REL_TOL = 1e-14


# --------------------------------------------------------------------------------------------
# Sizes
# --------------------------------------------------------------------------------------------
@register_jitable
def kv_bytes_per_token_b(layers_count, kv_heads_count, head_dim_count, kv_latent_count, kv_elem_b):
    """KV-cache bytes one token adds to one sequence [B].

    Grouped-query attention stores K and V for every KV head:
    ``2 * layers * kv_heads * head_dim * b_kv``. Multi-head latent attention (MLA) stores one
    compressed latent per layer: ``layers * latent * b_kv`` (``kv_latent_count > 0`` selects it).

    Parameters
    ----------
    layers_count : float
        Transformer layers [-].
    kv_heads_count : float
        KV heads (GQA) [-].
    head_dim_count : float
        Head dimension [-].
    kv_latent_count : float
        Cached latent width per layer for MLA, 0 for GQA [-].
    kv_elem_b : float
        Bytes per cached element [B].

    Returns
    -------
    float
        KV bytes per token per sequence [B].
    """
    if kv_latent_count > 0.0:
        return layers_count * kv_latent_count * kv_elem_b
    return 2.0 * layers_count * kv_heads_count * head_dim_count * kv_elem_b


@register_jitable
def moe_weight_read_b(batch_count, weight_b, weight_shared_b, experts_count, active_experts_count):
    """Weight bytes one decode step reads [B].

    A dense model reads all weights. A mixture-of-experts model reads the shared part and the
    expected share of routed experts that at least one of the ``B`` tokens selects, with
    uniform independent routing: ``W_shared + W_experts * (1 - (1 - k/E)^B)``.

    Parameters
    ----------
    batch_count : float
        Sequences decoded together, B [-] (may be fractional).
    weight_b : float
        All weight bytes of the replica [B].
    weight_shared_b : float
        Bytes every token reads (attention, dense layers, shared experts) [B].
    experts_count : float
        Routed experts E; 0 for a dense model [-].
    active_experts_count : float
        Routed experts per token k [-].

    Returns
    -------
    float
        Bytes read per step [B].
    """
    if experts_count <= 0.0:
        return weight_b
    untouched_frac = (1.0 - active_experts_count / experts_count) ** max(batch_count, 0.0)
    return weight_shared_b + (weight_b - weight_shared_b) * (1.0 - untouched_frac)


@register_jitable
def kv_capacity_batch_count(
    hbm_usable_b, hbm_reserve_frac, replica_gpus_count, weight_b, kv_b_per_tok, seq_tok
):
    """Sequences whose whole KV cache fits in the replica's free HBM [-].

    ``B_kv = floor((N * M * (1 - reserve) - W) / (seq_tok * kv))`` with ``seq_tok = L_in +
    L_out``. A value below 1 means the model does not fit; ``dcsim.model.pool.pool_spec``
    turns that into a ``ConfigError`` naming the pool.

    Parameters
    ----------
    hbm_usable_b : float
        Usable HBM per GPU, M [B].
    hbm_reserve_frac : float
        Share kept for activations and workspace [0..1].
    replica_gpus_count : float
        GPUs per replica, N [-].
    weight_b : float
        Weight bytes of the replica [B].
    kv_b_per_tok : float
        KV bytes per token per sequence [B].
    seq_tok : float
        Tokens per sequence held in KV, L_in + L_out [tok].

    Returns
    -------
    float
        Whole number of sequences (may be <= 0) [-].
    """
    free_b = replica_gpus_count * hbm_usable_b * (1.0 - hbm_reserve_frac) - weight_b
    return math.floor(free_b / (seq_tok * kv_b_per_tok))


# --------------------------------------------------------------------------------------------
# Times
# --------------------------------------------------------------------------------------------
@register_jitable
def allreduce_time_s(message_b, gpus_count, link_b_per_s, step_latency_s):
    """All-reduce of one message over the scale-up link [s].

    Alpha-beta cost of a reduce-scatter plus all-gather (Rabenseifner's algorithm):
    ``2 (N-1)/N * bytes / bw`` moves each byte as a ring does, and ``2 log2(N) * latency``
    counts the communication rounds of recursive halving then doubling (small messages do
    not pay the ring's ``2 (N-1)`` rounds). Zero for a single GPU.

    Parameters
    ----------
    message_b : float
        Message size per GPU [B].
    gpus_count : float
        GPUs taking part, N [-].
    link_b_per_s : float
        Link bandwidth per GPU, one direction [B/s].
    step_latency_s : float
        Latency of one ring step [s].

    Returns
    -------
    float
        Time of the collective [s].
    """
    if gpus_count <= 1.0:
        return 0.0
    bandwidth_s = 2.0 * (gpus_count - 1.0) / gpus_count * message_b / link_b_per_s
    return bandwidth_s + 2.0 * math.log2(gpus_count) * step_latency_s


@register_jitable
def alltoall_time_s(total_b, gpus_count, link_b_per_s, step_latency_s, imbalance_frac):
    """One expert-parallel all-to-all (dispatch or combine) over the replica's link [s].

    ``total_b`` bytes leave their tokens' GPUs for the GPUs holding the chosen experts; with
    the tokens spread evenly each GPU sends ``total/N``, of which ``(N-1)/N`` crosses the
    link, and the busiest GPU receives ``imbalance`` times the mean, so
    ``t = imbalance * total (N-1)/N^2 / bw + latency`` (one round: a switched fabric moves
    all pairs at once). Zero for a single GPU.

    Parameters
    ----------
    total_b : float
        Bytes moved by the whole replica, ``tokens * k * hidden * b_act`` [B].
    gpus_count : float
        GPUs of the expert-parallel group, N [-].
    link_b_per_s : float
        Link bandwidth per GPU, one direction [B/s].
    step_latency_s : float
        Latency of one collective step [s].
    imbalance_frac : float
        Tokens at the busiest GPU over the mean (>= 1) [-].

    Returns
    -------
    float
        Time of the collective [s].
    """
    if gpus_count <= 1.0:
        return 0.0
    per_gpu_b = total_b * (gpus_count - 1.0) / (gpus_count * gpus_count)
    return imbalance_frac * per_gpu_b / link_b_per_s + step_latency_s


@register_jitable
def layer_collectives_time_s(
    tokens_count, layers_count, moe_layers_count, hidden_count, act_elem_b,
    active_experts_count, gpus_count, link_b_per_s, step_latency_s, imbalance_frac,
):  # fmt: skip
    """Collectives of one forward pass of ``tokens_count`` tokens through the replica [s].

    Tensor-parallel attention ends every layer with an all-reduce of ``tokens x hidden``
    activations; a dense MLP adds a second one. A mixture-of-experts layer instead sends each
    token to its ``k`` experts and back: a dispatch and a combine all-to-all of
    ``tokens * k * hidden * b_act`` bytes each (:func:`alltoall_time_s`), not an all-reduce.
    Dense model: ``2 layers`` all-reduces.

    Parameters
    ----------
    tokens_count : float
        Tokens in the pass (decode: batch B; prefill: prompt length) [-].
    layers_count : float
        Transformer layers [-].
    moe_layers_count : float
        Layers whose MLP is routed experts (0 for dense) [-].
    hidden_count : float
        Hidden width [-].
    act_elem_b : float
        Bytes per activation element [B].
    active_experts_count : float
        Routed experts per token, k [-].
    gpus_count : float
        GPUs per replica, N [-].
    link_b_per_s : float
        Scale-up bandwidth per GPU, one direction [B/s].
    step_latency_s : float
        Latency of one collective step [s].
    imbalance_frac : float
        Expert load imbalance, busiest GPU over mean (>= 1) [-].

    Returns
    -------
    float
        Communication time [s]; 0 for N = 1.
    """
    message_b = tokens_count * hidden_count * act_elem_b
    allreduce_s = allreduce_time_s(message_b, gpus_count, link_b_per_s, step_latency_s)
    a2a_s = alltoall_time_s(
        message_b * active_experts_count, gpus_count, link_b_per_s, step_latency_s,
        imbalance_frac,
    )  # fmt: skip
    dense_layers = layers_count - moe_layers_count
    return (layers_count + dense_layers) * allreduce_s + 2.0 * moe_layers_count * a2a_s


@register_jitable
def moe_effective_active_params(active_params, routed_active_params, imbalance_frac, eta_moe_frac):
    """Dense-GEMM-equivalent parameters per token of the busiest expert-parallel GPU [-].

    The step waits for the GPU whose experts received the most tokens: its routed-expert
    work is ``imbalance`` times the mean; and the routed experts run as grouped GEMMs of
    ``B k / E`` tokens each, which reach a share ``eta_moe`` of the dense GEMM rate. So
    ``A - A_routed + A_routed imbalance / eta_moe`` (``A`` itself for a dense model,
    ``A_routed = 0``).

    Parameters
    ----------
    active_params : float
        Parameters used per token, A [-].
    routed_active_params : float
        Of those, routed-expert parameters, ``k * layers_moe * expert size`` [-].
    imbalance_frac : float
        Expert load imbalance (>= 1) [-].
    eta_moe_frac : float
        Grouped expert GEMM rate over the dense GEMM rate (0..1] [-].

    Returns
    -------
    float
        Effective parameters per token [-].
    """
    return active_params + routed_active_params * (imbalance_frac / eta_moe_frac - 1.0)


@register_jitable
def decode_memory_time_s(
    batch_count, weight_read_b, kv_b_per_tok, context_tok, replica_gpus_count, hbm_bw_b_per_s,
    eta_bw_frac,
):  # fmt: skip
    """HBM time of one decode step [s]: ``(W_read + B * ctx * kv) / (N * bw * eta_bw)``.

    Parameters
    ----------
    batch_count : float
        Sequences in the step, B [-].
    weight_read_b : float
        Weight bytes read this step [B].
    kv_b_per_tok : float
        KV bytes per token per sequence [B].
    context_tok : float
        Mean context per sequence during decode (:func:`decode_context_tok`) [tok].
    replica_gpus_count : float
        GPUs per replica, N [-].
    hbm_bw_b_per_s : float
        Peak HBM bandwidth per GPU [B/s].
    eta_bw_frac : float
        Achieved share of peak bandwidth [0..1].

    Returns
    -------
    float
        Memory time [s].
    """
    bytes_read_b = weight_read_b + batch_count * context_tok * kv_b_per_tok
    return bytes_read_b / (replica_gpus_count * hbm_bw_b_per_s * eta_bw_frac)


@register_jitable
def decode_compute_time_s(
    batch_count, active_params, layers_count, hidden_count, context_tok, replica_gpus_count,
    peak_flop_per_s, eta_f_frac,
):  # fmt: skip
    """Compute time of one decode step at full clock [s].

    ``B * (2 A + 4 layers w ctx) / (N * F * eta_f)``: two FLOP per active parameter plus
    attention of one query over ``ctx`` cached keys and values (``QK`` and ``AV``, 2 FLOP per
    multiply-add; ``w`` is the mean of the query-key and value widths: the hidden width for
    GQA, ``heads (2 kv_lora + rope) / 2`` for latent attention run on the compressed cache).

    Parameters
    ----------
    batch_count : float
        Sequences in the step, B [-].
    active_params : float
        Parameters used per token, A [-].
    layers_count : float
        Transformer layers [-].
    hidden_count : float
        Attention width w (hidden width for GQA) [-].
    context_tok : float
        Mean context per sequence [tok].
    replica_gpus_count : float
        GPUs per replica, N [-].
    peak_flop_per_s : float
        Dense peak per GPU at the precision [FLOP/s].
    eta_f_frac : float
        Achieved share of peak in decode [0..1].

    Returns
    -------
    float
        Compute time at f_max [s].
    """
    flop_per_tok = 2.0 * active_params + 4.0 * layers_count * hidden_count * context_tok
    return batch_count * flop_per_tok / (replica_gpus_count * peak_flop_per_s * eta_f_frac)


@register_jitable
def decode_context_tok(input_tok, output_tok, output_cv_frac):
    """Mean context a decoding sequence attends over, averaged over decode steps [tok].

    A batch slot holds each sequence for as many steps as it has output tokens, so the
    sequences in flight at a step are a length-biased sample of the outputs: a slot spends a
    share ``L f(L) / E[L]`` of its steps on sequences of output length ``L``, and over one
    sequence the context grows from ``L_in`` to ``L_in + L``. Averaged over the steps,
    ``ctx = L_in + E[L^2] / (2 E[L]) = L_in + L_out (1 + cv^2) / 2`` (``L_in + L_out / 2``
    only for equal output lengths). Long reasoning outputs (cv ~ 1) double the mean
    attention span of the second term.

    Parameters
    ----------
    input_tok : float
        Mean prompt length, L_in [tok].
    output_tok : float
        Mean output length, L_out [tok].
    output_cv_frac : float
        Coefficient of variation of the output length [-].

    Returns
    -------
    float
        Step-averaged context per sequence in flight [tok].

    References
    ----------
    Renewal-reward theorem and the inspection paradox (length-biased sampling): S. M. Ross,
    "Introduction to Probability Models", 11th ed., sec. 7.4 and 7.7; L. Kleinrock, "Queueing
    Systems, Vol. 1", sec. 5.2 (residual life).
    """
    return input_tok + 0.5 * output_tok * (1.0 + output_cv_frac * output_cv_frac)


@register_jitable
def decode_comm_time_s(
    batch_count, layers_count, hidden_count, act_elem_b, replica_gpus_count, link_b_per_s,
    step_latency_s,
):  # fmt: skip
    """Tensor-parallel collectives of one decode step of a dense model [s].

    Two all-reduces per layer (after attention and after the MLP) of the ``B x hidden``
    activations (:func:`layer_collectives_time_s` without routed experts).

    Parameters
    ----------
    batch_count : float
        Sequences in the step, B [-].
    layers_count : float
        Transformer layers [-].
    hidden_count : float
        Hidden width [-].
    act_elem_b : float
        Bytes per activation element [B].
    replica_gpus_count : float
        GPUs per replica, N [-].
    link_b_per_s : float
        Scale-up bandwidth per GPU, one direction [B/s].
    step_latency_s : float
        Latency of one ring step [s].

    Returns
    -------
    float
        Communication time [s]; 0 for N = 1.
    """
    return layer_collectives_time_s(
        batch_count, layers_count, 0.0, hidden_count, act_elem_b, 0.0, replica_gpus_count,
        link_b_per_s, step_latency_s, 1.0,
    )  # fmt: skip


@register_jitable
def prefill_compute_time_s(
    input_tok, active_params, layers_count, hidden_count, replica_gpus_count, peak_flop_per_s,
    eta_pf_frac,
):  # fmt: skip
    """Compute time to prefill one request at full clock [s].

    ``(2 A L_in + 2 layers L_in^2 w) / (N F eta_pf)``; the second term is causal
    self-attention (``QK^T`` and ``AV`` over half the ``L_in x L_in`` score matrix, 2 FLOP
    per multiply-add), which matters for long prompts. ``w`` is the mean of the query-key and
    value widths: hidden for GQA, ``heads (qk_nope + rope + v) / 2`` for latent attention
    (prefill runs it decompressed).

    Parameters
    ----------
    input_tok : float
        Prompt length, L_in [tok].
    active_params : float
        Parameters used per token, A [-].
    layers_count : float
        Transformer layers [-].
    hidden_count : float
        Attention width w (hidden width for GQA) [-].
    replica_gpus_count : float
        GPUs per replica, N [-].
    peak_flop_per_s : float
        Dense peak per GPU [FLOP/s].
    eta_pf_frac : float
        Achieved share of peak in prefill [0..1].

    Returns
    -------
    float
        Prefill compute time [s].
    """
    flop = 2.0 * active_params * input_tok + 2.0 * layers_count * input_tok**2 * hidden_count
    return flop / (replica_gpus_count * peak_flop_per_s * eta_pf_frac)


@register_jitable
def prefill_comm_time_s(
    input_tok, layers_count, hidden_count, act_elem_b, replica_gpus_count, link_b_per_s,
    step_latency_s,
):  # fmt: skip
    """Tensor-parallel collectives to prefill one request of a dense model [s].

    Two all-reduces per layer, as :func:`decode_comm_time_s` with the prompt's tokens.

    Parameters
    ----------
    input_tok : float
        Prompt length [tok].
    layers_count : float
        Transformer layers [-].
    hidden_count : float
        Hidden width [-].
    act_elem_b : float
        Bytes per activation element [B].
    replica_gpus_count : float
        GPUs per replica [-].
    link_b_per_s : float
        Scale-up bandwidth per GPU [B/s].
    step_latency_s : float
        Latency of one ring step [s].

    Returns
    -------
    float
        Communication time [s].
    """
    return decode_comm_time_s(
        input_tok, layers_count, hidden_count, act_elem_b, replica_gpus_count, link_b_per_s,
        step_latency_s,
    )  # fmt: skip


@register_jitable
def decode_step_time_s(memory_s, compute_s, comm_s, fixed_s, seq_s, batch_count, clock_frac):
    """Decode step time: ``max(t_mem, t_cmp / r) + t_comm + t_fixed + B t_seq`` [s].

    Parameters
    ----------
    memory_s : float
        HBM time [s].
    compute_s : float
        Compute time at full clock [s].
    comm_s : float
        Collective time [s].
    fixed_s : float
        Fixed per-step overhead [s].
    seq_s : float
        Host overhead per sequence in the step (scheduling, sampling) [s].
    batch_count : float
        Sequences in the step, B [-].
    clock_frac : float
        Clock over maximum clock, r = f/f_max (0..1] [-].

    Returns
    -------
    float
        Step time [s].
    """
    return max(memory_s, compute_s / clock_frac) + comm_s + fixed_s + batch_count * seq_s


@register_jitable
def output_throughput_tok_per_s(batch_count, output_tok, step_s, prefill_s):
    """Output tokens per second of a replica with continuous batching [tok/s].

    ``X(B) = B L_out / (L_out t_step + B t_pf)``: in the time ``B`` sequences each produce
    ``L_out`` tokens the replica also runs their ``B`` prefills.

    Parameters
    ----------
    batch_count : float
        Sequences in flight, B [-].
    output_tok : float
        Mean output length, L_out [tok].
    step_s : float
        Decode step time [s].
    prefill_s : float
        Prefill time per request [s].

    Returns
    -------
    float
        Throughput [tok/s].
    """
    return batch_count * output_tok / (output_tok * step_s + batch_count * prefill_s)


@register_jitable
def inter_token_latency_s(batch_count, output_tok, step_s, prefill_s):
    """Mean time between two output tokens of one sequence [s]: ``t_step + B t_pf / L_out``.

    Parameters
    ----------
    batch_count : float
        Sequences in flight, B [-].
    output_tok : float
        Mean output length [tok].
    step_s : float
        Decode step time [s].
    prefill_s : float
        Prefill time per request [s].

    Returns
    -------
    float
        Inter-token latency [s].
    """
    return step_s + batch_count * prefill_s / output_tok


# --------------------------------------------------------------------------------------------
# Power
# --------------------------------------------------------------------------------------------
@register_jitable
def core_voltage_frac(clock_frac, knee_clock_frac, v_min_frac):
    """Core voltage at a clock ratio, as a share of the voltage at full clock [-].

    GPU voltage-frequency curves are flat at the minimum operating voltage up to a knee
    clock and rise about linearly from there to the maximum boost clock (the DVFS table of
    the chip; lower clocks at the floor voltage save only the ``f`` of ``f V^2``):
    ``v = v_min`` for ``r <= r_knee``, else ``v_min + (1 - v_min) (r - r_knee) / (1 - r_knee)``.

    Parameters
    ----------
    clock_frac : float
        Clock ratio r = f/f_max [-].
    knee_clock_frac : float
        Clock ratio of the knee, r_knee in [0, 1) [-].
    v_min_frac : float
        Minimum voltage over the voltage at f_max, in (0, 1] [-].

    Returns
    -------
    float
        Voltage ratio V/V_max [-].

    References
    ----------
    Weste and Harris, "CMOS VLSI Design", 4th ed., sec. 5.2 (dynamic power ``C V^2 f``) and
    5.3 (static power); NVIDIA, "GPU Boost" documentation (voltage-frequency curve with a
    floor voltage at low clocks).
    """
    if clock_frac <= knee_clock_frac:
        return v_min_frac
    return v_min_frac + (1.0 - v_min_frac) * (clock_frac - knee_clock_frac) / (
        1.0 - knee_clock_frac
    )


@register_jitable
def gpu_power_w(
    idle_w, tdp_w, c_cmp_frac, c_mem_frac, u_cmp_frac, u_mem_frac, clock_frac,
    knee_clock_frac, v_min_frac, c_leak_frac,
):  # fmt: skip
    """GPU board power of a serving GPU, before any limit [W].

    DVFS law with the chip's rated TDP as the scale of every term (so the operator's power
    limit moves the clock, never the law):

    ``P = P_idle + (TDP - P_idle) [c_leak (v^2 - v_min^2)/(1 - v_min^2)
    + c_cmp u_cmp r v^2 + c_mem u_mem]``

    - idle: the board at idle clocks and the floor voltage, weights resident;
    - leakage above idle: static current rises with the core voltage (first order
      ``V I_leak ~ V^2``), zero at the floor voltage;
    - compute: switching power ``C V^2 f`` while the SMs are busy (``u_cmp`` is the busy time
      share at clock r, so ``u_cmp r`` is the switching rate relative to full activity at
      f_max); ``v`` from :func:`core_voltage_frac`;
    - memory: HBM and its interface, whose clock a core power limit does not change.

    Parameters
    ----------
    idle_w : float
        Idle power with weights resident [W].
    tdp_w : float
        The chip's rated board power (TDP), scale of the dynamic terms [W].
    c_cmp_frac : float
        Dynamic compute power at full clock and activity / (TDP - idle) [-].
    c_mem_frac : float
        Dynamic memory power at full activity / (TDP - idle) [-].
    u_cmp_frac : float
        Time share of compute activity at this clock [0..1].
    u_mem_frac : float
        Time share of HBM activity [0..1].
    clock_frac : float
        Clock ratio r = f/f_max [-].
    knee_clock_frac : float
        Clock ratio below which the voltage stays at its floor [-].
    v_min_frac : float
        Floor voltage / voltage at f_max [-].
    c_leak_frac : float
        Leakage above idle at full voltage / (TDP - idle) [-].

    Returns
    -------
    float
        Power [W] (not limited; callers lower the clock to stay under a limit or cap).

    References
    ----------
    Weste and Harris, "CMOS VLSI Design", 4th ed., sec. 5.2-5.3.
    """
    v = core_voltage_frac(clock_frac, knee_clock_frac, v_min_frac)
    v2 = v * v
    v_min2 = v_min_frac * v_min_frac
    leak_frac = 0.0
    if v_min2 < 1.0:
        leak_frac = c_leak_frac * (v2 - v_min2) / (1.0 - v_min2)
    dynamic_frac = leak_frac + c_cmp_frac * u_cmp_frac * clock_frac * v2 + c_mem_frac * u_mem_frac
    return idle_w + (tdp_w - idle_w) * dynamic_frac


@register_jitable
def replica_prefill_time_s(params, clock_frac):
    """Prefill time of one request on a replica at a clock ratio [s].

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector.
    clock_frac : float
        Clock ratio r = f/f_max [-].

    Returns
    -------
    float
        ``t_pf,cmp / r + t_pf,comm`` [s].
    """
    pf_cmp_s, pf_comm_s = _prefill_parts_s(params)
    return pf_cmp_s / max(clock_frac, 1e-300) + pf_comm_s


@register_jitable
def _attention_peak_flop_per_s(params):
    # 0 in a hand-built vector: attention at the weights' rate.
    if params[I_ATTN_PEAK_FLOP] > 0.0:
        return params[I_ATTN_PEAK_FLOP]
    return params[I_PEAK_FLOP]


@register_jitable
def replica_decode_compute_s(params, batch_count, context_tok):
    """Compute time at full clock of one decode step of a replica [s].

    The weight GEMMs (``2 A_eff`` FLOP per token, :func:`moe_effective_active_params`) run
    at the weights' precision, attention over the cached context (``4 layers w ctx``) at the
    precision of the KV cache and attention kernels: an FP4 checkpoint with an FP8 KV cache
    runs attention at the FP8 tensor rate, half the FP4 peak (NVIDIA's DeepSeek-R1 recipe on
    Blackwell: NVFP4 weights, "FP8 KV cache and FP8 attention"). With equal precisions this
    is :func:`decode_compute_time_s` of the whole token.

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector (``PARAM_NAMES``).
    batch_count : float
        Sequences in the step, B [-].
    context_tok : float
        Mean context per sequence (:func:`decode_context_tok`) [tok].

    Returns
    -------
    float
        Compute time at f_max [s].

    References
    ----------
    NVIDIA TensorRT-LLM team, "Optimizing DeepSeek R1 Throughput on NVIDIA Blackwell GPUs"
    (TensorRT-LLM tech blog 3, 2025), "Precision strategy".
    """
    n = params[I_REPLICA_GPUS]
    active = moe_effective_active_params(
        params[I_ACTIVE_PARAMS], params[I_ROUTED_ACTIVE], params[I_IMBALANCE], params[I_ETA_MOE]
    )
    weights_s = decode_compute_time_s(
        batch_count, active, params[I_LAYERS], 0.0, context_tok, n, params[I_PEAK_FLOP],
        params[I_ETA_F],
    )  # fmt: skip
    attention_s = decode_compute_time_s(
        batch_count, 0.0, params[I_LAYERS], params[I_ATTN_DECODE_W], context_tok, n,
        _attention_peak_flop_per_s(params), params[I_ETA_F],
    )  # fmt: skip
    return weights_s + attention_s


@register_jitable
def replica_prefill_compute_s(params, input_tok):
    """Compute time at full clock to prefill ``input_tok`` prompt tokens of one request [s].

    :func:`prefill_compute_time_s` split as in :func:`replica_decode_compute_s`: the linear
    (weight) term at the weights' precision, the causal-attention term at the attention
    precision. A prompt chunk ``[s, s + c)`` costs the difference of two calls.

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector (``PARAM_NAMES``).
    input_tok : float
        Prompt tokens [tok].

    Returns
    -------
    float
        Prefill compute time at f_max [s].
    """
    n = params[I_REPLICA_GPUS]
    active = moe_effective_active_params(
        params[I_ACTIVE_PARAMS], params[I_ROUTED_ACTIVE], params[I_IMBALANCE], params[I_ETA_MOE]
    )
    weights_s = prefill_compute_time_s(
        input_tok, active, params[I_LAYERS], 0.0, n, params[I_PEAK_FLOP], params[I_ETA_PF]
    )
    attention_s = prefill_compute_time_s(
        input_tok, 0.0, params[I_LAYERS], params[I_ATTN_PREFILL_W], n,
        _attention_peak_flop_per_s(params), params[I_ETA_PF],
    )  # fmt: skip
    return weights_s + attention_s


@register_jitable
def _prefill_parts_s(params):
    """Compute time at full clock and collectives time of one request's prefill [s]."""
    n = params[I_REPLICA_GPUS]
    in_tok = params[I_INPUT_TOK]
    pf_cmp_s = replica_prefill_compute_s(params, in_tok)
    pf_comm_s = layer_collectives_time_s(
        in_tok, params[I_LAYERS], params[I_MOE_LAYERS], params[I_HIDDEN], params[I_ACT_ELEM],
        params[I_ACTIVE_EXPERTS], n, params[I_SCALEUP_BW], params[I_SCALEUP_LATENCY],
        params[I_IMBALANCE],
    )  # fmt: skip
    return pf_cmp_s, pf_comm_s


@register_jitable
def replica_state(params, batch_count, clock_frac):
    """Throughput, latency and per-GPU power of one replica at a batch and clock.

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector (see ``PARAM_NAMES``).
    batch_count : float
        Mean sequences in flight, B [-]; ``B < 1`` is batch 1 for a share B of the time.
    clock_frac : float
        Clock ratio r = f/f_max (0..1] [-].

    Returns
    -------
    x_tok_per_s : float
        Output throughput of the replica [tok/s].
    itl_s : float
        Mean inter-token latency [s].
    gpu_w : float
        Power of each GPU of the replica, not clipped [W].
    """
    share = 1.0
    batch = batch_count
    if batch_count < 1.0:
        share = max(batch_count, 0.0)
        batch = 1.0
    n = params[I_REPLICA_GPUS]
    in_tok = params[I_INPUT_TOK]
    out_tok = params[I_OUTPUT_TOK]
    context_tok = decode_context_tok(in_tok, out_tok, params[I_OUTPUT_CV])
    w_read = moe_weight_read_b(
        batch, params[I_WEIGHT], params[I_WEIGHT_SHARED], params[I_EXPERTS],
        params[I_ACTIVE_EXPERTS],
    )  # fmt: skip
    mem_s = decode_memory_time_s(
        batch, w_read, params[I_KV], context_tok, n, params[I_HBM_BW], params[I_ETA_BW]
    )
    cmp_s = replica_decode_compute_s(params, batch, context_tok)
    comm_s = layer_collectives_time_s(
        batch, params[I_LAYERS], params[I_MOE_LAYERS], params[I_HIDDEN], params[I_ACT_ELEM],
        params[I_ACTIVE_EXPERTS], n, params[I_SCALEUP_BW], params[I_SCALEUP_LATENCY],
        params[I_IMBALANCE],
    )  # fmt: skip
    pf_cmp_s, pf_comm_s = _prefill_parts_s(params)
    step_s = decode_step_time_s(
        mem_s, cmp_s, comm_s, params[I_T_FIXED], params[I_T_SEQ], batch, clock_frac
    )
    prefill_s = pf_cmp_s / clock_frac + pf_comm_s
    x_tok_per_s = output_throughput_tok_per_s(batch, out_tok, step_s, prefill_s)
    itl_s = inter_token_latency_s(batch, out_tok, step_s, prefill_s)
    cycle_s = out_tok * step_s + batch * prefill_s
    u_cmp = (out_tok * cmp_s + batch * pf_cmp_s) / clock_frac / cycle_s
    u_mem = out_tok * mem_s / cycle_s
    idle_w = params[I_IDLE_W]
    busy_w = gpu_power_w(
        idle_w, params[I_TDP_W], params[I_C_CMP], params[I_C_MEM], u_cmp, u_mem, clock_frac,
        params[I_KNEE_CLOCK], params[I_V_MIN], params[I_C_LEAK],
    )  # fmt: skip
    return share * x_tok_per_s, itl_s, idle_w + share * (busy_w - idle_w)


@register_jitable
def clock_frac_for_cap(params, batch_count, cap_w):
    """Highest clock ratio whose GPU power stays within a cap and the board power limit [-].

    GPU power rises monotonically with the clock (``u_cmp r`` is the compute work per unit
    time and grows with r, ``v^2`` does not fall, the memory activity share grows as the step
    shortens), so the root of ``P(r) = min(cap, limit)`` is found by bisection on (0, 1].
    The limit is the operator's board power limit (``power_limit_w``, at most the chip's
    maximum), not the TDP that scales the power law. A cap at or below idle power returns 0
    (the GPU cannot hold it while on).

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector.
    batch_count : float
        Mean sequences in flight [-].
    cap_w : float
        GPU power cap [W].

    Returns
    -------
    float
        Clock ratio r in [0, 1] [-].
    """
    limit_w = min(cap_w, params[I_POWER_LIMIT_W])
    if replica_state(params, batch_count, 1.0)[2] <= limit_w:
        return 1.0
    if limit_w <= params[I_IDLE_W]:
        return 0.0
    lo = 0.0
    hi = 1.0
    for _ in range(_BISECT_MAX_ITER):
        mid = 0.5 * (lo + hi)
        if replica_state(params, batch_count, mid)[2] > limit_w:
            hi = mid
        else:
            lo = mid
        if hi - lo <= _BISECT_REL_TOL * hi:
            break
    return 0.5 * (lo + hi)


@register_jitable
def rack_power_w(params, gpu_w):
    """Wall power of a rack whose serving GPUs each draw ``gpu_w`` [W].

    GPUs not part of a replica idle. Host power (CPUs, switches, NICs, fans) moves from idle
    to max with the rack's GPU dynamic-power share, because fans and host work follow the
    heat and the batch traffic. The total is divided by the power-shelf efficiency.

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector.
    gpu_w : float
        Power of each serving GPU [W].

    Returns
    -------
    float
        Rack wall power [W].
    """
    idle_w = params[I_IDLE_W]
    serving = params[I_REPLICAS_PER_RACK] * params[I_REPLICA_GPUS]
    spare = params[I_GPUS_PER_RACK] - serving
    activity = (gpu_w - idle_w) / (params[I_TDP_W] - idle_w) * serving / params[I_GPUS_PER_RACK]
    host_w = params[I_HOST_IDLE_W] + (params[I_HOST_MAX_W] - params[I_HOST_IDLE_W]) * activity
    return (serving * gpu_w + spare * idle_w + host_w) / params[I_PSU_EFF]


# --------------------------------------------------------------------------------------------
# Reference solvers (brentq); the kernel uses bisection
# --------------------------------------------------------------------------------------------
def _tdp_state(params, batch):
    clock = clock_frac_for_cap(params, batch, params[I_POWER_LIMIT_W])
    x, itl, gpu = replica_state(params, batch, clock)
    return x, itl, gpu, clock


def _max_batch(params):
    kv_batch = kv_capacity_batch_count(
        params[I_HBM_USABLE], params[I_HBM_RESERVE], params[I_REPLICA_GPUS], params[I_WEIGHT],
        params[I_KV], params[I_INPUT_TOK] + params[I_OUTPUT_TOK],
    )  # fmt: skip
    return min(float(kv_batch), params[I_MAX_BATCH])


def slo_batch_reference(params):
    """Mean batch per replica that meets the pool's latency SLO (reference solver) [-].

    1. ``B_max = min(B_kv, max_batch)``.
    2. TPOT: batch slots ``c`` = the largest whole ``B <= B_max`` with ``ITL(B) <= TPOT``
       (ITL at the TDP-limited clock rises with B).
    3. TTFT: the mean occupancy ``a < c`` at which a share ``q`` of requests meets the TTFT
       bound (M/G/c slots plus M/G/1 prefill, residence ``t_pf + L_out ITL(a)``, see
       :func:`dcsim.physics.queueing.replica_ttft_miss_frac`); the pool's rated capacity is
       therefore the load at which attainment equals ``q``.
    Offline (both bounds inf): ``B_max``. An SLO that even batch 1 (TPOT) or an empty queue
    (TTFT) misses gives 0.

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector.

    Returns
    -------
    float
        SLO batch B* [-].
    """
    batch_max = _max_batch(params)
    if batch_max < 1.0:
        return 0.0
    tpot_s = params[I_TPOT_SLO]
    slots = batch_max
    if math.isfinite(tpot_s):
        if _tdp_state(params, 1.0)[1] > tpot_s:
            return 0.0
        if _tdp_state(params, batch_max)[1] > tpot_s:
            root = brentq(
                lambda b: _tdp_state(params, b)[1] - tpot_s, 1.0, batch_max, xtol=1e-13,
                rtol=1e-15, maxiter=500,
            )  # fmt: skip
            slots = float(math.floor(root))
    ttft_s = params[I_TTFT_SLO]
    if not math.isfinite(ttft_s):
        return slots

    def ttft_excess_frac(occupancy):
        x, itl, _, clock = _tdp_state(params, occupancy)
        prefill_s = replica_prefill_time_s(params, clock)
        miss_frac = replica_ttft_miss_frac(
            slots, occupancy, prefill_s, params[I_OUTPUT_TOK] * itl, params[I_OUTPUT_CV],
            params[I_INPUT_CV], x * prefill_s / params[I_OUTPUT_TOK], ttft_s,
        )  # fmt: skip
        return miss_frac - (1.0 - params[I_TTFT_QUANTILE])

    if ttft_excess_frac(0.0) > 0.0:
        return 0.0
    hi = slots * (1.0 - 1e-12)
    if ttft_excess_frac(hi) <= 0.0:
        return hi
    return brentq(ttft_excess_frac, 0.0, hi, xtol=1e-13, rtol=1e-15, maxiter=500)


def _capped_throughput(params, batch, cap_w):
    clock = clock_frac_for_cap(params, batch, cap_w)
    if clock <= 0.0:
        return 0.0, params[I_IDLE_W]
    x, _, gpu = replica_state(params, batch, clock)
    return x, min(gpu, cap_w, params[I_POWER_LIMIT_W])


@register_jitable
def lowest_limit_w(params):
    """Lowest GPU power limit a pool's racks can hold while serving [W].

    The chip's lowest settable limit (``min_power_limit_w``), and never below its idle power;
    a cap below it runs a share of the racks at it and parks the rest
    (:func:`operating_table_reference`).

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector (``PARAM_NAMES``).
    """
    return max(params[I_MIN_POWER_LIMIT_W], params[I_IDLE_W])


@register_jitable
def on_cap_frac(params):
    """Cap below which a pool's racks start parking: lowest limit over the board limit [frac].

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector (``PARAM_NAMES``).
    """
    return lowest_limit_w(params) / params[I_POWER_LIMIT_W]


@register_jitable
def running_share_frac(cap_frac, on_cap):
    """Share of a pool's serving racks that run under GPU cap ``cap_frac`` [frac].

    At or above ``on_cap`` (:func:`on_cap_frac`) all run at the cap; below it a share
    ``cap / on_cap`` runs at the lowest settable limit and the rest are parked, so capacity
    and power fall linearly to zero with the cap. ``on_cap`` 0 never parks.

    Parameters
    ----------
    cap_frac : float
        GPU power cap, share of the board power limit [frac].
    on_cap : float
        :func:`on_cap_frac` of the pool [frac].
    """
    if cap_frac >= on_cap:
        return 1.0
    return cap_frac / on_cap


def operating_table_reference(params, load_frac, cap_frac):
    """Operating-point table of one pool, per rack (NumPy/SciPy reference).

    For each offered load ``l`` (share of the rack's SLO throughput ``X*``) and GPU power cap
    ``c`` (share of the pool's board power limit ``power_limit_w``; ``c = 1`` is the limit, so
    column ``c`` answers "tok/s and W with the GPU limit set to ``c * power_limit_w``"):

    - ``B*`` = :func:`slo_batch_reference`; ``X*`` = rack throughput at ``B*`` with the clock
      limited only by the board power limit (full clock unless it binds);
    - capped capacity ``X_c = X(B*, r_c(B*))`` where ``r_c(B)`` is the highest clock whose
      power at batch B fits ``c * TDP`` (:func:`clock_frac_for_cap`);
    - served throughput ``x = min(l X*, X_c)``: below capacity the queue settles at the batch
      ``B_l`` with ``X(B_l, r_c(B_l)) = l X*`` (a slower clock needs a larger batch for the
      same load), above it the rack runs ``B*`` at the capped clock;
    - power ``p`` = rack wall power at that batch and clock;
    - a cap below the lowest limit an operator can set, ``P_min`` (the chip's
      ``min_power_limit_w``, at least its idle power), cannot be held by a running GPU: a
      share ``c P_lim / P_min`` of the racks runs at ``P_min`` with the load spread over them
      and the rest are parked (0 W), so ``x`` and ``p`` both fall linearly to 0 at ``c = 0``
      (with ``P_min`` = idle the racks that run serve nothing: the clock is zero);
    - finally ``p`` is made non-decreasing in ``l`` (running maximum). Past the roofline
      ridge the HBM share of a step falls as the batch grows, so the physical GPU power can
      dip slightly with load; holding the highest power seen at a lower load keeps the table
      monotone for the capping policy at the price of overstating that dip.

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector (``PARAM_NAMES``).
    load_frac : numpy.ndarray
        Offered-load grid in [0, 1], ascending [-].
    cap_frac : numpy.ndarray
        GPU power-cap grid in [0, 1] of the board power limit, ascending [-].

    Returns
    -------
    x_tok_per_s : numpy.ndarray
        Served rack throughput, shape (len(load_frac), len(cap_frac)) [tok/s].
    p_w : numpy.ndarray
        Rack wall power, same shape [W].
    x_star_tok_per_s : float
        Rack throughput at the SLO batch, TDP-limited clock [tok/s].
    b_star_count : float
        SLO batch per replica [-].
    """
    params = np.asarray(params, dtype=np.float64)
    load_frac = np.asarray(load_frac, dtype=np.float64)
    cap_frac = np.asarray(cap_frac, dtype=np.float64)
    replicas = params[I_REPLICAS_PER_RACK]
    tdp_w = params[I_POWER_LIMIT_W]  # the cap grid is a share of the board power limit
    idle_w = params[I_IDLE_W]
    b_star = slo_batch_reference(params)
    x_out = np.zeros((load_frac.size, cap_frac.size))
    p_out = np.zeros((load_frac.size, cap_frac.size))
    rack_idle_w = rack_power_w(params, idle_w)
    if b_star <= 0.0:
        for j, c in enumerate(cap_frac):
            p_out[:, j] = rack_idle_w * min(c * tdp_w / idle_w, 1.0)
        return x_out, p_out, 0.0, 0.0
    x_star_replica = _capped_throughput(params, b_star, tdp_w)[0]
    min_w = lowest_limit_w(params)
    for j, c in enumerate(cap_frac):
        on_frac = running_share_frac(c, on_cap_frac(params))
        cap_w = max(c * tdp_w, min_w)
        if on_frac <= 0.0:
            continue
        if cap_w <= idle_w:
            p_out[:, j] = on_frac * rack_idle_w
            continue
        x_cap, gpu_cap_w = _capped_throughput(params, b_star, cap_w)
        for i, load in enumerate(load_frac):
            target = load * x_star_replica / on_frac
            if target <= 0.0:
                x_rep, gpu_w = 0.0, idle_w
            elif target >= x_cap:
                x_rep, gpu_w = x_cap, gpu_cap_w
            else:
                batch = brentq(
                    lambda b, cap_w=cap_w, target=target: (
                        _capped_throughput(params, b, cap_w)[0] - target
                    ),
                    0.0, b_star, xtol=1e-13, rtol=1e-15, maxiter=500,
                )  # fmt: skip
                x_rep, gpu_w = target, _capped_throughput(params, batch, cap_w)[1]
            x_out[i, j] = on_frac * replicas * x_rep
            p_out[i, j] = on_frac * rack_power_w(params, gpu_w)
    p_out = np.maximum.accumulate(p_out, axis=0)
    return x_out, p_out, replicas * x_star_replica, b_star
