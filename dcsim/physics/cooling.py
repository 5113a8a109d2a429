"""Liquid-cooling loops and heat rejection of a data hall (MODEL.md section 5).

The heat path, from the racks out::

    racks --liquid share--> technology loop (TCS) --CDU--> facility water (FWS) --+--> economiser
      |                                                                          +--> trim chiller
      +--air share--> CRAH / fan walls --> chilled water --> air-path chiller --> ambient

Reduced-order model, each relation a published engineering form whose coefficients come from
``dcsim/catalog/data/cooling_equipment.yaml`` (never from this module):

* **CDU**: counterflow plate heat exchanger at fixed flows, so the approach (TCS supply minus
  FWS supply) is proportional to the heat per unit: ``a = a_rated * q_unit / q_rated``. A
  failed CDU raises the load, hence the approach, of the others.
* **Economiser** (dry cooler or cooling-tower cell): ``Q = K * s^n * max(ITD, 0)`` with ITD the
  entering water minus entering air (dry bulb, pre-cooled air, or wet bulb for towers), ``s``
  the fan speed and ``n`` the capacity-airflow exponent (effectiveness-NTU at fixed water flow
  gives Q proportional to ITD). The facility-water pumps hold the design range ``R``, so the
  entering water is ``T_supply + R`` (less a plate heat exchanger's approach for towers).
* **Adiabatic pads**: air pre-cooled towards the wet bulb, ``T = T_db - eff (T_db - T_wb)``;
  the water evaporated equals the sensible heat taken from the air over the latent heat.
* **Towers**: water = evaporation (latent share of the heat over the latent heat) + blowdown and
  drift, with ``blowdown + drift = evaporation / (cycles - 1)`` (mass balance of dissolved
  solids).
* **Chillers**: full-load ``COP = carnot_frac * T_evap / (T_cond - T_evap)`` (kelvin), with
  the evaporating temperature below the leaving chilled water and the condensing temperature
  above the condenser medium (ambient air, or leaving condenser water), capped at ``cop_max``.
  At part load the DOE-2 / EnergyPlus ``Chiller:Electric:EIR`` form applies: the machines
  needed are staged on and share the load, and each draws its full-load power times
  ``EIRfPLR(PLR) = a + b PLR + c PLR^2`` (held at the minimum unloading ratio below it:
  false loading), so COP falls at low load as the published curves say.
* **Chiller capacity** falls as the condenser medium warms: the condensing temperature rises
  with it, the suction gas the compressor moves per unit of work carries less refrigerating
  effect, so available capacity is ``1 - d (T_cond_in - T_rating)`` of the rating above the
  rating point (not above 1 below it: the rated capacity is the selection's limit), and the
  machine is off above its maximum entering condenser temperature (high-pressure cutout;
  manufacturers publish it as a maximum ambient, e.g. 49 degC).
* **Humidification**: outdoor air brought in for pressurisation is humidified up to a minimum
  dew point; humidity ratios from dry and wet bulb (ASHRAE Fundamentals 2017 ch. 1 eq. 33-35,
  saturation pressure eq. 5-6, as psychrolib computes them).
* **Pumps and fans**: affinity laws, power ~ speed^3; parallel identical units share the flow.
* **Loops**: one lumped heat capacity ``C`` (TCS and FWS water; the CDU approach is quasi-static)
  with ``C dT/dt = Q_in - Q_out``. With the economiser at full fans and the chillers at full
  capacity (a constant sink) the equation is piecewise linear in ``T`` and is integrated exactly
  over a tick (:func:`loop_saturated_end_degc`).

All functions take and return scalars and are valid numba nopython code
(``register_jitable``), so the kernels in :mod:`dcsim.kernels.cooling` call them directly.
"""

from __future__ import annotations

import math

from numba.extending import register_jitable

from dcsim.units import ZERO_C_K

__all__ = [
    "adiabatic_air_degc",
    "adiabatic_water_kg_per_s",
    "cdu_approach_delta_k",
    "chiller_capacity_frac",
    "chiller_condenser_degc",
    "chiller_cop",
    "chiller_eir_part_load_frac",
    "chiller_group_power_w",
    "humidifier_water_kg_per_s",
    "humidity_ratio_at_dew_point",
    "humidity_ratio_from_wet_bulb",
    "saturation_pressure_pa",
    "staged_units_power_w",
    "economiser_capacity_w",
    "economiser_speed_frac",
    "loop_controlled_end_degc",
    "loop_saturated_end_degc",
    "loop_steady_state_degc",
    "parallel_units_power_w",
    "pump_power_w",
    "relaxation_factor",
    "tower_water_kg_per_s",
]


@register_jitable
def chiller_cop(
    t_chw_degc,
    t_cond_medium_degc,
    carnot_frac,
    evap_approach_delta_k,
    cond_approach_delta_k,
    cop_max,
):
    """Coefficient of performance of a vapour-compression chiller from its lift.

    ``COP = carnot_frac * T_evap / (T_cond - T_evap)`` with ``T_evap = t_chw - evap_approach``
    and ``T_cond = t_cond_medium + cond_approach`` in kelvin, capped at ``cop_max`` (which it
    also returns for zero or negative lift).

    Parameters
    ----------
    t_chw_degc
        Leaving chilled-water temperature [degC].
    t_cond_medium_degc
        Condenser medium: entering air (air-cooled) or leaving condenser water (water-cooled)
        [degC].
    carnot_frac
        COP over the Carnot COP of the refrigerant temperatures [frac].
    evap_approach_delta_k
        Leaving chilled water minus evaporating temperature [K].
    cond_approach_delta_k
        Condensing temperature minus condenser medium [K].
    cop_max
        Upper bound of the COP (compressor and motor limits at low lift) [W/W].

    Returns
    -------
    Cooling delivered per unit of compressor power [W/W].
    """
    t_evap_k = t_chw_degc - evap_approach_delta_k + ZERO_C_K
    lift_k = t_cond_medium_degc + cond_approach_delta_k + ZERO_C_K - t_evap_k
    if lift_k <= 0.0:
        return cop_max
    return min(carnot_frac * t_evap_k / lift_k, cop_max)


@register_jitable
def chiller_capacity_frac(t_cond_in_degc, rating_cond_degc, derate_per_k_frac, high_limit_degc):
    """Available capacity of a chiller over its rated capacity at a condenser temperature.

    ``1 - d max(T_in - T_rating, 0)`` (at least 0), and 0 above the high limit: air-cooled
    chillers lose capacity as the ambient rises (higher condensing temperature, less
    refrigerating effect per kg of suction gas) and stop on their high-pressure cutout above
    the maximum ambient their maker publishes. Below the rating point the rated capacity is
    kept (the selection's limit: compressor motor and starter).

    Parameters
    ----------
    t_cond_in_degc
        Entering condenser medium: outdoor dry bulb (air-cooled) or entering condenser water
        (water-cooled) [degC].
    rating_cond_degc
        The same at the rating point (AHRI 550/590: 35 degC air, 29.4 degC water) [degC].
    derate_per_k_frac
        Capacity lost per K above the rating point [frac/K].
    high_limit_degc
        Highest entering condenser temperature at which the chiller runs [degC]; 0 for none.

    Returns
    -------
    Available capacity over rated capacity [frac], in [0, 1].

    References
    ----------
    EnergyPlus Engineering Reference, ``Chiller:Electric:EIR`` (capacity as a function of
    the leaving chilled water and entering condenser temperatures, CAPFT); compressor
    capacity against condensing temperature as in the catalog entries' sources.
    """
    if high_limit_degc > 0.0 and t_cond_in_degc > high_limit_degc:
        return 0.0
    return max(1.0 - derate_per_k_frac * max(t_cond_in_degc - rating_cond_degc, 0.0), 0.0)


@register_jitable
def chiller_eir_part_load_frac(plr_frac, a, b, c, min_unloading_frac):
    """Power of a chiller at part load over its full-load power at the same temperatures.

    The DOE-2 ``EIR-fPLR`` quadratic ``a + b PLR + c PLR^2`` (EnergyPlus
    ``Chiller:Electric:EIR``), evaluated at ``max(PLR, min_unloading_frac)``: below its minimum
    unloading ratio a chiller false-loads (hot-gas bypass) and its power stops falling.

    Parameters
    ----------
    plr_frac
        Load over the available capacity of the running chiller [frac].
    a, b, c
        Curve coefficients [-]; ``a + b + c = 1`` for a curve normalised at full load.
    min_unloading_frac
        Minimum unloading ratio [frac].

    Returns
    -------
    Power over full-load power [frac].

    References
    ----------
    EnergyPlus Engineering Reference, "Electric Chiller Model Based on Condenser Entering
    Temperature" (Chiller:Electric:EIR); Hydeman et al., CoolTools chiller curves (1991-2001).
    """
    plr = max(plr_frac, min_unloading_frac)
    return a + b * plr + c * plr * plr


@register_jitable
def chiller_group_power_w(
    load_w, unit_w, units_available, cop_full_load, a, b, c, min_unloading_frac
):
    """Compressor power of a group of identical chillers staged on to a load [W].

    ``n = ceil(load / unit)`` chillers run (at most ``units_available``), each at
    ``PLR = load / (n unit)``, drawing ``unit / cop_full_load * EIRfPLR(PLR)``.

    Parameters
    ----------
    load_w
        Cooling load of the group [W].
    unit_w
        Full-load capacity of one chiller at this tick's condenser temperature
        (:func:`chiller_capacity_frac` of its rating) [W]; 0 (all stopped) gives 0 W.
    units_available
        Chillers in service [count].
    cop_full_load
        Full-load COP at this tick's temperatures (:func:`chiller_cop`) [W/W].
    a, b, c, min_unloading_frac
        As in :func:`chiller_eir_part_load_frac`.

    Returns
    -------
    power_w
        Compressor power [W].
    running
        Chillers running [count].
    """
    if load_w <= 0.0 or unit_w <= 0.0:
        return 0.0, 0.0
    running = math.ceil(load_w / unit_w - 1e-12)
    if units_available > 0.0:
        running = min(running, units_available)
    running = max(running, 1.0)
    plr = load_w / (running * unit_w)
    frac = chiller_eir_part_load_frac(plr, a, b, c, min_unloading_frac)
    return running * unit_w / cop_full_load * frac, running


@register_jitable
def saturation_pressure_pa(t_degc):
    """Saturation vapour pressure over liquid water (above 0 degC) or ice [Pa].

    Hyland-Wexler as in ASHRAE Handbook Fundamentals 2017 ch. 1 eq. 5 (ice) and 6 (water).

    Parameters
    ----------
    t_degc
        Temperature [degC].

    Returns
    -------
    Saturation pressure [Pa].

    References
    ----------
    ASHRAE Handbook Fundamentals (2017) ch. 1, eq. 5-6; psychrolib ``GetSatVapPres``.
    """
    t_k = t_degc + ZERO_C_K
    if t_degc >= 0.0:
        ln_p = (
            -5.8002206e3 / t_k
            + 1.3914993
            - 4.8640239e-2 * t_k
            + 4.1764768e-5 * t_k**2
            - 1.4452093e-8 * t_k**3
            + 6.5459673 * math.log(t_k)
        )
    else:
        ln_p = (
            -5.6745359e3 / t_k
            + 6.3925247
            - 9.677843e-3 * t_k
            + 6.2215701e-7 * t_k**2
            + 2.0747825e-9 * t_k**3
            - 9.484024e-13 * t_k**4
            + 4.1635019 * math.log(t_k)
        )
    return math.exp(ln_p)


@register_jitable
def humidity_ratio_at_dew_point(t_dew_degc, pressure_pa):
    """Humidity ratio of moist air at a dew point [kg water / kg dry air].

    ``W = 0.621945 p_w / (p - p_w)`` with ``p_w`` the saturation pressure at the dew point
    (ASHRAE Fundamentals 2017 ch. 1 eq. 20).

    Parameters
    ----------
    t_dew_degc
        Dew point [degC].
    pressure_pa
        Atmospheric pressure [Pa].

    Returns
    -------
    Humidity ratio [kg/kg].
    """
    p_w = saturation_pressure_pa(t_dew_degc)
    return 0.621945 * p_w / (pressure_pa - p_w)


@register_jitable
def humidity_ratio_from_wet_bulb(t_db_degc, t_wb_degc, pressure_pa):
    """Humidity ratio of moist air from dry and wet bulb [kg water / kg dry air].

    ASHRAE Fundamentals 2017 ch. 1 eq. 33 (wet bulb above freezing) and 35 (below).

    Parameters
    ----------
    t_db_degc, t_wb_degc
        Dry and (thermodynamic) wet bulb [degC].
    pressure_pa
        Atmospheric pressure [Pa].

    Returns
    -------
    Humidity ratio [kg/kg], not below 0.
    """
    w_s = humidity_ratio_at_dew_point(t_wb_degc, pressure_pa)
    if t_wb_degc >= 0.0:
        w = ((2501.0 - 2.326 * t_wb_degc) * w_s - 1.006 * (t_db_degc - t_wb_degc)) / (
            2501.0 + 1.86 * t_db_degc - 4.186 * t_wb_degc
        )
    else:
        w = ((2830.0 - 0.24 * t_wb_degc) * w_s - 1.006 * (t_db_degc - t_wb_degc)) / (
            2830.0 + 1.86 * t_db_degc - 2.1 * t_wb_degc
        )
    return max(w, 0.0)


@register_jitable
def humidifier_water_kg_per_s(air_kg_per_s, w_air, w_target):
    """Water a humidifier adds to an air stream to raise it to a humidity ratio [kg/s].

    Parameters
    ----------
    air_kg_per_s
        Dry-air mass flow humidified [kg/s].
    w_air, w_target
        Humidity ratio of the entering air and the target [kg/kg].

    Returns
    -------
    Water evaporated into the air [kg/s]; 0 when the air is already moist enough.
    """
    return air_kg_per_s * max(w_target - w_air, 0.0)


@register_jitable
def chiller_condenser_degc(
    t_db_degc, t_wb_degc, water_cooled, tower_approach_delta_k, cond_range_delta_k
):
    """Condenser medium temperature of a chiller, as :func:`chiller_cop` expects it.

    Parameters
    ----------
    t_db_degc, t_wb_degc
        Ambient dry and wet bulb [degC].
    water_cooled
        Nonzero for a water-cooled chiller (condenser water from cooling towers).
    tower_approach_delta_k
        Condenser-tower leaving water above the wet bulb [K] (water-cooled only).
    cond_range_delta_k
        Condenser water leaving minus entering [K] (water-cooled only).

    Returns
    -------
    Entering air (air-cooled) or leaving condenser water (water-cooled) [degC].
    """
    if water_cooled:
        return t_wb_degc + tower_approach_delta_k + cond_range_delta_k
    return t_db_degc


@register_jitable
def pump_power_w(flow_l_per_s, head_kpa, efficiency_frac):
    """Electrical power of a pump at a design point (hydraulic power over efficiency) [W].

    ``L/s x kPa = 1e-3 m3/s x 1e3 Pa = W``, so no conversion factor appears.

    Parameters
    ----------
    flow_l_per_s
        Volume flow [L/s].
    head_kpa
        Pressure rise [kPa].
    efficiency_frac
        Wire-to-water efficiency (motor, drive and pump) [frac].

    Returns
    -------
    Electrical power [W].
    """
    return flow_l_per_s * head_kpa / efficiency_frac


@register_jitable
def parallel_units_power_w(load_units, units_count, unit_power_w, min_speed_frac, exponent):
    """Power of identical variable-speed pumps or fans sharing a flow (affinity law) [W].

    Each of the ``units_count`` running units moves ``load_units / units_count`` of its design
    flow, at a speed no lower than ``min_speed_frac``, and draws
    ``unit_power_w * speed^exponent``. Running all available units slowly (rather than few
    fast) is what variable-speed plants do, since power falls with the cube of speed.

    Parameters
    ----------
    load_units
        Total flow in units of one unit's design flow [-] (may exceed ``units_count``: units
        then run above design speed, as the equation extrapolates).
    units_count
        Units running [count]; 0 gives 0 W.
    unit_power_w
        Power of one unit at design flow [W].
    min_speed_frac
        Lowest speed [frac of design].
    exponent
        Affinity-law exponent of power on speed (3 for pure affinity) [-].

    Returns
    -------
    Power of the group [W].
    """
    if units_count <= 0.0:
        return 0.0
    speed = max(load_units / units_count, min_speed_frac)
    return units_count * unit_power_w * speed**exponent


@register_jitable
def staged_units_power_w(load_units, units_count, unit_power_w):
    """Power of identical constant-speed pumps staged on to carry a flow [W].

    ``ceil(load_units)`` units run at design speed (at most ``units_count``, at least one
    while there is load), each drawing ``unit_power_w``.

    Parameters
    ----------
    load_units
        Total flow in units of one unit's design flow [-].
    units_count
        Units in service [count].
    unit_power_w
        Power of one unit at design flow [W].

    Returns
    -------
    Power of the units running [W].
    """
    if load_units <= 0.0 or units_count <= 0.0:
        return 0.0
    running = min(max(math.ceil(load_units - 1e-12), 1.0), units_count)
    return running * unit_power_w


@register_jitable
def cdu_approach_delta_k(heat_per_unit_w, unit_rated_w, rated_approach_delta_k):
    """Approach of a CDU (TCS supply minus FWS supply) at a heat per unit [K].

    Parameters
    ----------
    heat_per_unit_w
        Heat moved by one CDU [W].
    unit_rated_w
        Rated heat of a CDU [W].
    rated_approach_delta_k
        Approach at rated heat [K].

    Returns
    -------
    Approach [K], proportional to the heat per unit.
    """
    return rated_approach_delta_k * heat_per_unit_w / unit_rated_w


@register_jitable
def economiser_capacity_w(k_w_per_k, itd_delta_k, speed_frac, airflow_exponent):
    """Heat a dry cooler or cooling-tower group rejects: ``K s^n max(ITD, 0)`` [W].

    Parameters
    ----------
    k_w_per_k
        Heat per K of entering temperature difference at full fan speed, all units [W/K].
    itd_delta_k
        Entering water minus entering air (dry bulb, pre-cooled air, or wet bulb) [K].
    speed_frac
        Fan speed [frac of full].
    airflow_exponent
        Capacity-airflow exponent ``n`` [-].

    Returns
    -------
    Heat rejected [W].
    """
    if itd_delta_k <= 0.0:
        return 0.0
    return k_w_per_k * speed_frac**airflow_exponent * itd_delta_k


@register_jitable
def economiser_speed_frac(heat_w, k_w_per_k, itd_delta_k, airflow_exponent):
    """Fan speed at which an economiser group rejects a heat (inverse of the capacity law).

    Parameters
    ----------
    heat_w
        Heat to reject [W].
    k_w_per_k, itd_delta_k, airflow_exponent
        As in :func:`economiser_capacity_w`.

    Returns
    -------
    Fan speed [frac]; above 1 when the group cannot reject ``heat_w`` at full speed, ``inf``
    when ITD <= 0 and heat is positive, 0 for no heat.
    """
    if heat_w <= 0.0:
        return 0.0
    if itd_delta_k <= 0.0 or k_w_per_k <= 0.0:
        return math.inf
    return (heat_w / (k_w_per_k * itd_delta_k)) ** (1.0 / airflow_exponent)


@register_jitable
def adiabatic_air_degc(t_db_degc, t_wb_degc, saturation_eff_frac):
    """Air temperature after evaporative pads (constant wet bulb, direct evaporation) [degC].

    Parameters
    ----------
    t_db_degc, t_wb_degc
        Entering dry and wet bulb [degC].
    saturation_eff_frac
        Saturation efficiency of the pads [frac].

    Returns
    -------
    Leaving dry bulb [degC].
    """
    return t_db_degc - saturation_eff_frac * (t_db_degc - t_wb_degc)


@register_jitable
def adiabatic_water_kg_per_s(
    air_kg_per_s, t_in_degc, t_out_degc, air_cp_j_per_kg_k, latent_heat_j_per_kg, bleed_frac
):
    """Water drawn by adiabatic pads: evaporation plus bleed [kg/s].

    The air's sensible heat loss ``m_air cp (T_in - T_out)`` is the latent heat of the water
    evaporated (adiabatic saturation).

    Parameters
    ----------
    air_kg_per_s
        Air mass flow through the pads [kg/s].
    t_in_degc, t_out_degc
        Dry bulb before and after the pads [degC].
    air_cp_j_per_kg_k
        Specific heat of air [J/(kg K)].
    latent_heat_j_per_kg
        Latent heat of vaporisation of water [J/kg].
    bleed_frac
        Water bled (or overflowing once-through) per unit evaporated [frac].

    Returns
    -------
    Water drawn [kg/s].
    """
    evap = air_kg_per_s * air_cp_j_per_kg_k * max(t_in_degc - t_out_degc, 0.0)
    return evap / latent_heat_j_per_kg * (1.0 + bleed_frac)


@register_jitable
def tower_water_kg_per_s(
    heat_w,
    evaporation_frac,
    latent_heat_j_per_kg,
    cycles,
    drift_frac,
    water_cp_j_per_kg_k,
    range_delta_k,
):
    """Make-up water of an open cooling tower: evaporation, blowdown and drift [kg/s].

    Evaporation ``E = evaporation_frac * Q / h_fg`` (the rest of the heat leaves as sensible
    heat of the air). Dissolved solids balance: ``blowdown + drift = E / (cycles - 1)``; drift
    is ``drift_frac`` of the circulating flow ``Q / (cp * range)``.

    Parameters
    ----------
    heat_w
        Heat rejected by the tower [W].
    evaporation_frac
        Latent share of the heat [frac].
    latent_heat_j_per_kg
        Latent heat of vaporisation [J/kg].
    cycles
        Cycles of concentration (make-up solids ratio) [-, > 1].
    drift_frac
        Drift over circulating flow [frac].
    water_cp_j_per_kg_k
        Specific heat of water [J/(kg K)].
    range_delta_k
        Tower range (hot minus cold water) [K].

    Returns
    -------
    total, evaporation, blowdown, drift
        Water flows [kg/s]; ``total = evaporation + blowdown + drift``.
    """
    if heat_w <= 0.0:
        return 0.0, 0.0, 0.0, 0.0
    evap = evaporation_frac * heat_w / latent_heat_j_per_kg
    drift = drift_frac * heat_w / (water_cp_j_per_kg_k * range_delta_k)
    purge = evap / (cycles - 1.0)
    blowdown = max(purge - drift, 0.0)
    return evap + blowdown + drift, evap, blowdown, drift


@register_jitable
def loop_saturated_end_degc(t0_degc, heat_in_w, k_w_per_k, t_zero_degc, sink_w, cap_j_per_k, dt_s):
    """Exact loop temperature after ``dt_s`` with the rejection plant at full output.

    Solves ``C dT/dt = Q_in - K max(T - T0, 0) - Q_sink`` exactly for constant inputs: the
    economiser (``K``, zero below ``T0``) at full fans and a constant sink (chillers at full
    capacity). The right-hand side is piecewise linear in ``T``, with at most one crossing of
    ``T0`` in a tick; on the economiser branch
    ``T(t) = T_inf + (T(0) - T_inf) exp(-t K / C)`` with ``T_inf = T0 + (Q_in - Q_sink) / K``.

    Parameters
    ----------
    t0_degc
        Loop (FWS supply) temperature at the start [degC].
    heat_in_w
        Heat into the loop [W].
    k_w_per_k
        Economiser heat per K of ITD at full fans, all units [W/K]; 0 if none.
    t_zero_degc
        Loop temperature at which the economiser ITD is zero [degC].
    sink_w
        Constant heat sink (chillers at full capacity) [W].
    cap_j_per_k
        Loop heat capacity [J/K].
    dt_s
        Tick length [s].

    Returns
    -------
    t_end_degc
        Temperature at the end [degC].
    econ_on_s
        Time during the tick with the economiser rejecting heat [s].
    """
    net_w = heat_in_w - sink_w
    if k_w_per_k <= 0.0:
        return t0_degc + net_w * dt_s / cap_j_per_k, 0.0
    rate_per_s = k_w_per_k / cap_j_per_k
    # On the economiser branch T(t) = T_s + (T0 - T_s)(1 - e^-x) + (Q/C) t phi(x), x = K t / C,
    # phi(x) = (1 - e^-x) / x: no division by K, so it stays exact as K -> 0 (linear limit).
    if t0_degc > t_zero_degc:
        if net_w < 0.0:
            # T_inf = T0 + net / K is below T0: the loop decays to T0 (economiser off from
            # then on), if it gets there within the tick: t_c = (C/K) ln(1 + y).
            y = k_w_per_k * (t0_degc - t_zero_degc) / -net_w
            t_c = (t0_degc - t_zero_degc) * cap_j_per_k / -net_w * _log1p_ratio(y)
            if t_c < dt_s:
                return t_zero_degc + net_w * (dt_s - t_c) / cap_j_per_k, t_c
        x = rate_per_s * dt_s
        return (
            t0_degc
            + (t_zero_degc - t0_degc) * -math.expm1(-x)
            + net_w * dt_s / cap_j_per_k * relaxation_factor(x)
        ), dt_s
    if net_w <= 0.0:
        return t0_degc + net_w * dt_s / cap_j_per_k, 0.0
    t_c = (t_zero_degc - t0_degc) * cap_j_per_k / net_w
    if t_c >= dt_s:
        return t0_degc + net_w * dt_s / cap_j_per_k, 0.0
    rest_s = dt_s - t_c
    return (
        t_zero_degc + net_w * rest_s / cap_j_per_k * relaxation_factor(rate_per_s * rest_s)
    ), rest_s


@register_jitable
def relaxation_factor(x):
    """``(1 - exp(-x)) / x``, the mean of ``exp(-s)`` over ``[0, x]``, exact as x -> 0 [-].

    Parameters
    ----------
    x
        Elapsed time over the time constant, ``K dt / C`` [-, >= 0].

    Returns
    -------
    Factor in (0, 1]; 1 at x = 0 (below 1e-8 a series with error below 1e-17 is used).
    """
    if x < 1e-8:
        return 1.0 - 0.5 * x
    return -math.expm1(-x) / x


@register_jitable
def _log1p_ratio(y):
    # log(1 + y) / y, -> 1 as y -> 0.
    if y < 1e-8:
        return 1.0 - 0.5 * y
    return math.log1p(y) / y


@register_jitable
def loop_controlled_end_degc(t0_degc, t_set_degc, heat_in_w, cap_j_per_k, dt_s, t_sat_end_degc):
    """Loop temperature after a tick under setpoint control.

    The plant can end the tick anywhere between the saturated end (everything at full output)
    and the free end (no rejection); it aims at the setpoint, so the end is the setpoint
    clipped to that interval.

    Parameters
    ----------
    t0_degc
        Temperature at the start [degC].
    t_set_degc
        Setpoint [degC].
    heat_in_w
        Heat into the loop [W].
    cap_j_per_k
        Loop heat capacity [J/K].
    dt_s
        Tick length [s].
    t_sat_end_degc
        End with the plant at full output, from :func:`loop_saturated_end_degc` [degC].

    Returns
    -------
    Temperature at the end [degC].
    """
    t_free = t0_degc + heat_in_w * dt_s / cap_j_per_k
    return max(t_sat_end_degc, min(t_set_degc, t_free))


@register_jitable
def loop_steady_state_degc(heat_in_w, k_w_per_k, t_zero_degc, sink_w):
    """Steady loop temperature with the plant at full output (closed form) [degC].

    Parameters
    ----------
    heat_in_w, k_w_per_k, t_zero_degc, sink_w
        As in :func:`loop_saturated_end_degc`.

    Returns
    -------
    ``T0 + (Q_in - Q_sink) / K`` when the economiser carries a non-negative share; ``-inf``
    when the sink alone exceeds the heat (no bounded steady state without control); ``inf``
    when there is more heat than sink and no economiser.
    """
    net_w = heat_in_w - sink_w
    if net_w < 0.0:
        return -math.inf
    if k_w_per_k <= 0.0:
        return math.inf if net_w > 0.0 else t_zero_degc
    return t_zero_degc + net_w / k_w_per_k
