"""Stage 1: demand and backlog (offered load before dispatch, bookkeeping after it)."""

from __future__ import annotations

from dcsim.kernels.compiled import loop_fn
from dcsim.physics.demand import backlog_step


@loop_fn
def offer_demand(t, dt_s, classes, work):
    """Offered load per class this tick: demand plus the deferrable backlog [tok/s].

    Reads ``classes`` (demand, backlog); writes ``work.offered``, ``work.expired`` and the
    backlog ring (work past its deadline expires before it is offered again).
    """
    for k in range(classes.deferrable.shape[0]):
        work.offered[k] = classes.demand_tok_per_s[k, t - classes.first_tick[0]]
        work.expired[k] = 0.0
        if classes.deferrable[k]:
            rotate = t % classes.bucket_ticks[k] == 0
            ring = classes.backlog_tok[k, : classes.buckets[k]]
            _, work.expired[k], classes.backlog_head[k] = backlog_step(
                ring, classes.backlog_head[k], 0.0, 0.0, rotate
            )
            work.offered[k] += ring.sum() / dt_s


@loop_fn
def settle_backlog(t, dt_s, classes, work):
    """Book what each class was served: new work queues, queued work is served first.

    Reads ``work.served_first`` and ``work.served_cls`` (final dispatch); writes
    ``work.capped_lost_cls``, ``work.served_cls`` (deferrable classes: what left the
    queue), ``work.unserved_cls``, ``work.backlog_cls`` and the backlog ring.
    """
    for k in range(classes.deferrable.shape[0]):
        d = classes.demand_tok_per_s[k, t - classes.first_tick[0]]
        work.capped_lost_cls[k] = max(work.served_first[k] - work.served_cls[k], 0.0)
        if classes.deferrable[k]:
            ring = classes.backlog_tok[k, : classes.buckets[k]]
            served_tok, _, classes.backlog_head[k] = backlog_step(
                ring, classes.backlog_head[k], d * dt_s, work.served_cls[k] * dt_s, False
            )
            work.served_cls[k] = served_tok / dt_s
            work.unserved_cls[k] = work.expired[k] / dt_s
            work.backlog_cls[k] = ring.sum()
        else:
            work.unserved_cls[k] = max(d - work.served_cls[k], 0.0)
            work.backlog_cls[k] = 0.0
