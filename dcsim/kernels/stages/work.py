"""Per-call scratch of the tick: one named tuple of arrays, allocated once per compiled call.

Every stage reads and writes named fields of :class:`Work` instead of local arrays, so a
stage's inputs and outputs are visible in its signature and in ``docs/core.md``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dcsim.kernels import cooling_layout as CL
from dcsim.kernels.bundles import Racks
from dcsim.kernels.compiled import inline_fn, setup_fn
from dcsim.kernels.tables import interp_cap, interp_table


class Probe(NamedTuple):
    """The arrays the power evaluations of the cap solve touch.

    The same arrays as the fields of :class:`Work` of the same names, passed instead of the
    whole :class:`Work`, so that the hot path binds a handful of arrays, not fifty.
    """

    offered_rack: np.ndarray
    hall_it: np.ndarray
    cool_out: np.ndarray
    probe_out: np.ndarray
    cool_scratch: np.ndarray
    t_db: np.ndarray
    t_wb: np.ndarray
    parked: np.ndarray
    # Constant over a compiled call (the cell-to-hall and cell-to-pool maps do not change),
    # filled once by :func:`index_cells` so that a hall's power touches only its own cells
    # and the table lookups that do not depend on the caps are made once:
    hall_cells: np.ndarray  # (n_cell,) int64: cell indices grouped by hall, ascending within
    hall_first: np.ndarray  # (n_hall + 1,) int64: hall h: hall_cells[first[h]:first[h + 1]]
    p_full_w: np.ndarray  # (n_cell,) rack power at full load, uncapped (burn-in) [W]
    p_idle_w: np.ndarray  # (n_cell,) rack power idle, uncapped [W]
    x_full: np.ndarray  # (n_cell,) rack capacity uncapped [tok/s]
    # (n_cell,) delivered rate [tok/s] and power [W] of one serving rack at the caps and loads
    # of the last evaluation of its hall's IT (dispatch.hall_it_w)
    point_x: np.ndarray
    point_p: np.ndarray
    # (n_hall,) IT power of each hall's last scratch cooling step this tick (NaN: none since
    # the last commit); probe_out[h] and cool_scratch[h] hold that step's outputs and end
    # state, which a commit at the same IT power takes instead of running the step again [W]
    scratch_it: np.ndarray


class Work(NamedTuple):
    """Scratch of one tick (values of the current tick only)."""

    # per class
    offered: np.ndarray  # demand + backlog offered this tick [tok/s]
    expired: np.ndarray  # backlog past its deadline this tick [tok]
    cls_cap: np.ndarray  # capacity of the class's racks at their caps [tok/s]
    served_first: np.ndarray  # served in the first dispatch round (before capping) [tok/s]
    served_cls: np.ndarray  # served at the final operating point [tok/s]
    cap_cls: np.ndarray  # capacity at the final caps [tok/s]
    unserved_cls: np.ndarray  # [tok/s]
    backlog_cls: np.ndarray  # queued at the end of the tick [tok]
    capped_lost_cls: np.ndarray  # served before capping minus served after [tok/s]
    # per cell
    cap: np.ndarray  # GPU power cap [frac of TDP]
    trial: np.ndarray  # caps tried by the bisection [frac of TDP]
    in_rank: np.ndarray  # bool: cell in the rank and scope being capped
    offered_rack: np.ndarray  # load offered to one serving rack [tok/s]
    offered_first: np.ndarray  # the same, first round [tok/s]
    x_cap: np.ndarray  # rack capacity at its cap [tok/s]
    delivered: np.ndarray  # served by the cell [tok/s]
    shed: Racks  # rack counts after a site shed (a share of the live racks switched off)
    # per hall
    hall_it: np.ndarray  # rack IT power [W]
    hall_limit: np.ndarray  # min(feed, heat limit) at the UPS output [W]
    thermal_bound: np.ndarray  # 1 if the heat limit is below the feed [-]
    hall_ran: np.ndarray  # 1 if the hall's chain was committed this tick [-]
    hall_ups_out: np.ndarray  # [W]
    hall_mech: np.ndarray  # cooling power [W]
    cool_out: np.ndarray  # (n_hall, CO_NCOLS) committed cooling outputs
    probe_out: np.ndarray  # (n_hall, CO_NCOLS) cooling outputs of the last scratch step
    cool_scratch: np.ndarray  # (n_hall, CS_NCOLS) loop state for scratch evaluations
    # per site
    site_limit: np.ndarray  # most power the site can be supplied this tick [W]
    site_want: np.ndarray  # site power before any capping [W]
    site_on: np.ndarray  # share of the site's racks kept on (1 unless shed) [frac]
    site_parked_w: np.ndarray  # site power with its racks parked, when shed [W]
    t_db: np.ndarray  # [degC]
    t_wb: np.ndarray  # [degC]
    site_xfmr_out: np.ndarray  # power through the transformer [W]
    site_loss: np.ndarray  # PDU + UPS losses [W]
    site_mech: np.ndarray  # cooling power [W]
    site_xfmr: np.ndarray  # transformer loss [W]
    site_w: np.ndarray  # site-meter power [W]
    site_avail: np.ndarray  # grid import available [W]
    site_import: np.ndarray
    site_solar: np.ndarray
    site_clean: np.ndarray
    site_turbine: np.ndarray
    site_battery: np.ndarray  # + discharge, - charge [W]
    site_spill: np.ndarray
    site_unmet: np.ndarray
    site_turb_before: np.ndarray  # units running during the tick (before the commitment)
    nan_limit: np.ndarray  # (1,) bool: a limit check met a NaN power or limit this call
    probe: Probe  # views of the fields above for the power evaluations
    hall_out_it: np.ndarray  # (n_hall,) IT power outside the racks (fabric, storage...) [W]
    # (n_class, 6) interactive classes: served tokens with a latency, then SLO attainment,
    # TTFT p50, p99, TPOT p50, p99 each x served (columns as layout.KR_LATENCY_SERVED...)
    latency_cls: np.ndarray
    proxy_cls: np.ndarray  # (n_class,) share of the class's service on proxy pools [frac]
    # per cell: racks switched off by a site's park policy this tick (not in the racks the
    # cap solve returns; their share of the IT outside the racks stays on, idle) [racks]
    parked: np.ndarray
    park_base: np.ndarray  # (n_cell,) serving racks before the park step being solved
    policy_acted: np.ndarray  # (n_site,) 1 if the site's power policy lowered power [-]


@setup_fn
def new_work(n_class, n_cell, n_hall, n_site):
    """Zeroed :class:`Work` for the given sizes."""
    offered_rack, hall_it = np.zeros(n_cell), np.zeros(n_hall)
    cool_out, probe_out = np.zeros((n_hall, CL.CO_NCOLS)), np.zeros((n_hall, CL.CO_NCOLS))
    cool_scratch = np.zeros((n_hall, CL.CS_NCOLS))
    t_db, t_wb = np.zeros(n_site), np.zeros(n_site)
    parked = np.zeros(n_cell)
    probe = Probe(
        offered_rack, hall_it, cool_out, probe_out, cool_scratch, t_db, t_wb, parked,
        np.zeros(n_cell, dtype=np.int64), np.zeros(n_hall + 1, dtype=np.int64),
        np.zeros(n_cell), np.zeros(n_cell), np.zeros(n_cell), np.zeros(n_cell),
        np.zeros(n_cell), np.full(n_hall, np.nan),
    )  # fmt: skip
    return Work(
        np.zeros(n_class), np.zeros(n_class), np.zeros(n_class), np.zeros(n_class),
        np.zeros(n_class), np.zeros(n_class), np.zeros(n_class), np.zeros(n_class),
        np.zeros(n_class),
        np.ones(n_cell), np.ones(n_cell), np.zeros(n_cell, dtype=np.bool_), offered_rack,
        np.zeros(n_cell), np.zeros(n_cell), np.zeros(n_cell),
        Racks(np.zeros(n_cell), np.zeros(n_cell), np.zeros(n_cell)),
        hall_it, np.zeros(n_hall), np.zeros(n_hall), np.zeros(n_hall),
        np.zeros(n_hall), np.zeros(n_hall), cool_out, probe_out, cool_scratch,
        np.zeros(n_site), np.zeros(n_site), np.ones(n_site), np.zeros(n_site),
        t_db, t_wb, np.zeros(n_site), np.zeros(n_site),
        np.zeros(n_site), np.zeros(n_site), np.zeros(n_site), np.zeros(n_site),
        np.zeros(n_site), np.zeros(n_site), np.zeros(n_site), np.zeros(n_site),
        np.zeros(n_site), np.zeros(n_site), np.zeros(n_site), np.zeros(n_site),
        np.zeros(1, dtype=np.bool_), probe, np.zeros(n_hall),
        np.zeros((n_class, 6)), np.zeros(n_class),
        parked, np.zeros(n_cell), np.zeros(n_site),
    )  # fmt: skip


@setup_fn
def index_cells(cells, pools, probe):
    """Fill the per-call constants of ``probe``: each hall's cells and the uncapped powers.

    The uncapped powers and capacity are the very lookups the stages made per cell and
    evaluation (``interp_table(tab_p, pool, 1 or 0, 1)``, ``interp_cap(tab_xcap, pool, 1)``),
    made once: the same values bit for bit.
    """
    n_cell = cells.pool.shape[0]
    n_hall = probe.hall_first.shape[0] - 1
    first = probe.hall_first
    first[:] = 0
    for c in range(n_cell):
        first[cells.hall[c] + 1] += 1
    for h in range(n_hall):
        first[h + 1] += first[h]
    for h in range(n_hall):
        i = first[h]
        for c in range(n_cell):  # ascending: a hall's sums keep the order of a scan
            if cells.hall[c] == h:
                probe.hall_cells[i] = c
                i += 1
    for c in range(n_cell):
        probe.p_full_w[c] = interp_table(pools.tab_p, cells.pool[c], 1.0, 1.0)
        probe.p_idle_w[c] = interp_table(pools.tab_p, cells.pool[c], 0.0, 1.0)
        probe.x_full[c] = interp_cap(pools.tab_xcap, cells.pool[c], 1.0)


@setup_fn
def live_racks(cells, halls):
    """Rack counts of the cells in halls that are energised and cooled; 0 elsewhere.

    The build-out starts burn-in only in such halls; this keeps the tick consistent
    whatever the caller put in the cell counts.
    """
    n_cell = cells.pool.shape[0]
    out = Racks(np.zeros(n_cell), np.zeros(n_cell), np.zeros(n_cell))
    count_live(cells, halls, out)
    return out


@inline_fn
def count_live(cells, halls, out):
    """:func:`live_racks` into the existing ``out`` (no allocation: the tick loop's form)."""
    for c in range(cells.pool.shape[0]):
        h = cells.hall[c]
        live = halls.energised[h] and halls.cooled[h]
        out.serving[c] = cells.serving[c] if live else 0.0
        out.burn_in[c] = cells.burn_in[c] if live else 0.0
        out.idle[c] = cells.idle[c] if live else 0.0
