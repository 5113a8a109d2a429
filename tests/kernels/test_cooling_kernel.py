"""The per-hall cooling kernels on hand-built tables with round numbers.

Hall 0 ("the hall"): 20 MW of design white-space heat, 80% to liquid; 12 CDUs of 2 MW at a
4 K approach; 4 FWS pumps of 6 MW; 20 dry coolers of 100 kW/K (1.5 MW at 15 K ITD); 2 trim
chillers of 1.5 MW; air path of 20 CRAHs of 250 kW and 3 air-cooled chillers of 1.5 MW.
Loops: 1 GJ/K, FWS setpoint 30 degC, range 10 K, TCS limit 40 degC. So the economiser's zero
point is T_db - 10 K and, with K = 20 x 100 kW/K = 2 MW/K, the loop time constant is 500 s.

The end of the file is a standalone driver for the integrator: a synthetic heat wave run
with the rule "racks reduce their heat to the hall's limit", showing throttling, recovery,
the heat balance every tick and the closed-form steady state.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcsim.kernels import cooling_layout as CL
from dcsim.kernels.cooling import (
    _liquid_heat_limit_w,
    _tcs_excess_degc,
    hall_cooling_step,
    hall_heat_limit_w,
)

DT_S = 60.0
LIQ = 0.8


def hall_row(overrides=None):
    """cool_par row of the round-number hall (module docstring), columns overridden."""
    r = np.zeros(CL.CP_NCOLS)
    values = {
        CL.CP_TYPE: CL.COOLING_LIQUID,
        CL.CP_LIQUID_FRAC: LIQ,
        CL.CP_TCS_LIMIT_DEGC: 40.0,
        CL.CP_FWS_SETPOINT_DEGC: 30.0,
        CL.CP_FWS_RANGE_DELTA_K: 10.0,
        CL.CP_LOOP_HEAT_CAP_J_PER_K: 1e9,
        CL.CP_CDU_UNIT_W: 2e6,
        CL.CP_CDU_APPROACH_DELTA_K: 4.0,
        CL.CP_CDU_PUMP_W: 20e3,
        CL.CP_CDU_MIN_SPEED_FRAC: 0.3,
        CL.CP_TCS_RANGE_DELTA_K: 10.0,
        CL.CP_PUMP_UNIT_HEAT_W: 6e6,
        CL.CP_PUMP_W: 60e3,
        CL.CP_PUMP_MIN_SPEED_FRAC: 0.3,
        CL.CP_PUMP_EXPONENT: 3.0,
        CL.CP_ECON_KIND: CL.ECON_DRY_COOLER,
        CL.CP_ECON_K_W_PER_K: 1e5,
        CL.CP_ECON_FAN_W: 25e3,
        CL.CP_ECON_AIRFLOW_EXPONENT: 0.75,
        CL.CP_ECON_FAN_EXPONENT: 3.0,
        CL.CP_ECON_AIR_KG_PER_S: 100.0,
        CL.CP_ADIABATIC: 0.0,
        CL.CP_ADIABATIC_EFF_FRAC: 0.85,
        CL.CP_ADIABATIC_BLEED_FRAC: 0.25,
        CL.CP_ADIABATIC_FAN_ADDER_FRAC: 0.15,
        CL.CP_ADIABATIC_ON_SPEED_FRAC: 0.9,
        CL.CP_TOWER_EVAP_FRAC: 0.85,
        CL.CP_TOWER_CYCLES: 5.0,
        CL.CP_TOWER_DRIFT_FRAC: 1e-5,
        CL.CP_TOWER_RANGE_DELTA_K: 5.56,
        CL.CP_TOWER_FAN_W_PER_W: 0.0127,
        CL.CP_TOWER_APPROACH_DELTA_K: 5.56,
        CL.CP_CH_UNIT_W: 1.5e6,
        CL.CP_CH_CARNOT_FRAC: 0.477,
        CL.CP_CH_EVAP_APPROACH_DELTA_K: 1.0,
        CL.CP_CH_COND_APPROACH_DELTA_K: 15.0,
        CL.CP_CH_COP_MAX: 8.0,
        CL.CP_CHW_SUPPLY_DEGC: 18.0,
        CL.CP_CRAH_UNIT_W: 250e3,
        CL.CP_CRAH_FAN_W: 10e3,
        CL.CP_CRAH_MIN_SPEED_FRAC: 0.3,
        CL.CP_CRAH_FAN_EXPONENT: 3.0,
        CL.CP_ACH_UNIT_W: 1.5e6,
        CL.CP_ACH_CARNOT_FRAC: 0.477,
        CL.CP_ACH_EVAP_APPROACH_DELTA_K: 1.0,
        CL.CP_ACH_COND_APPROACH_DELTA_K: 15.0,
        CL.CP_ACH_COP_MAX: 8.0,
        CL.CP_WATER_CP_J_PER_KG_K: 4180.0,
        CL.CP_AIR_CP_J_PER_KG_K: 1006.0,
        CL.CP_WATER_KG_PER_L: 0.996,
        CL.CP_LATENT_HEAT_J_PER_KG: 2.43e6,
        # Part load flat (EIRfPLR = PLR: power = load / COP), so the hand calculations below
        # need no staging; the part-load curve has its own tests.
        CL.CP_CH_EIR_B: 1.0,
        CL.CP_ACH_EIR_B: 1.0,
    }
    values.update(overrides or {})
    for col, v in values.items():
        r[col] = v
    return r


def state_row(t_fws=30.0, **counts):
    s = np.zeros(CL.CS_NCOLS)
    s[CL.CS_T_FWS_DEGC] = t_fws
    s[CL.CS_T_TCS_SUPPLY_DEGC] = t_fws
    base = {
        CL.CS_CDU_AVAIL_COUNT: 12,
        CL.CS_PUMP_AVAIL_COUNT: 4,
        CL.CS_REJECT_AVAIL_COUNT: 20,
        CL.CS_CHILLER_AVAIL_COUNT: 2,
        CL.CS_AIR_CHILLER_AVAIL_COUNT: 3,
        CL.CS_CRAH_AVAIL_COUNT: 20,
        CL.CS_ADIABATIC_AVAIL_COUNT: 1,
    }
    names = {
        "cdu": CL.CS_CDU_AVAIL_COUNT,
        "pump": CL.CS_PUMP_AVAIL_COUNT,
        "reject": CL.CS_REJECT_AVAIL_COUNT,
        "chiller": CL.CS_CHILLER_AVAIL_COUNT,
        "air_chiller": CL.CS_AIR_CHILLER_AVAIL_COUNT,
        "crah": CL.CS_CRAH_AVAIL_COUNT,
        "adiabatic": CL.CS_ADIABATIC_AVAIL_COUNT,
    }
    for k, v in counts.items():
        base[names[k]] = v
    for col, v in base.items():
        s[col] = v
    return s


def tables(*rows):
    par = np.stack([r for r, _ in rows])
    st = np.stack([s for _, s in rows])
    return par, st


def step(h, heat, t_db, t_wb, par, st, liquid=None, dt=DT_S):
    out = np.zeros(CL.CO_NCOLS)
    liquid = heat * par[h, CL.CP_LIQUID_FRAC] if liquid is None else liquid
    hall_cooling_step(h, heat, liquid, t_db, t_wb, par, st, dt, out)
    return out


def assert_balance(out, heat):
    # heat_w = heat rejected + rate of change of stored heat, to rounding.
    residual = heat - out[CL.CO_HEAT_REJECTED_W] - out[CL.CO_STORED_W]
    assert abs(residual) <= 1e-9 * max(heat, 1.0)


# --------------------------------------------------------------------------- layout


def test_layout_columns_are_contiguous_and_named():
    for prefix, n in (("CP_", CL.CP_NCOLS), ("CS_", CL.CS_NCOLS), ("CO_", CL.CO_NCOLS)):
        cols = sorted(
            v for k, v in vars(CL).items() if k.startswith(prefix) and not k.endswith(("NCOLS",
                                                                                        "NAMES"))
        )  # fmt: skip
        assert cols == list(range(n)), prefix
    assert len(CL.CS_NAMES) == CL.CS_NCOLS and len(CL.CO_NAMES) == CL.CO_NCOLS


def test_chiller_blocks_share_one_column_order():
    # _chiller_power_w reads unit, carnot, evap, cond, cop_max, water, range at col0 + 0..6.
    fws = [CL.CP_CH_UNIT_W, CL.CP_CH_CARNOT_FRAC, CL.CP_CH_EVAP_APPROACH_DELTA_K,
           CL.CP_CH_COND_APPROACH_DELTA_K, CL.CP_CH_COP_MAX, CL.CP_CH_WATER_COOLED,
           CL.CP_CH_COND_RANGE_DELTA_K]  # fmt: skip
    air = [CL.CP_ACH_UNIT_W, CL.CP_ACH_CARNOT_FRAC, CL.CP_ACH_EVAP_APPROACH_DELTA_K,
           CL.CP_ACH_COND_APPROACH_DELTA_K, CL.CP_ACH_COP_MAX, CL.CP_ACH_WATER_COOLED,
           CL.CP_ACH_COND_RANGE_DELTA_K]  # fmt: skip
    assert fws == list(range(fws[0], fws[0] + 7))
    assert air == list(range(air[0], air[0] + 7))


# --------------------------------------------------------------------------- fixed COP


def test_fixed_cop_reproduces_heat_over_cop():
    par = np.zeros((1, CL.CP_NCOLS))
    par[0, CL.CP_TYPE] = CL.COOLING_FIXED_COP
    par[0, CL.CP_FIXED_COP] = 12.0
    st = np.zeros((1, CL.CS_NCOLS))
    out = step(0, 1.2e6, 35.0, 25.0, par, st)
    assert out[CL.CO_FIXED_COP_W] == 1.2e6 / 12.0  # exactly today's (it + pdu) / cop
    assert out[CL.CO_MECH_W] == 1.2e6 / 12.0
    assert out[CL.CO_HEAT_REJECTED_W] == 1.2e6 and out[CL.CO_STORED_W] == 0.0
    assert math.isnan(out[CL.CO_T_FWS_DEGC]) and math.isnan(out[CL.CO_T_TCS_SUPPLY_DEGC])
    assert hall_heat_limit_w(0, 45.0, 30.0, par, st, DT_S) == math.inf


# --------------------------------------------------------------------------- steady operation


def test_mild_day_holds_the_setpoint_by_hand():
    par, st = tables((hall_row(), state_row()))
    out = step(0, 20e6, 10.0, 6.0, par, st)
    assert_balance(out, 20e6)
    assert out[CL.CO_T_FWS_DEGC] == 30.0 and out[CL.CO_STORED_W] == 0.0
    # Economiser: ITD = 30 + 10 - 10 = 30 K, K = 2 MW/K: speed (16 / 60)^(1/0.75).
    speed = (16e6 / (2e6 * 30.0)) ** (1 / 0.75)
    assert out[CL.CO_HEAT_REJECTION_FANS_W] == pytest.approx(20 * 25e3 * speed**3)
    assert out[CL.CO_ECONOMISER_HEAT_W] == pytest.approx(16e6)
    # Pumps: 16 MW over 12 CDUs of 2 MW (2/3 speed) and over 4 pumps of 6 MW (2/3 speed).
    pumps = 12 * 20e3 * (16 / 24) ** 3 + 4 * 60e3 * (16 / 24) ** 3
    assert out[CL.CO_PUMPS_W] == pytest.approx(pumps)
    # Air path: 4 MW on 20 CRAHs of 250 kW (0.8 speed); chillers at 18 degC chilled water and
    # 10 degC ambient: T_evap 290.15 K, T_cond 298.15 K -> 0.477 x 36.27 > 8: COP capped at 8.
    assert out[CL.CO_CRAH_W] == pytest.approx(20 * 10e3 * 0.8**3)
    assert out[CL.CO_CHILLERS_W] == pytest.approx(4e6 / 8.0)
    # TCS: 30 + 4 K x (16 / 12) / 2 = 32.667 degC; return + 10 K (pumps above min speed).
    assert out[CL.CO_T_TCS_SUPPLY_DEGC] == pytest.approx(30 + 4 * (16 / 12) / 2)
    assert out[CL.CO_T_TCS_RETURN_DEGC] == pytest.approx(30 + 4 * (16 / 12) / 2 + 10)
    assert out[CL.CO_MECH_W] == pytest.approx(
        out[CL.CO_PUMPS_W] + out[CL.CO_HEAT_REJECTION_FANS_W] + out[CL.CO_CHILLERS_W]
        + out[CL.CO_CRAH_W]
    )  # fmt: skip
    assert out[CL.CO_WATER_L_PER_S] == 0.0


def test_hot_hour_without_economiser_warms_the_loop_by_hand():
    # 45 degC: economiser zero point 35 degC > 30: off. Trim 2 x 1.5 MW. The loop gains
    # (16 - 3) MW x 60 s / 1 GJ/K = 0.78 K; rejected = 3 MW + 4 MW air.
    par, st = tables((hall_row(), state_row()))
    out = step(0, 20e6, 45.0, 25.0, par, st)
    assert out[CL.CO_T_FWS_DEGC] == pytest.approx(30.78)
    assert out[CL.CO_STORED_W] == pytest.approx(13e6)
    assert out[CL.CO_HEAT_REJECTED_W] == pytest.approx(7e6)
    assert out[CL.CO_HEAT_REJECTION_FANS_W] == 0.0
    # Trim COP at the mean loop temperature 30.39 degC and 45 + 15 degC condensing.
    t_evap = 30.39 - 1 + 273.15
    cop = 0.477 * t_evap / (60 + 273.15 - t_evap)
    ach = 0.477 * (17 + 273.15) / (60 - 17)
    assert out[CL.CO_CHILLERS_W] == pytest.approx(3e6 / cop + 4e6 / ach)
    assert st[0, CL.CS_T_FWS_DEGC] == out[CL.CO_T_FWS_DEGC]
    assert_balance(out, 20e6)


def test_loop_follows_its_exact_exponential_and_reaches_the_closed_form():
    # 38 degC, no trim chillers: zero point 28 degC, K = 2 MW/K, Q = 16 MW:
    # T_inf = 28 + 16 / 2 = 36 degC, tau = 1e9 / 2e6 = 500 s: T(t) = 36 - 6 exp(-t / 500).
    par, st = tables((hall_row(), state_row(chiller=0)))
    for n in range(1, 200):
        out = step(0, 20e6, 38.0, 25.0, par, st)
        assert out[CL.CO_T_FWS_DEGC] == pytest.approx(
            36.0 - 6.0 * math.exp(-n * 60 / 500), abs=1e-9
        )
        assert_balance(out, 20e6)
    assert out[CL.CO_T_FWS_DEGC] == pytest.approx(36.0, abs=1e-9)  # steady state
    assert out[CL.CO_HEAT_REJECTED_W] == pytest.approx(20e6, rel=1e-9)
    assert out[CL.CO_T_TCS_SUPPLY_DEGC] == pytest.approx(36.0 + 4 * (16 / 12) / 2, abs=1e-9)
    assert out[CL.CO_HEAT_REJECTION_FANS_W] == pytest.approx(20 * 25e3)  # full fans


def test_loop_cools_back_to_the_setpoint():
    par, st = tables((hall_row(), state_row(t_fws=36.0)))
    for _ in range(60):
        out = step(0, 20e6, 10.0, 6.0, par, st)
        assert_balance(out, 20e6)
    assert out[CL.CO_T_FWS_DEGC] == 30.0


def test_adiabatic_pads_switch_on_past_the_speed_threshold():
    # 33 degC / 22 degC wet bulb: dry ITD 30 + 10 - 33 = 7 K, 2 MW/K -> 14 MW at full fans,
    # less than 16 MW: pads wet. Pre-cooled air 33 - 0.85 x 11 = 23.65 degC, ITD 16.35 K.
    par, st = tables((hall_row({CL.CP_ADIABATIC: 1.0}), state_row()))
    out = step(0, 20e6, 33.0, 22.0, par, st)
    assert out[CL.CO_ADIABATIC_FRAC] == 1.0
    speed = (16e6 / (2e6 * 16.35)) ** (1 / 0.75)
    assert out[CL.CO_HEAT_REJECTION_FANS_W] == pytest.approx(1.15 * 20 * 25e3 * speed**3)
    water_kg = 20 * 100.0 * speed * 1006.0 * (33 - 23.65) / 2.43e6 * 1.25
    assert out[CL.CO_WATER_L_PER_S] == pytest.approx(water_kg / 0.996)
    assert out[CL.CO_CHILLER_HEAT_W] == pytest.approx(4e6)  # air path only, no trim
    # At 20 degC the dry coolers need (16 / (2 x 20))^(4/3) = 0.29 speed: pads stay dry.
    out = step(0, 20e6, 20.0, 15.0, par, st)
    assert out[CL.CO_ADIABATIC_FRAC] == 0.0 and out[CL.CO_WATER_L_PER_S] == 0.0


def test_cooling_tower_hall_water_by_hand():
    # Towers on the wet bulb with a 1.5 K exchanger approach; all 16 MW through the towers:
    # (0.85 x 16e6 / 2.43e6) x 5 / 4 kg/s = 6.996 kg/s -> / 0.996 = 7.024 L/s.
    row = hall_row({CL.CP_ECON_KIND: CL.ECON_COOLING_TOWER, CL.CP_ECON_HX_APPROACH_DELTA_K: 1.5})
    par, st = tables((row, state_row()))
    out = step(0, 20e6, 30.0, 20.0, par, st)
    assert out[CL.CO_ECONOMISER_HEAT_W] == pytest.approx(16e6)
    assert out[CL.CO_WATER_L_PER_S] == pytest.approx(0.85 * 16e6 / 2.43e6 * 1.25 / 0.996)
    # Fans: ITD = 30 + 10 - 1.5 - 20 = 18.5 K.
    speed = (16e6 / (2e6 * 18.5)) ** (1 / 0.75)
    assert out[CL.CO_HEAT_REJECTION_FANS_W] == pytest.approx(20 * 25e3 * speed**3)
    assert_balance(out, 20e6)


def test_water_cooled_chiller_plant_by_hand():
    # Chillers only, water-cooled: condenser water 20 + 5.56 + 5.15 = 30.71 degC leaving;
    # COP = 0.698 x (29 + 273.15) / (31.71 - 29) capped at 12; condenser heat to the towers.
    row = hall_row({
        CL.CP_ECON_KIND: CL.ECON_NONE, CL.CP_CH_UNIT_W: 10e6, CL.CP_CH_CARNOT_FRAC: 0.698,
        CL.CP_CH_COND_APPROACH_DELTA_K: 1.0, CL.CP_CH_COP_MAX: 12.0, CL.CP_CH_WATER_COOLED: 1.0,
        CL.CP_CH_COND_RANGE_DELTA_K: 5.15,
    })  # fmt: skip
    par, st = tables((row, state_row()))
    out = step(0, 20e6, 30.0, 20.0, par, st)
    cop = min(0.698 * (29 + 273.15) / (30.71 + 1 - 29), 12.0)
    ach = 0.477 * (17 + 273.15) / (45 - 17)
    assert out[CL.CO_CHILLERS_W] == pytest.approx(16e6 / cop + 4e6 / ach)
    q_cond = 16e6 * (1 + 1 / cop)
    assert out[CL.CO_HEAT_REJECTION_FANS_W] == pytest.approx(0.0127 * q_cond)
    assert out[CL.CO_WATER_L_PER_S] == pytest.approx(0.85 * q_cond / 2.43e6 * 1.25 / 0.996)
    assert_balance(out, 20e6)


# --------------------------------------------------------------------------- limits


def test_limit_is_tight_at_the_tcs_limit():
    # Hot, saturated: the limit is the heat that ends the tick exactly at 40 degC TCS supply
    # (air path enlarged so that it does not bind first).
    par, st = tables((hall_row(), state_row(t_fws=35.0, air_chiller=10, crah=40)))
    lim = hall_heat_limit_w(0, 44.0, 28.0, par, st, DT_S)
    assert lim > 0
    s0 = st.copy()
    out = step(0, lim, 44.0, 28.0, par, st)
    assert out[CL.CO_T_TCS_SUPPLY_DEGC] == pytest.approx(40.0, abs=1e-7)
    assert out[CL.CO_T_TCS_SUPPLY_DEGC] <= 40.0 + 1e-9
    out = step(0, lim * 1.001, 44.0, 28.0, par, s0.copy())
    assert out[CL.CO_T_TCS_SUPPLY_DEGC] > 40.0


def test_limit_when_the_loop_starts_above_its_limit_is_zero_then_recovers():
    # Loop at 45 degC: even with no heat, one minute of full rejection on a 15 degC day ends
    # at 3.5 + 41.5 exp(-0.12) = 40.31 degC (zero point 5, trim 3 MW, tau 500 s) > 40: 0 W.
    par, st = tables((hall_row(), state_row(t_fws=45.0)))
    assert hall_heat_limit_w(0, 15.0, 10.0, par, st, DT_S) == 0.0
    out = step(0, 0.0, 15.0, 10.0, par, st)
    assert out[CL.CO_T_FWS_DEGC] == pytest.approx(3.5 + 41.5 * math.exp(-0.12))
    # The plant pulls the loop down and the limit comes back.
    assert hall_heat_limit_w(0, 15.0, 10.0, par, st, DT_S) > 0.0


def test_cdu_failure_derates_exactly_its_hall():
    # Two identical halls; hall 0 loses 5 of 12 CDUs: 7 x 2 MW = 14 MW of liquid heat, so
    # its limit is 14 / 0.8 = 17.5 MW exactly; hall 1 keeps its limit.
    par, st = tables((hall_row(), state_row()), (hall_row(), state_row()))
    before = [hall_heat_limit_w(h, 20.0, 15.0, par, st, DT_S) for h in range(2)]
    st[0, CL.CS_CDU_AVAIL_COUNT] = 7
    after = [hall_heat_limit_w(h, 20.0, 15.0, par, st, DT_S) for h in range(2)]
    assert after[0] == pytest.approx(7 * 2e6 / LIQ, rel=1e-12)
    assert after[1] == before[1]
    assert before[0] > 20e6
    # The remaining CDUs run at a higher approach: 4 K x (14 / 7) / 2 = 4 K vs 2.33 K.
    out = step(0, after[0], 20.0, 15.0, par, st)
    assert out[CL.CO_T_TCS_SUPPLY_DEGC] == pytest.approx(30.0 + 4.0)


def test_air_path_and_pump_capacities_bound_the_limit():
    par, st = tables((hall_row(), state_row(crah=10)))
    # Air: 10 x 250 kW = 2.5 MW for 20% of the heat -> 12.5 MW.
    assert hall_heat_limit_w(0, 20.0, 15.0, par, st, DT_S) == pytest.approx(12.5e6)
    par, st = tables((hall_row(), state_row(pump=2)))
    # Pumps: 2 x 6 MW = 12 MW of liquid -> 15 MW.
    assert hall_heat_limit_w(0, 20.0, 15.0, par, st, DT_S) == pytest.approx(15e6)
    par, st = tables((hall_row(), state_row(cdu=0)))
    assert hall_heat_limit_w(0, 20.0, 15.0, par, st, DT_S) == 0.0


def test_compiled_and_python_agree():
    rng = np.random.default_rng(3)
    rows = (
        hall_row(),
        hall_row({CL.CP_ADIABATIC: 1.0}),
        hall_row({CL.CP_ECON_KIND: CL.ECON_COOLING_TOWER, CL.CP_ECON_HX_APPROACH_DELTA_K: 1.5}),
        hall_row({CL.CP_ECON_KIND: CL.ECON_NONE, CL.CP_CH_UNIT_W: 20e6}),
    )
    for row in rows:
        for _ in range(40):
            t_db = rng.uniform(-10, 48)
            t_wb = t_db - rng.uniform(0, 15)
            heat = rng.uniform(0, 25e6)
            st = state_row(t_fws=rng.uniform(25, 42), cdu=rng.integers(6, 13))
            par = row[None, :]
            st_a, st_b = st[None, :].copy(), st[None, :].copy()
            lim_a = hall_heat_limit_w(0, t_db, t_wb, par, st_a, DT_S)
            lim_b = hall_heat_limit_w.py_func(0, t_db, t_wb, par, st_b, DT_S)
            assert lim_a == pytest.approx(lim_b, rel=1e-9, abs=1e-3)
            out_a, out_b = np.zeros(CL.CO_NCOLS), np.zeros(CL.CO_NCOLS)
            hall_cooling_step(0, heat, heat * LIQ, t_db, t_wb, par, st_a, DT_S, out_a)
            hall_cooling_step.py_func(0, heat, heat * LIQ, t_db, t_wb, par, st_b, DT_S, out_b)
            np.testing.assert_allclose(out_a, out_b, rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(st_a, st_b, rtol=1e-12)
            assert_balance(out_a, heat)


# --------------------------------------------------------------------------- driver


def heat_wave_weather(days=6, wave=(2.0, 4.0), rise_k=14.0, dt_s=DT_S):
    """Synthetic dry/wet bulb: 24 +- 6 degC daily cycle (peak 15:00), +rise during the wave."""
    t_s = np.arange(int(days * 86400 / dt_s)) * dt_s
    day = t_s / 86400.0
    t_db = 24.0 + 6.0 * np.sin(2 * np.pi * (day - 0.375))
    in_wave = (day >= wave[0]) & (day < wave[1])
    t_db = t_db + rise_k * in_wave
    return t_db, t_db - 6.0, in_wave


def run_throttled(par, st, t_db, t_wb, demand_w, dt_s=DT_S):
    """The integrator's rule in miniature: racks reduce their heat to the hall's limit."""
    n = t_db.size
    heat = np.zeros(n)
    outs = np.zeros((n, CL.CO_NCOLS))
    out = np.zeros(CL.CO_NCOLS)
    for i in range(n):
        lim = hall_heat_limit_w(0, t_db[i], t_wb[i], par, st, dt_s)
        heat[i] = min(demand_w, lim)
        hall_cooling_step(0, heat[i], heat[i] * LIQ, t_db[i], t_wb[i], par, st, dt_s, out)
        outs[i] = out
    return heat, outs


def test_driver_heat_wave_throttles_and_recovers():
    par, st = tables((hall_row(), state_row()))
    t_db, t_wb, in_wave = heat_wave_weather()
    demand = 20e6
    heat, outs = run_throttled(par, st, t_db, t_wb, demand)
    throttled = heat < demand * (1 - 1e-12)
    # Heat balance every tick: heat = rejected + stored.
    residual = heat - outs[:, CL.CO_HEAT_REJECTED_W] - outs[:, CL.CO_STORED_W]
    assert np.max(np.abs(residual)) <= 1e-9 * demand
    # The TCS supply never passes its limit; when the racks are throttled it sits on it.
    assert outs[:, CL.CO_T_TCS_SUPPLY_DEGC].max() <= 40.0 + 1e-9
    np.testing.assert_allclose(outs[throttled, CL.CO_T_TCS_SUPPLY_DEGC], 40.0, atol=1e-6)
    # No throttling before the wave, throttling in its afternoons, full recovery after it.
    ticks_per_day = int(86400 / DT_S)
    assert not throttled[: 2 * ticks_per_day].any()
    assert throttled[in_wave].sum() > 60  # more than an hour of ticks
    assert not throttled[5 * ticks_per_day :].any()
    # The loops cool back to the setpoint after the wave.
    assert outs[-1, CL.CO_T_FWS_DEGC] == pytest.approx(30.0)
    # Throttling costs heat (tokens) only during the wave.
    lost_mwh = (demand - heat).sum() * DT_S / 3.6e9
    assert lost_mwh > 0.1


def test_driver_closed_form_steady_state_under_throttling():
    # Constant 44 degC, no trim: the economiser alone (K = 2 MW/K, zero point 34 degC) settles
    # where the liquid heat Q_l gives T = 34 + Q_l / K and T + 4 K x Q_l / (12 x 2 MW) = 40,
    # i.e. Q_l = 6 / (1/2e6 + 1/6e6) = 9 MW, T = 38.5 degC: heat 11.25 MW at the limit.
    par, st = tables((hall_row(), state_row(chiller=0)))
    n = 200
    heat, outs = run_throttled(par, st, np.full(n, 44.0), np.full(n, 28.0), 20e6)
    assert heat[-1] == pytest.approx(9e6 / LIQ, rel=1e-9)
    assert outs[-1, CL.CO_T_FWS_DEGC] == pytest.approx(38.5, abs=1e-9)
    assert outs[-1, CL.CO_T_TCS_SUPPLY_DEGC] == pytest.approx(40.0, abs=1e-9)
    assert outs[-1, CL.CO_HEAT_REJECTED_W] == pytest.approx(heat[-1], rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    t_db=st.floats(-10, 50),
    depression=st.floats(0, 20),
    t0=st.floats(20, 48),
    chillers=st.integers(0, 8),
    cdus=st.integers(1, 12),
    kind=st.sampled_from([CL.ECON_DRY_COOLER, CL.ECON_COOLING_TOWER, CL.ECON_NONE]),
    adiabatic=st.booleans(),
)
def test_liquid_limit_is_feasible_and_maximal(t_db, depression, t0, chillers, cdus, kind,
                                              adiabatic):  # fmt: skip
    # Whatever branch the closed form takes (or the bisection fallback when the saturated
    # path crosses the economiser's zero point), the limit ends the tick at the TCS limit:
    # feasible at Q, infeasible 1 kW above (unless Q = 0 and even 0 W is infeasible).
    row = hall_row({CL.CP_ECON_KIND: kind, CL.CP_ADIABATIC: float(adiabatic),
                    CL.CP_ECON_HX_APPROACH_DELTA_K: 1.5})  # fmt: skip
    par, st_ = tables((row, state_row(t_fws=t0, chiller=chillers, cdu=cdus)))
    args = (t_db, t_db - depression, par, st_, DT_S)
    q = _liquid_heat_limit_w(0, *args)
    assert q >= 0.0
    if q > 0.0:
        assert _tcs_excess_degc(0, q, *args) <= 1e-9
    else:
        assert _tcs_excess_degc(0, 0.0, *args) > -1e-9
    assert _tcs_excess_degc(0, q + 1e3, *args) > 0.0
