"""Air-cooled halls (COOLING_AIR): the kernel against hand calculations and a plain reference.

The hall is scenarios/hall-air-legacy.yaml as built by dcsim.model.cooling; the reference
below recomposes its tick from the physics functions, in plain Python (no dispatch helpers).
"""

import math

import numpy as np
import psychrolib
import pytest

from dcsim import load_scenario
from dcsim.catalog.cooling_equipment import load_cooling_equipment
from dcsim.errors import ConfigError
from dcsim.kernels import cooling_layout as CL
from dcsim.kernels.cooling import hall_cooling_step, hall_heat_limit_w
from dcsim.model.cooling import build_cooling
from dcsim.physics.cooling import (
    chiller_cop,
    chiller_eir_part_load_frac,
    humidity_ratio_at_dew_point,
    humidity_ratio_from_wet_bulb,
    pump_power_w,
    saturation_pressure_pa,
    staged_units_power_w,
)
from dcsim.physics.power_chain import ups_loss_w
from dcsim.scenario import scenario_catalog

SCENARIO = "scenarios/hall-air-legacy.yaml"


@pytest.fixture(scope="module")
def plant():
    sc = load_scenario(SCENARIO)
    return build_cooling(sc, scenario_catalog(sc))


def test_saturation_pressure_and_humidity_ratio_match_psychrolib():
    psychrolib.SetUnitSystem(psychrolib.SI)
    for t in (-20.0, -5.0, 5.0, 15.0, 30.0, 45.0):
        assert saturation_pressure_pa(t) == pytest.approx(psychrolib.GetSatVapPres(t), rel=1e-9)
    for t_db, t_wb in ((30.0, 20.0), (10.0, 4.0), (-5.0, -7.0), (35.0, 25.0)):
        ref = psychrolib.GetHumRatioFromTWetBulb(t_db, t_wb, 101325.0)
        assert humidity_ratio_from_wet_bulb(t_db, t_wb, 101325.0) == pytest.approx(ref, rel=1e-9)
    # Dew point 5.5 degC: p_w = 904 Pa -> W = 0.621945 x 904 / (101325 - 904) = 5.60 g/kg.
    assert humidity_ratio_at_dew_point(5.5, 101325.0) == pytest.approx(5.60e-3, rel=2e-3)


def test_part_load_curve_of_the_catalog_chiller():
    # CoolTools McQuay WSC 471 kW vanes: 0.2778889 + 0.2338363 PLR + 0.4883748 PLR^2.
    ch = load_cooling_equipment()["chiller_wc_1000kw_vanes"]
    abc = (ch.eir_fplr_a.value, ch.eir_fplr_b.value, ch.eir_fplr_c.value, 0.1)
    assert chiller_eir_part_load_frac(1.0, *abc) == pytest.approx(1.0, abs=1e-4)
    assert chiller_eir_part_load_frac(0.5, *abc) == pytest.approx(0.51690, abs=1e-5)
    assert chiller_eir_part_load_frac(0.25, *abc) == pytest.approx(0.36687, abs=1e-5)
    # Below the minimum unloading ratio the chiller false-loads: power stops falling.
    assert chiller_eir_part_load_frac(0.02, *abc) == chiller_eir_part_load_frac(0.1, *abc)


def test_constant_speed_pumps_are_staged():
    assert staged_units_power_w(1.84, 4.0, 23e3) == 2 * 23e3
    assert staged_units_power_w(2.0, 4.0, 23e3) == 2 * 23e3
    assert staged_units_power_w(7.0, 4.0, 23e3) == 4 * 23e3
    assert staged_units_power_w(0.0, 4.0, 23e3) == 0.0


def reference_tick(par, st, heat_w, t_db, t_wb):
    """Plain recomposition of one steady tick (loop at its setpoint, no economiser)."""
    p = par
    ups = 0.0
    if p[CL.CP_UPS_ROOM_COOLED] > 0:
        ups = ups_loss_w(heat_w, p[CL.CP_UPS_MODULE_W], p[CL.CP_UPS_MODULES_ACTIVE],
                         p[CL.CP_UPS_A0], p[CL.CP_UPS_A1], p[CL.CP_UPS_A2])  # fmt: skip
    light = p[CL.CP_LIGHTING_W]
    n_crah = st[CL.CS_CRAH_AVAIL_COUNT]
    # Constant-speed CRAHs: every unit at full airflow.
    crah_w = n_crah * p[CL.CP_CRAH_FAN_W]
    q = heat_w + ups + light + crah_w
    # Water-cooled chillers: condenser water = wet bulb + tower approach + condenser range.
    t_cond = t_wb + p[CL.CP_TOWER_APPROACH_DELTA_K] + p[CL.CP_CH_COND_RANGE_DELTA_K]
    cop = chiller_cop(p[CL.CP_FWS_SETPOINT_DEGC], t_cond, p[CL.CP_CH_CARNOT_FRAC],
                      p[CL.CP_CH_EVAP_APPROACH_DELTA_K], p[CL.CP_CH_COND_APPROACH_DELTA_K],
                      p[CL.CP_CH_COP_MAX])  # fmt: skip
    unit = p[CL.CP_CH_UNIT_W]
    n_on = math.ceil(q / unit)
    frac = chiller_eir_part_load_frac(q / (n_on * unit), p[CL.CP_CH_EIR_A], p[CL.CP_CH_EIR_B],
                                      p[CL.CP_CH_EIR_C], p[CL.CP_CH_MIN_PLR_FRAC])  # fmt: skip
    ch_w = n_on * unit / cop * frac
    tower_fans = (q + ch_w) * p[CL.CP_TOWER_FAN_W_PER_W]
    chw_pumps = math.ceil(q / p[CL.CP_PUMP_UNIT_HEAT_W]) * p[CL.CP_PUMP_W]
    cw_pumps = n_on * p[CL.CP_CW_PUMP_W]
    pres = p[CL.CP_PRESSURE_PA]
    dw = humidity_ratio_at_dew_point(p[CL.CP_HUMID_MIN_DEW_POINT_DEGC], pres) - (
        humidity_ratio_from_wet_bulb(t_db, t_wb, pres)
    )
    hum = p[CL.CP_OUTDOOR_AIR_KG_PER_S] * max(dw, 0.0) * p[CL.CP_HUMID_J_PER_KG]
    return {
        CL.CO_CRAH_W: crah_w,
        CL.CO_CHILLERS_W: ch_w,
        CL.CO_HEAT_REJECTION_FANS_W: tower_fans,
        CL.CO_PUMPS_W: chw_pumps + cw_pumps,
        CL.CO_HUMIDIFICATION_W: hum,
        CL.CO_LIGHTING_ANCILLARY_W: light + p[CL.CP_ANCILLARY_W],
        CL.CO_INTERNAL_GAINS_W: q - heat_w,
    }


@pytest.mark.parametrize(("heat_w", "t_db", "t_wb"), [(1.2e6, 30.0, 22.0), (0.6e6, -2.0, -4.0),
                                                     (1.9e6, 15.0, 10.0)])  # fmt: skip
def test_air_hall_tick_matches_the_plain_reference(plant, heat_w, t_db, t_wb):
    par, st = plant.cool_par.copy(), plant.cool_state0.copy()
    assert par[0, CL.CP_TYPE] == CL.COOLING_AIR and par[0, CL.CP_LIQUID_FRAC] == 0.0
    out = np.zeros(CL.CO_NCOLS)
    # A tick with the loop at its setpoint and a large capacity: the chillers hold it exactly.
    hall_cooling_step(0, heat_w, 0.0, t_db, t_wb, par, st, 300.0, out)
    ref = reference_tick(par[0], plant.cool_state0[0], heat_w, t_db, t_wb)
    for col, value in ref.items():
        assert out[col] == pytest.approx(value, rel=1e-9, abs=1e-6), CL.CO_NAMES[col]
    parts = sum(out[c] for c in ref if c != CL.CO_INTERNAL_GAINS_W)
    assert out[CL.CO_MECH_W] == pytest.approx(parts, rel=1e-12)
    # White-space heat balance: rejected + stored = heat (the gains leave in the same tick).
    assert out[CL.CO_HEAT_REJECTED_W] + out[CL.CO_STORED_W] == pytest.approx(heat_w, rel=1e-12)
    assert st[0, CL.CS_T_FWS_DEGC] == pytest.approx(7.0)


def test_humidification_only_when_the_outdoor_air_is_dry(plant):
    par, st = plant.cool_par.copy(), plant.cool_state0.copy()
    out = np.zeros(CL.CO_NCOLS)
    hall_cooling_step(0, 1e6, 0.0, 30.0, 24.0, par, st, 300.0, out)  # humid summer air
    assert out[CL.CO_HUMIDIFICATION_W] == 0.0
    hall_cooling_step(0, 1e6, 0.0, -5.0, -7.0, par, st, 300.0, out)  # dry winter air
    # 0.42 kg/s x (5.60 - 1.37 g/kg) x 2.75 MJ/kg = 4.9 kW.
    assert out[CL.CO_HUMIDIFICATION_W] == pytest.approx(4.9e3, rel=0.02)


def test_water_side_economiser_takes_the_load_in_cold_weather(plant):
    par, st = plant.cool_par.copy(), plant.cool_state0.copy()
    # Add four 1.5 MW tower cells as a water-side economiser (as _air_row would).
    cell = load_cooling_equipment()["tower_cell_1500kw"]
    par[0, CL.CP_ECON_KIND] = CL.ECON_COOLING_TOWER
    par[0, CL.CP_ECON_K_W_PER_K] = 1.5e6 / (35.0 - 23.89)
    par[0, CL.CP_ECON_FAN_W] = cell.fan_power_kw.value * 1e3
    par[0, CL.CP_ECON_AIRFLOW_EXPONENT] = 0.75
    par[0, CL.CP_ECON_FAN_EXPONENT] = 3.0
    par[0, CL.CP_ECON_HX_APPROACH_DELTA_K] = 1.5
    st[0, CL.CS_REJECT_AVAIL_COUNT] = 4
    out = np.zeros(CL.CO_NCOLS)
    # Wet bulb -5: return water 13 degC is 16.5 K above the air: free cooling, no chiller.
    hall_cooling_step(0, 1e6, 0.0, 0.0, -5.0, par, st, 300.0, out)
    assert out[CL.CO_CHILLERS_W] == 0.0 and out[CL.CO_CHILLER_HEAT_W] == 0.0
    assert out[CL.CO_ECONOMISER_HEAT_W] == pytest.approx(1e6 + out[CL.CO_INTERNAL_GAINS_W])
    # Wet bulb 20: above the 13 degC return, the economiser does nothing.
    hall_cooling_step(0, 1e6, 0.0, 28.0, 20.0, par, st, 300.0, out)
    assert out[CL.CO_ECONOMISER_HEAT_W] == 0.0 and out[CL.CO_CHILLERS_W] > 0.0


def test_heat_limit_follows_the_units_in_service(plant):
    par, st = plant.cool_par.copy(), plant.cool_state0.copy()
    full = hall_heat_limit_w(0, 30.0, 22.0, par, st, 300.0)
    # 4 chillers of 1 MW carry 4 MW of loop heat; CHW pumps 4 x 1.25 MW; CRAHs 24 x 105 kW:
    # the CRAHs bind: 2.52 MW - lighting 10.5 kW - UPS loss at that load.
    ups = ups_loss_w(full, par[0, CL.CP_UPS_MODULE_W], par[0, CL.CP_UPS_MODULES_ACTIVE],
                     par[0, CL.CP_UPS_A0], par[0, CL.CP_UPS_A1], par[0, CL.CP_UPS_A2])  # fmt: skip
    assert full + ups == pytest.approx(24 * 105e3 - 10.5e3, rel=2e-3)
    st[0, CL.CS_CHILLER_AVAIL_COUNT] = 2
    two = hall_heat_limit_w(0, 30.0, 22.0, par, st, 300.0)
    assert two < full and two == pytest.approx(2e6 - 24 * 7.9e3 - 10.5e3 - ups, rel=0.02)


def test_catalog_block_overrides_cooling_equipment():
    fan = "catalog.cooling_equipment.crah_cw_105kw.fan_power_kw"
    sc = load_scenario(SCENARIO, overrides=[f"{fan}=4"])
    par = build_cooling(sc, scenario_catalog(sc)).cool_par
    assert par[0, CL.CP_CRAH_FAN_W] == 4e3
    with pytest.raises(ConfigError) as err:
        load_scenario(SCENARIO, overrides=[f"{fan}=-4"])
    assert "catalog.cooling_equipment.crah_cw_105kw" in err.value.where
    assert "fan_power_kw: -4" in err.value.message and "must be > 0" in err.value.message


def test_water_cooled_chillers_need_condenser_pumps():
    with pytest.raises(ConfigError) as err:
        load_scenario(
            SCENARIO, overrides=["sites.site.buildings.b1.halls.h1.cooling.cw_pumps=null"]
        )
    assert err.value.where.endswith("cooling.cw_pumps")
    assert "water-cooled; expected cw_pumps" in err.value.message


def test_pump_design_power_by_hand():
    # 50 L/s x 300 kPa / 0.65 = 23.08 kW.
    assert pump_power_w(50.0, 300.0, 0.65) == pytest.approx(23076.9, rel=1e-5)
