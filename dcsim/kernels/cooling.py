"""Per-hall cooling kernels called from the fused tick: the heat limit and the loop step.

Two compiled functions, both on one hall row of the tables of
:mod:`dcsim.kernels.cooling_layout` (no allocation, scalars only):

* :func:`hall_heat_limit_w`: the largest white-space heat the hall can take this tick without
  its technology-loop (TCS) supply passing the racks' limit at the end of the tick, nor its
  CDUs, facility-water pumps or air path passing their capacity. The fused tick caps the
  hall's racks so that their heat stays at or below it (thermal throttling).
* :func:`hall_cooling_step`: advances the hall's loops by one tick for the heat actually
  produced, and writes power by component, water, heat rejected and stored, and temperatures.

Control (MODEL.md section 5): the rejection plant aims at the facility-water (FWS) supply
setpoint. Economiser first (dry coolers, with adiabatic pads when the dry fans would pass a
speed threshold; or cooling-tower cells), trim chillers for the rest. When even all of it
at full output cannot hold the setpoint, the lumped loop warms as ``C dT/dt = Q_in - Q_out``
(integrated exactly, :func:`dcsim.physics.cooling.loop_saturated_end_degc`); the TCS supply is
the FWS supply plus the CDU approach, which grows with the heat per available CDU.

Heat balance, exactly, every tick: ``heat_w = CO_HEAT_REJECTED_W + CO_STORED_W``. Pump work
dissipated in the water (a few tenths of a percent of the heat) is not counted in the loop
balance: pump power is electricity in ``CO_PUMPS_W`` only. Chiller compressor power is
electricity (``CO_CHILLERS_W``) and leaves through the condensers; it is not part of
``CO_HEAT_REJECTED_W``, which is the heat taken out of the hall's loops.
"""

from __future__ import annotations

import math

from numba import njit

from dcsim.kernels import cooling_layout as CL
from dcsim.kernels.compiled import loop_fn
from dcsim.physics.cooling import (
    adiabatic_air_degc,
    adiabatic_water_kg_per_s,
    cdu_approach_delta_k,
    chiller_capacity_frac,
    chiller_condenser_degc,
    chiller_cop,
    chiller_group_power_w,
    economiser_capacity_w,
    economiser_speed_frac,
    humidifier_water_kg_per_s,
    humidity_ratio_at_dew_point,
    humidity_ratio_from_wet_bulb,
    loop_controlled_end_degc,
    loop_saturated_end_degc,
    parallel_units_power_w,
    relaxation_factor,
    staged_units_power_w,
    tower_water_kg_per_s,
)
from dcsim.physics.power_chain import ups_loss_w

#: Bisection steps of the heat limit when the closed form does not apply (2^-60 of the range).
LIMIT_BISECTION_STEPS = 60
#: Temperature tolerance of the heat-limit solution [K] (rounding of the closed form).
LIMIT_TOL_DELTA_K = 1e-9


@loop_fn
def _econ_zero_degc(h, t_air_degc, cool_par):
    """FWS supply temperature at which the economiser's entering temperature difference is 0."""
    return (
        t_air_degc
        - cool_par[h, CL.CP_FWS_RANGE_DELTA_K]
        + cool_par[h, CL.CP_ECON_HX_APPROACH_DELTA_K]
    )


@loop_fn
def _econ_air_degc(h, t_db_degc, t_wb_degc, cool_par, wet):
    """Air entering the economiser: wet bulb (towers), pre-cooled air (pads wet) or dry bulb."""
    kind = cool_par[h, CL.CP_ECON_KIND]
    if kind == CL.ECON_COOLING_TOWER:
        return t_wb_degc
    if wet:
        return adiabatic_air_degc(t_db_degc, t_wb_degc, cool_par[h, CL.CP_ADIABATIC_EFF_FRAC])
    return t_db_degc


@loop_fn
def _chiller_unit_w(h, col0, t_db_degc, t_wb_degc, cool_par):
    """Capacity of one chiller of a group at this tick's condenser temperature [W].

    ``col0`` is ``CP_CH_UNIT_W`` or ``CP_ACH_UNIT_W``. The entering condenser medium is the
    dry bulb (air-cooled) or the condenser towers' leaving water, wet bulb + approach.
    """
    der0 = CL.CP_CH_RATING_COND_DEGC
    if col0 != CL.CP_CH_UNIT_W:
        der0 = CL.CP_ACH_RATING_COND_DEGC
    t_in = chiller_condenser_degc(
        t_db_degc,
        t_wb_degc,
        cool_par[h, col0 + 5] > 0.0,
        cool_par[h, CL.CP_TOWER_APPROACH_DELTA_K],
        0.0,
    )
    return cool_par[h, col0] * chiller_capacity_frac(
        t_in, cool_par[h, der0], cool_par[h, der0 + 1], cool_par[h, der0 + 2]
    )


@loop_fn
def _adiabatic_available(h, t_db_degc, t_wb_degc, cool_par, cool_state):
    # Pads fitted, their water supply in service, and the air not already saturated.
    return (
        cool_par[h, CL.CP_ECON_KIND] == CL.ECON_DRY_COOLER
        and cool_par[h, CL.CP_ADIABATIC] > 0.0
        and cool_state[h, CL.CS_ADIABATIC_AVAIL_COUNT] > 0.0
        and t_db_degc > t_wb_degc
    )


@loop_fn
def _saturated_end(h, liquid_heat_w, t_db_degc, t_wb_degc, cool_par, cool_state, dt_s):
    """Loop end temperature with economiser (best mode) and chillers at full output."""
    wet = _adiabatic_available(h, t_db_degc, t_wb_degc, cool_par, cool_state)
    t_zero = _econ_zero_degc(h, _econ_air_degc(h, t_db_degc, t_wb_degc, cool_par, wet), cool_par)
    k_full = 0.0
    if cool_par[h, CL.CP_ECON_KIND] != CL.ECON_NONE:
        k_full = cool_state[h, CL.CS_REJECT_AVAIL_COUNT] * cool_par[h, CL.CP_ECON_K_W_PER_K]
    sink_w = cool_state[h, CL.CS_CHILLER_AVAIL_COUNT] * _chiller_unit_w(
        h, CL.CP_CH_UNIT_W, t_db_degc, t_wb_degc, cool_par
    )
    t_sat, econ_on_s = loop_saturated_end_degc(
        cool_state[h, CL.CS_T_FWS_DEGC],
        liquid_heat_w,
        k_full,
        t_zero,
        sink_w,
        cool_par[h, CL.CP_LOOP_HEAT_CAP_J_PER_K],
        dt_s,
    )
    return t_sat, econ_on_s, sink_w, wet


@njit(cache=True, _nrt=False)
def _tcs_excess_degc(h, liquid_heat_w, t_db_degc, t_wb_degc, cool_par, cool_state, dt_s):
    """End-of-tick TCS supply minus its limit for a liquid heat [K] (nondecreasing in heat)."""
    t_sat, _, _, _ = _saturated_end(
        h, liquid_heat_w, t_db_degc, t_wb_degc, cool_par, cool_state, dt_s
    )
    t_end = loop_controlled_end_degc(
        cool_state[h, CL.CS_T_FWS_DEGC],
        cool_par[h, CL.CP_FWS_SETPOINT_DEGC],
        liquid_heat_w,
        cool_par[h, CL.CP_LOOP_HEAT_CAP_J_PER_K],
        dt_s,
        t_sat,
    )
    per_unit = liquid_heat_w / cool_state[h, CL.CS_CDU_AVAIL_COUNT]
    approach = cdu_approach_delta_k(
        per_unit, cool_par[h, CL.CP_CDU_UNIT_W], cool_par[h, CL.CP_CDU_APPROACH_DELTA_K]
    )
    return t_end + approach - cool_par[h, CL.CP_TCS_LIMIT_DEGC]


@njit(cache=True, _nrt=False)
def _liquid_heat_limit_w(h, t_db_degc, t_wb_degc, cool_par, cool_state, dt_s):
    """Largest liquid heat keeping the end-of-tick TCS supply at or below its limit [W].

    The end temperature is ``max(T_sat(Q), min(T_set, T_free(Q)))`` and the approach is
    ``s Q``; each branch is linear in Q (the saturated one on its economiser-on or -off
    piece), so the bound is ``min(Q_sat, max(Q_free, Q_set))`` in closed form. The result is
    checked against the exact function and bisected in the rare case where the saturated
    trajectory crosses the economiser's zero point inside the tick.
    """
    t0 = cool_state[h, CL.CS_T_FWS_DEGC]
    t_lim = cool_par[h, CL.CP_TCS_LIMIT_DEGC]
    t_set = cool_par[h, CL.CP_FWS_SETPOINT_DEGC]
    cap = cool_par[h, CL.CP_LOOP_HEAT_CAP_J_PER_K]
    args = (t_db_degc, t_wb_degc, cool_par, cool_state, dt_s)
    slope_a = cool_par[h, CL.CP_CDU_APPROACH_DELTA_K] / (
        cool_state[h, CL.CS_CDU_AVAIL_COUNT] * cool_par[h, CL.CP_CDU_UNIT_W]
    )
    b_free = dt_s / cap
    q_free = (t_lim - t0) / (b_free + slope_a)
    q_set = (t_lim - t_set) / slope_a
    # Saturated branch, linear in Q: T_sat = A + B Q.
    wet = _adiabatic_available(h, t_db_degc, t_wb_degc, cool_par, cool_state)
    t_zero = _econ_zero_degc(h, _econ_air_degc(h, t_db_degc, t_wb_degc, cool_par, wet), cool_par)
    k_full = 0.0
    if cool_par[h, CL.CP_ECON_KIND] != CL.ECON_NONE:
        k_full = cool_state[h, CL.CS_REJECT_AVAIL_COUNT] * cool_par[h, CL.CP_ECON_K_W_PER_K]
    sink_w = cool_state[h, CL.CS_CHILLER_AVAIL_COUNT] * _chiller_unit_w(
        h, CL.CP_CH_UNIT_W, t_db_degc, t_wb_degc, cool_par
    )
    if k_full > 0.0 and t0 > t_zero:
        # As in loop_saturated_end_degc: T_sat = T0 + (Tz - T0)(1 - e^-x) + (Q - S) dt/C phi(x).
        x = k_full * dt_s / cap
        b_sat = b_free * relaxation_factor(x)
        a_sat = t0 + (t_zero - t0) * -math.expm1(-x) - sink_w * b_sat
    else:
        b_sat = b_free
        a_sat = t0 - sink_w * b_free
    q_sat = (t_lim - a_sat) / (b_sat + slope_a)
    q = max(min(q_sat, max(q_free, q_set)), 0.0)
    # Check the closed form against the exact function: feasible at q, infeasible just above
    # (or q = 0 and infeasible there: nothing can be taken this tick).
    feasible = _tcs_excess_degc(h, q, *args) <= LIMIT_TOL_DELTA_K
    if not feasible and q == 0.0:
        return 0.0
    hi = q * (1.0 + 1e-9) + 1.0
    if feasible and _tcs_excess_degc(h, hi, *args) > 0.0:
        return q
    lo = 0.0
    if feasible:
        lo = q
        hi = max(2.0 * q, 1.0)
        for _ in range(LIMIT_BISECTION_STEPS):
            if _tcs_excess_degc(h, hi, *args) > 0.0:
                break
            lo = hi
            hi = 2.0 * hi
    else:
        hi = q
    for _ in range(LIMIT_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        if _tcs_excess_degc(h, mid, *args) <= 0.0:
            lo = mid
        else:
            hi = mid
    return lo


@loop_fn
def _air_heat_limit_w(h, t_db_degc, t_wb_degc, cool_par, cool_state):
    """Largest white-space heat an air hall's units in service carry at steady state [W].

    The CRAHs carry the white-space heat, lighting and UPS-room heat; the chilled-water pumps
    and the plant (chillers plus the economiser at full fans, at this tick's weather and the
    setpoint) carry that plus the CRAH fan heat (taken at full speed of all CRAHs, an upper
    bound). The UPS loss is taken at the capacity itself (an upper bound, as it grows with
    load). No loop dynamics: the hall is capped to what its plant can hold.
    """
    n_crah = cool_state[h, CL.CS_CRAH_AVAIL_COUNT]
    light_w = cool_par[h, CL.CP_LIGHTING_W]
    crah_cap = n_crah * cool_par[h, CL.CP_CRAH_UNIT_W]
    pump_cap = cool_state[h, CL.CS_PUMP_AVAIL_COUNT] * cool_par[h, CL.CP_PUMP_UNIT_HEAT_W]
    plant_cap = cool_state[h, CL.CS_CHILLER_AVAIL_COUNT] * _chiller_unit_w(
        h, CL.CP_CH_UNIT_W, t_db_degc, t_wb_degc, cool_par
    )
    if cool_par[h, CL.CP_ECON_KIND] != CL.ECON_NONE:
        wet = _adiabatic_available(h, t_db_degc, t_wb_degc, cool_par, cool_state)
        itd = cool_par[h, CL.CP_FWS_SETPOINT_DEGC] - _econ_zero_degc(
            h, _econ_air_degc(h, t_db_degc, t_wb_degc, cool_par, wet), cool_par
        )
        plant_cap += economiser_capacity_w(
            cool_state[h, CL.CS_REJECT_AVAIL_COUNT] * cool_par[h, CL.CP_ECON_K_W_PER_K],
            itd,
            1.0,
            cool_par[h, CL.CP_ECON_AIRFLOW_EXPONENT],
        )
    loop_cap = min(pump_cap, plant_cap) - n_crah * cool_par[h, CL.CP_CRAH_FAN_W]
    limit = min(crah_cap, loop_cap) - light_w
    limit -= _ups_room_heat_w(h, max(limit, 0.0), cool_par)
    return max(limit, 0.0)


@njit(cache=True, _nrt=False)
def hall_heat_limit_w(h, t_db_degc, t_wb_degc, cool_par, cool_state, dt_s):
    """Largest white-space heat hall h can take during this tick [W].

    White-space heat = rack IT power + PDU loss. The liquid share (``CP_LIQUID_FRAC``) is
    bounded by the TCS supply limit at the end of the tick (loop heat capacity, rejection at
    full output and CDU approach, exact for constant inputs), by the CDUs in service (each
    moves at most its rated heat) and by the facility-water pumps in service; the air share
    by the CRAHs and air-path chillers in service.

    Parameters
    ----------
    h
        Hall index.
    t_db_degc, t_wb_degc
        Dry and wet bulb at the hall's site during this tick [degC].
    cool_par, cool_state
        Cooling tables (``cooling_layout.CP_*``, ``CS_*``); read only.
    dt_s
        Tick length [s].

    Returns
    -------
    Heat limit [W], >= 0; ``inf`` for a fixed-COP hall (no thermal limit).
    """
    if cool_par[h, CL.CP_TYPE] == CL.COOLING_FIXED_COP:
        return math.inf
    if cool_par[h, CL.CP_TYPE] == CL.COOLING_AIR:
        return _air_heat_limit_w(h, t_db_degc, t_wb_degc, cool_par, cool_state)
    liquid_frac = cool_par[h, CL.CP_LIQUID_FRAC]
    limit_w = math.inf
    if liquid_frac < 1.0:
        air_cap_w = min(
            cool_state[h, CL.CS_CRAH_AVAIL_COUNT] * cool_par[h, CL.CP_CRAH_UNIT_W],
            cool_state[h, CL.CS_AIR_CHILLER_AVAIL_COUNT]
            * _chiller_unit_w(h, CL.CP_ACH_UNIT_W, t_db_degc, t_wb_degc, cool_par),
        )
        limit_w = air_cap_w / (1.0 - liquid_frac)
    if liquid_frac > 0.0:
        if cool_state[h, CL.CS_CDU_AVAIL_COUNT] <= 0.0:
            return 0.0
        liquid_cap_w = min(
            cool_state[h, CL.CS_CDU_AVAIL_COUNT] * cool_par[h, CL.CP_CDU_UNIT_W],
            cool_state[h, CL.CS_PUMP_AVAIL_COUNT] * cool_par[h, CL.CP_PUMP_UNIT_HEAT_W],
        )
        liquid_cap_w = min(
            liquid_cap_w,
            _liquid_heat_limit_w(h, t_db_degc, t_wb_degc, cool_par, cool_state, dt_s),
        )
        limit_w = min(limit_w, liquid_cap_w / liquid_frac)
    return max(limit_w, 0.0)


@loop_fn
def _chiller_power_w(heat_w, t_chw_degc, t_db_degc, t_wb_degc, cool_par, h, col0, plr0, units):
    """Compressor power [W], condenser heat [W] and chillers running of a chiller group.

    ``col0`` is ``CP_CH_UNIT_W`` or ``CP_ACH_UNIT_W``; the six columns after it hold the
    chiller's carnot_frac, evaporator and condenser approaches, COP cap, water-cooled flag and
    condenser range, in that order. ``plr0`` is ``CP_CH_EIR_A`` or ``CP_ACH_EIR_A``: the
    part-load curve a, b, c and the minimum unloading ratio. ``units`` chillers are in
    service; the load is staged on as few as carry it (full-load COP from the lift, part load
    from the curve), each carrying at most its capacity at this tick's condenser temperature.
    """
    if heat_w <= 0.0:
        return 0.0, 0.0, 0.0
    water = cool_par[h, col0 + 5] > 0.0
    t_cond = chiller_condenser_degc(
        t_db_degc,
        t_wb_degc,
        water,
        cool_par[h, CL.CP_TOWER_APPROACH_DELTA_K],
        cool_par[h, col0 + 6],
    )
    cop = chiller_cop(
        t_chw_degc,
        t_cond,
        cool_par[h, col0 + 1],
        cool_par[h, col0 + 2],
        cool_par[h, col0 + 3],
        cool_par[h, col0 + 4],
    )
    p_w, running = chiller_group_power_w(
        heat_w,
        _chiller_unit_w(h, col0, t_db_degc, t_wb_degc, cool_par),
        units,
        cop,
        cool_par[h, plr0],
        cool_par[h, plr0 + 1],
        cool_par[h, plr0 + 2],
        cool_par[h, plr0 + 3],
    )
    return p_w, (heat_w + p_w if water else 0.0), running


@loop_fn
def _tower_water_l_per_s(h, heat_w, cool_par):
    total, _, _, _ = tower_water_kg_per_s(
        heat_w,
        cool_par[h, CL.CP_TOWER_EVAP_FRAC],
        cool_par[h, CL.CP_LATENT_HEAT_J_PER_KG],
        cool_par[h, CL.CP_TOWER_CYCLES],
        cool_par[h, CL.CP_TOWER_DRIFT_FRAC],
        cool_par[h, CL.CP_WATER_CP_J_PER_KG_K],
        cool_par[h, CL.CP_TOWER_RANGE_DELTA_K],
    )
    return total / cool_par[h, CL.CP_WATER_KG_PER_L]


@loop_fn
def _loop_dispatch(h, q_in_w, t_db_degc, t_wb_degc, cool_par, cool_state, dt_s):
    """Advance the main water loop (facility or chilled water) under setpoint control.

    Economiser first (dry coolers, with adiabatic pads past the speed threshold; or tower
    cells), chillers for the rest; when all of it at full output cannot hold the setpoint,
    the lumped loop warms exactly. Returns the end temperature [degC], heat stored and
    rejected [W], economiser and chiller heat [W], economiser fan speed and on-share [frac],
    whether the pads are wet, and the chilled-water temperature the chillers make [degC].
    """
    cap = cool_par[h, CL.CP_LOOP_HEAT_CAP_J_PER_K]
    t0 = cool_state[h, CL.CS_T_FWS_DEGC]
    t_set = cool_par[h, CL.CP_FWS_SETPOINT_DEGC]
    kind = cool_par[h, CL.CP_ECON_KIND]
    n_rej = cool_state[h, CL.CS_REJECT_AVAIL_COUNT]
    k_full = n_rej * cool_par[h, CL.CP_ECON_K_W_PER_K] if kind != CL.ECON_NONE else 0.0
    n_exp = cool_par[h, CL.CP_ECON_AIRFLOW_EXPONENT]

    t_sat, econ_on_s, ch_cap_w, wet_possible = _saturated_end(
        h, q_in_w, t_db_degc, t_wb_degc, cool_par, cool_state, dt_s
    )
    t_free = t0 + q_in_w * dt_s / cap
    t_end = loop_controlled_end_degc(t0, t_set, q_in_w, cap, dt_s, t_sat)
    stored_w = cap * (t_end - t0) / dt_s
    q_out = q_in_w - stored_w

    q_econ = 0.0
    q_ch = 0.0
    speed = 0.0  # economiser fan speed
    fan_on_frac = 0.0  # share of the tick the economiser fans run at `speed`
    wet = False
    t_chw = t_set
    if t_sat >= min(t_set, t_free):
        # Saturated: everything at full output all tick (economiser while it helps).
        q_ch = min(ch_cap_w, max(q_out, 0.0))
        q_econ = q_out - q_ch
        if econ_on_s > 0.0 and q_econ > 0.0:
            speed = 1.0
            fan_on_frac = econ_on_s / dt_s
            wet = wet_possible
        t_chw = 0.5 * (t0 + t_end)
    elif t_free > t_set:
        # Holding the setpoint: economiser first, adiabatic pads past the speed threshold,
        # chillers for the rest.
        fan_on_frac = 1.0
        if kind == CL.ECON_NONE:
            q_ch = q_out
        else:
            itd_dry = t_set - _econ_zero_degc(
                h, _econ_air_degc(h, t_db_degc, t_wb_degc, cool_par, False), cool_par
            )
            s_thr = 1.0
            if wet_possible:
                s_thr = cool_par[h, CL.CP_ADIABATIC_ON_SPEED_FRAC]
            if economiser_capacity_w(k_full, itd_dry, s_thr, n_exp) >= q_out:
                speed = economiser_speed_frac(q_out, k_full, itd_dry, n_exp)
                q_econ = q_out
            else:
                itd = itd_dry
                if wet_possible:
                    wet = True
                    itd = t_set - _econ_zero_degc(
                        h, _econ_air_degc(h, t_db_degc, t_wb_degc, cool_par, True), cool_par
                    )
                q_econ = min(q_out, economiser_capacity_w(k_full, itd, 1.0, n_exp))
                speed = economiser_speed_frac(q_econ, k_full, itd, n_exp)
                q_ch = q_out - q_econ
            if q_ch > ch_cap_w:
                # The closed form bounds the average; at the setpoint the chillers are capped
                # and the economiser carries the rounding.
                q_ch = ch_cap_w
                q_econ = q_out - q_ch
            speed = min(speed, 1.0)
            if q_econ <= 0.0:
                wet = False
                speed = 0.0
    # else: free warm-up below the setpoint, nothing runs.
    return t_end, stored_w, q_out, q_econ, q_ch, speed, fan_on_frac, wet, t_chw


@loop_fn
def _economiser_fans_water(h, speed, fan_on_frac, wet, t_db_degc, t_wb_degc, cool_par, n_rej):
    """Economiser fan power [W] and adiabatic-pad water [kg/s] for a dispatch result."""
    fan_mult = 1.0
    water_kg_per_s = 0.0
    if wet:
        fan_mult = 1.0 + cool_par[h, CL.CP_ADIABATIC_FAN_ADDER_FRAC]
        t_pre = adiabatic_air_degc(t_db_degc, t_wb_degc, cool_par[h, CL.CP_ADIABATIC_EFF_FRAC])
        water_kg_per_s += fan_on_frac * adiabatic_water_kg_per_s(
            n_rej * cool_par[h, CL.CP_ECON_AIR_KG_PER_S] * speed,
            t_db_degc,
            t_pre,
            cool_par[h, CL.CP_AIR_CP_J_PER_KG_K],
            cool_par[h, CL.CP_LATENT_HEAT_J_PER_KG],
            cool_par[h, CL.CP_ADIABATIC_BLEED_FRAC],
        )
    fans_w = 0.0
    if speed > 0.0:
        fans_w = (
            fan_on_frac
            * fan_mult
            * n_rej
            * cool_par[h, CL.CP_ECON_FAN_W]
            * speed ** cool_par[h, CL.CP_ECON_FAN_EXPONENT]
        )
    return fans_w, water_kg_per_s


@loop_fn
def _fixed_cop_step(h, heat_w, cool_par, out):
    mech_w = heat_w / cool_par[h, CL.CP_FIXED_COP]
    out[CL.CO_FIXED_COP_W] = mech_w
    out[CL.CO_MECH_W] = mech_w
    out[CL.CO_HEAT_REJECTED_W] = heat_w
    out[CL.CO_T_FWS_DEGC] = math.nan
    out[CL.CO_T_TCS_SUPPLY_DEGC] = math.nan
    out[CL.CO_T_TCS_RETURN_DEGC] = math.nan


@njit(cache=True, _nrt=False)
def hall_cooling_step(
    h, heat_w, liquid_heat_w, t_db_degc, t_wb_degc, cool_par, cool_state, dt_s, out
):
    """Advance hall h's cooling loops by one tick and report power, water and temperatures.

    Parameters
    ----------
    h
        Hall index.
    heat_w
        White-space heat during the tick: rack IT power + PDU loss [W].
    liquid_heat_w
        Its share taken by liquid (direct-to-chip) [W], ``0 <= liquid_heat_w <= heat_w``; the
        rest goes to the air path (all of it in an air-cooled hall).
    t_db_degc, t_wb_degc
        Dry and wet bulb at the hall's site during this tick [degC].
    cool_par
        Cooling parameters (``cooling_layout.CP_*``).
    cool_state
        Cooling state (``cooling_layout.CS_*``); the loop temperatures of row h are updated
        in place, the unit counts are read.
    dt_s
        Tick length [s].
    out
        float64 vector of length ``cooling_layout.CO_NCOLS``, overwritten: power by
        component [W], water [L/s], heat rejected and stored [W], end-of-tick temperatures
        [degC] (NaN for fixed-COP halls), economiser and chiller heat [W], adiabatic share.
        ``heat_w == out[CO_HEAT_REJECTED_W] + out[CO_STORED_W]`` to rounding.
    """
    for j in range(CL.CO_NCOLS):
        out[j] = 0.0
    kind = cool_par[h, CL.CP_TYPE]
    if kind == CL.COOLING_FIXED_COP:
        _fixed_cop_step(h, heat_w, cool_par, out)
    elif kind == CL.COOLING_AIR:
        _air_hall_step(h, heat_w, t_db_degc, t_wb_degc, cool_par, cool_state, dt_s, out)
    else:
        _liquid_hall_step(
            h, heat_w, liquid_heat_w, t_db_degc, t_wb_degc, cool_par, cool_state, dt_s, out
        )


@loop_fn
def _liquid_hall_step(
    h, heat_w, liquid_heat_w, t_db_degc, t_wb_degc, cool_par, cool_state, dt_s, out
):
    """:func:`hall_cooling_step` of a liquid hall (TCS, CDUs, FWS, air path)."""
    q_liq = liquid_heat_w
    q_air = max(heat_w - liquid_heat_w, 0.0)
    n_rej = cool_state[h, CL.CS_REJECT_AVAIL_COUNT]
    t_end, stored_w, q_out, q_econ, q_ch, speed, fan_on_frac, wet, t_chw = _loop_dispatch(
        h, q_liq, t_db_degc, t_wb_degc, cool_par, cool_state, dt_s
    )
    fans_w, water_kg_per_s = _economiser_fans_water(
        h, speed, fan_on_frac, wet, t_db_degc, t_wb_degc, cool_par, n_rej
    )
    tower_heat_w = q_econ if cool_par[h, CL.CP_ECON_KIND] == CL.ECON_COOLING_TOWER else 0.0
    ch_w, cond_w, _ = _chiller_power_w(
        q_ch, t_chw, t_db_degc, t_wb_degc, cool_par, h, CL.CP_CH_UNIT_W, CL.CP_CH_EIR_A,
        cool_state[h, CL.CS_CHILLER_AVAIL_COUNT],
    )  # fmt: skip

    # --- air path (absent when no CRAH is configured: the limit then allows no air heat)
    ach_w = 0.0
    ach_cond_w = 0.0
    crah_w = 0.0
    if q_air > 0.0 and cool_par[h, CL.CP_CRAH_UNIT_W] > 0.0:
        ach_w, ach_cond_w, _ = _chiller_power_w(
            q_air, cool_par[h, CL.CP_CHW_SUPPLY_DEGC], t_db_degc, t_wb_degc, cool_par, h,
            CL.CP_ACH_UNIT_W, CL.CP_ACH_EIR_A, cool_state[h, CL.CS_AIR_CHILLER_AVAIL_COUNT],
        )  # fmt: skip
        crah_w = parallel_units_power_w(
            q_air / cool_par[h, CL.CP_CRAH_UNIT_W],
            cool_state[h, CL.CS_CRAH_AVAIL_COUNT],
            cool_par[h, CL.CP_CRAH_FAN_W],
            cool_par[h, CL.CP_CRAH_MIN_SPEED_FRAC],
            cool_par[h, CL.CP_CRAH_FAN_EXPONENT],
        )

    # Condenser towers of water-cooled chillers: fans staged with the heat, evaporative water.
    cond_total_w = cond_w + ach_cond_w
    fans_w += cond_total_w * cool_par[h, CL.CP_TOWER_FAN_W_PER_W]
    tower_heat_w += cond_total_w
    water_l_per_s = water_kg_per_s / cool_par[h, CL.CP_WATER_KG_PER_L]
    if tower_heat_w > 0.0:
        water_l_per_s += _tower_water_l_per_s(h, tower_heat_w, cool_par)

    # --- pumps: TCS pumps in the CDUs and FWS pumps, flow following the liquid heat
    n_cdu = cool_state[h, CL.CS_CDU_AVAIL_COUNT]
    cdu_unit_w = cool_par[h, CL.CP_CDU_UNIT_W]
    pumps_w = parallel_units_power_w(
        q_liq / cdu_unit_w,
        n_cdu,
        cool_par[h, CL.CP_CDU_PUMP_W],
        cool_par[h, CL.CP_CDU_MIN_SPEED_FRAC],
        cool_par[h, CL.CP_PUMP_EXPONENT],
    )
    pumps_w += _main_pumps_w(h, q_liq, cool_par, cool_state)

    # --- technology loop temperatures
    if n_cdu > 0.0:
        load_frac = q_liq / (n_cdu * cdu_unit_w)
        t_tcs = t_end + cdu_approach_delta_k(
            q_liq / n_cdu, cdu_unit_w, cool_par[h, CL.CP_CDU_APPROACH_DELTA_K]
        )
        # Variable-speed TCS pumps hold the design range down to their minimum speed.
        flow_frac = max(load_frac, cool_par[h, CL.CP_CDU_MIN_SPEED_FRAC])
        t_tcs_ret = t_tcs + cool_par[h, CL.CP_TCS_RANGE_DELTA_K] * load_frac / flow_frac
    elif q_liq > 0.0:
        t_tcs = math.inf  # no CDU in service: the technology loop is not cooled
        t_tcs_ret = math.inf
    else:
        t_tcs = t_end
        t_tcs_ret = t_end
    cool_state[h, CL.CS_T_FWS_DEGC] = t_end
    cool_state[h, CL.CS_T_TCS_SUPPLY_DEGC] = t_tcs

    out[CL.CO_PUMPS_W] = pumps_w
    out[CL.CO_HEAT_REJECTION_FANS_W] = fans_w
    out[CL.CO_CHILLERS_W] = ch_w + ach_w
    out[CL.CO_CRAH_W] = crah_w
    out[CL.CO_MECH_W] = pumps_w + fans_w + ch_w + ach_w + crah_w
    out[CL.CO_WATER_L_PER_S] = water_l_per_s
    out[CL.CO_HEAT_REJECTED_W] = q_out + q_air
    out[CL.CO_STORED_W] = stored_w
    out[CL.CO_T_FWS_DEGC] = t_end
    out[CL.CO_T_TCS_SUPPLY_DEGC] = t_tcs
    out[CL.CO_T_TCS_RETURN_DEGC] = t_tcs_ret
    out[CL.CO_ECONOMISER_HEAT_W] = q_econ
    out[CL.CO_CHILLER_HEAT_W] = q_ch + q_air
    out[CL.CO_ADIABATIC_FRAC] = fan_on_frac if wet else 0.0


@loop_fn
def _main_pumps_w(h, q_w, cool_par, cool_state):
    """Facility- or chilled-water pumps carrying q_w at the loop's design range [W].

    Variable-speed pumps share the flow (affinity law); constant-speed ones (minimum speed 1)
    are staged on, each at design power.
    """
    if cool_par[h, CL.CP_PUMP_MIN_SPEED_FRAC] >= 1.0:
        return staged_units_power_w(
            q_w / cool_par[h, CL.CP_PUMP_UNIT_HEAT_W],
            cool_state[h, CL.CS_PUMP_AVAIL_COUNT],
            cool_par[h, CL.CP_PUMP_W],
        )
    return parallel_units_power_w(
        q_w / cool_par[h, CL.CP_PUMP_UNIT_HEAT_W],
        cool_state[h, CL.CS_PUMP_AVAIL_COUNT],
        cool_par[h, CL.CP_PUMP_W],
        cool_par[h, CL.CP_PUMP_MIN_SPEED_FRAC],
        cool_par[h, CL.CP_PUMP_EXPONENT],
    )


@loop_fn
def _ups_room_heat_w(h, heat_w, cool_par):
    """UPS loss at a white-space load (the UPS output), when the plant cools the UPS rooms [W]."""
    if cool_par[h, CL.CP_UPS_ROOM_COOLED] <= 0.0 or cool_par[h, CL.CP_UPS_MODULE_W] <= 0.0:
        return 0.0
    return ups_loss_w(
        heat_w,
        cool_par[h, CL.CP_UPS_MODULE_W],
        cool_par[h, CL.CP_UPS_MODULES_ACTIVE],
        cool_par[h, CL.CP_UPS_A0],
        cool_par[h, CL.CP_UPS_A1],
        cool_par[h, CL.CP_UPS_A2],
    )


@loop_fn
def _humidifier(h, t_db_degc, t_wb_degc, cool_par):
    """Humidifier power [W] and water [kg/s] for the make-up air of an air hall."""
    j_per_kg = cool_par[h, CL.CP_HUMID_J_PER_KG]
    if j_per_kg <= 0.0:
        return 0.0, 0.0
    p_pa = cool_par[h, CL.CP_PRESSURE_PA]
    w_out = humidity_ratio_from_wet_bulb(t_db_degc, min(t_wb_degc, t_db_degc), p_pa)
    w_min = humidity_ratio_at_dew_point(cool_par[h, CL.CP_HUMID_MIN_DEW_POINT_DEGC], p_pa)
    water = humidifier_water_kg_per_s(cool_par[h, CL.CP_OUTDOOR_AIR_KG_PER_S], w_out, w_min)
    return water * j_per_kg, water


@loop_fn
def _air_hall_step(h, heat_w, t_db_degc, t_wb_degc, cool_par, cool_state, dt_s, out):
    """:func:`hall_cooling_step` of an air-cooled hall: CRAHs on a chilled-water plant.

    The CRAHs take the white-space heat, the lighting and (if the plant cools them) the UPS
    rooms' loss; their fan heat joins the chilled water too. The chilled-water loop then runs
    as the facility water of a liquid hall (economiser first, chillers staged on with their
    part-load curve, exact warm-up when short). Condenser-water pumps run one per chiller
    on; humidifiers bring the make-up air to the minimum dew point; lighting and ancillary
    loads are drawn all hours. The heat balance counts the white-space heat only: the other
    gains are rejected in the same tick (``CO_INTERNAL_GAINS_W``).
    """
    n_crah = cool_state[h, CL.CS_CRAH_AVAIL_COUNT]
    crah_unit_w = cool_par[h, CL.CP_CRAH_UNIT_W]
    light_w = cool_par[h, CL.CP_LIGHTING_W]
    q_crah = heat_w + _ups_room_heat_w(h, heat_w, cool_par) + light_w
    crah_w = parallel_units_power_w(
        q_crah / crah_unit_w,
        n_crah,
        cool_par[h, CL.CP_CRAH_FAN_W],
        cool_par[h, CL.CP_CRAH_MIN_SPEED_FRAC],
        cool_par[h, CL.CP_CRAH_FAN_EXPONENT],
    )
    q_loop = q_crah + crah_w
    n_rej = cool_state[h, CL.CS_REJECT_AVAIL_COUNT]
    t_end, stored_w, q_out, q_econ, q_ch, speed, fan_on_frac, wet, t_chw = _loop_dispatch(
        h, q_loop, t_db_degc, t_wb_degc, cool_par, cool_state, dt_s
    )
    fans_w, water_kg_per_s = _economiser_fans_water(
        h, speed, fan_on_frac, wet, t_db_degc, t_wb_degc, cool_par, n_rej
    )
    ch_w, cond_w, running = _chiller_power_w(
        q_ch, t_chw, t_db_degc, t_wb_degc, cool_par, h, CL.CP_CH_UNIT_W, CL.CP_CH_EIR_A,
        cool_state[h, CL.CS_CHILLER_AVAIL_COUNT],
    )  # fmt: skip
    tower_heat_w = cond_w
    if cool_par[h, CL.CP_ECON_KIND] == CL.ECON_COOLING_TOWER:
        tower_heat_w += q_econ
    fans_w += cond_w * cool_par[h, CL.CP_TOWER_FAN_W_PER_W]
    hum_w, hum_kg_per_s = _humidifier(h, t_db_degc, t_wb_degc, cool_par)
    water_l_per_s = (water_kg_per_s + hum_kg_per_s) / cool_par[h, CL.CP_WATER_KG_PER_L]
    if tower_heat_w > 0.0:
        water_l_per_s += _tower_water_l_per_s(h, tower_heat_w, cool_par)
    pumps_w = _main_pumps_w(h, q_loop, cool_par, cool_state)
    if cool_par[h, CL.CP_CH_WATER_COOLED] > 0.0:
        pumps_w += running * cool_par[h, CL.CP_CW_PUMP_W]
    light_anc_w = light_w + cool_par[h, CL.CP_ANCILLARY_W]

    # Supply air: chilled water plus the coil approach, which grows with the heat per CRAH.
    if n_crah > 0.0:
        t_supply_air = t_end + cool_par[h, CL.CP_CRAH_AIR_APPROACH_DELTA_K] * q_crah / (
            n_crah * crah_unit_w
        )
    else:
        t_supply_air = math.inf if q_crah > 0.0 else t_end
    cool_state[h, CL.CS_T_FWS_DEGC] = t_end
    cool_state[h, CL.CS_T_TCS_SUPPLY_DEGC] = t_supply_air

    gains_w = q_loop - heat_w
    out[CL.CO_PUMPS_W] = pumps_w
    out[CL.CO_HEAT_REJECTION_FANS_W] = fans_w
    out[CL.CO_CHILLERS_W] = ch_w
    out[CL.CO_CRAH_W] = crah_w
    out[CL.CO_HUMIDIFICATION_W] = hum_w
    out[CL.CO_LIGHTING_ANCILLARY_W] = light_anc_w
    out[CL.CO_MECH_W] = pumps_w + fans_w + ch_w + crah_w + hum_w + light_anc_w
    out[CL.CO_WATER_L_PER_S] = water_l_per_s
    out[CL.CO_HEAT_REJECTED_W] = q_out - gains_w
    out[CL.CO_STORED_W] = stored_w
    out[CL.CO_INTERNAL_GAINS_W] = gains_w
    out[CL.CO_T_FWS_DEGC] = t_end
    out[CL.CO_T_TCS_SUPPLY_DEGC] = t_supply_air
    out[CL.CO_T_TCS_RETURN_DEGC] = t_end + cool_par[h, CL.CP_FWS_RANGE_DELTA_K]
    out[CL.CO_ECONOMISER_HEAT_W] = q_econ
    out[CL.CO_CHILLER_HEAT_W] = q_ch
    out[CL.CO_ADIABATIC_FRAC] = fan_on_frac if wet else 0.0
