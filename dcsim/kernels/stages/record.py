"""Stage 6: accumulation into the record buffers and the per-tick balance checks.

Each value of a tick is added, weighted by 1/ticks-per-row, into the row of its record
interval (a row holds the time-weighted mean). The checks keep the largest relative residual
of the energy, supply and heat balances and the largest ratio of a limited power to its
limit in ``record.flow_check``.
"""

from __future__ import annotations

import numpy as np

from dcsim.kernels import cooling_layout as CL
from dcsim.kernels import layout as L
from dcsim.kernels import window_layout as WL
from dcsim.kernels.compiled import inline_fn, loop_fn
from dcsim.kernels.stages.checks import worst
from dcsim.physics.compute import running_share_frac


@inline_fn
def record_cells(row, hrow, cs, cells, record, work):
    """Capacity, caps and serving racks of every cell."""
    w_rec = 1.0 / record.ticks_per_rec
    w_hall = 1.0 / record.ticks_per_hall_rec
    for c in range(cells.pool.shape[0]):
        n_serv = cs.serving[c]
        h = cells.hall[c]
        record.rec[row, L.R_CAPACITY] += n_serv * work.x_cap[c] * w_rec
        record.hall_rec[hrow, h, L.HR_CAP] += work.cap[c] * n_serv * w_hall
        record.hall_rec[hrow, h, L.HR_SERVING] += n_serv * w_hall


@inline_fn
def record_outside(row, hrow, cs, cells, pools, halls, record, work):
    """IT power outside the racks, campus split (fabric, storage, management) and per hall.

    Racks parked by the park policy or by a cap below the lowest settable limit
    (:func:`dcsim.physics.compute.running_share_frac`) keep their outside share at the idle
    figure and count as parked.
    """
    w_rec = 1.0 / record.ticks_per_rec
    w_hall = 1.0 / record.ticks_per_hall_rec
    rec = record.rec
    for c in range(cells.pool.shape[0]):
        h = cells.hall[c]
        if work.hall_ran[h] <= 0.0:
            continue
        on = running_share_frac(work.cap[c], pools.on_cap[cells.pool[c]])
        n_s = on * cs.serving[c]
        n_park = work.parked[c] + (1.0 - on) * cs.serving[c]
        n_i = cs.burn_in[c] + cs.idle[c] + n_park
        record.site_rec[row, halls.site[h], L.SR_PARKED] += n_park * w_rec
        out_w = n_s * halls.outside_serving_w[h] + n_i * halls.outside_idle_w[h]
        fab_w = n_s * halls.fabric_serving_w[h] + n_i * halls.fabric_idle_w[h]
        sto_w = n_s * halls.storage_serving_w[h] + n_i * halls.storage_idle_w[h]
        rec[row, L.R_OUTSIDE_IT] += out_w * w_rec
        rec[row, L.R_FABRIC] += fab_w * w_rec
        rec[row, L.R_STORAGE] += sto_w * w_rec
        rec[row, L.R_MANAGEMENT] += (out_w - fab_w - sto_w) * w_rec
        record.hall_rec[hrow, h, L.HR_OUTSIDE_IT] += out_w * w_hall


@inline_fn
def record_classes(t, row, classes, record, work):
    """Per-class series of tick t.

    Returns (demand, served, unserved, backlog, interactive demand, service lost to
    capping, served on proxy pools), summed over the classes [tok/s; backlog tok].
    """
    w_rec = 1.0 / record.ticks_per_rec
    demand_total = 0.0
    served_total = 0.0
    unserved_total = 0.0
    backlog_total = 0.0
    interactive_demand = 0.0
    capped_lost = 0.0
    proxy_served = 0.0
    for k in range(classes.deferrable.shape[0]):
        proxy_served += work.served_cls[k] * work.proxy_cls[k]
        d = classes.demand_tok_per_s[k, t - classes.first_tick[0]]
        demand_total += d
        capped_lost += work.capped_lost_cls[k]
        if classes.interactive[k]:
            interactive_demand += d
        served_total += work.served_cls[k]
        unserved_total += work.unserved_cls[k]
        backlog_total += work.backlog_cls[k]
        record.class_rec[row, k, L.KR_DEMAND] += d * w_rec
        record.class_rec[row, k, L.KR_SERVED] += work.served_cls[k] * w_rec
        record.class_rec[row, k, L.KR_UNSERVED] += work.unserved_cls[k] * w_rec
        record.class_rec[row, k, L.KR_BACKLOG] += work.backlog_cls[k] * w_rec
        record.class_rec[row, k, L.KR_CAPACITY] += work.cap_cls[k] * w_rec
        if classes.interactive[k]:
            for q in range(6):
                record.class_rec[row, k, L.KR_LATENCY_SERVED + q] += work.latency_cls[k, q] * w_rec
    return (
        demand_total,
        served_total,
        unserved_total,
        backlog_total,
        interactive_demand,
        capped_lost,
        proxy_served,
    )


@inline_fn
def record_halls(row, hrow, halls, record, work):
    """Hall power, cooling and temperatures; returns (IT, heat, heat-balance residual) [W].

    Only halls whose chain ran this tick are recorded (a dark site's halls are skipped).
    """
    w_rec = 1.0 / record.ticks_per_rec
    w_hall = 1.0 / record.ticks_per_hall_rec
    rec = record.rec
    hall_rec = record.hall_rec
    it_total = 0.0
    heat_total = 0.0
    heat_residual = 0.0
    t_fws_sum = 0.0
    n_liquid = 0
    t_fws_max = -np.inf
    t_tcs_max = -np.inf
    for h in range(halls.site.shape[0]):
        if work.hall_ran[h] <= 0.0:
            continue
        out = work.cool_out[h]
        heat_h = work.hall_ups_out[h]
        heat_total += heat_h
        heat_residual += heat_h - out[CL.CO_HEAT_REJECTED_W] - out[CL.CO_STORED_W]
        rec[row, L.R_HEAT] += heat_h * w_rec
        rec[row, L.R_HEAT_REJECTED] += out[CL.CO_HEAT_REJECTED_W] * w_rec
        rec[row, L.R_HEAT_STORED] += out[CL.CO_STORED_W] * w_rec
        rec[row, L.R_PUMPS] += out[CL.CO_PUMPS_W] * w_rec
        rec[row, L.R_REJECTION_FANS] += out[CL.CO_HEAT_REJECTION_FANS_W] * w_rec
        rec[row, L.R_CHILLERS] += out[CL.CO_CHILLERS_W] * w_rec
        rec[row, L.R_CRAH] += out[CL.CO_CRAH_W] * w_rec
        rec[row, L.R_HUMIDIFICATION] += out[CL.CO_HUMIDIFICATION_W] * w_rec
        rec[row, L.R_LIGHTING_ANCILLARY] += out[CL.CO_LIGHTING_ANCILLARY_W] * w_rec
        rec[row, L.R_WATER] += out[CL.CO_WATER_L_PER_S] * w_rec
        hall_rec[hrow, h, L.HR_WATER] += out[CL.CO_WATER_L_PER_S] * w_hall
        hall_rec[hrow, h, L.HR_THERMAL_BOUND] += work.thermal_bound[h] * w_hall
        live = halls.energised[h] and halls.cooled[h]
        if live and halls.cool_par[h, CL.CP_TYPE] != CL.COOLING_FIXED_COP:
            n_liquid += 1
            t_fws = out[CL.CO_T_FWS_DEGC]
            t_tcs = out[CL.CO_T_TCS_SUPPLY_DEGC]
            t_fws_sum += t_fws
            t_fws_max = max(t_fws_max, t_fws)
            t_tcs_max = max(t_tcs_max, t_tcs)
            hall_rec[hrow, h, L.HR_T_FWS] += t_fws * w_hall
            hall_rec[hrow, h, L.HR_T_TCS_SUPPLY] += t_tcs * w_hall
        hall_rec[hrow, h, L.HR_IT] += work.hall_it[h] * w_hall
        hall_rec[hrow, h, L.HR_UPS_OUT] += work.hall_ups_out[h] * w_hall
        hall_rec[hrow, h, L.HR_COOLING] += work.hall_mech[h] * w_hall
        it_total += work.hall_it[h]
        ratio = work.hall_ups_out[h] / halls.feed_limit_w[h]
        record.flow_check[1] = worst(record.flow_check[1], ratio)
    if n_liquid > 0:  # liquid-cooled halls whose loops ran this tick
        rec[row, L.R_T_FWS_MEAN] += t_fws_sum / n_liquid * w_rec
        if t_fws_max > -np.inf:
            rec[row, L.R_T_FWS_MAX] += t_fws_max * w_rec
            rec[row, L.R_T_TCS_MAX] += t_tcs_max * w_rec
    return it_total, heat_total, heat_residual


@inline_fn
def record_sites(row, sites, inputs, t, record, work):
    """Per-site supply series of tick t.

    Returns (facility, losses, cooling, import) summed over the sites [W] and the largest
    relative supply-balance residual of any site [-].
    """
    ti = t - inputs.first_tick[0]  # column of tick t in the input buffers
    w_rec = 1.0 / record.ticks_per_rec
    site_rec = record.site_rec
    facility_total = 0.0
    losses_total = 0.0
    mech_total = 0.0
    import_total = 0.0
    supply_residual = 0.0
    for s in range(sites.import_limit_w.shape[0]):
        site_w = work.site_w[s]
        if work.site_on[s] > 0.0:
            losses_total += work.site_loss[s] + work.site_xfmr[s]
            mech_total += work.site_mech[s]
        facility_total += site_w
        imp = work.site_import[s]
        solar_u = work.site_solar[s]
        clean_u = work.site_clean[s]
        turb_w = work.site_turbine[s]
        batt_w = work.site_battery[s]
        spill = work.site_spill[s]
        unmet = work.site_unmet[s]
        avail = work.site_avail[s]
        supplied = imp + solar_u + clean_u + turb_w + batt_w + unmet
        supply_residual = worst(supply_residual, abs(site_w - supplied) / max(site_w, 1.0))
        if np.isnan(avail) or np.isnan(imp):
            record.flow_check[1] = np.nan
        elif avail > 0.0:
            record.flow_check[1] = worst(record.flow_check[1], imp / avail)
        elif imp > 0.0:  # import without availability
            record.flow_check[1] = worst(record.flow_check[1], np.inf)
        if not unmet <= 1e-6 * max(site_w, 1.0):  # unmet demand (inf), or NaN (NaN)
            record.flow_check[1] = worst(record.flow_check[1], np.inf if unmet > 0.0 else unmet)
        site_rec[row, s, L.SR_TURB_ONLINE] += work.site_turb_before[s] * w_rec
        import_total += imp
        site_rec[row, s, L.SR_FACILITY] += site_w * w_rec
        site_rec[row, s, L.SR_GRID_IMPORT] += imp * w_rec
        site_rec[row, s, L.SR_SOLAR] += solar_u * w_rec
        site_rec[row, s, L.SR_CLEAN] += clean_u * w_rec
        site_rec[row, s, L.SR_TURBINE] += turb_w * w_rec
        site_rec[row, s, L.SR_BATTERY] += batt_w * w_rec
        site_rec[row, s, L.SR_SOC] += sites.soc_j[s] * w_rec
        site_rec[row, s, L.SR_SPILL] += spill * w_rec
        contract = inputs.contract_w[s, ti]
        site_rec[row, s, L.SR_CURTAILED] += max(contract - avail, 0.0) * w_rec
        site_rec[row, s, L.SR_GRID_AVAIL] += avail * w_rec
        if work.site_on[s] < 1.0:
            site_rec[row, s, L.SR_SHED] += max(work.site_parked_w[s] - site_w, 0.0) * w_rec
        site_rec[row, s, L.SR_UNMET] += unmet * w_rec
        site_rec[row, s, L.SR_POLICY_ACTED] += work.policy_acted[s] * w_rec
        # Spill cuts solar first, then the clean block, then turbine output at minimum load:
        # what is left of the spill was burnt in the turbines all the same.
        t_spill = spill - (inputs.solar_w[s, ti] - solar_u)
        t_spill -= inputs.clean_w[s, ti] - clean_u
        site_rec[row, s, L.SR_TURBINE_GROSS] += (turb_w + max(t_spill, 0.0)) * w_rec
    return facility_total, losses_total, mech_total, import_total, supply_residual


@inline_fn
def record_window(t, cs, cells, halls, record, work):
    """Per-cell state of tick t into the window record, if t lies in a window (else nothing)."""
    if t >= record.window_row.shape[0]:
        return
    i = record.window_row[t]
    if i < 0:
        return
    out = record.window_rec
    for c in range(cells.pool.shape[0]):
        h = cells.hall[c]
        out[i, c, WL.WR_OFFERED_RACK] = work.offered_rack[c]
        out[i, c, WL.WR_DELIVERED] = work.delivered[c]
        out[i, c, WL.WR_CAP] = work.cap[c]
        out[i, c, WL.WR_SERVING] = cs.serving[c]
        out[i, c, WL.WR_X_CAP] = work.x_cap[c]
        if halls.cool_par[h, CL.CP_TYPE] != CL.COOLING_FIXED_COP:
            out[i, c, WL.WR_T_FWS] = work.cool_out[h, CL.CO_T_FWS_DEGC]
        else:
            out[i, c, WL.WR_T_FWS] = np.nan
        out[i, c, WL.WR_THERMAL_BOUND] = work.thermal_bound[h]


@loop_fn
def record_tick(t, cs, gpus, service, cells, pools, classes, halls, sites, inputs, record, work):
    """Record tick t: cells, classes, halls, sites, campus totals and the balance checks.

    ``service`` is what :func:`dcsim.kernels.stages.dispatch.operating_point` returned.
    """
    row = t // record.ticks_per_rec
    hrow = t // record.ticks_per_hall_rec
    w_rec = 1.0 / record.ticks_per_rec
    slo_w, throttled_cap, unthrottled_cap, throttled_lost = service
    record_cells(row, hrow, cs, cells, record, work)
    record_window(t, cs, cells, halls, record, work)
    record_outside(row, hrow, cs, cells, pools, halls, record, work)
    demand, served, unserved, backlog, interactive, capped_lost, proxy = record_classes(
        t, row, classes, record, work
    )
    it_total, heat_total, heat_residual = record_halls(row, hrow, halls, record, work)
    facility, losses, mech, imported, supply_residual = record_sites(
        row, sites, inputs, t, record, work
    )
    residual = facility - (it_total + mech + losses)
    energy = abs(residual) / max(facility, 1.0)
    heat = abs(heat_residual) / max(heat_total, 1.0)
    record.flow_check[0] = worst(record.flow_check[0], worst(worst(energy, supply_residual), heat))
    if work.nan_limit[0]:  # a limit check of the cap solve met a NaN power or limit
        record.flow_check[1] = np.nan
    rec = record.rec
    rec[row, L.R_DEMAND] += demand * w_rec
    rec[row, L.R_SERVED] += served * w_rec
    rec[row, L.R_PROXY_SERVED] += proxy * w_rec
    rec[row, L.R_UNSERVED] += unserved * w_rec
    rec[row, L.R_BACKLOG] += backlog * w_rec
    thermal_lost = min(throttled_lost, capped_lost)
    rec[row, L.R_POWER_CAPPED] += (capped_lost - thermal_lost) * w_rec
    rec[row, L.R_THERMAL_CAPPED] += thermal_lost * w_rec
    rec[row, L.R_THROTTLED_CAPACITY] += throttled_cap * w_rec
    rec[row, L.R_UNTHROTTLED_CAPACITY] += unthrottled_cap * w_rec
    rec[row, L.R_SLO_WEIGHTED] += slo_w * w_rec
    rec[row, L.R_INTERACTIVE_DEMAND] += interactive * w_rec
    rec[row, L.R_IT] += it_total * w_rec
    rec[row, L.R_COOLING] += mech * w_rec
    rec[row, L.R_LOSSES] += losses * w_rec
    rec[row, L.R_FACILITY] += facility * w_rec
    rec[row, L.R_GRID_IMPORT] += imported * w_rec
    rec[row, L.R_GPUS] += gpus * w_rec
