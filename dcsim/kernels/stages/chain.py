"""Stage 4: the power chain per hall (PDU, UPS) with its cooling plant, and per site.

Mechanical loads bypass the UPS but pass the site transformer. A hall not energised draws
nothing (no PDU or UPS no-load loss, no cooling); a hall energised but whose cooling is not
commissioned carries its UPS no-load loss and no cooling.
"""

from __future__ import annotations

import numpy as np

from dcsim.kernels import cooling_layout as CL
from dcsim.kernels.compiled import inline_fn, loop_fn
from dcsim.kernels.cooling import hall_cooling_step
from dcsim.kernels.inplace import copy_into, copy_row
from dcsim.physics.power_chain import pdu_loss_w, transformer_loss_w, ups_loss_w


@inline_fn
def hall_chain(h, it_w, halls, probe, dt_s, commit):
    """UPS-output power, PDU+UPS loss and mechanical power of hall h [W].

    The mechanical power comes from the hall's cooling plant at this tick's weather and loop
    state. Without ``commit`` the step runs on a scratch copy of the loop state and writes
    ``probe.probe_out[h]``, so that the cap solve sees exactly the power the final step will
    draw; with ``commit`` it runs on ``halls.cool_state`` (the loops move on a tick) and
    writes ``probe.cool_out[h]``. A commit at the IT power of the hall's last scratch step
    takes that step's outputs and end state: the same step on the same inputs (weather, loop
    state, heat), so the same values bit for bit, without running it twice (most ticks: no
    limit binds and the cap solve's one evaluation is at the final power).
    """
    out = probe.cool_out[h] if commit else probe.probe_out[h]
    if not halls.energised[h]:
        out[:] = 0.0
        return 0.0, 0.0, 0.0
    pdu = pdu_loss_w(it_w, halls.pdu_eff_frac[h])
    ups_out = it_w + pdu
    ups = ups_loss_w(
        ups_out,
        halls.ups_module_w[h],
        halls.ups_modules_active[h],
        halls.ups_a0_frac[h],
        halls.ups_a1_frac[h],
        halls.ups_a2_frac[h],
    )
    # Heat in the white space = rack power + PDU loss; UPS rooms are cooled separately and
    # their loss is counted in losses, not in the mechanical load of the hall.
    heat = it_w + pdu
    if not halls.cooled[h]:
        out[:] = 0.0  # its racks are not live (work.live_racks): no heat to remove
        return ups_out, pdu + ups, 0.0
    s = halls.site[h]
    state = halls.cool_state
    if commit and it_w == probe.scratch_it[h]:
        copy_into(out, probe.probe_out[h])
        copy_row(state, h, probe.cool_scratch, h)
        return ups_out, pdu + ups, out[CL.CO_MECH_W]
    if not commit:
        copy_row(probe.cool_scratch, h, halls.cool_state, h)
        probe.scratch_it[h] = it_w
        state = probe.cool_scratch
    liquid = heat * halls.cool_par[h, CL.CP_LIQUID_FRAC]
    hall_cooling_step(
        h, heat, liquid, probe.t_db[s], probe.t_wb[s], halls.cool_par, state, dt_s, out
    )
    return ups_out, pdu + ups, out[CL.CO_MECH_W]


@loop_fn
def site_power_w(s, hall_it, halls, sites, probe, dt_s):
    """Site-meter power of site s for the given hall IT powers (scratch cooling) [W]."""
    xfmr_out = 0.0
    for h in range(halls.site.shape[0]):
        if halls.site[h] != s:
            continue
        _, loss, mech = hall_chain(h, hall_it[h], halls, probe, dt_s, False)
        xfmr_out += hall_it[h] + loss + mech
    xfmr = transformer_loss_w(
        xfmr_out, sites.xfmr_rated_w[s], sites.xfmr_no_load_frac[s], sites.xfmr_load_loss_frac[s]
    )
    return xfmr_out + xfmr


@loop_fn
def commit_halls(dt_s, halls, work):
    """Run every hall's chain and cooling once for the final IT power; the loops move on.

    Reads ``work.hall_it`` and ``work.site_on``; writes ``work.hall_ran``, ``hall_ups_out``,
    ``hall_mech``, ``cool_out`` and the per-site sums ``site_xfmr_out``, ``site_loss``,
    ``site_mech``. A hall of a dark site is skipped: nothing runs, its loops keep their state.
    """
    work.site_xfmr_out[:] = 0.0
    work.site_loss[:] = 0.0
    work.site_mech[:] = 0.0
    for h in range(halls.site.shape[0]):
        s = halls.site[h]
        work.hall_ran[h] = 0.0
        if work.site_on[s] <= 0.0:
            continue
        ups_out, loss_h, mech_h = hall_chain(h, work.hall_it[h], halls, work.probe, dt_s, True)
        work.hall_ran[h] = 1.0
        work.hall_ups_out[h] = ups_out
        work.hall_mech[h] = mech_h
        work.site_xfmr_out[s] += work.hall_it[h] + loss_h + mech_h
        work.site_loss[s] += loss_h
        work.site_mech[s] += mech_h
    # The loops moved on (and changes may set units at the next tick): no scratch step holds.
    work.probe.scratch_it[:] = np.nan
