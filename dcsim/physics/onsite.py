"""On-site supply at a site meter: battery, gas turbines, solar and a clean block (MODEL.md 4).

One tick of the site balance. The facility draws ``facility_w`` (already capped so that it
never exceeds what can be supplied, see :mod:`dcsim.kernels.step`); the sources meet it in
this order:

1. must-take sources: solar PV and the firm clean block (zero marginal cost);
2. the battery's *voluntary* policy, using only the energy above its ride-through reserve:
   peak shaving (keep import at or below a threshold) or price arbitrage (discharge on a
   high-price signal);
3. the grid, up to what the contract makes available this tick;
4. turbines already running cover what the grid cannot; a running unit never drops below
   its minimum load;
5. the battery again, now down to empty: the ride-through. In time this is the first
   responder: when a curtailment or a disconnect starts, the battery carries the gap at once
   (within the tick) while turbines take the start delay to synchronise; once they run they
   take the gap over and the battery is spared. That is the "battery, then turbines" order of
   a shortfall, followed by rack caps when both are short (done by the kernel before this
   balance).

Surplus (turbines at minimum load, solar above the load) charges the battery; what is left is
spilled (no export). The battery charges from grid headroom under its policy (ride-through
and peak shaving refill to full; arbitrage on a low-price signal). Charge and discharge never
happen in the same tick. All functions are numba-compatible (``register_jitable``) scalar
arithmetic.
"""

from __future__ import annotations

import math

from numba.extending import register_jitable

__all__ = [
    "POLICY_ARBITRAGE",
    "POLICY_NONE",
    "POLICY_PEAK_SHAVING",
    "POLICY_RIDE_THROUGH",
    "battery_limits_w",
    "battery_soc_next_j",
    "site_dispatch",
    "turbine_commit",
]

POLICY_NONE = 0
POLICY_RIDE_THROUGH = 1
POLICY_PEAK_SHAVING = 2
POLICY_ARBITRAGE = 3


@register_jitable
def battery_limits_w(soc_j, energy_j, power_w, eta_charge_frac, eta_discharge_frac, floor_j, dt_s):
    """Largest discharge and charge power at the battery terminals over one tick.

    Parameters
    ----------
    soc_j
        State of charge (stored energy) [J].
    energy_j
        Usable capacity [J].
    power_w
        Inverter rating [W].
    eta_charge_frac, eta_discharge_frac
        One-way efficiencies; their product is the round-trip efficiency [frac].
    floor_j
        Stored energy the discharge may not go below (the reserve, or 0) [J].
    dt_s
        Tick length [s].

    Returns
    -------
    (discharge_w, charge_w)
        Terminal powers that empty to ``floor_j`` or fill to ``energy_j`` in one tick at most,
        capped by the rating [W].
    """
    if power_w <= 0.0 or dt_s <= 0.0:
        return 0.0, 0.0
    dis = min(power_w, max(soc_j - floor_j, 0.0) * eta_discharge_frac / dt_s)
    ch = min(power_w, max(energy_j - soc_j, 0.0) / (eta_charge_frac * dt_s))
    return dis, ch


@register_jitable
def battery_soc_next_j(soc_j, battery_w, eta_charge_frac, eta_discharge_frac, dt_s):
    """State of charge after one tick at a terminal power.

    Parameters
    ----------
    soc_j
        State of charge [J].
    battery_w
        Terminal power, positive when discharging, negative when charging [W].
    eta_charge_frac, eta_discharge_frac
        One-way efficiencies [frac].
    dt_s
        Tick length [s].

    Returns
    -------
    float
        The new state of charge [J]: a discharge of P draws P/eta from storage, a charge of P
        stores P*eta.
    """
    if battery_w >= 0.0:
        return soc_j - battery_w * dt_s / eta_discharge_frac
    return soc_j - battery_w * dt_s * eta_charge_frac


@register_jitable
def site_dispatch(
    facility_w,
    grid_avail_w,
    solar_w,
    clean_w,
    batt_cmd,
    soc_j,
    turb_online_count,
    batt_power_w,
    batt_energy_j,
    eta_charge_frac,
    eta_discharge_frac,
    reserve_j,
    policy,
    peak_threshold_w,
    turb_unit_w,
    turb_min_load_frac,
    dt_s,
):
    """Meet the facility power from the site's sources for one tick.

    Parameters
    ----------
    facility_w
        Power drawn at the site meter by the facility [W].
    grid_avail_w
        Import the contract allows this tick (0 in a disconnect) [W].
    solar_w, clean_w
        Available solar AC power and clean-block power [W].
    batt_cmd
        Price signal of the arbitrage policy: +1 discharge, -1 charge, 0 hold [-].
    soc_j
        Battery state of charge at the start of the tick [J].
    turb_online_count
        Turbine units synchronised and running [count].
    batt_power_w, batt_energy_j, eta_charge_frac, eta_discharge_frac, reserve_j
        Battery rating [W], usable energy [J], one-way efficiencies [frac], reserve [J].
    policy
        Battery policy code (``POLICY_*``).
    peak_threshold_w
        Import threshold of the peak-shaving policy [W].
    turb_unit_w, turb_min_load_frac
        Rating of one turbine [W] and its minimum stable load [frac].
    dt_s
        Tick length [s].

    Returns
    -------
    (grid_import_w, solar_used_w, clean_used_w, turbine_w, battery_w, soc_next_j, spill_w,
     unmet_w)
        Import [W]; solar, clean and turbine power delivered to the facility or the battery
        [W]; net battery terminal power (+ discharge, - charge) [W]; the new state of charge
        [J]; generation spilled for want of a sink [W]; power the sources could not supply
        (0 when the kernel's caps did their job) [W]. Balance:
        ``facility = import + solar_used + clean_used + turbine + battery`` when
        ``unmet_w`` is 0.
    """
    has_batt = batt_power_w > 0.0 and batt_energy_j > 0.0 and policy != POLICY_NONE
    dis_vol, ch_max = 0.0, 0.0
    dis_all = 0.0
    if has_batt:
        dis_vol, ch_max = battery_limits_w(
            soc_j, batt_energy_j, batt_power_w, eta_charge_frac, eta_discharge_frac, reserve_j,
            dt_s,
        )  # fmt: skip
        dis_all, _ = battery_limits_w(
            soc_j, batt_energy_j, batt_power_w, eta_charge_frac, eta_discharge_frac, 0.0, dt_s
        )
    must = solar_w + clean_w
    rest = facility_w - must
    surplus = 0.0
    if rest < 0.0:
        surplus = -rest
        rest = 0.0

    # Voluntary battery use, above the reserve.
    d = 0.0
    if has_batt:
        if policy == POLICY_PEAK_SHAVING:
            d = min(max(rest - peak_threshold_w, 0.0), dis_vol)
        elif policy == POLICY_ARBITRAGE and batt_cmd > 0.0:
            d = min(rest, dis_vol)

    # Running turbines cover what the grid cannot, never below their minimum load.
    g = 0.0
    if turb_online_count > 0.0:
        cap_t = turb_online_count * turb_unit_w
        g = min(max(rest - d - grid_avail_w, 0.0), cap_t)
        g = max(g, turb_online_count * turb_unit_w * turb_min_load_frac)

    # Ride-through: the battery down to empty for what is still short of the grid.
    short = rest - d - g - grid_avail_w
    if short > 0.0 and has_batt:
        extra = min(short, max(dis_all - d, 0.0))
        d += extra
        short -= extra
    unmet = max(short, 0.0)

    imp = rest - d - g - unmet
    if imp < 0.0:
        surplus += -imp
        imp = 0.0

    # Charging: surplus first, then grid headroom as the policy allows.
    c = 0.0
    if has_batt and d <= 0.0:
        c = min(surplus, ch_max)
        surplus -= c
        want = 0.0
        if policy == POLICY_RIDE_THROUGH:
            want = ch_max
        elif policy == POLICY_PEAK_SHAVING:
            want = min(ch_max, max(peak_threshold_w - imp, 0.0))
        elif policy == POLICY_ARBITRAGE and batt_cmd < 0.0:
            want = ch_max
        c_grid = min(max(want - c, 0.0), max(grid_avail_w - imp, 0.0))
        c_grid = max(min(c_grid, ch_max - c), 0.0)
        imp += c_grid
        c += c_grid

    # Spill what has no sink: solar is curtailed first, then the clean block, then the
    # turbines' minimum-load output.
    spill = surplus
    s_cut = min(spill, solar_w)
    k_cut = min(spill - s_cut, clean_w)
    t_cut = min(max(spill - s_cut - k_cut, 0.0), g)
    batt_w = d - c
    soc_next = soc_j
    if has_batt:
        soc_next = battery_soc_next_j(soc_j, batt_w, eta_charge_frac, eta_discharge_frac, dt_s)
        soc_next = min(max(soc_next, 0.0), batt_energy_j)
    return (imp, solar_w - s_cut, clean_w - k_cut, g - t_cut, batt_w, soc_next, spill, unmet)


@register_jitable
def turbine_commit(
    need_w,
    online_count,
    starting_count,
    start_left_s,
    surplus_s,
    units_count,
    unit_w,
    start_s,
    min_run_s,
    dt_s,
):
    """Unit commitment of a turbine block for the next tick.

    Units are ordered to start as soon as the site needs more than the grid and the must-take
    sources give (the battery bridges the start delay); a unit that is no longer needed keeps
    running until the need has stayed below it for the minimum run time; a start still pending
    when the need vanishes is cancelled.

    Parameters
    ----------
    need_w
        Power the site wants beyond grid and must-take supply this tick [W].
    online_count, starting_count
        Units running and units starting [count].
    start_left_s
        Time until the starting units synchronise [s].
    surplus_s
        Time the need has stayed below the running units [s].
    units_count, unit_w
        Units installed [count] and rating of one [W].
    start_s, min_run_s
        Start delay and minimum run time [s].
    dt_s
        Tick length [s].

    Returns
    -------
    (online_count, starting_count, start_left_s, surplus_s, started_count)
        The new commitment state and the units ordered to start this tick [count].
    """
    if units_count <= 0.0 or unit_w <= 0.0:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    if starting_count > 0.0:
        start_left_s -= dt_s
        if start_left_s <= 1e-9:
            online_count += starting_count
            starting_count = 0.0
            start_left_s = 0.0
    target = min(float(math.ceil(max(need_w, 0.0) / unit_w - 1e-9)), units_count)
    started = 0.0
    if target > online_count + starting_count:
        started = target - online_count - starting_count
        if starting_count <= 0.0:
            # The order goes out at the start of this tick; the state is for the next one.
            start_left_s = start_s - dt_s
        starting_count += started
        if start_left_s <= 1e-9:
            # Faster than a tick: the units run from the next tick on.
            online_count += starting_count
            starting_count = 0.0
            start_left_s = 0.0
        surplus_s = 0.0
    elif target < online_count + starting_count:
        cancel = min(starting_count, online_count + starting_count - target)
        starting_count -= cancel
        if starting_count <= 0.0:
            start_left_s = 0.0
        if target < online_count:
            surplus_s += dt_s
            if surplus_s >= min_run_s:
                online_count = target
                surplus_s = 0.0
        else:
            surplus_s = 0.0
    else:
        surplus_s = 0.0
    return online_count, starting_count, start_left_s, surplus_s, started
