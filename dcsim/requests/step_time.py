"""Time of one engine iteration of a replica: decodes and prompt chunks in one forward pass.

With continuous batching and chunked prefill (Sarathi-Serve, vLLM V1) every iteration runs
one forward pass over ``n_d`` decoding sequences (one token each) and ``p`` prompt tokens of
one or more requests being prefilled. The pass is composed from the roofline terms of
:mod:`dcsim.physics.compute`, the same functions :func:`~dcsim.physics.compute.replica_state`
calls:

- HBM: the weights once (``moe_weight_read_b`` of the ``n_d + p`` tokens) plus the cached
  KV that attention reads: the decoding sequences' contexts and each chunk's already
  prefilled prefix, ``(W_read + (sum ctx + sum prefix) kv) / (N bw eta_bw)``;
- compute at full clock: decode ``sum_j (2 A + 4 layers w ctx_j) / (N F eta_f)``
  (:func:`~dcsim.physics.compute.replica_decode_compute_s` on the mean context, attention at
  the KV precision's rate) plus, per chunk of tokens ``[s, s + c)`` of a prompt,
  ``t_pf(s + c) - t_pf(s)``
  (:func:`~dcsim.physics.compute.replica_prefill_compute_s`: the linear term telescopes and the
  causal attention term ``2 layers w ((s+c)^2 - s^2)`` is exactly the chunk's share, so the
  chunks of a prompt add up to its unchunked prefill);
- collectives of one pass over ``n_d + p`` tokens (``layer_collectives_time_s``);
- ``t_iter = max(t_mem, t_cmp / r) + t_comm + t_fixed + n_d t_seq``
  (:func:`~dcsim.physics.compute.decode_step_time_s`: compute scales with the clock ratio
  ``r``, HBM, links and host do not).

At steady state with ``B`` sequences of mean context ``decode_context_tok`` and no prompt
tokens this is exactly the decode step of ``replica_state`` (tested). The fluid model runs
each prefill as a separate pass, ``t_pf`` after the decode step; here a chunk shares the
pass with the decodes, so its compute hides the decodes' weight read and its collectives
share their latency. That is the point of chunked prefill (Agrawal et al. 2024) and makes a
replica here a few per cent faster than the fluid ``X(B)`` (``docs/requests.md``).

All functions are ``register_jitable``: plain Python when called from Python, inlined in
the compiled batching loop (:mod:`dcsim.requests.batching`).

References
----------
.. [1] Agrawal, A. et al. (2024). Taming throughput-latency tradeoff in LLM inference with
   Sarathi-Serve. OSDI 2024, arXiv:2403.02310.
.. [2] Kwon, W. et al. (2023). Efficient memory management for large language model serving
   with PagedAttention. SOSP 2023 (vLLM).
"""

from __future__ import annotations

from numba.extending import register_jitable

from dcsim.physics.compute import (
    I_ACT_ELEM,
    I_ACTIVE_EXPERTS,
    I_ETA_BW,
    I_EXPERTS,
    I_HBM_BW,
    I_HIDDEN,
    I_IMBALANCE,
    I_KV,
    I_LAYERS,
    I_MOE_LAYERS,
    I_REPLICA_GPUS,
    I_SCALEUP_BW,
    I_SCALEUP_LATENCY,
    I_T_FIXED,
    I_T_SEQ,
    I_WEIGHT,
    I_WEIGHT_SHARED,
    decode_memory_time_s,
    decode_step_time_s,
    layer_collectives_time_s,
    moe_weight_read_b,
    replica_decode_compute_s,
    replica_prefill_compute_s,
)

__all__ = ["iteration_time_s", "prefill_chunk_compute_s", "step_time_s"]


@register_jitable
def prefill_chunk_compute_s(params, done_tok, chunk_tok):
    """Compute time at full clock of prompt tokens ``[done, done + chunk)`` of one request [s].

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector (``dcsim.physics.compute.PARAM_NAMES``).
    done_tok : float
        Prompt tokens already prefilled (their KV is cached) [tok].
    chunk_tok : float
        Prompt tokens in this chunk [tok].

    Returns
    -------
    float
        ``t_pf,cmp(done + chunk) - t_pf,cmp(done)`` [s].
    """
    end_s = replica_prefill_compute_s(params, done_tok + chunk_tok)
    return end_s - replica_prefill_compute_s(params, done_tok)


@register_jitable
def iteration_time_s(
    params, decode_count, context_tok_sum, prefill_tok, prefill_compute_s, prefix_tok_sum,
    clock_frac,
):  # fmt: skip
    """Time of one iteration that decodes ``n_d`` sequences and prefills ``p`` tokens [s].

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector.
    decode_count : float
        Sequences decoding one token each, n_d [-].
    context_tok_sum : float
        Cached tokens those sequences attend over, summed [tok].
    prefill_tok : float
        Prompt tokens prefilled in the pass (all chunks), p [tok].
    prefill_compute_s : float
        Their compute time at full clock, summed over chunks (:func:`prefill_chunk_compute_s`)
        [s].
    prefix_tok_sum : float
        Already cached prompt tokens the chunks attend over, summed over chunks [tok].
    clock_frac : float
        Clock ratio r = f / f_max (0..1] [-].

    Returns
    -------
    float
        Iteration time [s].
    """
    n = params[I_REPLICA_GPUS]
    tokens = decode_count + prefill_tok
    w_read = moe_weight_read_b(
        tokens, params[I_WEIGHT], params[I_WEIGHT_SHARED], params[I_EXPERTS],
        params[I_ACTIVE_EXPERTS],
    )  # fmt: skip
    # One "sequence" whose context is every cached token read: W + (sum ctx) kv.
    mem_s = decode_memory_time_s(
        1.0, w_read, params[I_KV], context_tok_sum + prefix_tok_sum, n, params[I_HBM_BW],
        params[I_ETA_BW],
    )  # fmt: skip
    decode_s = 0.0
    if decode_count > 0.0:
        decode_s = replica_decode_compute_s(params, decode_count, context_tok_sum / decode_count)
    comm_s = layer_collectives_time_s(
        tokens, params[I_LAYERS], params[I_MOE_LAYERS], params[I_HIDDEN], params[I_ACT_ELEM],
        params[I_ACTIVE_EXPERTS], n, params[I_SCALEUP_BW], params[I_SCALEUP_LATENCY],
        params[I_IMBALANCE],
    )  # fmt: skip
    return decode_step_time_s(
        mem_s, decode_s + prefill_compute_s, comm_s, params[I_T_FIXED], params[I_T_SEQ],
        decode_count, clock_frac,
    )  # fmt: skip


def step_time_s(
    params, n_decode, context_tok_sum, prefill_tok, clock_frac, prompt_done_tok=0.0
) -> float:
    """Time of one iteration with at most one prompt chunk (convenience for Python callers).

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector.
    n_decode : float
        Sequences decoding one token each [-].
    context_tok_sum : float
        Cached tokens those sequences attend over, summed [tok].
    prefill_tok : float
        Prompt tokens of one request prefilled in this iteration [tok].
    clock_frac : float
        Clock ratio r (0..1] [-].
    prompt_done_tok : float
        Tokens of that prompt already prefilled before this chunk [tok].

    Returns
    -------
    float
        Iteration time [s].
    """
    pf_s = prefill_chunk_compute_s(params, prompt_done_tok, prefill_tok) if prefill_tok else 0.0
    prefix = prompt_done_tok if prefill_tok else 0.0
    return float(
        iteration_time_s(
            params,
            float(n_decode),
            float(context_tok_sum),
            float(prefill_tok),
            pf_s,
            prefix,
            clock_frac,
        )
    )
