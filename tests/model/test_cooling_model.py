"""build_cooling: catalog and scenario -> cool_par / cool_state in SI, unit bookkeeping.

The scenario schema does not hold LiquidCooling until the integrator wires it in, so the
tests extend it the way the integrator will (Hall.cooling union, Site.weather,
Scenario.cooling_faults) with subclasses.
"""

import copy
from pathlib import Path
from typing import Annotated

import numpy as np
import pytest
from pydantic import Field
from ruamel.yaml import YAML

from dcsim.catalog.cooling_equipment import load_cooling_equipment
from dcsim.catalog.load import load_catalog
from dcsim.errors import ConfigError
from dcsim.kernels import cooling_layout as CL
from dcsim.kernels.cooling import hall_cooling_step, hall_heat_limit_w
from dcsim.model.cooling import UNIT_KINDS, build_cooling, design_capacity, hall_design_heat_w
from dcsim.physics.power_chain import pdu_loss_w
from dcsim.scenario.cooling_schema import CoolingFault, LiquidCooling
from dcsim.scenario.schema import Building, FixedCopCooling, Hall, Scenario, Site
from dcsim.scenario.weather_schema import Weather

REPO = Path(__file__).resolve().parents[2]
SNIPPETS = REPO / "scenarios" / "snippets"


class HallL(Hall):
    cooling: Annotated[FixedCopCooling | LiquidCooling, Field(discriminator="type")] = Field(
        default_factory=lambda: FixedCopCooling(cop=12.0)
    )


class BuildingL(Building):
    halls: list[HallL]


class SiteL(Site):
    buildings: list[BuildingL]
    weather: Weather | None = None


class ScenarioL(Scenario):
    sites: list[SiteL]
    cooling_faults: list[CoolingFault] = Field(default_factory=list)


def snippet(name: str) -> dict:
    return YAML(typ="safe").load((SNIPPETS / name).read_text())["cooling"]


def scenario(coolings, faults=(), count=400, system="gb200-nvl72") -> ScenarioL:
    """small-hall's workloads; one 400-rack GB200 hall per cooling block (None: fixed COP)."""
    y = YAML(typ="safe").load((REPO / "scenarios" / "small-hall.yaml").read_text())
    site = y["sites"][0]
    site["import_limit_mw"] = 70.0 * len(coolings)
    halls = []
    for i, c in enumerate(coolings):
        hall = {
            "name": f"h{i + 1}",
            "feed_mw": 60,
            "rack_groups": [{"system": system, "count": count, "workload": "chat"}],
        }
        hall["cooling"] = copy.deepcopy(c) if c is not None else {"type": "fixed_cop", "cop": 12}
        halls.append(hall)
    site["buildings"] = [{"name": "b1", "halls": halls}]
    y["cooling_faults"] = list(faults)
    return ScenarioL.model_validate(y)


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


@pytest.fixture(scope="module")
def plant(cat):
    s = scenario([snippet("cooling-dlc-dry-adiabatic-trim.yaml"), None,
                  snippet("cooling-towers.yaml")])  # fmt: skip
    return build_cooling(s, cat)


def test_tables_have_the_layout_shapes(plant):
    assert plant.cool_par.shape == (3, CL.CP_NCOLS)
    assert plant.cool_state0.shape == (3, CL.CS_NCOLS)
    assert plant.hall_names == ["main/b1/h1", "main/b1/h2", "main/b1/h3"]
    assert plant.hall_short_names == ["h1", "h2", "h3"]
    assert list(plant.hall_site) == [0, 0, 0]


# Design heat of the 400-rack GB200 NVL72 hall, by hand from facility_it.yaml: 28,800 GPUs
# on 64-port switches need 3 fat-tree tiers (2 tiers reach 64 x 32 = 2,048 endpoints), so
# 2 x 3 - 1 = 5 switch ports per GPU at 750 W / 64 ports + 16 W / 2 ports of optics each:
# 98.59 W per GPU, x 72 = 7,098.75 W per rack; storage 72 x 40 W = 2,880 W; management
# 150 W: 10,128.75 W per rack outside it. Heat = (400 x 132 kW + 400 x 10,128.75 W) / 0.99.
OUTSIDE_BY_HAND_W = 400 * (72 * 5 * (750 / 64 + 16 / 2) + 72 * 40 + 150)
HEAT_BY_HAND_W = (400 * 132e3 + OUTSIDE_BY_HAND_W) / 0.99


def test_liquid_row_by_hand(plant):
    p = plant.cool_par[0]
    assert p[CL.CP_TYPE] == CL.COOLING_LIQUID
    # Liquid share: 0.85 of rack power, over (rack power + IT outside the racks) / 0.99
    # (PDU loss, fabric, storage and management to air); see HEAT_BY_HAND_W.
    assert p[CL.CP_LIQUID_FRAC] == pytest.approx(400 * 132e3 * 0.85 / HEAT_BY_HAND_W)
    assert p[CL.CP_TCS_LIMIT_DEGC] == 40.0  # gb200-nvl72 max_supply_temp_degc
    assert p[CL.CP_FWS_SETPOINT_DEGC] == 32.0
    # (50,000 + 300,000) L x 0.996 kg/L x 4180 J/(kg K) = 1.457e9 J/K.
    assert p[CL.CP_LOOP_HEAT_CAP_J_PER_K] == pytest.approx(350_000 * 0.996 * 4180)
    # CDU: 2 MW at 10 K TCS range = 48.04 L/s; x 250 kPa / 0.6 = 20.02 kW.
    assert p[CL.CP_CDU_UNIT_W] == 2e6
    assert p[CL.CP_CDU_PUMP_W] == pytest.approx(2e6 / (0.996 * 4180 * 10) * 250 / 0.6)
    # FWS pump: 150 L/s at 10 K carries 150 x 0.996 x 4180 x 10 = 6.245 MW; 150 x 300 / 0.72.
    assert p[CL.CP_PUMP_UNIT_HEAT_W] == pytest.approx(150 * 0.996 * 4180 * 10)
    assert p[CL.CP_PUMP_W] == pytest.approx(62_500.0)
    # Dry cooler: 1 MW / 15 K.
    assert p[CL.CP_ECON_KIND] == CL.ECON_DRY_COOLER
    assert p[CL.CP_ECON_K_W_PER_K] == pytest.approx(1e6 / 15)
    assert p[CL.CP_ECON_FAN_W] == 25e3
    assert p[CL.CP_ADIABATIC] == 1.0 and p[CL.CP_ADIABATIC_EFF_FRAC] == 0.85
    assert p[CL.CP_ADIABATIC_ON_SPEED_FRAC] == 0.9
    assert p[CL.CP_CH_UNIT_W] == 1.5e6 and p[CL.CP_CH_WATER_COOLED] == 0.0
    assert p[CL.CP_CRAH_UNIT_W] == 250e3 and p[CL.CP_ACH_UNIT_W] == 1.5e6
    assert p[CL.CP_LATENT_HEAT_J_PER_KG] == 2.43e6


def test_tower_row_by_hand(plant):
    p = plant.cool_par[2]
    assert p[CL.CP_ECON_KIND] == CL.ECON_COOLING_TOWER
    # 5 MW over the rating ITD 35 - 23.89 = 11.11 K.
    assert p[CL.CP_ECON_K_W_PER_K] == pytest.approx(5e6 / 11.11)
    assert p[CL.CP_ECON_HX_APPROACH_DELTA_K] == 1.5
    assert p[CL.CP_TOWER_CYCLES] == 5.0 and p[CL.CP_TOWER_EVAP_FRAC] == 0.85
    assert p[CL.CP_TOWER_FAN_W_PER_W] == pytest.approx(63.6 / 5000)
    assert p[CL.CP_TOWER_APPROACH_DELTA_K] == pytest.approx(29.44 - 23.89)
    assert p[CL.CP_CH_UNIT_W] == 0.0  # no trim chillers
    assert p[CL.CP_ACH_WATER_COOLED] == 1.0 and p[CL.CP_ACH_COND_RANGE_DELTA_K] == 5.15


def test_fixed_cop_hall_reproduces_the_current_kernel(plant):
    # Hall 2 has `cooling: {type: fixed_cop, cop: 12}`: mechanical power = (it + pdu) / cop,
    # the formula of the kernel before liquid cooling (hall_par H_COOL_COP).
    assert plant.cool_par[1, CL.CP_TYPE] == CL.COOLING_FIXED_COP
    it_w = 40e6
    heat_w = it_w + pdu_loss_w(it_w, 0.99)
    out = np.zeros(CL.CO_NCOLS)
    hall_cooling_step(1, heat_w, 0.0, 30.0, 20.0, plant.cool_par,
                      plant.cool_state0.copy(), 60.0, out)  # fmt: skip
    assert out[CL.CO_MECH_W] == (it_w + pdu_loss_w(it_w, 0.99)) / 12.0
    assert hall_heat_limit_w(1, 45.0, 30.0, plant.cool_par, plant.cool_state0, 60.0) == np.inf


def test_state_starts_at_the_setpoint_with_every_unit(plant):
    s = plant.cool_state0[0]
    assert s[CL.CS_T_FWS_DEGC] == 32.0
    counts = [s[c] for c in plant.unit_state_cols]
    # Installed = design + spares of the snippet: CDUs 23+1, pumps 8+1, dry coolers 44+2,
    # trim 4+1, air chillers 9+1, CRAHs 51+2, and the pads' water supply (one).
    assert counts == [24, 9, 46, 5, 10, 53, 1]
    assert list(plant.unit_installed_count[0]) == counts
    assert list(plant.unit_design_count[0]) == [23, 8, 44, 4, 9, 51, 1]
    assert list(plant.unit_installed_count[1]) == [0] * len(UNIT_KINDS)
    assert np.isnan(plant.cool_state0[1, CL.CS_T_FWS_DEGC])
    # Towers: no FWS chillers, 9 cells.
    assert plant.unit_installed_count[2, 2] == 9 and plant.unit_installed_count[2, 3] == 0


def test_reliability_in_seconds(plant):
    cdu = load_cooling_equipment()["cdu_2mw"]
    assert plant.unit_mtbf_s[0, 0] == pytest.approx(cdu.mtbf_h.value * 3600)
    assert plant.unit_mttr_s[0, 0] == pytest.approx(cdu.mttr_h.value * 3600)
    assert plant.unit_equipment[0][2] == "dry_cooler_1mw"
    assert np.isinf(plant.unit_mtbf_s[1]).all()
    assert list(plant.random_failures) == [True, False, True]


def test_design_heat_and_capacity_by_hand(cat, plant):
    # (400 x 132 kW + outside IT 4.05 MW) / 0.99 = 57.43 MW; liquid 400 x 132 x 0.85 = 44.88 MW.
    assert plant.design_heat_w[0] == pytest.approx(HEAT_BY_HAND_W)
    assert plant.design_liquid_heat_w[0] == pytest.approx(400 * 132e3 * 0.85)
    spec = LiquidCooling.model_validate(snippet("cooling-dlc-dry-adiabatic-trim.yaml"))
    cap = design_capacity(spec, load_cooling_equipment(), 44.88e6)
    assert cap.cdus_w == 46e6
    # Pads: 35 - 0.85 x (35 - 25) = 26.5 degC; ITD 32 + 10 - 26.5 = 15.5 K; 44 x 1e6 / 15.
    assert cap.economiser_w == pytest.approx(44 * 1e6 / 15 * 15.5)
    # Air path sized for the 12.55 MW air heat: 51 x 250 kW CRAHs, 9 x 1.5 MW chillers.
    assert cap.chillers_w == 6e6 and cap.crah_w == 12.75e6 and cap.air_chillers_w == 13.5e6
    assert cap.tcs_supply_degc == pytest.approx(32 + 4.0 * (44.88 / 23) / 2)


def test_tcs_limit_override_and_air_only_hall(cat):
    c = snippet("cooling-dlc-dry-adiabatic-trim.yaml")
    c["tcs_supply_limit_degc"] = 37.0
    p = build_cooling(scenario([c]), cat)
    assert p.cool_par[0, CL.CP_TCS_LIMIT_DEGC] == 37.0
    air = build_cooling(scenario([snippet("cooling-towers.yaml")], system="dgx-b200"), cat)
    assert air.cool_par[0, CL.CP_LIQUID_FRAC] == 0.0
    assert air.cool_par[0, CL.CP_TCS_LIMIT_DEGC] == np.inf


def test_scheduled_faults_are_mapped(cat):
    fault = {"unit": "cdu", "hall": "h1", "start": "2027-01-05T06:00", "duration_s": "6h",
             "count": 2}  # fmt: skip
    p = build_cooling(scenario([snippet("cooling-towers.yaml")], faults=[fault]), cat)
    (f,) = p.scheduled_faults
    assert (f.hall, f.kind, f.count) == (0, 0, 2)
    assert f.start_s == 86400 + 6 * 3600  # small-hall starts 2027-01-04
    assert f.duration_s == 6 * 3600


@pytest.mark.parametrize(
    ("fault", "where", "text"),
    [
        ({"unit": "cdu", "hall": "hx"}, "cooling_faults.0.hall", "'hx' is not a hall"),
        ({"unit": "dry_cooler", "hall": "h1"}, "cooling_faults.0.unit", "no dry_cooler units"),
        ({"unit": "chiller", "hall": "h1"}, "cooling_faults.0.unit", "no chiller units"),
        ({"unit": "cdu", "hall": "h1", "count": 30}, "cooling_faults.0.count", "30 is more"),
        ({"unit": "cdu", "hall": "h2"}, "cooling_faults.0.hall", "fixed-COP cooling"),
    ],
)
def test_bad_scheduled_faults(cat, fault, where, text):
    fault = {"start": "2027-01-05", "duration_s": "1h", **fault}
    s = scenario([snippet("cooling-towers.yaml"), None], faults=[fault])
    with pytest.raises(ConfigError) as err:
        build_cooling(s, cat)
    assert err.value.where == where and text in err.value.message


def test_unknown_or_mistyped_equipment(cat):
    c = snippet("cooling-towers.yaml")
    c["cdus"]["equipment"] = "pump_fws_150ls"
    with pytest.raises(ConfigError) as err:
        build_cooling(scenario([c]), cat)
    # The hall named as the scenario writes it (site "main", building "b1", hall "h1").
    assert err.value.where == "sites.main.buildings.b1.halls.h1.cooling.cdus.equipment"
    assert "'pump_fws_150ls' is not a known CDU entry" in err.value.message
    assert "known: cdu_2mw" in err.value.message


def test_hall_design_heat_uses_the_site_pdu(cat):
    s = scenario([None])
    site = s.sites[0]
    heat, liquid = hall_design_heat_w(site.buildings[0].halls[0], site, cat)
    assert heat == pytest.approx(HEAT_BY_HAND_W)
    assert liquid == pytest.approx(400 * 132e3 * 0.85)


def test_real_weather_heat_wave_throttles_and_recovers(cat):
    # The shipped snippets together: the Dallas typical year +0.5 K with the heat wave on
    # 7-11 July raised from +8 K (which the plant carries at 39.9 degC, just under its 40 degC
    # limit: see the snippet) to +10 K, a GB200 hall with dry coolers, pads and trim held at
    # its full design heat. Racks reduce their heat to the hall's limit each minute (the
    # integrator's rule).
    from dcsim.model.weather import site_weather_ticks

    s = scenario([snippet("cooling-dlc-dry-adiabatic-trim.yaml")])
    weather = YAML(typ="safe").load((SNIPPETS / "cooling-weather-heat-wave.yaml").read_text())
    data = s.model_dump()
    data.update(start="2027-07-01", horizon_s=15 * 86400.0)
    data["sites"][0]["weather"] = weather["weather"]
    data["sites"][0]["weather"]["heat_waves"][0]["temp_rise_delta_k"] = 10
    s = ScenarioL.model_validate(data)
    p = build_cooling(s, cat)
    n = 15 * 1440
    t_db, t_wb, _ = site_weather_ticks(s, REPO, 60.0, n)
    st = p.cool_state0.copy()
    demand = p.design_heat_w[0]
    f = p.cool_par[0, CL.CP_LIQUID_FRAC]
    heat = np.zeros(n)
    t_tcs = np.zeros(n)
    out = np.zeros(CL.CO_NCOLS)
    for i in range(n):
        lim = hall_heat_limit_w(0, t_db[0, i], t_wb[0, i], p.cool_par, st, 60.0)
        heat[i] = min(demand, lim)
        hall_cooling_step(0, heat[i], heat[i] * f, t_db[0, i], t_wb[0, i], p.cool_par, st,
                          60.0, out)  # fmt: skip
        t_tcs[i] = out[CL.CO_T_TCS_SUPPLY_DEGC]
        assert abs(heat[i] - out[CL.CO_HEAT_REJECTED_W] - out[CL.CO_STORED_W]) < 1e-6 * demand
    throttled = heat < demand * (1 - 1e-12)
    day = np.arange(n) / 1440  # days since 1 July 00:00
    assert t_tcs.max() <= 40.0 + 1e-9
    assert throttled.sum() > 60  # more than an hour
    assert not throttled[day < 6].any()  # before the wave (7 July = day 6)
    assert not throttled[day >= 10.5].any()  # recovered after it


def test_pads_water_outage_is_a_scheduled_fault(cat):
    dry = snippet("cooling-dlc-dry-adiabatic-trim.yaml")
    fault = {"unit": "adiabatic_water", "hall": "h1", "start": "2027-01-05", "duration_s": "6h"}
    p = build_cooling(scenario([dry], faults=[fault]), cat)
    (f,) = p.scheduled_faults
    assert UNIT_KINDS[f.kind] == "adiabatic"
    assert p.unit_state_cols[f.kind] == CL.CS_ADIABATIC_AVAIL_COUNT
    assert p.unit_installed_count[0, f.kind] == 1
    assert p.unit_mtbf_s[0, f.kind] == np.inf  # no random failures: scheduled only
    # A tower hall has no pads.
    s = scenario([snippet("cooling-towers.yaml")], faults=[{**fault}])
    with pytest.raises(ConfigError) as err:
        build_cooling(s, cat)
    assert err.value.where == "cooling_faults.0.unit"
    assert "has no adiabatic_water units" in err.value.message


def test_trim_chiller_derating_in_the_row(plant):
    p = plant.cool_par[0]
    # chiller_ac_1500kw on both groups: AHRI 35 degC air, 0.75 %/K, stops above 49 degC.
    for c0 in (CL.CP_CH_RATING_COND_DEGC, CL.CP_ACH_RATING_COND_DEGC):
        assert (p[c0], p[c0 + 1], p[c0 + 2]) == (35.0, 0.0075, 49.0)
    # Towers hall: no FWS chillers; its air path's chiller_wc_3500kw is rated at 85 degF
    # (29.44 degC) entering condenser water, 0.75 %/K, no cutout listed (0 in the table).
    t = plant.cool_par[2]
    assert t[CL.CP_CH_RATING_COND_DEGC] == 0.0 and t[CL.CP_CH_UNIT_W] == 0.0
    c0 = CL.CP_ACH_RATING_COND_DEGC
    assert (t[c0], t[c0 + 1], t[c0 + 2]) == (29.44, 0.0075, 0.0)


def _steady_heat_w(cat, pads_in_service: bool, t_db: float, t_wb: float, demand_w: float):
    p = build_cooling(scenario([snippet("cooling-dlc-dry-adiabatic-trim.yaml")]), cat)
    st = p.cool_state0.copy()
    st[0, CL.CS_ADIABATIC_AVAIL_COUNT] = 1.0 if pads_in_service else 0.0
    f = p.cool_par[0, CL.CP_LIQUID_FRAC]
    out = np.zeros(CL.CO_NCOLS)
    first_out = None
    for i in range(8 * 60):  # 8 h of 1-min ticks; the loop's time constant C/K is ~8 min
        lim = hall_heat_limit_w(0, t_db, t_wb, p.cool_par, st, 60.0)
        heat = min(demand_w, lim)
        hall_cooling_step(0, heat, heat * f, t_db, t_wb, p.cool_par, st, 60.0, out)
        if i == 0:
            first_out = out.copy()
    return heat, f, out, first_out


def test_dry_pads_at_43_degc_throttle_to_the_hand_steady_state(cat):
    # A GB200 hall at its July serving heat (31 MW of white space, ~57% of nameplate) on the
    # heat wave's hottest hour, 43.3 degC dry bulb, 31.8 degC wet bulb.
    t_db, t_wb, demand = 43.3, 31.8, 31e6
    # Pads in service: air pre-cooled to 43.3 - 0.85 x 11.5 = 33.5 degC, ITD at the 32 degC
    # setpoint 42 - 33.5 = 8.5 K, 46 coolers x 66.7 kW/K x 8.5 K = 26.1 MW > the 24.2 MW of
    # liquid heat: no throttling, the loop holds its setpoint.
    heat, f, out, _ = _steady_heat_w(cat, True, t_db, t_wb, demand)
    assert heat == demand
    assert out[CL.CO_T_FWS_DEGC] == pytest.approx(32.0)
    # Pads dry: at steady state the TCS supply sits at its 40 degC limit,
    # T_fws = 40 - s Q with s = 4 K / (24 CDUs x 2 MW), and the liquid heat Q is what the dry
    # coolers (K = 46 x 1e6 / 15 W/K on ITD = T_fws + 10 - 43.3) and the trim chillers at full
    # derated output (S = 5 x 1.5 MW x (1 - 0.0075 x 8.3)) reject:
    # Q = (K (40 + 10 - 43.3) + S) / (1 + K s) = 21.96 MW, i.e. 28.1 MW of white space.
    k = 46 * 1e6 / 15
    s = 4.0 / (24 * 2e6)
    sink = 5 * 1.5e6 * (1 - 0.0075 * (t_db - 35.0))
    q_liq = (k * (40.0 + 10.0 - t_db) + sink) / (1 + k * s)
    assert q_liq == pytest.approx(21.96e6, rel=1e-3)
    heat, f, out, first = _steady_heat_w(cat, False, t_db, t_wb, demand)
    assert heat == pytest.approx(q_liq / f, rel=1e-6)
    assert heat < demand  # throttled
    assert out[CL.CO_T_TCS_SUPPLY_DEGC] == pytest.approx(40.0, abs=1e-6)
    assert out[CL.CO_T_FWS_DEGC] == pytest.approx(40.0 - s * q_liq, abs=1e-6)
    # Before that, in the first minute, the trim chillers already run at their full derated
    # output (the air path's chillers carry the rest of CO_CHILLER_HEAT_W).
    q_air = demand * (1 - f)
    assert first[CL.CO_CHILLER_HEAT_W] - q_air == pytest.approx(sink, rel=1e-9)


def test_air_path_chillers_stop_above_their_maximum_ambient(cat):
    # The air path of the dry hall runs on air-cooled chillers (chiller_ac_1500kw, cutout
    # above 49 degC): above it no air heat can leave, so the hall's heat limit is 0 (its racks
    # shed all load); just below it 10 chillers x 1.5 MW x (1 - 0.0075 x 13.5) = 13.48 MW
    # exceed the 53 CRAHs' 13.25 MW, which then bound the air share.
    p = build_cooling(scenario([snippet("cooling-dlc-dry-adiabatic-trim.yaml")]), cat)
    st = p.cool_state0.copy()
    f = p.cool_par[0, CL.CP_LIQUID_FRAC]
    assert hall_heat_limit_w(0, 49.5, 30.0, p.cool_par, st, 60.0) == 0.0
    below = hall_heat_limit_w(0, 48.5, 30.0, p.cool_par, st, 60.0)
    assert 10 * 1.5e6 * (1 - 0.0075 * 13.5) > 53 * 250e3
    assert 0.0 < below <= 53 * 250e3 / (1 - f) * (1 + 1e-12)
