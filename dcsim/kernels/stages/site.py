"""Stage 5: the site balance (transformer, battery, turbines, import) and turbine commitment.

The sources meet the facility power in merit order (:func:`dcsim.physics.onsite.site_dispatch`);
the turbine commitment for the next tick follows what the racks wanted beyond the grid and
the must-take sources (:func:`dcsim.physics.onsite.turbine_commit`). Turbine starts and stops
and battery mode changes are written to the record's event buffer.
"""

from __future__ import annotations

from dcsim.kernels import layout as L
from dcsim.kernels.compiled import inline_fn, loop_fn
from dcsim.physics.onsite import site_dispatch, turbine_commit
from dcsim.physics.power_chain import transformer_loss_w


@inline_fn
def push_event(record, t, kind, s, value):
    """Append one kernel event; past the buffer's end events are counted, not kept."""
    i = record.n_events[0]
    if i < record.events.shape[0]:
        record.events[i, L.EV_TICK] = t
        record.events[i, L.EV_KIND] = kind
        record.events[i, L.EV_SITE] = s
        record.events[i, L.EV_VALUE] = value
    record.n_events[0] = i + 1


@inline_fn
def _battery_mode(batt_w):
    if batt_w > 0.0:
        return 1.0
    if batt_w < 0.0:
        return -1.0
    return 0.0


@loop_fn
def balance_sites(t, dt_s, sites, inputs, work, record):
    """Meet each site's facility power from its sources; commit turbines for the next tick.

    Reads ``work.site_xfmr_out``, ``site_on``, ``site_want``; writes ``work.site_xfmr``,
    ``site_w``, ``site_avail``, ``site_import``... ``site_unmet``, ``site_turb_before``
    and the site state (state of charge, turbine units, timers, battery mode).
    """
    ti = t - inputs.first_tick[0]  # column of tick t in the input buffers
    for s in range(sites.import_limit_w.shape[0]):
        site_w = 0.0
        xfmr = 0.0
        if work.site_on[s] > 0.0:
            xfmr = transformer_loss_w(
                work.site_xfmr_out[s], sites.xfmr_rated_w[s], sites.xfmr_no_load_frac[s],
                sites.xfmr_load_loss_frac[s],
            )  # fmt: skip
            site_w = work.site_xfmr_out[s] + xfmr
        work.site_xfmr[s] = xfmr
        work.site_w[s] = site_w
        # The physical connection bounds what the contract makes available.
        avail = min(inputs.grid_avail_w[s, ti], sites.import_limit_w[s])
        solar = inputs.solar_w[s, ti]
        clean = inputs.clean_w[s, ti]
        imp, solar_u, clean_u, turb_w, batt_w, soc, spill, unmet = site_dispatch(
            site_w, avail, solar, clean, inputs.batt_cmd[s, ti], sites.soc_j[s],
            sites.turb_online[s], sites.batt_power_w[s], sites.batt_energy_j[s],
            sites.batt_eta_charge_frac[s], sites.batt_eta_discharge_frac[s],
            sites.batt_reserve_j[s], sites.batt_policy[s], sites.peak_threshold_w[s],
            sites.turb_unit_w[s], sites.turb_min_load_frac[s], dt_s,
        )  # fmt: skip
        sites.soc_j[s] = soc
        work.site_avail[s] = avail
        work.site_import[s] = imp
        work.site_solar[s] = solar_u
        work.site_clean[s] = clean_u
        work.site_turbine[s] = turb_w
        work.site_battery[s] = batt_w
        work.site_spill[s] = spill
        work.site_unmet[s] = unmet
        # Units start for what the racks want beyond the grid and must-take supply.
        need = work.site_want[s] - avail - solar
        need -= clean
        before = sites.turb_online[s]
        on, starting, left, surplus, _ = turbine_commit(
            need, before, sites.turb_starting[s], sites.turb_start_left_s[s],
            sites.turb_surplus_s[s], sites.turb_units[s], sites.turb_unit_w[s],
            sites.turb_start_s[s], sites.turb_min_run_s[s], dt_s,
        )  # fmt: skip
        work.site_turb_before[s] = before
        sites.turb_online[s] = on
        sites.turb_starting[s] = starting
        sites.turb_start_left_s[s] = left
        sites.turb_surplus_s[s] = surplus
        if on > before:
            push_event(record, t, L.EV_KIND_TURBINE_START, s, on)
        elif on < before:
            push_event(record, t, L.EV_KIND_TURBINE_STOP, s, on)
        mode = _battery_mode(batt_w)
        if mode != sites.batt_mode[s]:
            kind = L.EV_KIND_BATTERY_IDLE
            if mode > 0.0:
                kind = L.EV_KIND_BATTERY_DISCHARGE
            elif mode < 0.0:
                kind = L.EV_KIND_BATTERY_CHARGE
            push_event(record, t, kind, s, batt_w)
            sites.batt_mode[s] = mode
