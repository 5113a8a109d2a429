"""The compiled tick against the independent reference tick on generated small campuses.

Campuses of 1-2 sites and 1-3 halls (each with IT power outside the racks per serving
rack), two pools per hall (interactive chat, rank 1; deferrable
batch, rank 0) with linear operating points, fixed-COP cooling, random feeds, import limits,
curtailed grid availability, batteries (ride-through) with random charge and turbines.
Every tick's served and unserved rates, hall powers, losses, cooling, facility and import,
and the final battery, turbine and backlog state agree to 1e-9 relative: the two differ only
in root finding (bisection to 2^-40 against brentq) and summation order.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcsim.kernels import bundles as B
from dcsim.kernels import cooling_layout as CL
from dcsim.kernels import grid_layout as G
from dcsim.kernels import layout as L
from dcsim.kernels.step import advance

# pytest imports test modules with --import-mode=importlib: load the reference by path.
_spec = importlib.util.spec_from_file_location(
    "reference_tick", Path(__file__).with_name("reference_tick.py")
)
_ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ref)
RefCampus, reference_tick = _ref.RefCampus, _ref.reference_tick

N_GRID = 11
DT_S = 60.0
N_TICKS = 4
RTOL = 1e-9


@st.composite
def campuses(draw):
    n_site = draw(st.integers(1, 2))
    n_hall = draw(st.integers(n_site, 3))
    hall_site = np.array([h % n_site for h in range(n_hall)])
    f = st.floats(0.05, 1.0)
    x_star = np.array([draw(st.floats(200.0, 2000.0)) for _ in range(2)])
    p0 = np.array([draw(st.floats(5e3, 30e3)) for _ in range(2)])
    p1 = p0 + np.array([draw(st.floats(20e3, 120e3)) for _ in range(2)])
    racks = np.array([draw(st.integers(0, 40)) for _ in range(2 * n_hall)], dtype=float)
    feed = np.array([draw(st.floats(0.5e6, 8e6)) for _ in range(n_hall)])
    import_w = np.array([draw(st.floats(0.5e6, 15e6)) for _ in range(n_site)])
    batt = np.array([[draw(f) * 3e6, draw(f) * 3e6 * 3600, 0.95, 0.95, 0.0] for _ in range(n_site)])
    turb = np.array(
        [[draw(st.integers(0, 2)), draw(f) * 2e6, 120.0, 0.3, 600.0] for _ in range(n_site)]
    )
    camp = RefCampus(
        x_star=x_star,
        p0_w=p0,
        p1_w=p1,
        pool_class=np.array([0, 1]),
        pool_rank=np.array([1, 0]),
        cell_pool=np.array([0, 1] * n_hall),
        cell_hall=np.repeat(np.arange(n_hall), 2),
        serving=racks,
        hall_site=hall_site,
        feed_w=feed,
        pdu_eff=np.full(n_hall, 0.985),
        ups=np.array([[draw(f) * 2e6 + 0.5e6, 4.0, 0.01, 0.02, 0.01] for _ in range(n_hall)]),
        cop=np.array([draw(st.floats(3.0, 20.0)) for _ in range(n_hall)]),
        import_w=import_w,
        xfmr=np.column_stack([import_w * 1.25, np.full(n_site, 0.002), np.full(n_site, 0.01)]),
        batt=batt,
        policy=np.array([draw(st.sampled_from([0, 1])) for _ in range(n_site)]),
        turb=turb,
        deferrable=np.array([False, True]),
        bucket_ticks=np.array([1, 2]),
        buckets=np.array([1, 3]),
        outside_w=np.array([draw(st.floats(0.0, 20e3)) for _ in range(n_hall)]),
    )
    soc = batt[:, 1] * np.array([draw(f) for _ in range(n_site)])
    cap_tok = racks.reshape(n_hall, 2).sum(axis=0) * x_star
    demand = np.array(
        [[draw(st.floats(0.0, 1.3)) * max(cap_tok[k], 1.0) for _ in range(N_TICKS)] for k in (0, 1)]
    )
    avail = np.array([[draw(f) * import_w[s] for _ in range(N_TICKS)] for s in range(n_site)])
    return camp, soc, demand, avail


def _kernel_run(camp, soc0, demand, avail):
    n_hall, n_site = camp.feed_w.shape[0], camp.import_w.shape[0]
    g = np.linspace(0.0, 1.0, N_GRID)
    pools = SimpleNamespace(
        pool_class=camp.pool_class, pool_rank=camp.pool_rank, n_ranks=2,
        pool_gpus_per_rack=np.full(2, 72.0),
        tab_xcap=np.stack([camp.x_star[p] * g for p in range(2)]),
        tab_p=np.stack([camp.p0_w[p] + (camp.p1_w[p] - camp.p0_w[p]) * np.outer(g, g)
                        for p in range(2)]),
        tab_slo=np.ones((2, 2, 5)), tab_latency=np.ones((2, 4, 2, 5)), lat_cap_lo=np.zeros(2),
        pool_proxy=np.zeros(2, bool),
        pool_on_cap=np.zeros(2),  # closed-form tables without a lowest limit: never park
        pack=False,
    )  # fmt: skip
    class_par = np.zeros((2, L.K_NCOLS))
    class_par[:, L.K_DEFERRABLE] = camp.deferrable
    class_par[:, L.K_BUCKET_TICKS] = camp.bucket_ticks
    class_par[:, L.K_BUCKETS] = camp.buckets
    class_par[0, L.K_INTERACTIVE] = 1.0
    cell_state = np.zeros((camp.cell_pool.shape[0], L.C_NCOLS))
    cell_state[:, L.C_SERVING] = camp.serving
    hall_par = np.zeros((n_hall, L.H_NCOLS))
    hall_par[:, L.H_SITE] = camp.hall_site
    hall_par[:, L.H_FEED_LIMIT_W] = camp.feed_w
    hall_par[:, L.H_PDU_EFF] = camp.pdu_eff
    hall_par[:, L.H_OUTSIDE_SERVING_W] = camp.outside_w
    for j, col in enumerate((L.H_UPS_MODULE_W, L.H_UPS_MODULES_ACTIVE, L.H_UPS_A0, L.H_UPS_A1,
                             L.H_UPS_A2)):  # fmt: skip
        hall_par[:, col] = camp.ups[:, j]
    cool_par = np.zeros((n_hall, CL.CP_NCOLS))
    cool_par[:, CL.CP_TYPE] = CL.COOLING_FIXED_COP
    cool_par[:, CL.CP_FIXED_COP] = camp.cop
    site_par = np.column_stack([camp.import_w, camp.xfmr])
    grid_par = np.zeros((n_site, G.G_NCOLS))
    for j, col in enumerate((G.G_BATT_POWER_W, G.G_BATT_ENERGY_J, G.G_BATT_ETA_CHARGE_FRAC,
                             G.G_BATT_ETA_DISCHARGE_FRAC, G.G_BATT_RESERVE_J)):  # fmt: skip
        grid_par[:, col] = camp.batt[:, j]
    grid_par[:, G.G_BATT_POLICY] = camp.policy
    for j, col in enumerate((G.G_TURB_UNITS, G.G_TURB_UNIT_W, G.G_TURB_START_S,
                             G.G_TURB_MIN_LOAD_FRAC, G.G_TURB_MIN_RUN_S)):  # fmt: skip
        grid_par[:, col] = camp.turb[:, j]
    site_state = np.zeros((n_site, L.SS_NCOLS))
    site_state[:, L.SS_SOC_J] = soc0
    series = np.zeros((n_site, N_TICKS, L.ST_NCOLS))
    series[:, :, L.ST_CONTRACT_W] = camp.import_w[:, None]
    series[:, :, L.ST_GRID_AVAIL_W] = avail
    rec = np.zeros((N_TICKS, L.R_NCOLS))
    class_rec = np.zeros((N_TICKS, 2, L.KR_NCOLS))
    hall_rec = np.zeros((N_TICKS, n_hall, L.HR_NCOLS))
    site_rec = np.zeros((N_TICKS, n_site, L.SR_NCOLS))
    backlog = np.zeros((2, 3))
    head = np.zeros(2, dtype=np.int64)
    events = np.zeros((2 * n_site * N_TICKS, L.EV_NCOLS))
    advance(
        0, N_TICKS, DT_S,
        B.classes_bundle(class_par, demand, backlog, head),
        B.pools_bundle(pools),
        B.cells_bundle(camp.cell_pool, camp.cell_hall, cell_state),
        B.halls_bundle(hall_par, np.ones(n_hall, bool), np.ones(n_hall, bool), cool_par,
                       np.full((n_hall, CL.CS_NCOLS), np.nan)),
        B.sites_bundle(site_par, grid_par, site_state),
        B.inputs_bundle(series),
        B.record_bundle(rec, class_rec, hall_rec, site_rec, np.zeros(2), 1, 1, events,
                        np.zeros(1, dtype=np.int64)),
    )  # fmt: skip
    return rec, class_rec, hall_rec, site_state, backlog


def _close(a, b, scale):
    """a == b to RTOL of the larger of |a|, |b| and the tick's scale (a rate may be 0)."""
    return abs(a - b) <= RTOL * max(abs(a), abs(b), abs(scale), 1.0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(campuses())
def test_compiled_tick_matches_the_reference(case):
    camp, soc0, demand, avail = case
    rec, class_rec, hall_rec, site_state, backlog = _kernel_run(camp, soc0, demand, avail)
    n_site = camp.import_w.shape[0]
    state = {
        "t": 0, "backlog": np.zeros((2, 3)), "head": np.zeros(2, dtype=np.int64),
        "soc_j": soc0.copy(), "turb_online": np.zeros(n_site), "turb_starting": np.zeros(n_site),
        "turb_left_s": np.zeros(n_site), "turb_surplus_s": np.zeros(n_site),
    }  # fmt: skip
    for t in range(N_TICKS):
        ref = reference_tick(camp, state, demand[:, t], avail[:, t], DT_S)
        fac = ref["facility"]
        for k in range(2):
            assert _close(class_rec[t, k, L.KR_SERVED], ref["served"][k], demand[:, t].sum())
            assert _close(class_rec[t, k, L.KR_UNSERVED], ref["unserved"][k], demand[:, t].sum())
        for h in range(camp.feed_w.shape[0]):
            assert _close(hall_rec[t, h, L.HR_IT], ref["hall_it"][h], fac)
            assert _close(hall_rec[t, h, L.HR_UPS_OUT], ref["hall_ups_out"][h], fac)
        for col, key in ((L.R_LOSSES, "losses"), (L.R_COOLING, "cooling"),
                         (L.R_FACILITY, "facility"), (L.R_GRID_IMPORT, "import")):  # fmt: skip
            assert _close(rec[t, col], ref[key], fac), (t, key, rec[t, col], ref[key])
    np.testing.assert_allclose(site_state[:, L.SS_SOC_J], state["soc_j"], rtol=RTOL, atol=1.0)
    np.testing.assert_array_equal(site_state[:, L.SS_TURB_ONLINE], state["turb_online"])
    np.testing.assert_allclose(backlog, state["backlog"], rtol=RTOL, atol=1e-3)


def test_reference_tick_by_hand():
    """The reference itself on one hall, one site, no limit binding: a hand calculation."""
    camp = RefCampus(
        x_star=np.array([1000.0, 500.0]), p0_w=np.array([20e3, 20e3]),
        p1_w=np.array([120e3, 120e3]), pool_class=np.array([0, 1]), pool_rank=np.array([1, 0]),
        cell_pool=np.array([0, 1]), cell_hall=np.array([0, 0]), serving=np.array([10.0, 10.0]),
        hall_site=np.array([0]), feed_w=np.array([10e6]), pdu_eff=np.array([1.0]),
        ups=np.array([[1e6, 4.0, 0.0, 0.0, 0.0]]), cop=np.array([10.0]),
        import_w=np.array([20e6]), xfmr=np.array([[20e6, 0.0, 0.0]]), batt=np.zeros((1, 5)),
        policy=np.array([0]), turb=np.zeros((1, 5)), deferrable=np.array([False, False]),
        bucket_ticks=np.array([1, 1]), buckets=np.array([1, 1]),
    )  # fmt: skip
    state = {
        "t": 0, "backlog": np.zeros((2, 1)), "head": np.zeros(2, dtype=np.int64),
        "soc_j": np.zeros(1), "turb_online": np.zeros(1), "turb_starting": np.zeros(1),
        "turb_left_s": np.zeros(1), "turb_surplus_s": np.zeros(1),
    }  # fmt: skip
    ref = reference_tick(camp, state, np.array([5000.0, 2500.0]), np.array([20e6]), DT_S)
    # Both pools at half load: 10 racks x (20 + 100 x 0.5) kW x 2 pools = 1.4 MW IT; lossless
    # chain; cooling = 1.4 MW / 10.
    assert ref["hall_it"][0] == pytest.approx(1.4e6, rel=1e-12)
    assert ref["cooling"] == pytest.approx(0.14e6, rel=1e-12)
    assert ref["facility"] == pytest.approx(1.54e6, rel=1e-12)
    assert list(ref["served"]) == [5000.0, 2500.0]
