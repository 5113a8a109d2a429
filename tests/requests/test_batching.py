"""Continuous batching: hand-worked traces and the kernel against a plain-Python reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dcsim.requests.batching import (
    ROUTER_CODES,
    Engine,
    new_replicas,
    new_requests,
    simulate_batching,
)
from dcsim.requests.step_time import iteration_time_s, prefill_chunk_compute_s


def _run(params, arrival, prompt, output, *, replicas=1, clock=(1.0,), step_s=1.0, kv=1000,
         max_batch=100, chunk=8, router="least_loaded"):  # fmt: skip
    eng = Engine(
        params, np.asarray(clock, float), step_s, kv, max_batch, chunk, ROUTER_CODES[router]
    )
    req = new_requests(np.asarray(arrival, float), np.asarray(prompt), np.asarray(output))
    reps = new_replicas(replicas, len(arrival))
    simulate_batching(eng, req, reps)
    return req


def test_hand_worked_trace_with_chunked_prefill_and_a_clock_change(toy_params):
    # t_iter = 0.1 + 0.001 (n_d + p) / r (conftest); budget 8 tokens; clock 1 on [0, 0.3),
    # 0.5 after.
    # A (t=0, prompt 10, out 3), B (t=0.05, prompt 4, out 2), C (t=0.2, prompt 3, out 1).
    # it1 @0     : A admitted, chunk 8                p=8      -> 0.108
    # it2 @0.108 : A last 2 prompt tokens, B admitted with 4 (budget 8-2=6 >= 4)
    #                                                  p=6      -> 0.214: A, B first token
    # it3 @0.214 : A, B decode (2), C admitted, 3     n_d=2 p=3 -> 0.319: B done (2 tokens),
    #              C first token = its only token: done
    # it4 @0.319 : clock 0.5 now; A decodes           n_d=1    -> 0.319 + 0.1 + 0.002 = 0.421
    req = _run(toy_params(), [0.0, 0.05, 0.2], [10, 4, 3], [3, 2, 1], clock=(1.0, 0.5), step_s=0.3)
    np.testing.assert_allclose(req.admit_s, [0.0, 0.108, 0.214], rtol=1e-12)
    np.testing.assert_allclose(req.first_token_s, [0.214, 0.214, 0.319], rtol=1e-12)
    np.testing.assert_allclose(req.finish_s, [0.421, 0.319, 0.319], rtol=1e-12)
    assert req.preemptions.tolist() == [0, 0, 0]
    assert req.generated_tok.tolist() == [3, 2, 1]


def test_kv_admission_and_recompute_preemption_on_a_tiny_cache(toy_params):
    # KV holds 12 tokens; A and B: prompt 5, output 5, both at t=0 (A's arrival starts it1
    # alone). t_iter = 0.1 + 0.001 (n_d + p).
    # it1 @0     : A prefill 5 (KV 5)                              -> 0.105, A first token
    # it2 @0.105 : A decode (KV 6), B admitted with 5 (KV 11)      -> 0.211, B first token
    # it3 @0.211 : A decode (KV 12); B needs 1 more, none free: B (the newest) is preempted,
    #              its 5 slots freed, back to the queue's front   -> 0.312
    # it4 @0.312, it5 @0.413 : A decodes; B would need 6 (prompt 5 + 1 token made) > free
    #              A's 5th token at 0.514: done, frees 9 at the end
    # it6 @0.514 : B re-prefills 6                                 -> 0.620 (token 2)
    # it7..it9   : B decodes tokens 3, 4, 5                        -> 0.721, 0.822, 0.923
    req = _run(toy_params(), [0.0, 0.0], [5, 5], [5, 5], kv=12, chunk=100)
    np.testing.assert_allclose(req.first_token_s, [0.105, 0.211], rtol=1e-12)
    np.testing.assert_allclose(req.finish_s, [0.514, 0.923], rtol=1e-12)
    assert req.preemptions.tolist() == [0, 1]


def test_batch_limit_holds_requests_in_the_queue(toy_params):
    # max_batch 1: B (t=0) waits for A's last token. A: prompt 2, out 2: it1 0.102, it2 0.203.
    # B admitted at 0.203: prefill 2 -> 0.305, decode -> 0.406.
    req = _run(toy_params(), [0.0, 0.0], [2, 2], [2, 2], max_batch=1)
    np.testing.assert_allclose(req.admit_s, [0.0, 0.203], rtol=1e-12)
    np.testing.assert_allclose(req.finish_s, [0.203, 0.406], rtol=1e-12)


def test_a_request_larger_than_the_kv_cache_is_refused(toy_params):
    req = _run(toy_params(), [0.0, 0.1], [8, 2], [5, 1], kv=12)
    assert req.replica.tolist() == [-1, 0]
    assert math.isnan(req.finish_s[0])
    np.testing.assert_allclose(req.finish_s[1], 0.1 + 0.102, rtol=1e-12)


def test_a_parked_replica_starts_when_its_clock_returns(toy_params):
    # Clock 0 on [0, 1): a request at 0.5 starts at 1.0, prompt 1 / output 1 -> 1.101.
    req = _run(toy_params(), [0.5], [1], [1], clock=(0.0, 1.0), step_s=1.0)
    np.testing.assert_allclose(req.admit_s, [1.0], rtol=1e-12)
    np.testing.assert_allclose(req.finish_s, [1.101], rtol=1e-12)


def test_round_robin_routes_in_turn(toy_params):
    n = 10
    req = _run(toy_params(), np.arange(n) * 0.01, [3] * n, [4] * n, replicas=3,
               router="round_robin")  # fmt: skip
    assert req.replica.tolist() == [i % 3 for i in range(n)]


# ------------------------------------------------------------------------------------------
# Plain-Python reference: the same rules written with Python lists and a global event list,
# sharing only the iteration-time physics with the kernel.
# ------------------------------------------------------------------------------------------
class _Rep:
    def __init__(self):
        self.waiting: list[int] = []
        self.running: list[int] = []
        self.kv = 0
        self.busy_until = math.inf
        self.finishing: list[int] = []


def _reference(params, arrival, prompt, output, replicas, clock, step_s, kv_cap, max_batch,
               chunk, router):  # fmt: skip
    n = len(arrival)
    computed = [0] * n
    generated = [0] * n
    target = list(prompt)
    pre = [0] * n
    first = [math.nan] * n
    finish = [math.nan] * n
    where = [-1] * n
    reps = [_Rep() for _ in range(replicas)]
    outstanding = [0] * replicas
    rr = 0

    def start(r, t):
        rep = reps[r]
        i = min(int(t / step_s), len(clock) - 1)
        if clock[i] == 0.0:  # parked: wake at the next sub-interval with a clock
            live = [j for j in range(i + 1, len(clock)) if clock[j] > 0.0]
            rep.busy_until = live[0] * step_s if live else math.inf
            return
        budget, sched, preempted = chunk, [], False
        for q in list(rep.running):
            if q not in rep.running:
                break
            need = 1 if computed[q] >= target[q] else min(target[q] - computed[q], budget)
            if budget <= 0:
                break
            while need > kv_cap - rep.kv:
                victim = rep.running.pop()
                rep.kv -= computed[victim]
                computed[victim] = 0
                target[victim] = prompt[victim] + generated[victim]
                pre[victim] += 1
                rep.waiting.insert(0, victim)
                preempted = True
                if victim == q:
                    break
            if q not in rep.running:
                break
            sched.append((q, need))
            rep.kv += need
            budget -= need
        while not preempted and budget > 0 and rep.waiting and len(rep.running) < max_batch:
            w = rep.waiting[0]
            need = min(target[w] - computed[w], budget)
            if need > kv_cap - rep.kv:
                break
            rep.waiting.pop(0)
            rep.running.append(w)
            sched.append((w, need))
            rep.kv += need
            budget -= need
        if not sched:
            rep.busy_until = math.inf
            return
        dec = [q for q, _ in sched if computed[q] >= target[q]]
        chunks = [(q, c) for q, c in sched if computed[q] < target[q]]
        pf = sum(prefill_chunk_compute_s(params, float(computed[q]), float(c)) for q, c in chunks)
        r_clock = clock[min(int(t / step_s), len(clock) - 1)]
        t_end = t + iteration_time_s(
            params, float(len(dec)), float(sum(computed[q] for q in dec)),
            float(sum(c for _, c in chunks)), pf, float(sum(computed[q] for q, _ in chunks)),
            r_clock,
        )  # fmt: skip
        for q, c in sched:
            decoding = computed[q] >= target[q]
            computed[q] += c
            if decoding or computed[q] >= target[q]:
                generated[q] += 1
                if math.isnan(first[q]):
                    first[q] = t_end
            if generated[q] >= output[q]:
                finish[q] = t_end
                rep.running.remove(q)
                rep.finishing.append(q)
        rep.busy_until = t_end

    a = 0
    while True:
        r_min = min(range(replicas), key=lambda r: (reps[r].busy_until, r))
        t_rep = reps[r_min].busy_until
        if a < n and arrival[a] <= t_rep:
            if prompt[a] + output[a] <= kv_cap:
                if router == "round_robin":
                    r, rr = rr, (rr + 1) % replicas
                elif router == "least_loaded":
                    r = min(range(replicas), key=lambda i: (outstanding[i], i))
                else:
                    r = min(range(replicas), key=lambda i: (reps[i].kv, outstanding[i], i))
                where[a] = r
                outstanding[r] += 1
                reps[r].waiting.append(a)
                if reps[r].busy_until == math.inf:
                    start(r, arrival[a])
            a += 1
        elif t_rep < math.inf:
            rep = reps[r_min]
            rep.kv -= sum(computed[q] for q in rep.finishing)
            outstanding[r_min] -= len(rep.finishing)
            rep.finishing = []
            start(r_min, t_rep)
        else:
            return np.array(first), np.array(finish), np.array(where), np.array(pre)


@pytest.mark.parametrize("router", ["round_robin", "least_loaded", "kv_aware"])
def test_kernel_matches_the_python_reference(toy_params, router):
    # A busy, KV-starved workload so that chunking, queueing and preemption all happen.
    rng = np.random.default_rng(11)
    n = 300
    arrival = np.sort(rng.uniform(0.0, 20.0, n))
    prompt = rng.integers(1, 60, n)
    output = rng.integers(1, 40, n)
    kw = dict(replicas=3, clock=(1.0, 0.6, 0.0, 0.9), step_s=5.0, kv=150, max_batch=6,
              chunk=32, router=router)  # fmt: skip
    req = _run(toy_params(), arrival, prompt, output, **kw)
    first, finish, where, pre = _reference(
        toy_params(), arrival, prompt.tolist(), output.tolist(), kw["replicas"], kw["clock"],
        kw["step_s"], kw["kv"], kw["max_batch"], kw["chunk"], router,
    )  # fmt: skip
    assert req.preemptions.sum() > 0, "the workload should preempt"
    np.testing.assert_array_equal(req.replica, where)
    np.testing.assert_array_equal(req.preemptions, pre)
    np.testing.assert_allclose(req.first_token_s, first, rtol=1e-12)
    np.testing.assert_allclose(req.finish_s, finish, rtol=1e-12)
