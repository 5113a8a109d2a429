"""Stage 2: the caps a tick starts from and the limits it must meet."""

from __future__ import annotations

from dcsim.kernels.compiled import loop_fn
from dcsim.kernels.cooling import hall_heat_limit_w
from dcsim.physics.onsite import battery_limits_w


@loop_fn
def site_supply_w(s, t, sites, inputs, dt_s):
    """Most power site s can be supplied this tick [W].

    Grid (as available, bounded by the connection) + must-take sources + running turbines +
    the battery down to empty (the ride-through).
    """
    ti = t - inputs.first_tick[0]  # column of tick t in the input buffers
    supply = (
        min(inputs.grid_avail_w[s, ti], sites.import_limit_w[s])
        + inputs.solar_w[s, ti]
        + inputs.clean_w[s, ti]
        + sites.turb_online[s] * sites.turb_unit_w[s]
    )
    if sites.batt_policy[s] > 0:
        dis, _ = battery_limits_w(
            sites.soc_j[s], sites.batt_energy_j[s], sites.batt_power_w[s],
            sites.batt_eta_charge_frac[s], sites.batt_eta_discharge_frac[s], 0.0, dt_s,
        )  # fmt: skip
        supply += dis
    return supply


@loop_fn
def set_limits(t, dt_s, cells, pools, classes, halls, sites, inputs, work):
    """Start caps, site supply limits, weather, and hall limits (feed and heat) of tick t.

    Writes ``work.cap`` (1, or 0 for deferrable racks parked for a coincident peak),
    ``site_limit``, ``site_on``, ``site_parked_w``, ``t_db``, ``t_wb``, ``hall_limit`` and
    ``thermal_bound``. Cooling acts on the racks only here: a hall takes no more than its
    feed carries and its cooling can reject, and the cap solve meets that limit.
    """
    ti = t - inputs.first_tick[0]  # column of tick t in the input buffers
    for c in range(cells.pool.shape[0]):
        work.cap[c] = 1.0
        s_c = halls.site[cells.hall[c]]
        k = pools.klass[cells.pool[c]]
        if inputs.cp_shed[s_c, ti] > 0.0 and classes.deferrable[k]:
            work.cap[c] = 0.0  # coincident-peak avoidance parks deferrable racks
    for s in range(sites.import_limit_w.shape[0]):
        work.site_limit[s] = site_supply_w(s, t, sites, inputs, dt_s)
        work.site_on[s] = 1.0
        work.site_parked_w[s] = 0.0
        work.t_db[s] = inputs.t_db_degc[s, ti]
        work.t_wb[s] = inputs.t_wb_degc[s, ti]
    # The heat in the white space (IT + PDU loss) is exactly the UPS output the feed limit
    # applies to, so both limits bound the same quantity.
    for h in range(halls.site.shape[0]):
        s = halls.site[h]
        if not (halls.energised[h] and halls.cooled[h]):
            work.hall_limit[h] = 0.0  # no rack runs here (work.live_racks): nothing to limit
            work.thermal_bound[h] = 0.0
            continue
        heat_lim = hall_heat_limit_w(
            h, work.t_db[s], work.t_wb[s], halls.cool_par, halls.cool_state, dt_s
        )
        work.hall_limit[h] = min(halls.feed_limit_w[h], heat_lim)
        work.thermal_bound[h] = 1.0 if heat_lim < halls.feed_limit_w[h] else 0.0
