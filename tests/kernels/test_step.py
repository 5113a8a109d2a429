"""The fused tick on a hand-built campus with linear operating-point tables.

Tables: a rack of pool p has capacity X*_p * c at cap c and draws P0 + (P1 - P0) * u * c when
it delivers the share u of that capacity (u, c in [0, 1]): bilinear, so the lookup reproduces
it exactly on any grid, and every number below is a hand calculation.
"""

import numpy as np
import pytest

from dcsim.kernels import layout as L
from dcsim.kernels.step import advance
from dcsim.model.plant import default_site_arrays
from dcsim.physics.power_chain import pdu_loss_w, transformer_loss_w, ups_loss_w

X_STAR = np.array([1000.0, 500.0])  # tok/s per rack, pools 0 (chat) and 1 (batch)
P0, P1 = 20e3, 120e3  # W per rack, idle and full
N_GRID = 11


def linear_tables():
    g = np.linspace(0, 1, N_GRID)
    tab_xcap = np.stack([X_STAR[p] * g for p in range(2)])
    tab_p = np.stack([P0 + (P1 - P0) * g[:, None] * g[None, :] for _ in range(2)])
    return tab_xcap, tab_p


def campus(feed_w=(10e6, 10e6), import_w=30e6, deferrable=False, racks=(40, 40)):
    """2 halls on 1 site; hall h holds racks[h] of pool h; class h is served by pool h."""
    hall_par = np.zeros((2, L.H_NCOLS))
    for h in range(2):
        hall_par[h] = 0
        hall_par[h, L.H_FEED_LIMIT_W] = feed_w[h]
        hall_par[h, L.H_PDU_EFF] = 0.99
        hall_par[h, L.H_UPS_MODULE_W] = 2.5e6
        hall_par[h, L.H_UPS_MODULES_ACTIVE] = 8
        hall_par[h, L.H_UPS_A0], hall_par[h, L.H_UPS_A1], hall_par[h, L.H_UPS_A2] = (
            0.01,
            0.03,
            0.002,
        )
        hall_par[h, L.H_COOL_COP] = 10.0
    site_par = np.zeros((1, L.S_NCOLS))
    site_par[0] = [import_w, 40e6, 0.002, 0.01]
    class_par = np.zeros((2, L.K_NCOLS))
    class_par[:, L.K_BUCKET_TICKS] = 1
    class_par[:, L.K_BUCKETS] = 1
    class_par[0, L.K_INTERACTIVE] = 1
    if deferrable:
        class_par[1, L.K_DEFERRABLE] = 1
        class_par[1, L.K_BUCKET_TICKS] = 2
        class_par[1, L.K_BUCKETS] = 3  # deadline = 3 buckets of 2 ticks
    cell_state = np.zeros((2, L.C_NCOLS))
    cell_state[:, L.C_SERVING] = racks
    cell_state[:, L.C_THERMAL_CAP] = 1.0
    tab_xcap, tab_p = linear_tables()
    return dict(
        class_par=class_par,
        pool_class=np.array([0, 1]),
        pool_rank=np.array([1, 0]),
        n_ranks=2,
        pool_gpus_per_rack=np.array([72.0, 72.0]),
        tab_xcap=tab_xcap,
        tab_p=tab_p,
        tab_slo=np.ones((2, 5)),
        cell_pool=np.array([0, 1]),
        cell_hall=np.array([0, 1]),
        cell_state=cell_state,
        hall_par=hall_par,
        site_par=site_par,
    )


def run(c, demand, fn=advance, dt_s=60.0):
    n_class, n = demand.shape
    rec = np.zeros((n, L.R_NCOLS))
    class_rec = np.zeros((n, n_class, L.KR_NCOLS))
    hall_rec = np.zeros((n, 2, L.HR_NCOLS))
    flow = np.zeros(2)
    site_rec = np.zeros((n, 1, L.SR_NCOLS))
    site_series, site_grid_par, site_state = default_site_arrays(c["site_par"], n)
    backlog = np.zeros((n_class, 3))
    head = np.zeros(n_class, dtype=np.int64)
    fn(
        0,
        n,
        dt_s,
        1,
        1,
        False,
        demand,
        c["class_par"],
        backlog,
        head,
        c["pool_class"],
        c["pool_rank"],
        c["n_ranks"],
        c["pool_gpus_per_rack"],
        c["tab_xcap"],
        c["tab_p"],
        c["tab_slo"],
        c["cell_pool"],
        c["cell_hall"],
        c["cell_state"],
        c["hall_par"],
        c["site_par"],
        site_series,
        site_grid_par,
        site_state,
        rec,
        class_rec,
        hall_rec,
        site_rec,
        flow,
    )
    return rec, class_rec, hall_rec, flow, backlog


def hall_chain(it_w, hp):
    pdu = pdu_loss_w(it_w, hp[L.H_PDU_EFF])
    ups = ups_loss_w(
        it_w + pdu,
        hp[L.H_UPS_MODULE_W],
        hp[L.H_UPS_MODULES_ACTIVE],
        hp[L.H_UPS_A0],
        hp[L.H_UPS_A1],
        hp[L.H_UPS_A2],
    )
    return it_w + pdu, pdu + ups, (it_w + pdu) / hp[L.H_COOL_COP]


def test_unconstrained_tick_by_hand():
    c = campus()
    # chat 30,000 tok/s on 40 racks of 1,000: l = 0.75 -> 20 + 100 * 0.75 = 95 kW per rack.
    # batch 10,000 on 40 racks of 500: l = 0.5 -> 70 kW per rack.
    demand = np.array([[30000.0], [10000.0]])
    rec, class_rec, hall_rec, flow, _ = run(c, demand)
    assert rec[0, L.R_SERVED] == pytest.approx(40000.0, rel=1e-12)
    assert rec[0, L.R_UNSERVED] == pytest.approx(0.0, abs=1e-9)
    it0, it1 = 40 * 95e3, 40 * 70e3
    assert hall_rec[0, 0, L.HR_IT] == pytest.approx(it0, rel=1e-12)
    assert hall_rec[0, 1, L.HR_IT] == pytest.approx(it1, rel=1e-12)
    losses = mech = xf_out = 0.0
    for h, it in enumerate((it0, it1)):
        _, loss, m = hall_chain(it, c["hall_par"][h])
        losses += loss
        mech += m
        xf_out += it + loss + m
    xf = transformer_loss_w(xf_out, 40e6, 0.002, 0.01)
    assert rec[0, L.R_FACILITY] == pytest.approx(xf_out + xf, rel=1e-12)
    assert rec[0, L.R_LOSSES] == pytest.approx(losses + xf, rel=1e-12)
    assert rec[0, L.R_COOLING] == pytest.approx(mech, rel=1e-12)
    assert flow[0] < 1e-12  # facility = IT + cooling + losses


def test_hall_feed_limit_caps_and_is_never_exceeded():
    # Hall 0 feed 3.0 MW at the UPS output; chat wants 40 x 120 kW = 4.8 MW (l = 1).
    c = campus(feed_w=(3.0e6, 10e6))
    demand = np.array([[40000.0], [5000.0]])
    rec, class_rec, hall_rec, flow, _ = run(c, demand)
    ups_out = hall_rec[0, 0, L.HR_UPS_OUT]
    assert ups_out <= 3.0e6 * (1 + 1e-12)
    assert ups_out == pytest.approx(3.0e6, rel=1e-9)  # caps down to the limit, not below
    # IT = 3.0 MW * 0.99 = 2.97 MW -> 74.25 kW per rack -> u*c = 0.5425 -> 542.5 tok/s.
    assert class_rec[0, 0, L.KR_SERVED] == pytest.approx(40 * 542.5, rel=1e-6)
    assert rec[0, L.R_POWER_CAPPED] == pytest.approx(40000 - 40 * 542.5, rel=1e-6)
    assert flow[1] <= 1 + 1e-12


def test_site_limit_caps_lowest_priority_first():
    # Unconstrained, the site would draw ~ (4.8 + 4.8) MW IT + losses + cooling ~ 10.7 MW.
    c = campus(import_w=8.0e6)
    demand = np.array([[40000.0], [20000.0]])
    rec, class_rec, _, flow, _ = run(c, demand)
    assert rec[0, L.R_FACILITY] == pytest.approx(8.0e6, rel=1e-9)
    # Batch (rank 0) absorbs the whole cut; chat (rank 1) is served in full.
    assert class_rec[0, 0, L.KR_SERVED] == pytest.approx(40000.0, rel=1e-12)
    assert class_rec[0, 1, L.KR_SERVED] < 20000.0
    assert flow[1] <= 1 + 1e-12


def test_deferrable_backlog_serves_later_and_expires_at_deadline():
    # Batch capacity 40 x 500 = 20,000 tok/s. Tick 0 asks 30,000 (10,000 x 60 s waits);
    # tick 1 asks 0 -> the backlog is served. Then an oversized burst that expires.
    c = campus(deferrable=True)
    demand = np.zeros((2, 12))
    demand[1, 0] = 30000.0
    rec, class_rec, _, _, backlog = run(c, demand)
    assert class_rec[0, 1, L.KR_SERVED] == pytest.approx(20000.0)
    assert class_rec[0, 1, L.KR_BACKLOG] == pytest.approx(10000.0 * 60)
    assert class_rec[1, 1, L.KR_SERVED] == pytest.approx(10000.0)
    assert class_rec[1, 1, L.KR_BACKLOG] == pytest.approx(0.0)
    # Conservation over the run: arrivals = served + expired + left.
    arrived = demand[1].sum() * 60
    served = class_rec[:, 1, L.KR_SERVED].sum() * 60
    expired = class_rec[:, 1, L.KR_UNSERVED].sum() * 60
    assert arrived == pytest.approx(served + expired + backlog[1].sum(), rel=1e-12)


def test_deferrable_work_expires_after_its_deadline():
    c = campus(deferrable=True, racks=(40, 1))  # batch capacity 500 tok/s
    demand = np.zeros((2, 12))
    demand[1, 0] = 5500.0  # 330,000 tok; 30,000 served per tick
    rec, class_rec, _, _, backlog = run(c, demand)
    expired_tok = class_rec[:, 1, L.KR_UNSERVED].sum() * 60
    # Buckets of 2 ticks, ring of 3: work of tick 0 expires at the 3rd rotation after it
    # arrived, i.e. at tick 6; by then 6 ticks x 30,000 tok were served.
    assert expired_tok == pytest.approx(330000 - 6 * 30000, rel=1e-12)
    assert np.flatnonzero(class_rec[:, 1, L.KR_UNSERVED])[0] == 6


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compiled_and_python_agree(seed):
    rng = np.random.default_rng(seed)
    c = campus(feed_w=(4e6, 3e6), import_w=8e6, deferrable=True)
    demand = rng.uniform(0, 45000, size=(2, 20))
    a = run(campus(feed_w=(4e6, 3e6), import_w=8e6, deferrable=True), demand)
    b = run(c, demand, fn=advance.py_func)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-6)


def test_invariants_random_demand():
    rng = np.random.default_rng(42)
    c = campus(feed_w=(4e6, 3e6), import_w=7e6, deferrable=True)
    demand = rng.uniform(0, 60000, size=(2, 200))
    rec, class_rec, hall_rec, flow, _ = run(c, demand)
    assert flow[0] < 1e-12
    assert flow[1] <= 1 + 1e-9
    assert np.all(rec[:, L.R_SERVED] <= rec[:, L.R_CAPACITY] * (1 + 1e-12) + 1e-9)
    # Served never exceeds demand plus backlog (interactive: demand alone).
    assert np.all(class_rec[:, 0, L.KR_SERVED] <= demand[0] * (1 + 1e-12) + 1e-9)
    assert np.all(hall_rec[:, 0, L.HR_UPS_OUT] <= 4e6 * (1 + 1e-12))
    assert np.all(hall_rec[:, 1, L.HR_UPS_OUT] <= 3e6 * (1 + 1e-12))
    assert np.all(rec[:, L.R_FACILITY] <= 7e6 * (1 + 1e-12))
