"""Cooling physics against hand calculations, closed forms and a numerical ODE solution."""

import math

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from dcsim.catalog.cooling_equipment import (
    CDU,
    COOLING_EQUIPMENT_PATH,
    Chiller,
    CoolingTower,
    DryCooler,
    load_cooling_equipment,
)
from dcsim.errors import ConfigError
from dcsim.physics import cooling as C
from dcsim.units import ZERO_C_K

REPO_CATALOG = COOLING_EQUIPMENT_PATH

# --------------------------------------------------------------------------- chillers


def test_chiller_cop_by_hand_at_ahri_water_cooled():
    # AHRI 550/590: 6.67 degC leaving chilled water, 29.44 degC entering condenser water,
    # condenser range 5.15 K -> leaving 34.59 degC. With 1 K approaches:
    # T_evap = 6.67 - 1 + 273.15 = 278.82 K, T_cond = 34.59 + 1 + 273.15 = 308.74 K,
    # lift 29.92 K, Carnot 9.3189, x 0.698 = 6.5046.
    cop = C.chiller_cop(6.67, 29.44 + 5.15, 0.698, 1.0, 1.0, 12.0)
    assert cop == pytest.approx(0.698 * 278.82 / 29.92, rel=1e-12)
    assert cop == pytest.approx(6.5046, abs=1e-4)


def test_chiller_cop_by_hand_air_cooled():
    # 6.67 degC chilled water, 35 degC ambient + 15 K condensing approach:
    # 278.82 / (323.15 - 278.82) = 6.2897; x 0.477 = 3.0002.
    assert C.chiller_cop(6.67, 35.0, 0.477, 1.0, 15.0, 8.0) == pytest.approx(3.0002, abs=1e-4)


def test_chiller_cop_capped_at_low_and_negative_lift():
    assert C.chiller_cop(30.0, 10.0, 0.7, 1.0, 1.0, 12.0) == 12.0  # condenser colder
    assert C.chiller_cop(30.0, 29.0, 0.7, 1.0, 1.0, 12.0) == 12.0  # lift 1 K -> Carnot 302


@given(
    t_chw=st.floats(5, 35),
    lift_a=st.floats(5, 40),
    extra=st.floats(0.1, 20),
)
def test_chiller_cop_falls_as_lift_grows(t_chw, lift_a, extra):
    a = C.chiller_cop(t_chw, t_chw + lift_a, 0.6, 1.0, 1.0, 50.0)
    b = C.chiller_cop(t_chw, t_chw + lift_a + extra, 0.6, 1.0, 1.0, 50.0)
    assert b < a


@pytest.mark.parametrize("key", ["chiller_wc_3500kw", "chiller_ac_1500kw"])
def test_catalog_chiller_reproduces_its_rating_point(key):
    # The fitted carnot_frac must give back the rating COP at the rating conditions.
    ch = load_cooling_equipment()[key]
    cond = ch.rating_condenser_degc.value
    if ch.condenser == "water":
        cond += ch.condenser_range_delta_k.value  # leaving condenser water
    cop = C.chiller_cop(
        ch.rating_chw_degc.value,
        cond,
        ch.carnot_frac.value,
        ch.evap_approach_delta_k.value,
        ch.cond_approach_delta_k.value,
        ch.cop_max.value,
    )
    assert cop == pytest.approx(ch.rating_cop.value, rel=2e-3)


def test_chiller_capacity_falls_with_condenser_temperature_by_hand():
    # Air-cooled, rated at 35 degC entering air, 0.75 %/K, cutout above 49 degC:
    # 43.3 degC -> 1 - 0.0075 x 8.3 = 0.93775; 49 degC -> 1 - 0.0075 x 14 = 0.895.
    f = C.chiller_capacity_frac
    assert f(43.3, 35.0, 0.0075, 49.0) == pytest.approx(0.93775, abs=1e-12)
    assert f(49.0, 35.0, 0.0075, 49.0) == pytest.approx(0.895, abs=1e-12)
    assert f(49.01, 35.0, 0.0075, 49.0) == 0.0  # high-pressure cutout: the machine stops
    assert f(20.0, 35.0, 0.0075, 49.0) == 1.0  # not above the rating below the rating point
    assert f(60.0, 35.0, 0.0075, 0.0) == pytest.approx(1 - 0.0075 * 25)  # 0: no cutout
    assert f(500.0, 35.0, 0.0075, 0.0) == 0.0  # never negative


def test_catalog_chiller_derating_matches_its_sources():
    # Sources of the catalog figure: 1,653 kW at 25 degC condensing, 1,276 kW at 55 degC
    # (0.76 %/K), and 2 % per 5 degF (0.72 %/K); the catalog's 0.75 %/K lies between them.
    by_table = (1653 - 1276) / 1653 / 30
    by_rule = 0.02 / (5 / 1.8)
    eq = load_cooling_equipment()
    for key in ("chiller_ac_1500kw", "chiller_wc_3500kw", "chiller_wc_1000kw_vanes"):
        ch = eq[key]
        assert isinstance(ch, Chiller)
        d = ch.capacity_derate_per_k_frac.value
        assert min(by_table, by_rule) - 5e-4 <= d <= max(by_table, by_rule) + 5e-4
    # Carrier 30RAP table 29: maximum ambient 120 degF = 48.9 degC.
    limit = eq["chiller_ac_1500kw"].high_limit_condenser_degc.value
    assert limit == pytest.approx((120 - 32) / 1.8, abs=0.15)


def test_a_stopped_chiller_group_draws_nothing():
    # Above its cutout the group's unit capacity is 0: no cooling, no power, none running.
    assert C.chiller_group_power_w(5e6, 0.0, 5.0, 3.0, 0.28, 0.23, 0.49, 0.1) == (0.0, 0.0)


def test_catalog_rejects_a_high_limit_below_the_rating(tmp_path):
    bad = tmp_path / "c.yaml"
    text = (REPO_CATALOG.read_text()).replace(
        "  high_limit_condenser_degc:\n    value: 49.0",
        "  high_limit_condenser_degc:\n    value: 30.0",
    )
    assert "value: 30.0" in text
    bad.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_cooling_equipment(bad)
    assert "high_limit_condenser_degc 30.0 must be above rating_condenser_degc 35.0" in str(
        err.value
    )


def test_water_cooled_condenser_range_from_ahri_flow():
    # 3 gpm/ton: 3,516.85 W x (1 + 1/6.5) / (3 x 0.0630902 L/s x 0.996 kg/L x 4180) = 5.15 K.
    ch = load_cooling_equipment()["chiller_wc_3500kw"]
    hand = 3516.85 * (1 + 1 / 6.5) / (3 * 0.0630902 * 0.996 * 4180)
    assert ch.condenser_range_delta_k.value == pytest.approx(hand, abs=0.01)


def test_chiller_condenser_medium():
    assert C.chiller_condenser_degc(35.0, 24.0, False, 5.0, 5.0) == 35.0
    assert C.chiller_condenser_degc(35.0, 24.0, True, 5.5, 5.1) == pytest.approx(34.6)


# --------------------------------------------------------------------------- pumps and fans


def test_pump_power_by_hand():
    # 150 L/s x 300 kPa / 0.72 = 0.15 m3/s x 3e5 Pa / 0.72 = 62,500 W.
    assert C.pump_power_w(150.0, 300.0, 0.72) == pytest.approx(62_500.0, rel=1e-12)


def test_affinity_law_with_parallel_units():
    # 9 pumps share 6 unit-flows: each at 2/3 speed -> 9 x 62.5 kW x (2/3)^3 = 166.67 kW.
    assert C.parallel_units_power_w(6.0, 9.0, 62_500.0, 0.3, 3.0) == pytest.approx(
        9 * 62_500 * (2 / 3) ** 3
    )
    # Half the flow on one unit: 1/8 of the power.
    assert C.parallel_units_power_w(0.5, 1.0, 80.0, 0.1, 3.0) == pytest.approx(10.0)
    # Below the minimum speed the units idle at it: 9 x 62.5 kW x 0.3^3.
    assert C.parallel_units_power_w(0.9, 9.0, 62_500.0, 0.3, 3.0) == pytest.approx(15_187.5)
    assert C.parallel_units_power_w(5.0, 0.0, 62_500.0, 0.3, 3.0) == 0.0


def test_losing_a_unit_costs_power_at_the_same_flow():
    # N+1 running slower than N: 6 flows on 9 units vs on 8 units, ratio (9/8)^2.
    p9 = C.parallel_units_power_w(6.0, 9.0, 1.0, 0.0, 3.0)
    p8 = C.parallel_units_power_w(6.0, 8.0, 1.0, 0.0, 3.0)
    assert p8 / p9 == pytest.approx((9 / 8) ** 2)


# --------------------------------------------------------------------------- economiser


def test_economiser_capacity_and_speed_by_hand():
    k = 1e6 / 15.0  # 1 MW at 15 K ITD
    assert C.economiser_capacity_w(k, 15.0, 1.0, 0.75) == pytest.approx(1e6)
    assert C.economiser_capacity_w(k, 15.0, 0.5, 0.75) == pytest.approx(1e6 * 0.5**0.75)
    assert C.economiser_capacity_w(k, -2.0, 1.0, 0.75) == 0.0
    # Inverse: 0.5 MW at ITD 17 K -> s = (0.5 / (k 17 / 1e6))^(1/0.75).
    s = C.economiser_speed_frac(0.5e6, k, 17.0, 0.75)
    assert s == pytest.approx((0.5e6 / (k * 17.0)) ** (1 / 0.75))
    assert C.economiser_capacity_w(k, 17.0, s, 0.75) == pytest.approx(0.5e6)
    assert C.economiser_speed_frac(1.0, k, 0.0, 0.75) == math.inf
    assert C.economiser_speed_frac(0.0, k, 5.0, 0.75) == 0.0


def test_dry_cooler_catalog_design_point():
    # The catalog note: at 35 degC dry bulb and a 32/42 degC loop (ITD 7 K) one unit rejects
    # 1 MW x 7 / 15 = 467 kW at full fans; pads cool the air to 35 - 0.85 x 10 = 26.5 degC
    # (wet bulb 25) -> ITD 15.5 K -> 1.033 MW.
    eq = load_cooling_equipment()
    dc, pad = eq["dry_cooler_1mw"], eq["adiabatic_pad_cellulose"]
    assert isinstance(dc, DryCooler)
    k = dc.rated_heat_kw.value * 1e3 / dc.rated_itd_delta_k.value
    assert C.economiser_capacity_w(k, 42 - 35, 1.0, 0.75) == pytest.approx(466_667, abs=1)
    t_pre = C.adiabatic_air_degc(35.0, 25.0, pad.saturation_efficiency_frac.value)
    assert t_pre == pytest.approx(26.5)
    assert C.economiser_capacity_w(k, 42 - t_pre, 1.0, 0.75) == pytest.approx(1_033_333, abs=1)


def test_adiabatic_water_by_hand():
    # 100 kg/s of air cooled 8.5 K: 100 x 1006 x 8.5 / 2.43e6 = 0.35189 kg/s evaporated,
    # +25% bleed = 0.43987 kg/s.
    w = C.adiabatic_water_kg_per_s(100.0, 35.0, 26.5, 1006.0, 2.43e6, 0.25)
    assert w == pytest.approx(100 * 1006 * 8.5 / 2.43e6 * 1.25, rel=1e-12)
    assert w == pytest.approx(0.43987, abs=1e-5)


def test_tower_water_by_hand():
    # 1 MW: evaporation 0.85e6 / 2.43e6 = 0.34979 kg/s; blowdown + drift = E / (5 - 1);
    # drift = 1e-5 x 1e6 / (4180 x 5.56) = 4.303e-4 kg/s. Total = 1.25 E = 0.43724 kg/s,
    # i.e. 0.43724 x 3600 / 0.996 = 1,580 L per MWh.
    total, evap, blow, drift = C.tower_water_kg_per_s(1e6, 0.85, 2.43e6, 5.0, 1e-5, 4180.0, 5.56)
    assert evap == pytest.approx(0.85e6 / 2.43e6)
    assert drift == pytest.approx(1e-5 * 1e6 / (4180 * 5.56))
    assert blow + drift == pytest.approx(evap / 4)
    assert total == pytest.approx(evap + blow + drift)
    assert total * 3600 / 0.996 == pytest.approx(1580.4, abs=0.5)
    assert C.tower_water_kg_per_s(0.0, 0.85, 2.43e6, 5.0, 1e-5, 4180.0, 5.56) == (0, 0, 0, 0)


def test_catalog_tower_fan_power_is_the_ashrae_minimum():
    # 40.2 gpm/hp at a 10 degF range: 5 MW / (4180 x 0.996 x 5.556 K) = 216.2 L/s = 3,426 gpm
    # -> 85.2 hp = 63.6 kW.
    tower = load_cooling_equipment()["tower_cell_5mw"]
    assert isinstance(tower, CoolingTower)
    flow_l_per_s = 5e6 / (4180 * 0.996 * tower.rated_range_delta_k)
    hp = flow_l_per_s / 0.0630902 / 40.2
    assert tower.fan_power_kw.value == pytest.approx(hp * 0.7457, rel=2e-3)


def test_cdu_approach_grows_with_load_per_unit():
    # 44.88 MW on 23 CDUs of 2 MW at 4 K: 4 x 1.951 / 2 = 3.90 K; on 22 CDUs 4.08 K.
    assert C.cdu_approach_delta_k(44.88e6 / 23, 2e6, 4.0) == pytest.approx(3.9026, abs=1e-4)
    assert C.cdu_approach_delta_k(44.88e6 / 22, 2e6, 4.0) == pytest.approx(4.08, abs=1e-4)
    cdu = load_cooling_equipment()["cdu_2mw"]
    assert isinstance(cdu, CDU)


# --------------------------------------------------------------------------- loop dynamics


def _ode_end(t0, q_in, k, t_zero, sink, cap, dt):
    """Numerical solution of C dT/dt = Q - K max(T - T0, 0) - S (reference)."""

    def rhs(_, y):
        return [(q_in - k * max(y[0] - t_zero, 0.0) - sink) / cap]

    sol = solve_ivp(rhs, (0.0, dt), [t0], rtol=1e-10, atol=1e-10, max_step=dt / 200)
    return sol.y[0, -1]


@settings(max_examples=60, deadline=None)
@given(
    t0=st.floats(10, 50),
    q_in=st.floats(0, 60e6),
    k=st.floats(0, 5e6),
    t_zero=st.floats(10, 50),
    sink=st.floats(0, 30e6),
    cap=st.floats(1e8, 5e9),
    dt=st.floats(1, 3600),
)
def test_saturated_loop_matches_numerical_ode(t0, q_in, k, t_zero, sink, cap, dt):
    exact, on_s = C.loop_saturated_end_degc(t0, q_in, k, t_zero, sink, cap, dt)
    assert exact == pytest.approx(_ode_end(t0, q_in, k, t_zero, sink, cap, dt), abs=1e-6)
    assert 0.0 <= on_s <= dt


@settings(max_examples=60, deadline=None)
@given(
    t0=st.floats(10, 50),
    q_in=st.floats(0, 60e6),
    k=st.floats(1e5, 5e6),
    t_zero=st.floats(10, 50),
    sink=st.floats(0, 30e6),
    dt=st.floats(1, 3600),
)
def test_saturated_loop_two_half_steps_equal_one_step(t0, q_in, k, t_zero, sink, dt):
    # An exact solution composes: T(dt) from T(dt/2); Euler would not.
    cap = 1e9
    full, on_full = C.loop_saturated_end_degc(t0, q_in, k, t_zero, sink, cap, dt)
    half, on_a = C.loop_saturated_end_degc(t0, q_in, k, t_zero, sink, cap, dt / 2)
    two, on_b = C.loop_saturated_end_degc(half, q_in, k, t_zero, sink, cap, dt / 2)
    assert two == pytest.approx(full, abs=1e-9)
    assert on_a + on_b == pytest.approx(on_full, abs=1e-6 * dt)


def test_loop_exponential_by_hand():
    # K = 2 MW/K, C = 1 GJ/K: tau = 500 s; Q = 16 MW, T0 = 28 -> T_inf = 36 degC.
    t, on = C.loop_saturated_end_degc(30.0, 16e6, 2e6, 28.0, 0.0, 1e9, 500.0)
    assert t == pytest.approx(36.0 - 6.0 * math.exp(-1.0), rel=1e-14)
    assert on == 500.0
    assert C.loop_steady_state_degc(16e6, 2e6, 28.0, 0.0) == 36.0
    # Long enough, the trajectory reaches the closed-form steady state.
    t_long, _ = C.loop_saturated_end_degc(30.0, 16e6, 2e6, 28.0, 0.0, 1e9, 50_000.0)
    assert t_long == pytest.approx(36.0, abs=1e-12)


def test_loop_without_economiser_is_linear():
    # 13 MW net into 1 GJ/K for 60 s: +0.78 K.
    t, on = C.loop_saturated_end_degc(30.0, 16e6, 0.0, 35.0, 3e6, 1e9, 60.0)
    assert t == pytest.approx(30.78)
    assert on == 0.0
    assert C.loop_steady_state_degc(16e6, 0.0, 35.0, 3e6) == math.inf
    assert C.loop_steady_state_degc(1e6, 2e6, 35.0, 3e6) == -math.inf


def test_controlled_end_clips_the_setpoint():
    # Free end 30 + 16e6 x 60 / 1e9 = 30.96 degC.
    assert C.loop_controlled_end_degc(30.0, 32.0, 16e6, 1e9, 60.0, 29.0) == pytest.approx(30.96)
    assert C.loop_controlled_end_degc(30.0, 30.0, 16e6, 1e9, 60.0, 29.0) == 30.0
    assert C.loop_controlled_end_degc(30.0, 30.0, 16e6, 1e9, 60.0, 30.5) == 30.5


# --------------------------------------------------------------------------- numba


@pytest.mark.parametrize(
    ("fn", "args"),
    [
        (C.chiller_cop, (6.67, 34.59, 0.698, 1.0, 1.0, 12.0)),
        (C.chiller_condenser_degc, (35.0, 24.0, True, 5.5, 5.1)),
        (C.pump_power_w, (150.0, 300.0, 0.72)),
        (C.parallel_units_power_w, (6.0, 9.0, 62_500.0, 0.3, 3.0)),
        (C.cdu_approach_delta_k, (1.9e6, 2e6, 4.0)),
        (C.economiser_capacity_w, (66_666.7, 15.0, 0.5, 0.75)),
        (C.economiser_speed_frac, (0.5e6, 66_666.7, 17.0, 0.75)),
        (C.adiabatic_air_degc, (35.0, 25.0, 0.85)),
        (C.adiabatic_water_kg_per_s, (100.0, 35.0, 26.5, 1006.0, 2.43e6, 0.25)),
        (C.tower_water_kg_per_s, (1e6, 0.85, 2.43e6, 5.0, 1e-5, 4180.0, 5.56)),
        (C.loop_saturated_end_degc, (30.0, 16e6, 2e6, 28.0, 1e6, 1e9, 60.0)),
        (C.loop_saturated_end_degc, (40.0, 1e6, 2e6, 28.0, 20e6, 1e9, 600.0)),
        (C.loop_controlled_end_degc, (30.0, 32.0, 16e6, 1e9, 60.0, 29.0)),
        (C.loop_steady_state_degc, (16e6, 2e6, 28.0, 0.0)),
        (C.chiller_capacity_frac, (43.3, 35.0, 0.0075, 49.0)),
    ],
)
def test_compiled_equals_python(fn, args):
    compiled = numba.njit(fn)(*args)
    np.testing.assert_allclose(compiled, fn(*args), rtol=1e-14)


def test_zero_c_is_the_kelvin_offset():
    assert ZERO_C_K == 273.15


def test_catalog_rejects_a_water_cooled_chiller_without_tower(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "fluids:\n  type: fluids\n  name: f\n"
        "  water_cp_j_per_kg_k: {value: 4180, source: s, confidence: P}\n"
        "  water_density_kg_per_l: {value: 0.996, source: s, confidence: P}\n"
        "  air_cp_j_per_kg_k: {value: 1006, source: s, confidence: P}\n"
        "  latent_heat_j_per_kg: {value: 2430000, source: s, confidence: P}\n"
        "ch:\n  type: chiller\n  name: c\n  condenser: water\n"
        "  rated_heat_kw: 1000\n  rating_chw_degc: 6.67\n  rating_condenser_degc: 29.44\n"
        "  rating_cop: 6\n  carnot_frac: 0.7\n  evap_approach_delta_k: 1\n"
        "  cond_approach_delta_k: 1\n  cop_max: 12\n  mtbf_h: 1000\n  mttr_h: 10\n"
        "  eir_fplr_a: 0.28\n  eir_fplr_b: 0.23\n  eir_fplr_c: 0.49\n  min_unloading_frac: 0.1\n"
    )
    with pytest.raises(ConfigError, match=r"bad\.yaml: ch\.chiller.*condenser_tower"):
        load_cooling_equipment(bad)
    assert isinstance(load_cooling_equipment()["chiller_ac_1500kw"], Chiller)
