"""Typed bundles the staged tick reads and writes: named tuples of arrays.

The compiled tick (:func:`dcsim.kernels.step.advance`) takes a handful of bundles instead of
tables addressed by integer columns. Each bundle is a :class:`typing.NamedTuple` of NumPy
arrays and scalars; numba types it as a named tuple, reads fields by name at compile time
(no lookup at run time) and caches the compiled code on disk (``cache=True``), which numba
does not do for ``jitclass`` and does unreliably for ``structref`` (see ``docs/core.md``).

Mutable state stays shared with the SimPy processes: the bundle fields that the processes
change (rack counts of a cell, battery and turbine state, loop temperatures, hall flags) are
views of, or the very arrays held by, :class:`dcsim.sim.state.SimState`, so a change made
between two compiled calls is what the next call reads.

The builders here are plain Python and run once per run (:func:`bundles_for_run`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dcsim.kernels import grid_layout as G
from dcsim.kernels import layout as L
from dcsim.kernels import window_layout as WL


class Classes(NamedTuple):
    """Workload classes: demand, deadlines and the deferrable backlog."""

    demand_tok_per_s: np.ndarray  # (n_class, n_ticks_total) demand [tok/s]
    deferrable: np.ndarray  # (n_class,) bool
    interactive: np.ndarray  # (n_class,) bool: has a latency SLO
    bucket_ticks: np.ndarray  # (n_class,) int64: ticks per backlog age bucket
    buckets: np.ndarray  # (n_class,) int64: age buckets in use (ring length)
    backlog_tok: np.ndarray  # (n_class, n_buckets) ring of queued work [tok]; updated
    backlog_head: np.ndarray  # (n_class,) int64: newest bucket; updated
    # (1,) int64: global tick of column 0 of demand_tok_per_s (a per-call buffer; 0: the
    # whole horizon)
    first_tick: np.ndarray


class Pools(NamedTuple):
    """Rack pools: their class, capping rank and operating-point tables."""

    klass: np.ndarray  # (n_pool,) int64: class served
    rank: np.ndarray  # (n_pool,) int64: capping rank, 0 = capped first
    n_ranks: int
    gpus_per_rack: np.ndarray  # (n_pool,) [count]
    tab_xcap: np.ndarray  # (n_pool, n_cap) rack capacity [tok/s]
    tab_p: np.ndarray  # (n_pool, n_u, n_cap) rack power [W]
    # (n_pool, n_lat_cap, n_u) SLO attainment against the cap (from lat_cap_lo to 1 of the
    # board limit) and the utilisation of the capacity at that cap [frac]
    tab_slo: np.ndarray
    pack: bool  # pack load onto few racks (else spread evenly)
    # (n_pool, 4, n_lat_cap, n_u) TTFT p50, p99, TPOT p50, p99 on the grid of tab_slo [s];
    # NaN offline
    tab_latency: np.ndarray
    lat_cap_lo: np.ndarray  # (n_pool,) first cap of the latency grid [frac of the limit]
    proxy: np.ndarray  # (n_pool,) bool: efficiency factors are a declared proxy
    # (n_pool,) the cap below which a share cap / on_cap of the racks serves at the lowest
    # settable limit and the rest are parked (physics.compute.lowest_limit_w); 0: never
    # [frac of the limit]
    on_cap: np.ndarray


class Cells(NamedTuple):
    """Cells (racks of one pool in one hall): where they are and how many racks do what."""

    pool: np.ndarray  # (n_cell,) int64
    hall: np.ndarray  # (n_cell,) int64
    serving: np.ndarray  # (n_cell,) racks in service, by healthy share [racks]
    burn_in: np.ndarray  # (n_cell,) racks in burn-in (stress power, no service) [racks]
    idle: np.ndarray  # (n_cell,) racks powered, not serving [racks]


class Racks(NamedTuple):
    """Rack counts per cell as the tick sees them (live halls only; shed share removed)."""

    serving: np.ndarray
    burn_in: np.ndarray
    idle: np.ndarray


class Halls(NamedTuple):
    """Halls: feed and power chain, state flags, cooling plant."""

    site: np.ndarray  # (n_hall,) int64
    feed_limit_w: np.ndarray  # UPS-output capacity of the feed [W]
    pdu_eff_frac: np.ndarray
    ups_module_w: np.ndarray  # rated output of one UPS module [W]
    ups_modules_active: np.ndarray  # modules sharing the load [count]
    ups_a0_frac: np.ndarray
    ups_a1_frac: np.ndarray
    ups_a2_frac: np.ndarray
    energised: np.ndarray  # bool: feed energised (set by the build-out)
    cooled: np.ndarray  # bool: cooling commissioned (set by the build-out)
    cool_par: np.ndarray  # cooling plant, columns cooling_layout.CP_*
    cool_state: np.ndarray  # loop temperatures and units in service, CS_*; updated
    # IT power outside the racks per rack unit (layout.H_OUTSIDE_* and split) [W]
    outside_serving_w: np.ndarray
    outside_idle_w: np.ndarray  # per idle or burn-in rack [W]
    fabric_serving_w: np.ndarray
    fabric_idle_w: np.ndarray
    storage_serving_w: np.ndarray
    storage_idle_w: np.ndarray
    # IT power of training jobs in the hall this tick (stages/training.py); zeros without
    training_w: np.ndarray


class Sites(NamedTuple):
    """Sites: connection, transformer, battery and turbines, and their state."""

    import_limit_w: np.ndarray  # physical import limit at the meter [W]
    xfmr_rated_w: np.ndarray
    xfmr_no_load_frac: np.ndarray
    xfmr_load_loss_frac: np.ndarray
    batt_power_w: np.ndarray
    batt_energy_j: np.ndarray
    batt_eta_charge_frac: np.ndarray
    batt_eta_discharge_frac: np.ndarray
    batt_reserve_j: np.ndarray
    batt_policy: np.ndarray  # int64, grid_layout.POLICY_*
    peak_threshold_w: np.ndarray
    turb_units: np.ndarray  # [count]
    turb_unit_w: np.ndarray
    turb_start_s: np.ndarray
    turb_min_load_frac: np.ndarray
    turb_min_run_s: np.ndarray
    soc_j: np.ndarray  # battery state of charge [J]; updated
    turb_online: np.ndarray  # units running [count]; updated
    turb_starting: np.ndarray  # units starting [count]; updated
    turb_start_left_s: np.ndarray  # until the starting units synchronise [s]; updated
    turb_surplus_s: np.ndarray  # the need has stayed below the running units [s]; updated
    batt_mode: np.ndarray  # battery mode of the last tick (+1, -1, 0); updated
    power_policy: np.ndarray  # (n_site,) int64: stages.policy.POLICY_* under a shortfall


class Inputs(NamedTuple):
    """Per-tick site inputs, each (n_site, n_buffer): ticks from ``first_tick[0]`` on.

    A run fills them per compiled call (:meth:`dcsim.model.site_inputs.SiteInputs.fill`);
    tests may pass the whole horizon with ``first_tick`` 0.
    """

    contract_w: np.ndarray  # contracted import before curtailment [W]
    grid_avail_w: np.ndarray  # import the meter may take (0 in a disconnect) [W]
    solar_w: np.ndarray
    clean_w: np.ndarray
    batt_cmd: np.ndarray  # arbitrage signal: +1 discharge, -1 charge, 0 hold
    cp_shed: np.ndarray  # 1 where deferrable work is parked for a coincident peak
    t_db_degc: np.ndarray
    t_wb_degc: np.ndarray
    first_tick: np.ndarray  # (1,) int64: global tick of column 0


class Record(NamedTuple):
    """Record accumulators (time-weighted means per row; columns are the output schema)."""

    rec: np.ndarray  # (n_row, layout.R_NCOLS) campus
    class_rec: np.ndarray  # (n_row, n_class, layout.KR_NCOLS)
    hall_rec: np.ndarray  # (n_hall_row, n_hall, layout.HR_NCOLS)
    site_rec: np.ndarray  # (n_row, n_site, layout.SR_NCOLS)
    flow_check: np.ndarray  # (2,) largest balance residual, largest power/limit ratio
    ticks_per_rec: int
    ticks_per_hall_rec: int
    events: np.ndarray  # (n_max, layout.EV_NCOLS) kernel events (tick, kind, site, value)
    n_events: np.ndarray  # (1,) int64 events written; more than n_max are counted, not kept
    # (n_ticks,) int64 row of window_rec of each tick, -1 outside windows; (0,): no windows
    window_row: np.ndarray
    window_rec: np.ndarray  # (n_window_ticks, n_cell, window_layout.WR_NCOLS) per tick


def classes_bundle(
    class_par, demand_tok_per_s, backlog_tok, backlog_head, first_tick=None
) -> Classes:
    """:class:`Classes` from the plant's class table (columns ``layout.K_*``).

    ``first_tick``: (1,) int64 array, the global tick of the demand buffer's column 0
    (shared with :class:`Inputs`; default a fresh zero: the buffer is the whole horizon).
    """
    return Classes(
        demand_tok_per_s=demand_tok_per_s,
        deferrable=class_par[:, L.K_DEFERRABLE] > 0.0,
        interactive=class_par[:, L.K_INTERACTIVE] > 0.0,
        bucket_ticks=class_par[:, L.K_BUCKET_TICKS].astype(np.int64),
        buckets=class_par[:, L.K_BUCKETS].astype(np.int64),
        backlog_tok=backlog_tok,
        backlog_head=backlog_head,
        first_tick=np.zeros(1, dtype=np.int64) if first_tick is None else first_tick,
    )


def pools_bundle(plant) -> Pools:
    """:class:`Pools` of a :class:`~dcsim.model.plant.Plant`."""
    return Pools(
        klass=np.asarray(plant.pool_class, dtype=np.int64),
        rank=np.asarray(plant.pool_rank, dtype=np.int64),
        n_ranks=int(plant.n_ranks),
        gpus_per_rack=np.asarray(plant.pool_gpus_per_rack, dtype=np.float64),
        tab_xcap=plant.tab_xcap,
        tab_p=plant.tab_p,
        tab_slo=plant.tab_slo,
        pack=bool(plant.pack),
        tab_latency=plant.tab_latency,
        lat_cap_lo=np.asarray(plant.lat_cap_lo, dtype=np.float64),
        proxy=np.asarray(plant.pool_proxy, dtype=np.bool_),
        on_cap=np.asarray(plant.pool_on_cap, dtype=np.float64),
    )


def cells_bundle(cell_pool, cell_hall, cell_state) -> Cells:
    """:class:`Cells` whose counts are views of ``cell_state`` (changes show through)."""
    return Cells(
        pool=np.asarray(cell_pool, dtype=np.int64),
        hall=np.asarray(cell_hall, dtype=np.int64),
        serving=cell_state[:, L.C_SERVING],
        burn_in=cell_state[:, L.C_BURNIN],
        idle=cell_state[:, L.C_IDLE],
    )


def halls_bundle(hall_par, energised, cooled, cool_par, cool_state, training_w=None) -> Halls:
    """:class:`Halls` from the hall table (columns ``layout.H_*``) and the shared state.

    ``training_w`` is the per-hall training power array the training stage writes (the one
    of :class:`TrainingLoad`); None: zeros (no training jobs).
    """
    if training_w is None:
        training_w = np.zeros(hall_par.shape[0])
    return Halls(
        site=hall_par[:, L.H_SITE].astype(np.int64),
        feed_limit_w=np.ascontiguousarray(hall_par[:, L.H_FEED_LIMIT_W]),
        pdu_eff_frac=np.ascontiguousarray(hall_par[:, L.H_PDU_EFF]),
        ups_module_w=np.ascontiguousarray(hall_par[:, L.H_UPS_MODULE_W]),
        ups_modules_active=np.ascontiguousarray(hall_par[:, L.H_UPS_MODULES_ACTIVE]),
        ups_a0_frac=np.ascontiguousarray(hall_par[:, L.H_UPS_A0]),
        ups_a1_frac=np.ascontiguousarray(hall_par[:, L.H_UPS_A1]),
        ups_a2_frac=np.ascontiguousarray(hall_par[:, L.H_UPS_A2]),
        energised=energised,
        cooled=cooled,
        cool_par=cool_par,
        cool_state=cool_state,
        outside_serving_w=np.ascontiguousarray(hall_par[:, L.H_OUTSIDE_SERVING_W]),
        outside_idle_w=np.ascontiguousarray(hall_par[:, L.H_OUTSIDE_IDLE_W]),
        fabric_serving_w=np.ascontiguousarray(hall_par[:, L.H_FABRIC_SERVING_W]),
        fabric_idle_w=np.ascontiguousarray(hall_par[:, L.H_FABRIC_IDLE_W]),
        storage_serving_w=np.ascontiguousarray(hall_par[:, L.H_STORAGE_SERVING_W]),
        storage_idle_w=np.ascontiguousarray(hall_par[:, L.H_STORAGE_IDLE_W]),
        training_w=training_w,
    )


def sites_bundle(site_par, site_grid_par, site_state, power_policy=None) -> Sites:
    """:class:`Sites`; the state fields are views of ``site_state`` (columns ``SS_*``).

    ``power_policy`` (n_site,) holds the code of each site's power policy
    (:data:`dcsim.kernels.stages.policy.POWER_POLICIES`); None: priority caps everywhere.
    """
    if power_policy is None:
        power_policy = np.zeros(site_par.shape[0], dtype=np.int64)

    def col(j):
        return np.ascontiguousarray(site_grid_par[:, j])

    return Sites(
        import_limit_w=np.ascontiguousarray(site_par[:, L.S_IMPORT_LIMIT_W]),
        xfmr_rated_w=np.ascontiguousarray(site_par[:, L.S_XFMR_RATED_W]),
        xfmr_no_load_frac=np.ascontiguousarray(site_par[:, L.S_XFMR_NO_LOAD]),
        xfmr_load_loss_frac=np.ascontiguousarray(site_par[:, L.S_XFMR_LOAD_LOSS]),
        batt_power_w=col(G.G_BATT_POWER_W),
        batt_energy_j=col(G.G_BATT_ENERGY_J),
        batt_eta_charge_frac=col(G.G_BATT_ETA_CHARGE_FRAC),
        batt_eta_discharge_frac=col(G.G_BATT_ETA_DISCHARGE_FRAC),
        batt_reserve_j=col(G.G_BATT_RESERVE_J),
        batt_policy=site_grid_par[:, G.G_BATT_POLICY].astype(np.int64),
        peak_threshold_w=col(G.G_PEAK_THRESHOLD_W),
        turb_units=col(G.G_TURB_UNITS),
        turb_unit_w=col(G.G_TURB_UNIT_W),
        turb_start_s=col(G.G_TURB_START_S),
        turb_min_load_frac=col(G.G_TURB_MIN_LOAD_FRAC),
        turb_min_run_s=col(G.G_TURB_MIN_RUN_S),
        soc_j=site_state[:, L.SS_SOC_J],
        turb_online=site_state[:, L.SS_TURB_ONLINE],
        turb_starting=site_state[:, L.SS_TURB_STARTING],
        turb_start_left_s=site_state[:, L.SS_TURB_START_LEFT_S],
        turb_surplus_s=site_state[:, L.SS_TURB_SURPLUS_S],
        batt_mode=site_state[:, L.SS_BATT_MODE],
        power_policy=np.asarray(power_policy, dtype=np.int64),
    )


def inputs_buffers(n_site, n_ticks, first_tick) -> Inputs:
    """:class:`Inputs` over fresh (n_site, n_ticks) buffers, filled per compiled call."""
    cols = [np.zeros((n_site, n_ticks)) for _ in range(len(Inputs._fields) - 1)]
    return Inputs(*cols, first_tick=first_tick)


def inputs_bundle(site_series) -> Inputs:
    """:class:`Inputs`: one contiguous (n_site, n_ticks) array per column of ``site_series``.

    The whole horizon at once (``first_tick`` 0): tests and the kernel's own studies.
    """

    def col(j):
        return np.ascontiguousarray(site_series[:, :, j])

    return Inputs(
        contract_w=col(L.ST_CONTRACT_W),
        grid_avail_w=col(L.ST_GRID_AVAIL_W),
        solar_w=col(L.ST_SOLAR_W),
        clean_w=col(L.ST_CLEAN_W),
        batt_cmd=col(L.ST_BATT_CMD),
        cp_shed=col(L.ST_CP_SHED),
        t_db_degc=col(L.ST_T_DB_DEGC),
        t_wb_degc=col(L.ST_T_WB_DEGC),
        first_tick=np.zeros(1, dtype=np.int64),
    )


def record_bundle(
    rec, class_rec, hall_rec, site_rec, flow_check, ticks_per_rec, ticks_per_hall_rec, events,
    n_events, window_row=None, window_rec=None,
) -> Record:  # fmt: skip
    """:class:`Record` over the recorder's buffers (no window record unless given)."""
    return Record(
        rec=rec,
        class_rec=class_rec,
        hall_rec=hall_rec,
        site_rec=site_rec,
        flow_check=flow_check,
        ticks_per_rec=int(ticks_per_rec),
        ticks_per_hall_rec=int(ticks_per_hall_rec),
        events=events,
        n_events=n_events,
        window_row=(
            np.zeros(0, dtype=np.int64) if window_row is None else window_row.astype(np.int64)
        ),
        window_rec=np.zeros((0, 0, WL.WR_NCOLS)) if window_rec is None else window_rec,
    )


class Changes(NamedTuple):
    """Discrete changes of one compiled call, ordered by tick (see ``stages/changes.py``)."""

    tick: np.ndarray  # (n,) int64: global tick from which the change holds
    target: np.ndarray  # (n,) int64: what it sets, ``stages.changes.CH_*``
    row: np.ndarray  # (n,) int64: cell or hall index
    col: np.ndarray  # (n,) int64: column of ``halls.cool_state`` (CH_COOL_STATE only)
    value: np.ndarray  # (n,) float64: the value set


def changes_bundle(tick, target, row, col, value) -> Changes:
    """:class:`Changes` from five equal-length sequences (empty: no change)."""
    return Changes(
        tick=np.asarray(tick, dtype=np.int64),
        target=np.asarray(target, dtype=np.int64),
        row=np.asarray(row, dtype=np.int64),
        col=np.asarray(col, dtype=np.int64),
        value=np.asarray(value, dtype=np.float64),
    )


class TrainingLoad(NamedTuple):
    """Training jobs as a power state of racks (``stages/training.py``, docs/training.md)."""

    cell_job: np.ndarray  # (n_cell,) int64: job occupying (a share of) the cell, -1 none
    cell_share: np.ndarray  # (n_cell,) share of the cell's racks the job occupies [frac]
    cell_rack_w: np.ndarray  # (n_cell,) design power of one rack [W]
    job_site: np.ndarray  # (n_job,) int64
    start_tick: np.ndarray  # (n_job,) int64
    end_tick: np.ndarray  # (n_job,) int64, exclusive: the repurposing tick
    battery: np.ndarray  # (n_job,) bool: the site battery takes the swings
    stats: np.ndarray  # (n_job, n_ticks, physics.training.TS_NCOLS) [frac of full power]
    ramp_limit_w_per_s: np.ndarray  # (n_site,) inf: none
    cell_racks: np.ndarray  # (n_cell,) racks the job runs on this tick; updated
    hall_w: np.ndarray  # (n_hall,) training IT power (the array of Halls.training_w); updated
    prev_mean_w: np.ndarray  # (n_site,) training power the grid saw last tick [W]; updated
    rec: np.ndarray  # (n_row, n_site, layout_training.TR_NCOLS) record; updated
    ticks_per_rec: int


def training_bundle(tp, n_hall, n_rows, n_site, ticks_per_rec) -> TrainingLoad:
    """:class:`TrainingLoad` of a :class:`dcsim.model.training.TrainingPower`."""
    from dcsim.kernels import training_layout as TL

    rec = np.zeros((n_rows, n_site, TL.TR_NCOLS))
    rec[:, :, TL.TR_MIN_W] = np.inf  # a row minimum
    return TrainingLoad(
        cell_job=tp.cell_job,
        cell_share=tp.cell_share,
        cell_rack_w=tp.cell_rack_w,
        job_site=tp.job_site,
        start_tick=tp.start_tick,
        end_tick=tp.end_tick,
        battery=tp.battery,
        stats=tp.stats,
        ramp_limit_w_per_s=tp.ramp_limit_w_per_s,
        cell_racks=np.zeros(tp.cell_job.shape[0]),
        hall_w=np.zeros(n_hall),
        prev_mean_w=np.full(n_site, np.nan),
        rec=rec,
        ticks_per_rec=int(ticks_per_rec),
    )


class Regions(NamedTuple):
    """User regions and routing (``stages/route.py``); ``enabled`` false: one implicit region.

    The tables are read-only; the fields marked scratch are rewritten every tick, ``rec``
    accumulates like the other record buffers.
    """

    enabled: bool
    policy: int  # stages.route.POLICY_*
    spill_over: bool
    demand_tok_per_s: np.ndarray  # (n_class, n_region, chunk) per-call buffer [tok/s]
    first_tick: np.ndarray  # (1,) int64: global tick of column 0 (shared with Classes)
    rtt_s: np.ndarray  # (n_region, n_site) round trip [s]
    u_max: np.ndarray  # (n_cell, n_region) utilisation ceiling within the SLO [frac]
    j_per_tok: np.ndarray  # (n_class, n_site) IT energy per token at full load [J]
    price_usd_per_j: np.ndarray  # (n_site, n_hours) energy price per clock hour
    carbon_kg_per_j: np.ndarray  # (n_site, n_hours) grid carbon intensity per clock hour
    hour0_offset_s: float  # clock hour k starts at k * 3600 - hour0_offset_s [s]
    cell_site: np.ndarray  # (n_cell,) int64
    order: np.ndarray  # scratch (n_class, n_region, n_site) int64: sites in policy order
    offered_kr: np.ndarray  # scratch (n_class, n_region) [tok/s]
    assigned: np.ndarray  # scratch (n_class, n_region, n_site) [tok/s]
    offered_ks: np.ndarray  # scratch (n_class, n_site) [tok/s]
    cap_ks: np.ndarray  # scratch (n_class, n_site) capacity at the round's caps [tok/s]
    room: np.ndarray  # scratch (n_class, n_region, n_site) capacity within the SLO [tok/s]
    key: np.ndarray  # scratch (n_site,) ranking keys
    served_ks: np.ndarray  # scratch (n_class, n_site)
    rec: np.ndarray  # (n_row, n_class, n_region, route.RG_NCOLS + n_site)
    ticks_per_rec: int


def regions_bundle(
    plan, demand_krt, cell_site, n_class, rec, ticks_per_rec, first_tick=None
) -> Regions:
    """:class:`Regions` of a :class:`~dcsim.model.regions.RegionPlan`."""
    n_region, n_site = plan.rtt_s.shape
    return Regions(
        enabled=True,
        policy=int(plan.policy),
        spill_over=bool(plan.spill_over),
        demand_tok_per_s=demand_krt,
        first_tick=np.zeros(1, dtype=np.int64) if first_tick is None else first_tick,
        rtt_s=np.ascontiguousarray(plan.rtt_s, dtype=np.float64),
        u_max=np.ascontiguousarray(plan.u_max_frac, dtype=np.float64),
        j_per_tok=np.ascontiguousarray(plan.j_per_tok, dtype=np.float64),
        price_usd_per_j=np.ascontiguousarray(plan.price_usd_per_j, dtype=np.float64),
        carbon_kg_per_j=np.ascontiguousarray(plan.carbon_kg_per_j, dtype=np.float64),
        hour0_offset_s=float(plan.hour0_offset_s),
        cell_site=np.asarray(cell_site, dtype=np.int64),
        order=np.zeros((n_class, n_region, n_site), dtype=np.int64),
        offered_kr=np.zeros((n_class, n_region)),
        assigned=np.zeros((n_class, n_region, n_site)),
        offered_ks=np.zeros((n_class, n_site)),
        cap_ks=np.zeros((n_class, n_site)),
        room=np.zeros((n_class, n_region, n_site)),
        key=np.zeros(n_site),
        served_ks=np.zeros((n_class, n_site)),
        rec=rec,
        ticks_per_rec=int(ticks_per_rec),
    )
