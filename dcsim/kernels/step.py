"""The compiled tick: one call advances the campus by ``n_ticks`` ticks between two events.

Per tick, in this order (one compiled stage each, see :mod:`dcsim.kernels.stages` and
``docs/core.md``):

1. demand and backlog: offered load per class = demand + deferrable backlog, deadline expiry
   (:func:`~dcsim.kernels.stages.demand.offer_demand`); with user regions, split by region
   with each region's site order (:func:`~dcsim.kernels.stages.route.split_offered`);
2. limits: start caps, each hall's limit at its UPS output = min(feed, heat limit of its
   cooling), each site's supply (grid, must-take, turbines, battery)
   (:func:`~dcsim.kernels.stages.limits.set_limits`);
3. cap solve and dispatch: load spread over racks; a hall or site over its limit lowers the
   power caps of its racks, lowest-priority pools first, and load is dispatched again; a
   site that cannot be supplied even with its racks parked sheds a share of them; with user
   regions each dispatch round routes the regions' load to sites within the SLO first
   (:func:`~dcsim.kernels.stages.route.route_load`); the first round
   (:func:`~dcsim.kernels.stages.dispatch.limits_hold`) is the whole solve when no limit
   binds, else :func:`~dcsim.kernels.stages.dispatch.solve_caps` solves the tick, then the
   final operating point of
   every cell (:func:`~dcsim.kernels.stages.dispatch.operating_point`) and the backlog
   bookkeeping (:func:`~dcsim.kernels.stages.demand.settle_backlog`);
4. power chain and cooling commit: PDU, UPS and the hall's cooling plant for the final IT
   power; the loops move on a tick (:func:`~dcsim.kernels.stages.chain.commit_halls`);
5. site balance: transformer, sources in merit order, battery, turbine commitment for the
   next tick, kernel events (:func:`~dcsim.kernels.stages.site.balance_sites`);
6. recording and balance checks (:func:`~dcsim.kernels.stages.record.record_tick`).

Cooling acts on the racks through the hall's heat limit in the cap solve (thermal
throttling = lower caps in that hall); there is no per-cell thermal cap. Caps are solved
afresh each tick from full caps, so the kernel keeps no capping state and a tick is a pure
function of (state, inputs).
"""

from __future__ import annotations

from numba import njit

from dcsim.kernels.compiled import inline_fn, loop_fn
from dcsim.kernels.stages.chain import commit_halls
from dcsim.kernels.stages.changes import apply_changes
from dcsim.kernels.stages.demand import offer_demand, settle_backlog
from dcsim.kernels.stages.dispatch import limits_hold, operating_point, solve_caps
from dcsim.kernels.stages.limits import set_limits
from dcsim.kernels.stages.record import record_tick
from dcsim.kernels.stages.route import no_regions, record_regions, split_offered
from dcsim.kernels.stages.site import balance_sites
from dcsim.kernels.stages.training import job_boundary, occupy, training_power, training_sites
from dcsim.kernels.stages.work import count_live, index_cells, live_racks, new_work


@njit(cache=True)
def advance(
    tick0, n_ticks, dt_s, classes, pools, cells, halls, sites, inputs, record, changes=None,
    training=None,
    regions=None,
):  # fmt: skip
    """Advance the campus by ``n_ticks`` ticks from global tick ``tick0``.

    Parameters
    ----------
    tick0, n_ticks
        First global tick index and number of ticks to advance [count].
    dt_s
        Tick length [s].
    classes, pools, cells, halls, sites, inputs, record
        The bundles of :mod:`dcsim.kernels.bundles`. Updated in place: the backlog
        (``classes``), the loop temperatures (``halls.cool_state``), battery and turbine
        state (``sites``), and the record buffers, checks and event buffer (``record``).
        Rack counts (``cells``), hall flags (``halls.energised``, ``halls.cooled``) and
        cooling units available (``halls.cool_state``) change only through ``changes``.
    changes
        :class:`~dcsim.kernels.bundles.Changes` due inside this call, ordered by tick, each
        applied at the start of its tick (:func:`~dcsim.kernels.stages.changes.apply_changes`);
        None: the state holds over the call.
    training
        :class:`~dcsim.kernels.bundles.TrainingLoad` (``stages/training.py``); None: no
        training jobs (the stages are compiled out).
    regions
        :class:`~dcsim.kernels.bundles.Regions`: user regions routed to sites
        (:mod:`dcsim.kernels.stages.route`); None: one implicit region, each class's load
        spread over all its racks by capacity.
    """
    n_class = classes.deferrable.shape[0]
    n_cell = cells.pool.shape[0]
    n_hall = halls.site.shape[0]
    n_site = sites.import_limit_w.shape[0]
    # The scratch of the call is allocated here, where numba counts references, and lives
    # until the tick loop returns; the loop itself allocates nothing.
    work = new_work(n_class, n_cell, n_hall, n_site)
    index_cells(cells, pools, work.probe)
    live = live_racks(cells, halls)
    if regions is None:
        none = no_regions(n_class, n_cell, n_site)
        _ticks(tick0, n_ticks, dt_s, classes, pools, cells, halls, sites, inputs, record,
               changes, training, none, work, live)  # fmt: skip
    else:
        _ticks(tick0, n_ticks, dt_s, classes, pools, cells, halls, sites, inputs, record,
               changes, training, regions, work, live)  # fmt: skip


@loop_fn
def _ticks(
    tick0,
    n_ticks,
    dt_s,
    classes,
    pools,
    cells,
    halls,
    sites,
    inputs,
    record,
    changes,
    training,
    regions,
    work,
    live,
):
    """The tick loop of :func:`advance`, compiled without reference counting.

    Each stage is a compiled function of its own (:mod:`dcsim.kernels.compiled`), and with
    numba's reference counting each array a stage binds from a bundle costs an atomic
    increment and decrement per tick (most of the loop's time, measured). The loop allocates
    nothing and every array it reads belongs to the caller, so nothing here needs counting:
    ``_nrt=False`` compiles it and its stages without (and refuses to compile an
    allocation). ``work`` and ``live`` (the live racks, recounted in place) come from
    :func:`advance`.
    """
    if training is not None:
        occupy(tick0, live, training)
    gpus = gpus_serving(live, cells, pools)
    j = 0
    for i in range(n_ticks):
        t = tick0 + i
        recount = False
        if changes is not None:
            if j < changes.tick.shape[0] and changes.tick[j] <= t:
                j = apply_changes(t, j, changes, cells, halls)
                recount = True
        if training is not None:
            recount = recount or job_boundary(t, training)
        if recount:
            count_live(cells, halls, live)
            if training is not None:
                occupy(t, live, training)
            gpus = gpus_serving(live, cells, pools)
        if training is not None:
            training_power(t, cells, halls, training)
        offer_demand(t, dt_s, classes, work)
        split_offered(t, dt_s, classes, regions, work)
        set_limits(t, dt_s, cells, pools, classes, halls, sites, inputs, work)
        cs = live
        held = limits_hold(live, cells, pools, halls, sites, work, dt_s, regions)
        if not held:
            if solve_caps(live, cells, pools, halls, sites, work, dt_s, regions):
                cs = work.shed
        service = operating_point(cs, cells, pools, classes, work, held)
        settle_backlog(t, dt_s, classes, work)
        record_regions(t, cells, pools, classes, regions, work)
        commit_halls(dt_s, halls, work)
        if training is not None:
            training_sites(t, dt_s, sites, work, training)
        balance_sites(t, dt_s, sites, inputs, work, record)
        record_tick(t, cs, gpus, service, cells, pools, classes, halls, sites, inputs, record, work)


@inline_fn
def gpus_serving(live, cells, pools):
    """GPUs in racks serving in live halls [count]."""
    gpus = 0.0
    for c in range(cells.pool.shape[0]):
        gpus += live.serving[c] * pools.gpus_per_rack[cells.pool[c]]
    return gpus
