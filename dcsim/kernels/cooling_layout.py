"""Column layout of the per-hall cooling tables used by :mod:`dcsim.kernels.cooling`.

Three float64 tables, one row per hall (halls in the order sites -> buildings -> halls):

* ``cool_par[h, CP_*]``: parameters, SI, built once by :func:`dcsim.model.cooling.build_cooling`;
* ``cool_state[h, CS_*]``: state that the kernel advances (loop temperature) and that the
  fault processes change (available unit counts);
* ``out[CO_*]``: one hall's results for one tick, written by
  :func:`dcsim.kernels.cooling.hall_cooling_step` into a caller-owned vector.

Numba treats these module-level integers as compile-time constants.
"""

from __future__ import annotations

# --- hall types (CP_TYPE)
COOLING_FIXED_COP = 0  # mechanical power = heat / COP; no temperatures, no thermal limit
COOLING_LIQUID = 1  # technology loop + CDUs + facility water + heat rejection + air path
COOLING_AIR = 2  # CRAHs on a chilled-water plant (chillers, pumps, economiser), no liquid loop

# --- economiser kinds (CP_ECON_KIND)
ECON_NONE = 0  # chillers only on the facility water
ECON_DRY_COOLER = 1
ECON_COOLING_TOWER = 2

# --- hall cooling parameters: cool_par[h, :]
CP_TYPE = 0  # COOLING_FIXED_COP or COOLING_LIQUID
CP_FIXED_COP = 1  # fixed-COP halls: heat removed per W of mechanical power [W/W]
CP_LIQUID_FRAC = 2  # design share of white-space heat (rack power + PDU loss) to liquid [frac]
CP_TCS_LIMIT_DEGC = 3  # technology-loop supply temperature limit of the hall's racks [degC]
CP_FWS_SETPOINT_DEGC = 4  # facility-water supply setpoint [degC]
CP_FWS_RANGE_DELTA_K = 5  # facility-water return minus supply, held by variable-speed pumps [K]
CP_LOOP_HEAT_CAP_J_PER_K = 6  # heat capacity of TCS + FWS water [J/K]
# CDUs (technology loop)
CP_CDU_UNIT_W = 7  # rated heat of one CDU at its design approach [W]
CP_CDU_APPROACH_DELTA_K = 8  # TCS supply minus FWS supply at rated heat per CDU [K]
CP_CDU_PUMP_W = 9  # TCS pump electrical power of one CDU at design flow [W]
CP_CDU_MIN_SPEED_FRAC = 10  # lowest TCS pump speed [frac of design]
CP_TCS_RANGE_DELTA_K = 11  # TCS return minus supply at design flow and rated heat [K]
# facility-water pumps
CP_PUMP_UNIT_HEAT_W = 12  # heat one pump carries at design flow and the FWS range [W]
CP_PUMP_W = 13  # electrical power of one pump at design flow [W]
CP_PUMP_MIN_SPEED_FRAC = 14  # lowest pump speed [frac of design]
CP_PUMP_EXPONENT = 15  # affinity-law exponent of pump power on speed [-]
# economiser: dry coolers or cooling-tower cells
CP_ECON_KIND = 16  # ECON_NONE, ECON_DRY_COOLER or ECON_COOLING_TOWER
CP_ECON_K_W_PER_K = 17  # heat per K of entering temperature difference, one unit, full fan [W/K]
CP_ECON_FAN_W = 18  # fan power of one unit at full speed [W]
CP_ECON_AIRFLOW_EXPONENT = 19  # capacity ~ fan speed^n [-]
CP_ECON_FAN_EXPONENT = 20  # affinity-law exponent of fan power on speed [-]
CP_ECON_HX_APPROACH_DELTA_K = 21  # plate heat exchanger between tower water and FWS [K]
CP_ECON_AIR_KG_PER_S = 22  # air mass flow of one dry cooler at full speed [kg/s]
# adiabatic pre-cooling of dry coolers
CP_ADIABATIC = 23  # 1 if the dry coolers have adiabatic pads
CP_ADIABATIC_EFF_FRAC = 24  # saturation efficiency of the pads [frac]
CP_ADIABATIC_BLEED_FRAC = 25  # water bled or overflowed per unit of water evaporated [frac]
CP_ADIABATIC_FAN_ADDER_FRAC = 26  # extra fan power while pads are wet [frac]
CP_ADIABATIC_ON_SPEED_FRAC = 27  # pads switch on when dry fans would exceed this speed [frac]
# evaporative towers: economiser cells and condenser towers of water-cooled chillers
CP_TOWER_EVAP_FRAC = 28  # share of tower heat leaving as latent heat of evaporation [frac]
CP_TOWER_CYCLES = 29  # cycles of concentration [-]
CP_TOWER_DRIFT_FRAC = 30  # drift over circulating water flow [frac]
CP_TOWER_RANGE_DELTA_K = 31  # tower range, for the circulating flow [K]
CP_TOWER_FAN_W_PER_W = 32  # condenser-duty tower fan power per W of heat, cells staged [W/W]
CP_TOWER_APPROACH_DELTA_K = 33  # condenser tower leaving water above wet bulb [K]
# chillers on the facility water (trim or chiller-only plant)
CP_CH_UNIT_W = 34  # cooling capacity of one chiller [W]
CP_CH_CARNOT_FRAC = 35  # COP over Carnot COP of the refrigerant temperatures [frac]
CP_CH_EVAP_APPROACH_DELTA_K = 36  # leaving chilled water minus evaporating temperature [K]
CP_CH_COND_APPROACH_DELTA_K = 37  # condensing temperature minus condenser medium [K]
CP_CH_COP_MAX = 38  # COP at small or negative lift [W/W]
CP_CH_WATER_COOLED = 39  # 1 water-cooled (condenser towers), 0 air-cooled
CP_CH_COND_RANGE_DELTA_K = 40  # condenser water leaving minus entering (water-cooled) [K]
# air path: CRAH / fan walls on chilled water from dedicated chillers
CP_CHW_SUPPLY_DEGC = 41  # chilled-water supply setpoint of the air path [degC]
CP_CRAH_UNIT_W = 42  # rated heat of one CRAH / fan wall [W]
CP_CRAH_FAN_W = 43  # fan power of one CRAH at rated airflow [W]
CP_CRAH_MIN_SPEED_FRAC = 44  # lowest CRAH fan speed [frac]
CP_CRAH_FAN_EXPONENT = 45  # affinity-law exponent [-]
CP_ACH_UNIT_W = 46  # air-path chiller capacity [W]
CP_ACH_CARNOT_FRAC = 47
CP_ACH_EVAP_APPROACH_DELTA_K = 48
CP_ACH_COND_APPROACH_DELTA_K = 49
CP_ACH_COP_MAX = 50
CP_ACH_WATER_COOLED = 51
CP_ACH_COND_RANGE_DELTA_K = 52
# fluid properties
CP_WATER_CP_J_PER_KG_K = 53
CP_AIR_CP_J_PER_KG_K = 54
CP_WATER_KG_PER_L = 55
CP_LATENT_HEAT_J_PER_KG = 56
# part-load curves of the two chiller groups: EIRfPLR = a + b PLR + c PLR^2 (same order)
CP_CH_EIR_A = 57
CP_CH_EIR_B = 58
CP_CH_EIR_C = 59
CP_CH_MIN_PLR_FRAC = 60  # minimum unloading ratio [frac]
CP_ACH_EIR_A = 61
CP_ACH_EIR_B = 62
CP_ACH_EIR_C = 63
CP_ACH_MIN_PLR_FRAC = 64
# air-cooled halls (COOLING_AIR): the CHW plant uses the loop, pump (CHW pumps), economiser,
# chiller (CP_CH_*) and CRAH columns above; CP_FWS_* then describe the chilled water.
CP_CRAH_AIR_APPROACH_DELTA_K = 65  # supply air minus chilled-water supply at rated heat [K]
CP_CW_PUMP_W = 66  # condenser-water pump power per running water-cooled chiller [W]
CP_UPS_ROOM_COOLED = 67  # 1: the UPS loss is heat for the plant (UPS rooms on its CRAHs)
CP_UPS_MODULE_W = 68  # UPS module rating [W] (as the hall's power chain)
CP_UPS_MODULES_ACTIVE = 69  # UPS modules sharing the load [count]
CP_UPS_A0 = 70  # UPS no-load loss [frac of module rating]
CP_UPS_A1 = 71  # UPS proportional loss [frac]
CP_UPS_A2 = 72  # UPS square-law loss [frac at rated load]
CP_LIGHTING_W = 73  # white-space lighting, on all hours; its heat goes to the CRAHs [W]
CP_ANCILLARY_W = 74  # security, fire, BMS, support offices [W]
CP_OUTDOOR_AIR_KG_PER_S = 75  # make-up outdoor air humidified to the minimum dew point [kg/s]
CP_HUMID_MIN_DEW_POINT_DEGC = 76  # minimum dew point of the hall air [degC]
CP_HUMID_J_PER_KG = 77  # humidifier electricity per kg of water; 0: no humidification [J/kg]
CP_PRESSURE_PA = 78  # atmospheric pressure for psychrometrics [Pa]
# capacity of the two chiller groups against the entering condenser temperature (same order):
# available = rated x (1 - derate x max(T_in - T_rating, 0)), 0 above the high limit
CP_CH_RATING_COND_DEGC = 79  # entering condenser air or water at the rating point [degC]
CP_CH_CAP_DERATE_PER_K = 80  # capacity lost per K above it [frac/K]
CP_CH_HIGH_LIMIT_DEGC = 81  # chiller stops above this entering temperature; 0: no limit [degC]
CP_ACH_RATING_COND_DEGC = 82
CP_ACH_CAP_DERATE_PER_K = 83
CP_ACH_HIGH_LIMIT_DEGC = 84
CP_NCOLS = 85

# --- hall cooling state: cool_state[h, :]
CS_T_FWS_DEGC = 0  # facility-water supply temperature (the loops' lumped temperature) [degC]
CS_T_TCS_SUPPLY_DEGC = 1  # technology-loop supply temperature at the end of the last tick [degC]
CS_CDU_AVAIL_COUNT = 2  # CDUs in service
CS_PUMP_AVAIL_COUNT = 3  # facility-water pumps in service
CS_REJECT_AVAIL_COUNT = 4  # dry coolers or cooling-tower cells in service
CS_CHILLER_AVAIL_COUNT = 5  # facility-water chillers (trim or plant) in service
CS_AIR_CHILLER_AVAIL_COUNT = 6  # air-path chillers in service
CS_CRAH_AVAIL_COUNT = 7  # CRAHs / fan walls in service
CS_ADIABATIC_AVAIL_COUNT = 8  # 1 while the adiabatic pads have water (0: supply out, pads dry)
CS_NCOLS = 9

CS_NAMES = (
    "temp_fws_degc",
    "temp_tcs_supply_degc",
    "cdu_available_count",
    "fws_pump_available_count",
    "heat_rejection_available_count",
    "chiller_available_count",
    "air_chiller_available_count",
    "crah_available_count",
    "adiabatic_available_count",
)

# --- one hall's results for one tick: out[:]
CO_PUMPS_W = 0  # TCS (CDU) and FWS pumps [W]
CO_HEAT_REJECTION_FANS_W = 1  # dry-cooler and tower fans, incl. condenser towers [W]
CO_CHILLERS_W = 2  # chiller compressors: trim / plant and air path [W]
CO_CRAH_W = 3  # CRAH / fan-wall fans [W]
CO_FIXED_COP_W = 4  # fixed-COP halls: all mechanical power, not split [W]
CO_MECH_W = 5  # sum of the five above, humidification and lighting/ancillary [W]
CO_WATER_L_PER_S = 6  # water withdrawn: pads and towers (evaporation, blowdown, drift) [L/s]
CO_HEAT_REJECTED_W = 7  # heat taken out of the hall's loops to ambient, tick mean [W]
CO_STORED_W = 8  # rate of change of heat stored in the loops, tick mean [W]
CO_T_FWS_DEGC = 9  # facility-water supply at the end of the tick [degC]
CO_T_TCS_SUPPLY_DEGC = 10  # technology-loop supply (air halls: CRAH supply air) at tick end [degC]
CO_T_TCS_RETURN_DEGC = 11  # technology-loop return (air halls: CHW return) at tick end [degC]
CO_ECONOMISER_HEAT_W = 12  # heat rejected by dry coolers / towers without compressors [W]
CO_CHILLER_HEAT_W = 13  # heat moved by chillers (trim / plant and air path) [W]
CO_ADIABATIC_FRAC = 14  # share of the tick with adiabatic pads wet [frac]
CO_HUMIDIFICATION_W = 15  # humidifiers on the make-up air (air halls) [W]
CO_LIGHTING_ANCILLARY_W = 16  # lighting and ancillary loads (air halls) [W]
CO_INTERNAL_GAINS_W = 17  # heat the plant takes besides the white space: fans, lights, UPS [W]
CO_NCOLS = 18

CO_NAMES = (
    "pumps_power_w",
    "heat_rejection_fans_power_w",
    "chillers_power_w",
    "crah_power_w",
    "fixed_cop_cooling_power_w",
    "cooling_power_w",
    "water_l_per_s",
    "heat_rejected_w",
    "heat_stored_rate_w",
    "temp_fws_degc",
    "temp_tcs_supply_degc",
    "temp_tcs_return_degc",
    "economiser_heat_w",
    "chiller_heat_w",
    "adiabatic_on_frac",
    "humidification_power_w",
    "lighting_ancillary_power_w",
    "internal_gains_w",
)
