"""Continuous batching of R replicas behind a router, request by request (compiled).

Each replica runs the iteration-level scheduler of vLLM V1 (Kwon et al. 2023; chunked
prefill after Agrawal et al. 2024), one iteration after another while it has work:

1. **Running requests first**, in admission order. A decoding request needs one token of
   the iteration's token budget (``chunk_tok``, vLLM's ``max_num_batched_tokens``) and one
   KV slot; a request still prefilling takes ``min(rest of its prompt, budget left)``
   tokens and as many KV slots. When the KV cache cannot hold them, the most recently
   admitted running request is **preempted by recompute**: its KV is freed and it goes back
   to the front of the waiting queue, to prefill its prompt plus the tokens it already
   produced when it is admitted again (vLLM's ``PreemptionMode.RECOMPUTE``). If the request
   being scheduled is itself the last one, it is the one preempted, and scheduling stops.
2. **Waiting requests** (FCFS per replica) are admitted while no request was preempted in
   this iteration, the budget lasts, the batch limit (``max_batch_count``, vLLM's
   ``max_num_seqs``) allows, and the KV cache holds their first chunk.
3. The iteration lasts :func:`dcsim.requests.step_time.iteration_time_s` at the clock of the
   sub-interval in which it starts. At its end a request whose prompt is complete produces a
   token (its first, or after a recompute its next one) and a decoding request its next
   token; a request with all its output tokens finishes and frees its KV.

KV is counted in tokens, ``kv_cap_tok = (N M (1 - reserve) - W) / kv`` per replica (vLLM's
16-token blocks would round each request up by at most 15 tokens). A request whose prompt
plus output exceeds the replica's KV capacity can never run and is refused on arrival
(vLLM refuses prompts longer than ``max_model_len``); its times stay NaN and its replica -1.

The router sends each arrival to a replica: ``round_robin`` in turn, ``least_loaded`` the
fewest outstanding requests (waiting or running), ``kv_aware`` the least KV in use (ties by
outstanding requests, then by index). A replica whose clock is 0 (its GPUs held at idle
power by a cap, on a chip with no higher settable minimum) starts nothing until a
sub-interval with a clock above 0.

The kernel is plain loops over typed bundles (named tuples of arrays): the waiting queues
and running lists are linked lists threaded through per-request arrays, so memory is
O(requests + replicas) whatever the batch. Time advances event by event (next arrival or
next end of an iteration); the earliest replica is found by a linear scan, which for the
tens of replicas of a window costs less than a heap.

References
----------
.. [1] Kwon, W. et al. (2023). Efficient memory management for large language model serving
   with PagedAttention. SOSP 2023 (vLLM; scheduler and recompute preemption).
.. [2] Agrawal, A. et al. (2024). Taming throughput-latency tradeoff in LLM inference with
   Sarathi-Serve. OSDI 2024 (chunked prefill, stall-free batching).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

# Imported before any @njit below: it points Numba's cache at a folder named by a digest of
# every compiled source (this file and step_time.py included), so a cached loop never runs
# an old copy of the physics it inlines.
import dcsim.kernels  # noqa: F401
from dcsim.kernels.compiled import setup_fn
from dcsim.requests.step_time import iteration_time_s, prefill_chunk_compute_s

__all__ = [
    "ROUTER_CODES",
    "Engine",
    "Replicas",
    "Requests",
    "new_replicas",
    "new_requests",
    "simulate_batching",
]

#: Router policies and their codes in the kernel.
ROUTER_CODES: dict[str, int] = {"round_robin": 0, "least_loaded": 1, "kv_aware": 2}


class Requests(NamedTuple):
    """Per-request inputs, scheduler state and outputs (index = arrival order)."""

    arrival_s: np.ndarray  # (n,) ascending arrival times [s]
    prompt_tok: np.ndarray  # (n,) int64 prompt length [tok]
    output_tok: np.ndarray  # (n,) int64 output length [tok]
    computed_tok: np.ndarray  # (n,) int64 tokens whose KV is cached [tok]; updated
    generated_tok: np.ndarray  # (n,) int64 output tokens produced [tok]; updated
    target_tok: np.ndarray  # (n,) int64 tokens to prefill before decoding [tok]; updated
    preemptions: np.ndarray  # (n,) int64 times preempted; updated
    wait_next: np.ndarray  # (n,) int64 next in its replica's waiting queue (-1: none)
    run_next: np.ndarray  # (n,) int64 next in its replica's running list (-1: none)
    run_prev: np.ndarray  # (n,) int64 previous in the running list (-1: none)
    replica: np.ndarray  # (n,) int64 replica routed to (-1: refused)
    admit_s: np.ndarray  # (n,) first admission to a batch [s] (NaN: never)
    first_token_s: np.ndarray  # (n,) first output token [s] (NaN: never)
    finish_s: np.ndarray  # (n,) last output token [s] (NaN: never)


class Replicas(NamedTuple):
    """Per-replica queues, KV in use and iteration clock."""

    wait_head: np.ndarray  # (R,) int64 first waiting request (-1: none)
    wait_tail: np.ndarray  # (R,) int64 last waiting request
    run_head: np.ndarray  # (R,) int64 first running request (oldest admission)
    run_tail: np.ndarray  # (R,) int64 last running request (newest admission)
    run_count: np.ndarray  # (R,) int64 running requests
    outstanding: np.ndarray  # (R,) int64 routed and not yet finished
    kv_used_tok: np.ndarray  # (R,) int64 KV slots held [tok]
    pending_kv_tok: np.ndarray  # (R,) int64 KV freed at the end of this iteration [tok]
    pending_done: np.ndarray  # (R,) int64 requests finishing at the end of this iteration
    busy_until_s: np.ndarray  # (R,) end of the current iteration [s] (inf: idle)
    router_next: np.ndarray  # (1,) int64 next replica of round robin
    sched_req: np.ndarray  # (n,) int64 scratch: requests of the iteration being built
    sched_tok: np.ndarray  # (n,) int64 scratch: their tokens


class Engine(NamedTuple):
    """Constants of the serving engine over the window."""

    params: np.ndarray  # pool parameter vector (dcsim.physics.compute.PARAM_NAMES)
    clock_frac: np.ndarray  # (m,) clock ratio per sub-interval [-]
    step_s: float  # sub-interval length [s]
    kv_cap_tok: int  # KV capacity per replica [tok]
    max_batch_count: int  # running requests per replica at most
    chunk_tok: int  # token budget of one iteration [tok]
    router: int  # ROUTER_CODES value


def new_requests(arrival_s: np.ndarray, prompt_tok: np.ndarray, output_tok: np.ndarray) -> Requests:
    """Fresh request bundle (nothing routed, nothing computed).

    Parameters
    ----------
    arrival_s : numpy.ndarray
        Ascending arrival times [s].
    prompt_tok, output_tok : numpy.ndarray
        Lengths >= 1 [tok].

    Returns
    -------
    Requests
        The bundle.
    """
    n = arrival_s.size
    prompt = np.ascontiguousarray(prompt_tok, dtype=np.int64)
    return Requests(
        np.ascontiguousarray(arrival_s, dtype=np.float64), prompt,
        np.ascontiguousarray(output_tok, dtype=np.int64), np.zeros(n, np.int64),
        np.zeros(n, np.int64), prompt.copy(), np.zeros(n, np.int64), np.full(n, -1, np.int64),
        np.full(n, -1, np.int64), np.full(n, -1, np.int64), np.full(n, -1, np.int64),
        np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan),
    )  # fmt: skip


def new_replicas(replicas_count: int, requests_count: int) -> Replicas:
    """Fresh replica bundle (all idle and empty).

    Parameters
    ----------
    replicas_count : int
        Replicas R [-].
    requests_count : int
        Requests n (sizes the scratch arrays) [-].

    Returns
    -------
    Replicas
        The bundle.
    """
    r = replicas_count

    def ints(fill: int) -> np.ndarray:
        return np.full(r, fill, np.int64)

    return Replicas(
        ints(-1), ints(-1), ints(-1), ints(-1), ints(0), ints(0), ints(0), ints(0), ints(0),
        np.full(r, np.inf), np.zeros(1, np.int64), np.zeros(requests_count + 1, np.int64),
        np.zeros(requests_count + 1, np.int64),
    )  # fmt: skip


# ------------------------------------------------------------------------------------------
# Linked lists
# ------------------------------------------------------------------------------------------
@setup_fn
def _wait_push(req, reps, r, q, front):
    """Put request q in replica r's waiting queue, at the back or (preempted) the front."""
    if reps.wait_head[r] < 0:
        req.wait_next[q] = -1
        reps.wait_head[r] = q
        reps.wait_tail[r] = q
    elif front:
        req.wait_next[q] = reps.wait_head[r]
        reps.wait_head[r] = q
    else:
        req.wait_next[q] = -1
        req.wait_next[reps.wait_tail[r]] = q
        reps.wait_tail[r] = q


@setup_fn
def _wait_pop(req, reps, r):
    """Take the first waiting request of replica r."""
    q = reps.wait_head[r]
    reps.wait_head[r] = req.wait_next[q]
    if reps.wait_head[r] < 0:
        reps.wait_tail[r] = -1
    req.wait_next[q] = -1
    return q


@setup_fn
def _run_append(req, reps, r, q):
    """Admit request q at the end of replica r's running list."""
    tail = reps.run_tail[r]
    req.run_prev[q] = tail
    req.run_next[q] = -1
    if tail < 0:
        reps.run_head[r] = q
    else:
        req.run_next[tail] = q
    reps.run_tail[r] = q
    reps.run_count[r] += 1


@setup_fn
def _run_remove(req, reps, r, q):
    """Take request q out of replica r's running list."""
    prev = req.run_prev[q]
    nxt = req.run_next[q]
    if prev < 0:
        reps.run_head[r] = nxt
    else:
        req.run_next[prev] = nxt
    if nxt < 0:
        reps.run_tail[r] = prev
    else:
        req.run_prev[nxt] = prev
    req.run_prev[q] = -1
    req.run_next[q] = -1
    reps.run_count[r] -= 1


@setup_fn
def _preempt(req, reps, r, q):
    """Preempt running request q by recompute: free its KV, requeue it at the front."""
    reps.kv_used_tok[r] -= req.computed_tok[q]
    req.computed_tok[q] = 0
    req.target_tok[q] = req.prompt_tok[q] + req.generated_tok[q]
    req.preemptions[q] += 1
    _run_remove(req, reps, r, q)
    _wait_push(req, reps, r, q, True)


# ------------------------------------------------------------------------------------------
# Router and clock
# ------------------------------------------------------------------------------------------
@setup_fn
def _route(router, reps):
    """Replica for the next arrival."""
    count = reps.outstanding.size
    if router == 0:
        r = reps.router_next[0]
        reps.router_next[0] = (r + 1) % count
        return r
    best = 0
    for r in range(1, count):
        if router == 1:
            better = reps.outstanding[r] < reps.outstanding[best]
        else:
            kv_r = reps.kv_used_tok[r]
            kv_b = reps.kv_used_tok[best]
            better = kv_r < kv_b or (kv_r == kv_b and reps.outstanding[r] < reps.outstanding[best])
        if better:
            best = r
    return best


@setup_fn
def _clock_index(eng, t_s):
    i = int(t_s / eng.step_s)
    return min(max(i, 0), eng.clock_frac.size - 1)


@setup_fn
def _live_clock_index(eng, t_s):
    """Sub-interval in which work ready at t runs: t's own or the next with a clock > 0.

    -1 when no later sub-interval has a clock above 0 (the last one holds after the window).
    """
    for j in range(_clock_index(eng, t_s), eng.clock_frac.size):
        if eng.clock_frac[j] > 0.0:
            return j
    return -1


# ------------------------------------------------------------------------------------------
# One iteration
# ------------------------------------------------------------------------------------------
@setup_fn
def _schedule(eng, req, reps, r, t_s):
    """Choose the requests and tokens of replica r's next iteration (vLLM V1 order).

    Lists them in ``reps.sched_req/sched_tok`` and returns their count with the totals the
    iteration time needs: decoding sequences, their cached context [tok], prompt tokens,
    the chunks' compute at full clock [s] and their cached prefixes [tok].
    """
    budget = eng.chunk_tok
    free = eng.kv_cap_tok - reps.kv_used_tok[r]
    alloc = 0
    k = 0
    n_dec = 0.0
    ctx = 0.0
    pf_tok = 0.0
    pf_cmp_s = 0.0
    prefix = 0.0
    preempted = False
    q = reps.run_head[r]
    while q >= 0 and budget > 0:
        decoding = req.computed_tok[q] >= req.target_tok[q]
        need = 1 if decoding else min(req.target_tok[q] - req.computed_tok[q], budget)
        lost = False
        while need > free:
            victim = reps.run_tail[r]
            free += req.computed_tok[victim]
            _preempt(req, reps, r, victim)
            preempted = True
            if victim == q:
                lost = True
                break
        if lost:
            break
        if decoding:
            n_dec += 1.0
            ctx += req.computed_tok[q]
        else:
            pf_cmp_s += prefill_chunk_compute_s(eng.params, float(req.computed_tok[q]), need)
            prefix += req.computed_tok[q]
            pf_tok += need
        reps.sched_req[k] = q
        reps.sched_tok[k] = need
        k += 1
        free -= need
        alloc += need
        budget -= need
        q = req.run_next[q]
    while not preempted and budget > 0 and reps.wait_head[r] >= 0:
        if reps.run_count[r] >= eng.max_batch_count:
            break
        w = reps.wait_head[r]
        need = min(req.target_tok[w] - req.computed_tok[w], budget)
        if need > free:
            break
        _wait_pop(req, reps, r)
        _run_append(req, reps, r, w)
        if math.isnan(req.admit_s[w]):
            req.admit_s[w] = t_s
        pf_cmp_s += prefill_chunk_compute_s(eng.params, float(req.computed_tok[w]), need)
        prefix += req.computed_tok[w]
        pf_tok += need
        reps.sched_req[k] = w
        reps.sched_tok[k] = need
        k += 1
        free -= need
        alloc += need
        budget -= need
    reps.kv_used_tok[r] += alloc
    return k, n_dec, ctx, pf_tok, pf_cmp_s, prefix


@setup_fn
def _advance_tokens(req, reps, r, k, t_end_s):
    """Apply the iteration's tokens: first tokens, next tokens, finished requests."""
    for i in range(k):
        q = reps.sched_req[i]
        decoding = req.computed_tok[q] >= req.target_tok[q]
        req.computed_tok[q] += reps.sched_tok[i]
        if decoding:
            req.generated_tok[q] += 1
        elif req.computed_tok[q] >= req.target_tok[q]:
            req.generated_tok[q] += 1
            if math.isnan(req.first_token_s[q]):  # not after a recompute
                req.first_token_s[q] = t_end_s
        if req.generated_tok[q] >= req.output_tok[q]:
            req.finish_s[q] = t_end_s
            _run_remove(req, reps, r, q)
            reps.pending_kv_tok[r] += req.computed_tok[q]
            reps.pending_done[r] += 1


@setup_fn
def _start_iteration(eng, req, reps, r, t_s):
    """Start replica r's next iteration at t (or wait for a live clock, or go idle)."""
    j = _live_clock_index(eng, t_s)
    if j < 0:
        reps.busy_until_s[r] = math.inf  # parked for good
        return
    if j * eng.step_s > t_s:
        reps.busy_until_s[r] = j * eng.step_s  # wake up when the clock returns
        return
    k, n_dec, ctx, pf_tok, pf_cmp_s, prefix = _schedule(eng, req, reps, r, t_s)
    if k == 0:
        reps.busy_until_s[r] = math.inf
        return
    # j, not t's own index: at a wake-up t = j * step_s may round into the parked one.
    clock = eng.clock_frac[j]
    t_end_s = t_s + iteration_time_s(eng.params, n_dec, ctx, pf_tok, pf_cmp_s, prefix, clock)
    _advance_tokens(req, reps, r, k, t_end_s)
    reps.busy_until_s[r] = t_end_s


@setup_fn
def _end_iteration(reps, r):
    reps.kv_used_tok[r] -= reps.pending_kv_tok[r]
    reps.outstanding[r] -= reps.pending_done[r]
    reps.pending_kv_tok[r] = 0
    reps.pending_done[r] = 0


@setup_fn
def _arrive(eng, req, reps, a):
    """Route arrival a (or refuse it when it can never fit the KV cache)."""
    if req.prompt_tok[a] + req.output_tok[a] > eng.kv_cap_tok:
        return
    r = _route(eng.router, reps)
    req.replica[a] = r
    reps.outstanding[r] += 1
    _wait_push(req, reps, r, a, False)
    if reps.busy_until_s[r] == math.inf:
        _start_iteration(eng, req, reps, r, req.arrival_s[a])


@njit(cache=True)
def simulate_batching(eng, req, reps):
    """Run every request of ``req`` through the replicas until all are served.

    Parameters
    ----------
    eng : Engine
        Engine constants.
    req : Requests
        Requests (``new_requests``); their state and output arrays are filled in place.
    reps : Replicas
        Replicas (``new_replicas``); updated in place.

    Returns
    -------
    int
        Iterations run over all replicas [-].
    """
    n = req.arrival_s.size
    a = 0
    iterations = 0
    while True:
        r_min = 0
        for r in range(1, reps.busy_until_s.size):
            if reps.busy_until_s[r] < reps.busy_until_s[r_min]:
                r_min = r
        t_rep = reps.busy_until_s[r_min]
        if a < n and req.arrival_s[a] <= t_rep:
            _arrive(eng, req, reps, a)
            a += 1
        elif t_rep < math.inf:
            _end_iteration(reps, r_min)
            _start_iteration(eng, req, reps, r_min, t_rep)
            iterations += 1
        else:
            return iterations
